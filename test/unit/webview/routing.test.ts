/**
 * The routing panel in real headless Chromium: real bundle, real HTML and CSP from routingPanelHtml, stubbed
 * acquireVsCodeApi. Screenshots (light / dark / high contrast) go to test-results/webview/.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import { hostResponse } from '../../../src/shared/protocol/envelope';
import { packAnalysis } from '../../../src/shared/protocol/packed-analysis';
import { TOKEN_STRIP_CHUNK } from '../../../src/shared/defaults';
import { hostNotification } from '../../../src/shared/protocol/routing';
import { pngSize, validateFigureSave } from '../../../src/shared/protocol/figure';
import { makeFakeAnalysis } from './fake-analysis';
import {
  applyTheme,
  buildWebview,
  cspViolations,
  encodeMessage,
  launchBrowser,
  openPanel,
  resultsDir,
  skipReason,
  stageMessage,
  underError,
  type PanelPage,
  type ThemeName,
} from './harness';

const skip = skipReason();
if (skip) console.log(`# SKIP webview browser tests: ${skip}`);

/** Waits for the debounced setState (PERSIST_DELAY_MS = 150). */
const persisted = (p: PanelPage): Promise<void> => p.page.waitForTimeout(250);

/** The layer whose K varies most over the non-special tokens (computed here, independently of the panel). */
function mostDynamic(a: ReturnType<typeof makeFakeAnalysis>): number {
  const rows = a.tokens.filter((t) => !t.special).map((t) => t.index);
  const v = a.layers.map((l) => {
    const ks = rows.map((t) => l.k[t]);
    const m = ks.reduce((x, y) => x + y, 0) / ks.length;
    return ks.reduce((x, y) => x + (y - m) ** 2, 0) / ks.length;
  });
  return v.indexOf(Math.max(...v));
}

const raf2 = (p: PanelPage): Promise<void> =>
  p.page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));

async function expectClean(p: PanelPage): Promise<void> {
  assert.deepEqual(await cspViolations(p), [], 'no CSP violations');
  assert.deepEqual(p.rec.pageErrors, [], 'no page errors');
  assert.deepEqual(p.rec.dialogs, [], 'no dialogs');
  assert.deepEqual(p.rec.consoleErrors, [], 'no console errors');
}

describe('routing webview (headless Chromium)', { skip: skip ?? false, timeout: 600_000 }, () => {
  let browser: Browser;

  before(async () => {
    buildWebview();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('posts ready first, then renders an analysis: header, heatmap hooks, K histograms', async () => {
    const p = await openPanel(browser, { theme: 'dark' });
    try {
      const posted0 = await p.posted();
      assert.equal(posted0.length, 1, 'only ready before the host talks');
      assert.deepEqual(posted0[0], { protocol: 1, kind: 'notification', method: 'ready', params: { protocolVersion: 1 } });
      assert.equal(await p.page.getByTestId('empty').isVisible(), true);

      const a = makeFakeAnalysis({ tokens: 24, experts: 8, layers: 4, kMax: 4, windowed: true });
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));

      const heat = p.page.getByTestId('heatmap');
      const nonSpecial = a.tokens.filter((t) => !t.special).length;
      assert.equal(await heat.getAttribute('data-rows'), String(nonSpecial));
      assert.equal(await heat.getAttribute('data-cols'), String(a.model.numExperts));
      const opened = mostDynamic(a);
      assert.equal(await heat.getAttribute('data-layer'), String(opened), 'opens on the most dynamic layer');
      assert.deepEqual((await p.posted()).at(-1), { protocol: 1, kind: 'notification', method: 'view/layer', params: { layer: opened } });

      const hist = p.page.getByTestId('k-histogram');
      const counts = (await hist.getAttribute('data-counts'))!.split(',').map(Number);
      assert.deepEqual(counts, a.stats.kHistogram.perLayer[opened]);
      assert.equal(
        counts.reduce((x, y) => x + y, 0),
        a.stats.tokens,
        'layer K histogram sums to the token count',
      );
      const overall = (await p.page.getByTestId('k-histogram-overall').getAttribute('data-counts'))!.split(',').map(Number);
      assert.equal(
        overall.reduce((x, y) => x + y, 0),
        a.stats.tokens * a.layers.length,
      );
      assert.equal(await p.page.getByTestId('k-histogram-layer').count(), a.layers.length);
      assert.equal(await p.page.getByTestId('layer-multiple').count(), a.layers.length);
      assert.equal(await p.page.getByTestId('expert-load-layer').count(), a.layers.length);
      assert.equal(await p.page.getByTestId('expert-load-layer').first().getAttribute('data-dead'), String(a.model.numExperts - 1));

      assert.equal(await p.page.getByTestId('model-name').textContent(), 'damoe-sst2');
      // The compute fact's title: its counts grouped as toLocaleString('en') groups them (written without Intl).
      const f = a.stats.flops!;
      assert.ok(f.fixedTop2 >= 1e6, 'counts with thousands separators');
      assert.equal(
        await p.page.getByTestId('compute').getAttribute('title'),
        `${f.spent.toLocaleString('en')} FLOP spent; fixed top-2 would spend ${f.fixedTop2.toLocaleString('en')}, fixed top-4 ${f.fixedTopKMax.toLocaleString('en')}`,
      );
      const provider = p.page.getByTestId('provider');
      assert.match((await provider.textContent())!, /^cpu/);
      assert.match((await provider.getAttribute('title'))!, /cuda skipped: libcudart/);
      assert.equal(await p.page.getByTestId('provider-placement').count(), 0, 'no placement on cpu');
      // A GPU provider: the placement beside its name, the whole of it and the graph file in the title.
      const placement = {
        gpu_nodes: 502,
        cpu_nodes: 40,
        cpu_ops: ['Unsqueeze', 'Gather'],
        cpu_op_counts: { Unsqueeze: 30, Gather: 10 },
        memcpy_nodes: 11,
        gpu_provider: 'WebGpuExecutionProvider',
        source: 'onnxruntime-profile' as const,
      };
      const gpu = {
        ...a,
        provider: { requested: 'webgpu' as const, used: 'webgpu' as const, skipped: [], placement, modelFile: 'model.gpu.onnx' },
      };
      await p.send(hostNotification('analysis/show', { analysis: gpu, stale: false }));
      assert.equal(await p.page.getByTestId('provider-placement').textContent(), ' · 40 of 542 nodes on CPU');
      const gpuTitle = (await p.page.getByTestId('provider').getAttribute('title'))!;
      assert.match(gpuTitle, /graph: model\.gpu\.onnx/);
      assert.match(gpuTitle, /placement: 502 nodes on GPU, 40 on CPU \(Unsqueeze ×30, Gather ×10\), 11 GPU↔CPU copies/);
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));
      assert.equal(await p.page.getByTestId('prediction-label').textContent(), a.prediction!.label);
      assert.equal(await p.page.getByTestId('prediction-row').count(), a.model.labels.length);
      assert.equal(await p.page.getByTestId('windowed-badge').isVisible(), true);
      assert.equal(await p.page.getByTestId('token-strip').locator('.tok').count(), a.tokens.length);
      assert.equal(await p.page.getByTestId('token-strip').locator('.tok.special').count(), 2);

      // Stale banner.
      assert.equal(await p.page.getByTestId('stale-banner').isVisible(), false);
      await p.send(hostNotification('analysis/stale', { stale: true }));
      assert.equal(await p.page.getByTestId('stale-banner').isVisible(), true);

      // Progress and error.
      await p.send(hostNotification('analysis/progress', { running: true, message: 'Running on cpu…' }));
      assert.equal(await p.page.getByTestId('progress').textContent(), 'Running on cpu…');
      await p.send(hostNotification('host/error', { message: 'model failed to load' }));
      assert.equal(await p.page.getByTestId('error-banner').textContent(), 'model failed to load');
      assert.equal(await p.page.locator('#app.under-error').count(), 1, 'the old analysis is dimmed under the error');
      const marked = await underError(p, ['error-banner', 'layer-select']);
      assert.ok(marked.dimmed >= 4 && marked.busy === marked.dimmed, `dimmed and busy: ${JSON.stringify(marked)}`);
      assert.deepEqual([marked.opacity, marked.dimmedAround], [['0.45'], []], 'the banner and the controls are not dimmed');
      assert.equal(await p.page.locator('.under-error-dimmed [data-testid=token-strip]').count(), 1);
      assert.equal(await p.page.getByTestId('progress').isVisible(), false);

      // Canvas is devicePixelRatio-aware and labelled.
      const canvas = p.page.getByTestId('heatmap-canvas');
      assert.equal(await canvas.getAttribute('role'), 'img');
      assert.match((await canvas.getAttribute('aria-label'))!, /22 tokens by 8 experts/);

      // @vscode-elements render under the CSP (constructable stylesheets).
      const adopted = await p.page.evaluate(async () => {
        document.documentElement.style.setProperty('--vscode-button-secondaryBackground', '#123456');
        await new Promise((r) => requestAnimationFrame(r));
        const sel = document.querySelector('vscode-single-select')!;
        const btn = document.querySelector('vscode-button[data-testid="export"]')!;
        const base = btn.shadowRoot?.querySelector('.base') as HTMLElement | null;
        return {
          select: sel.shadowRoot?.adoptedStyleSheets.length ?? 0,
          button: btn.shadowRoot?.adoptedStyleSheets.length ?? 0,
          buttonBg: base ? getComputedStyle(base).backgroundColor : 'none',
        };
      });
      assert.ok(adopted.select > 0 && adopted.button > 0, `adoptedStyleSheets in use: ${JSON.stringify(adopted)}`);
      assert.equal(adopted.buttonBg, 'rgb(18, 52, 86)', 'secondary button is styled and follows --vscode-button-secondaryBackground');
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('K first: K grid, K pips, thresholds from the metadata, compute-share heatmap, no K=0 bar, labels never crossed', async () => {
    const p = await openPanel(browser, { theme: 'light', width: 1000, height: 1400 });
    try {
      const a = makeFakeAnalysis({ tokens: 24, experts: 8, layers: 4, kMax: 4, seed: 5 });
      a.model.importanceDefinition = {
        definition: 'attention received, divided by its mean',
        normalization: 'mean',
        k_scale: 0.375,
        k_rule: 'K = clamp(ceil(k_scale * k_max * importance), 1, k_max)',
      };
      // Importance up to 2.5, so every threshold (0.667, 1.333, 2.000) is on the axis.
      for (const l of a.layers) l.importance = l.importance.map((v) => Math.round(v * 2.5 * 1e6) / 1e6);
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));
      const layer = mostDynamic(a);
      const rows = a.tokens.filter((t) => !t.special).map((t) => t.index);
      const grid = p.page.getByTestId('k-grid');
      assert.equal(await grid.getAttribute('data-k'), rows.map((t) => a.layers.map((l) => l.k[t]).join('')).join(','));
      const order = await p.page.evaluate(() =>
        [...document.querySelectorAll('#app section')].map((e) => (e as HTMLElement).dataset.testid),
      );
      assert.equal(order[0], 'k-grid', `the K grid is the first chart: ${order.join(', ')}`);
      assert.match(
        (await p.page.getByTestId('k-rule-summary').textContent())!,
        /K=1 up to 0\.667, K=2 up to 1\.333, K=3 up to 2\.000, K=4 above 2\.000/,
      );
      await p.page.getByTestId('k-rule-summary').click();
      assert.equal(await p.page.getByTestId('k-rule-definition').textContent(), 'attention received, divided by its mean');
      assert.equal(await p.page.getByTestId('k-rule-text').textContent(), 'K = clamp(ceil(k_scale * k_max * importance), 1, k_max)');
      // Strip: each chip carries its K in the selected layer, as that many pips.
      const chips = await p.page
        .getByTestId('token-strip')
        .evaluate((s) => [...s.querySelectorAll<HTMLElement>('.tok')].map((e) => [Number(e.dataset.k), e.querySelectorAll('.pip').length]));
      assert.deepEqual(
        chips,
        a.tokens.map((t) => [a.layers[layer].k[t.index], a.layers[layer].k[t.index]]),
      );
      const legend = p.page.getByTestId('importance-legend');
      const max = Math.max(...a.layers[layer].importance);
      assert.equal(await legend.getAttribute('data-thresholds'), ['0.667', '1.333', '2.000'].filter((t) => Number(t) < max).join(','));
      // Heatmap: compute share by default.
      assert.equal(await p.page.getByTestId('heatmap').getAttribute('data-value'), 'gateK');
      // K histograms: bars from K = 1; reference lines cross no label.
      assert.equal(await p.page.locator('[data-testid=k-histogram] rect.bar[data-k="0"]').count(), 0);
      assert.equal(await p.page.locator('[data-testid=k-histogram] rect.bar').count(), 4);
      const crossings = await p.page.evaluate(() => {
        const out: string[] = [];
        for (const chart of document.querySelectorAll<SVGSVGElement>('svg.khist:not(.compact)')) {
          const texts = [...chart.querySelectorAll<SVGTextElement>('text.count, text.ref-label')].map((t) => ({
            t: t.textContent,
            b: t.getBBox(),
          }));
          for (const line of chart.querySelectorAll<SVGLineElement>('line.ref')) {
            const x = line.x1.baseVal.value;
            const y1 = Math.min(line.y1.baseVal.value, line.y2.baseVal.value);
            const y2 = Math.max(line.y1.baseVal.value, line.y2.baseVal.value);
            for (const { t, b } of texts)
              if (x > b.x && x < b.x + b.width && y2 > b.y + 1 && y1 < b.y + b.height - 1)
                out.push(`line at x=${x.toFixed(1)} crosses "${t}"`);
          }
        }
        return out;
      });
      assert.deepEqual(crossings, []);
      // The layer select names this analysis's mean K after a second analysis with the same layer count.
      const b2 = makeFakeAnalysis({ tokens: 40, experts: 8, layers: 4, kMax: 4, seed: 11 });
      // In the first frame of the new analysis the select is hidden (its options follow after the paint), never
      // showing the previous analysis's layer and mean K.
      await p.page.evaluate(() => {
        const w = window as unknown as { __firstFrameSelect?: Promise<string> };
        w.__firstFrameSelect = new Promise((resolve) =>
          window.addEventListener(
            'message',
            () =>
              requestAnimationFrame(() => {
                const e = document.querySelector<HTMLElement>('[data-testid=layer-select]')!;
                resolve(`${getComputedStyle(e).visibility}|${(e.shadowRoot?.textContent ?? '').replace(/\s+/g, ' ')}`);
              }),
            { once: true },
          ),
        );
      });
      await p.send(hostNotification('analysis/show', { analysis: b2, stale: false }));
      const [firstVisibility, firstFace] = (
        await p.page.evaluate(() => (window as unknown as { __firstFrameSelect: Promise<string> }).__firstFrameSelect)
      ).split('|');
      const shownBefore = /Layer \d+ \(mean K [\d.]+\)/.exec(firstFace)?.[0];
      assert.ok(
        firstVisibility === 'hidden' ||
          (shownBefore !== undefined && b2.stats.meanK.perLayer.some((k, l) => shownBefore === `Layer ${l} (mean K ${k.toFixed(2)})`)),
        `first frame's select: ${firstVisibility}, ${firstFace}`,
      );
      await raf2(p);
      await p.page.waitForTimeout(50);
      const face = await p.page.getByTestId('layer-select').evaluate((e) => (e.shadowRoot?.textContent ?? '').replace(/\s+/g, ' '));
      assert.equal(await p.page.getByTestId('layer-select').evaluate((e) => getComputedStyle(e).visibility), 'visible');
      const l2 = mostDynamic(b2);
      assert.ok(face.includes(`Layer ${l2} (mean K ${b2.stats.meanK.perLayer[l2].toFixed(2)})`), `select shows: ${face}`);
      // Errors: the banner carries the notification's buttons; a click goes to the host.
      await p.send(hostNotification('host/error', { message: 'the model broke', actions: ['Select Model', 'Show Output'] }));
      assert.equal(await p.page.getByTestId('error-action').count(), 2);
      await p.page.getByTestId('error-action').first().click();
      assert.deepEqual((await p.posted()).at(-1), {
        protocol: 1,
        kind: 'notification',
        method: 'error/action',
        params: { action: 'Select Model' },
      });
      await p.page.screenshot({ path: path.join(resultsDir(), 'routing-k-first-light.png'), fullPage: true });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it("figures: the K grid as PNG and the heatmap as SVG go to the host as valid files of the chart's size", async () => {
    const p = await openPanel(browser, { theme: 'dark' });
    try {
      const a = makeFakeAnalysis({ tokens: 30, experts: 8, layers: 4 });
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));
      await p.page.getByTestId('figure-tools-k-grid').getByTestId('figure-save-png').click();
      let req = (await p.posted()).at(-1)!;
      for (let i = 0; i < 50 && req.method !== 'figure/save'; i++) {
        await p.page.waitForTimeout(50);
        req = (await p.posted()).at(-1)!;
      }
      assert.equal(req.method, 'figure/save');
      const png = validateFigureSave(req.params as Record<string, unknown>);
      assert.equal(png.format, 'png');
      const bytes = Buffer.from(png.data, 'base64');
      assert.deepEqual(pngSize(new Uint8Array(bytes)), { width: png.width, height: png.height });
      assert.ok(png.height > 28 * 18, `every row is in the figure (${png.height} px high at 2x)`);
      await p.send(hostResponse(req.id!, '/tmp/k-grid.png'));
      assert.match((await p.page.getByTestId('notice').textContent())!, /Saved the k-grid chart to \/tmp\/k-grid\.png/);

      await p.page.getByTestId('figure-tools-heatmap').getByTestId('figure-save-svg').click();
      await p.page.waitForTimeout(100);
      req = (await p.posted()).at(-1)!;
      assert.equal(req.method, 'figure/save');
      const svgFig = validateFigureSave(req.params as Record<string, unknown>);
      const parsed = await p.page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        return {
          error: doc.querySelector('parsererror')?.textContent ?? null,
          root: doc.documentElement.nodeName,
          rects: doc.querySelectorAll('rect').length,
        };
      }, svgFig.data);
      assert.equal(parsed.error, null);
      assert.equal(parsed.root, 'svg');
      assert.ok(parsed.rects > 28, `${parsed.rects} cells`);
      await p.send(hostResponse(req.id!, null));
      // An SVG chart (the K histogram) through the same path, rasterised.
      await p.page.getByTestId('k-histogram').getByTestId('figure-save-png').click();
      for (let i = 0; i < 50 && (await p.posted()).at(-1)!.id === req.id; i++) await p.page.waitForTimeout(50);
      req = (await p.posted()).at(-1)!;
      const hist = validateFigureSave(req.params as Record<string, unknown>);
      assert.deepEqual(pngSize(new Uint8Array(Buffer.from(hist.data, 'base64'))), { width: 600, height: 340 });
      await p.send(hostResponse(req.id!, null));
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('renders token text literally (no HTML injection) and fires no dialog', async () => {
    const p = await openPanel(browser, { theme: 'dark' });
    try {
      const evil = '<img src=x onerror="alert(1)">';
      const a = makeFakeAnalysis({ tokens: 12, injectText: { at: 3, text: evil } });
      a.tokens[5].text = '<script>alert(2)</script>';
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));
      const strip = p.page.getByTestId('token-strip');
      assert.equal(await strip.locator('.tok[data-index="3"]').textContent(), evil);
      assert.equal(await strip.locator('.tok[data-index="5"]').textContent(), '<script>alert(2)</script>');
      assert.equal(await p.page.locator('#app img').count(), 0);
      assert.equal(await p.page.locator('#app script').count(), 0);
      await p.page.getByTestId('view-mode-table').click();
      assert.equal(await p.page.locator('tr[data-token="3"] th').textContent(), evil);
      await p.page.waitForTimeout(200);
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('links highlighting: cursorToken highlights and scrolls, hover posts token/hover, click posts token/reveal', async () => {
    const p = await openPanel(browser, { theme: 'dark' });
    try {
      const a = makeFakeAnalysis({ tokens: 600, experts: 8, layers: 3 });
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));
      const heat = p.page.getByTestId('heatmap');

      await p.send(hostNotification('editor/cursorToken', { tokenIndex: 500 }));
      assert.equal(await p.page.locator('.tok.is-cursor').getAttribute('data-index'), '500');
      const first = Number(await heat.getAttribute('data-first-row'));
      const visible = Number(await heat.getAttribute('data-visible-rows'));
      const row = 500 - 1; // one special token before
      assert.ok(first <= row && row < first + visible, `row ${row} visible in [${first}, ${first + visible})`);

      await p.send(hostNotification('editor/cursorToken', { tokenIndex: null }));
      assert.equal(await p.page.locator('.tok.is-cursor').count(), 0);

      // Hover a token in the strip.
      await p.page.getByTestId('token-strip').evaluate((s) => (s.scrollTop = 0));
      await p.page.locator('.tok[data-index="4"]').hover();
      let posted = await p.posted();
      assert.deepEqual(posted.at(-1), { protocol: 1, kind: 'notification', method: 'token/hover', params: { tokenIndex: 4 } });
      assert.equal(await p.page.locator('.tok.is-hover').getAttribute('data-index'), '4');

      // Hover a heatmap row: row 3 (token 4 after [CLS]) at x inside the cells.
      await heat.getByTestId('heatmap-scroll').evaluate((s) => (s.scrollTop = 0));
      await raf2(p);
      const box = (await p.page.getByTestId('heatmap-canvas').boundingBox())!;
      await p.page.mouse.move(box.x + box.width - 40, box.y + 24 + 2 * 18 + 9);
      posted = await p.posted();
      assert.deepEqual(posted.at(-1)?.params, { tokenIndex: 3 });
      assert.equal(await p.page.getByTestId('heatmap-tooltip').isVisible(), true);
      assert.match((await p.page.getByTestId('heatmap-tooltip').textContent())!, /#3 .*layer 0 · K = \d/s);
      await p.page.mouse.click(box.x + 30, box.y + 24 + 5 * 18 + 9);
      posted = await p.posted();
      assert.deepEqual(posted.at(-1), { protocol: 1, kind: 'notification', method: 'token/reveal', params: { tokenIndex: 6 } });
      await p.page.mouse.move(box.x + box.width / 2, box.y + box.height + 200);
      posted = await p.posted();
      assert.deepEqual(posted.at(-1)?.params, { tokenIndex: null });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('table view: headers, roving focus with arrow keys, Enter reveals', async () => {
    const p = await openPanel(browser, { theme: 'light' });
    try {
      const a = makeFakeAnalysis({ tokens: 40, experts: 8, layers: 3 });
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));
      await p.page.getByTestId('view-mode-table').click();
      await raf2(p);
      assert.equal(await p.page.getByTestId('table-view').isVisible(), true);
      assert.equal(await p.page.getByTestId('heatmap').isVisible(), false);
      const table = p.page.getByTestId('routing-table');
      assert.equal(await table.locator('thead th[scope="col"]').count(), 4 + a.layers.length);
      assert.equal(await table.locator('tbody th[scope="row"]').count(), 38);
      assert.equal(await table.locator('tbody tr[tabindex="0"]').count(), 1, 'one row in the tab order');
      assert.match((await table.locator('caption').textContent())!, /38 tokens/);

      await table.locator('tbody tr').first().focus();
      await p.page.keyboard.press('ArrowDown');
      await p.page.keyboard.press('ArrowDown');
      let active = await p.page.evaluate(() => (document.activeElement as HTMLElement).dataset.row);
      assert.equal(active, '2');
      assert.deepEqual((await p.posted()).at(-1), { protocol: 1, kind: 'notification', method: 'token/hover', params: { tokenIndex: 3 } });
      await p.page.keyboard.press('End');
      active = await p.page.evaluate(() => (document.activeElement as HTMLElement).dataset.row);
      assert.equal(active, '37');
      await p.page.keyboard.press('ArrowUp');
      await p.page.keyboard.press('Enter');
      assert.deepEqual((await p.posted()).at(-1), {
        protocol: 1,
        kind: 'notification',
        method: 'token/reveal',
        params: { tokenIndex: 37 },
      });
      assert.equal(await table.locator('tbody tr[tabindex="0"]').getAttribute('data-row'), '36');

      // Cursor from the editor highlights the table row.
      await p.send(hostNotification('editor/cursorToken', { tokenIndex: 10 }));
      assert.equal(await table.locator('tr.is-cursor').getAttribute('data-token'), '10');
      await p.page.screenshot({ path: path.join(resultsDir(), 'routing-table-light.png') });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('saves PanelState on every change and restores it (without a new analysis/show)', async () => {
    const p = await openPanel(browser, { theme: 'dark' });
    let saved;
    try {
      const a = makeFakeAnalysis({ tokens: 30, experts: 8, layers: 4 });
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));
      await persisted(p); // saved once the frame that paints it is done (idle callback)
      let st = await p.state();
      assert.equal(st?.analysis?.tokens.length, 30);
      assert.equal(st?.layer, mostDynamic(a));
      assert.notEqual(mostDynamic(a), 2, 'the fake analysis must not open on the layer clicked next');
      await p.page.locator('[data-testid="layer-multiple"][data-layer="2"]').click();
      await persisted(p);
      st = await p.state();
      assert.equal(st?.layer, 2);
      assert.deepEqual((await p.posted()).at(-1), { protocol: 1, kind: 'notification', method: 'view/layer', params: { layer: 2 } });
      assert.equal(await p.page.getByTestId('heatmap').getAttribute('data-layer'), '2');
      assert.equal(await p.page.getByTestId('k-histogram').getAttribute('data-layer'), '2');
      assert.equal(
        await p.page.evaluate(() => (document.querySelector('vscode-single-select') as HTMLElement & { value: string }).value),
        '2',
      );
      await p.page.getByTestId('heatmap-value-routerProbs').click();
      await persisted(p);
      st = await p.state();
      assert.equal(st?.heatmapValue, 'routerProbs');
      assert.equal(await p.page.getByTestId('heatmap').getAttribute('data-value'), 'routerProbs');
      // Layer through the single-select, like a user: open the dropdown, click an option (in its shadow DOM).
      await p.page.getByTestId('layer-select').click();
      await p.page
        .getByTestId('layer-select')
        .getByRole('option', { name: /^Layer 3 \(mean K/ })
        .click();
      await persisted(p);
      assert.equal((await p.state())?.layer, 3);
      assert.equal(await p.page.getByTestId('heatmap').getAttribute('data-layer'), '3');
      saved = await p.state();
      await expectClean(p);
    } finally {
      await p.close();
    }
    const q = await openPanel(browser, { theme: 'dark', state: saved });
    try {
      const posted = await q.posted();
      assert.equal(posted[0].method, 'ready');
      const heat = q.page.getByTestId('heatmap');
      assert.equal(await heat.getAttribute('data-rows'), '28');
      assert.equal(await heat.getAttribute('data-layer'), '3');
      assert.equal(await heat.getAttribute('data-value'), 'routerProbs');
      await expectClean(q);
    } finally {
      await q.close();
    }
  });

  it('edge cases: only special tokens, one layer, top-k router, malformed analysis', async () => {
    const p = await openPanel(browser, { theme: 'light' });
    try {
      await p.send(hostNotification('analysis/show', { analysis: makeFakeAnalysis({ tokens: 2, layers: 1 }), stale: false }));
      assert.equal(await p.page.getByTestId('heatmap').getAttribute('data-rows'), '0');
      await p.page.getByTestId('view-mode-table').click();
      assert.equal(await p.page.getByTestId('routing-table').locator('tbody tr').count(), 0);
      await p.page.getByTestId('view-mode-chart').click();
      const topk = makeFakeAnalysis({ tokens: 9, layers: 1, experts: 4, kMax: 2, routerKind: 'top-k' });
      await p.send(hostNotification('analysis/show', { analysis: topk, stale: false }));
      assert.equal(await p.page.getByTestId('router-kind').textContent(), 'top-2');
      assert.equal(await p.page.getByTestId('k-histogram').getAttribute('data-counts'), '0,0,9');
      await p.send({
        protocol: 1,
        kind: 'notification',
        method: 'analysis/show',
        params: { analysis: { nope: 1 } as never, stale: false },
      });
      assert.match((await p.page.getByTestId('error-banner').textContent())!, /malformed analysis/);
      assert.equal(await p.page.getByTestId('heatmap').getAttribute('data-rows'), '7', 'previous analysis kept');
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('export: a request with an id, answered by a response', async () => {
    const p = await openPanel(browser, { theme: 'dark' });
    try {
      await p.send(hostNotification('analysis/show', { analysis: makeFakeAnalysis({ tokens: 10 }), stale: false }));
      await p.page.getByTestId('export').click();
      const req = (await p.posted()).at(-1)!;
      assert.equal(req.kind, 'request');
      assert.equal(req.method, 'analysis/export');
      assert.ok(Number.isInteger(req.id) && req.id! > 0);
      await p.send(hostResponse(req.id!, '/tmp/analysis.json'));
      assert.equal(await p.page.getByTestId('notice').textContent(), 'Saved to /tmp/analysis.json');
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('importance check: the button requests it, progress and Cancel while it runs, rho per layer after; errors in the banner', async () => {
    const p = await openPanel(browser, { theme: 'dark', width: 1000, height: 1100 });
    try {
      const a = makeFakeAnalysis({ tokens: 12, layers: 4 });
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));
      const run = p.page.getByTestId('importance-check-run');
      assert.equal(await run.isVisible(), true);
      assert.equal(await p.page.getByTestId('importance-check-cancel').isVisible(), false);
      await run.click();
      const req = (await p.posted()).at(-1)!;
      assert.equal(req.kind, 'request');
      assert.equal(req.method, 'importance/check');
      assert.deepEqual(req.params, {});
      await p.send(hostNotification('importance/progress', { done: 3, total: 11 }));
      assert.match((await p.page.getByTestId('importance-check-status').textContent())!, /3 of 11 inputs/);
      await p.page.getByTestId('importance-check-cancel').click();
      assert.deepEqual((await p.posted()).at(-1), { protocol: 1, kind: 'notification', method: 'importance/cancel', params: {} });
      await p.send(hostResponse(req.id!, null));
      assert.equal(await p.page.getByTestId('notice').textContent(), 'Importance check cancelled.');

      await run.click();
      const req2 = (await p.posted()).at(-1)!;
      const drops = a.tokens.map((t, i) => (t.special ? null : i === 3 ? 0.4 : 0.01 * i));
      const layers = a.layers.map((_, layer) => ({
        layer,
        spearman: layer === 1 ? -0.25 : 0.5,
        n: 10,
        ci95: [0.1, 0.8] as [number, number],
        mean_text_spearman: null,
        texts: 0,
      }));
      const check = {
        occlusion: 'deletion',
        measure: 'predicted-class-probability-drop',
        pooling: 'tokens',
        n: 10,
        texts: 1,
        sequences: 11,
        mean_drop: 0.05,
        max_drop: 0.4,
        layers,
        drops,
        predicted: { index: 1, label: 'positive', probability: 0.9 },
      };
      await p.send(hostResponse(req2.id!, check));
      const table = p.page.getByTestId('importance-check-table');
      assert.equal(await table.locator('tbody tr').count(), a.layers.length);
      assert.equal(
        await p.page.getByTestId('importance-check-layer-1').getByTestId('importance-check-rho').textContent(),
        '-0.250 [+0.100, +0.800] (n 10)',
      );
      assert.match(
        (await table.locator('caption').textContent())!,
        /p\(positive\) \(0\.900 on the whole text\).*10 tokens, 11 model inputs/,
      );
      assert.match(
        (await p.page.getByTestId('importance-check-drops').textContent())!,
        new RegExp(`^Largest drops of p\\(positive\\) when deleted: ${a.tokens[3].text} 0\\.4000 \\(importance`),
      );
      // Kept with the analysis in the saved state.
      await persisted(p);
      assert.deepEqual((await p.state())!.analysis!.importance_check, check);

      await run.click();
      const req3 = (await p.posted()).at(-1)!;
      await p.send({ protocol: 1, kind: 'response', id: req3.id!, ok: false, error: 'the model worker stopped' });
      assert.match((await p.page.getByTestId('error-banner').textContent())!, /Importance check failed: the model worker stopped/);
      await p.page.getByTestId('importance-check').screenshot({ path: path.join(resultsDir(), 'routing-importance-check.png') });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('a routing trace: importance is absent and no check is offered; no gate/probability choice without gates', async () => {
    const p = await openPanel(browser, { theme: 'light' });
    try {
      const a = makeFakeAnalysis({ tokens: 8 });
      a.model = { ...a.model, routingSource: 'trace', importanceAvailable: false, gatesAvailable: false };
      await p.send(hostNotification('analysis/show', { analysis: a, stale: false }));
      assert.notEqual(await p.page.getByTestId('importance-check-run').getAttribute('disabled'), null);
      assert.match(
        (await p.page.getByTestId('importance-check-status').textContent())!,
        /Not available: A routing trace has no token importance/,
      );
      assert.equal(await p.page.getByTestId('heatmap-value').isVisible(), false);
      // The next analysis, of a model that has gates, offers the choice again.
      await p.send(hostNotification('analysis/show', { analysis: makeFakeAnalysis({ tokens: 8 }), stale: false }));
      assert.equal(await p.page.getByTestId('heatmap-value').isVisible(), true);
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('the first frame after a long analysis shows a full token strip, the rest of the first chunk follows after it', async () => {
    // Wide enough that the chips built before the paint (an estimate from the window's width) do not fill the strip's
    // visible lines: the animation frame must add more before that frame paints.
    for (const width of [1280, 4600]) {
      const p = await openPanel(browser, { theme: 'dark', width, height: 900 });
      try {
        const a = makeFakeAnalysis({ tokens: 4096, experts: 8, layers: 2, kMax: 4, seed: 3 });
        await stageMessage(p.page, encodeMessage(hostNotification('analysis/show', { analysis: packAnalysis(a), stale: false })));
        const first = await p.page.evaluate(
          () =>
            new Promise<{ chips: number; moreTop: number; visibleBottom: number }>((resolve) => {
              window.addEventListener(
                'message',
                // Registered after the panel's own animation frame callbacks: what this frame paints.
                () =>
                  requestAnimationFrame(() => {
                    const strip = document.querySelector<HTMLElement>('[data-testid="token-strip"]')!;
                    const more = document.querySelector<HTMLElement>('[data-testid="token-strip-more"]')!;
                    resolve({
                      chips: strip.querySelectorAll('.tok').length,
                      moreTop: more.offsetTop,
                      visibleBottom: strip.scrollTop + strip.clientHeight,
                    });
                  }),
                { once: true },
              );
              window.postMessage((window as unknown as { __message: unknown }).__message, '*');
            }),
        );
        assert.ok(
          first.chips > 0 && first.moreTop >= first.visibleBottom,
          `${width} px: the strip's end is below its visible lines (${JSON.stringify(first)})`,
        );
        await raf2(p);
        assert.ok(
          (await p.page.getByTestId('token-strip').locator('.tok').count()) >= TOKEN_STRIP_CHUNK,
          `${width} px: the first chunk is built`,
        );
        assert.deepEqual(p.rec.pageErrors, []);
      } finally {
        await p.close();
      }
    }
  });

  it('4,096 tokens × 16 experts × 8 layers, packed as the host sends it: renders, scroll + redraw stays fast (timings printed)', async () => {
    const p = await openPanel(browser, { theme: 'dark', deviceScaleFactor: 2 });
    try {
      const a = makeFakeAnalysis({ tokens: 4096, experts: 16, layers: 8, kMax: 4, seed: 7 });
      const t0 = Date.now();
      await p.send(hostNotification('analysis/show', { analysis: packAnalysis(a), stale: false }));
      const showMs = Date.now() - t0;
      const heat = p.page.getByTestId('heatmap');
      assert.equal(await heat.getAttribute('data-rows'), '4094');
      assert.equal(await heat.getAttribute('data-cols'), '16');
      const visible = Number(await heat.getAttribute('data-visible-rows'));
      assert.ok(visible > 0 && visible < 40, `only visible rows drawn (${visible})`);
      const dpr = await p.page.getByTestId('heatmap-canvas').evaluate((c: HTMLCanvasElement) => ({ w: c.width, css: c.clientWidth }));
      assert.equal(dpr.w, dpr.css * 2, 'canvas backing store scaled by devicePixelRatio');
      // The token strip builds its chips TOKEN_STRIP_CHUNK at a time: more as it is scrolled, and up to the cursor's token.
      const strip = p.page.getByTestId('token-strip');
      assert.equal(await strip.locator('.tok').count(), TOKEN_STRIP_CHUNK);
      assert.equal(await p.page.getByTestId('token-strip-more').textContent(), `${4096 - TOKEN_STRIP_CHUNK} more tokens…`);
      await strip.evaluate((s) => (s.scrollTop = s.scrollHeight));
      await raf2(p);
      await p.page.waitForFunction((n) => document.querySelectorAll('[data-testid="token-strip"] .tok').length > n, TOKEN_STRIP_CHUNK);
      await p.send(hostNotification('editor/cursorToken', { tokenIndex: 3000 }));
      assert.equal(await strip.locator('.tok.is-cursor').getAttribute('data-index'), '3000');
      assert.ok((await strip.locator('.tok').count()) <= 3000 + TOKEN_STRIP_CHUNK);

      const perf = await p.page.evaluate(async () => {
        const scroller = document.querySelector('[data-testid="heatmap-scroll"]') as HTMLElement;
        const root = document.querySelector('[data-testid="heatmap"]') as HTMLElement;
        const frame = (): Promise<number> => new Promise((r) => requestAnimationFrame((t) => r(t)));
        const frames: number[] = [];
        const draws: number[] = [];
        const max = scroller.scrollHeight - scroller.clientHeight;
        await frame();
        for (let i = 1; i <= 60; i++) {
          const t = performance.now();
          scroller.scrollTop = (max * i) / 60;
          await frame();
          await frame();
          frames.push(performance.now() - t);
          draws.push(Number(root.dataset.drawMs));
        }
        const stats = (xs: number[]) => {
          const s = xs.slice().sort((x, y) => x - y);
          return { median: s[Math.floor(s.length / 2)], p95: s[Math.floor(s.length * 0.95)], max: s[s.length - 1] };
        };
        return { frames: stats(frames), draws: stats(draws), last: Number(root.dataset.firstRow) };
      });
      // Switch layers and value on the big analysis.
      const t1 = Date.now();
      await p.page.locator('[data-testid="layer-multiple"][data-layer="5"]').click();
      await raf2(p);
      const layerMs = Date.now() - t1;
      const t2 = Date.now();
      await p.page.getByTestId('view-mode-table').click();
      await raf2(p);
      const tableMs = Date.now() - t2;
      const table = p.page.getByTestId('routing-table');
      assert.equal(await table.locator('tbody tr').count(), 500, 'first page');
      assert.equal(await table.getAttribute('aria-rowcount'), '4095');
      await table.locator('tbody tr').first().focus();
      await p.page.keyboard.press('End');
      assert.equal(await p.page.evaluate(() => (document.activeElement as HTMLElement).dataset.row), '4093');
      assert.equal(await p.page.evaluate(() => (document.activeElement as HTMLElement).getAttribute('aria-rowindex')), '4095');
      await p.page.keyboard.press('Home');
      await p.page.keyboard.press('PageUp');
      for (let i = 0; i < 50; i++) await p.page.keyboard.press('PageDown');
      assert.equal(await p.page.evaluate(() => (document.activeElement as HTMLElement).dataset.row), '500', 'keyboard crosses pages');
      assert.equal(await p.page.getByTestId('table-pager').textContent(), 'Previous rowsRows 501–1000 of 4094Next rows');
      console.log(`# 4096x16x8: show+render ${showMs} ms (incl. postMessage), layer switch ${layerMs} ms, table view ${tableMs} ms`);
      console.log(
        `# heatmap scroll step (2 frames): median ${perf.frames.median.toFixed(1)} ms, p95 ${perf.frames.p95.toFixed(1)} ms; ` +
          `draw: median ${perf.draws.median.toFixed(2)} ms, p95 ${perf.draws.p95.toFixed(2)} ms, max ${perf.draws.max.toFixed(2)} ms; last first-row ${perf.last}`,
      );
      assert.ok(perf.last > 4000, 'scrolled to the end');
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  for (const theme of ['dark', 'light', 'hc'] as ThemeName[]) {
    it(`screenshot: ${theme}`, async () => {
      const p = await openPanel(browser, { width: 1000, height: 1300 });
      try {
        await applyTheme(p.page, theme);
        const a = makeFakeAnalysis({ tokens: 96, experts: 8, layers: 6, kMax: 4, seed: 3, windowed: theme === 'light' });
        await p.send(hostNotification('analysis/show', { analysis: a, stale: theme === 'hc' }));
        await p.send(hostNotification('editor/cursorToken', { tokenIndex: 7 }));
        // Theme change after the first draw must repaint the canvas with the new background.
        await applyTheme(p.page, theme === 'dark' ? 'light' : 'dark');
        await applyTheme(p.page, theme);
        const bg = await p.page.getByTestId('heatmap-canvas').evaluate((c: HTMLCanvasElement) => {
          const d = c.getContext('2d')!.getImageData(2, 2, 1, 1).data;
          return [d[0], d[1], d[2]];
        });
        const expected = { dark: [31, 31, 31], light: [255, 255, 255], hc: [0, 0, 0] }[theme];
        assert.deepEqual(bg, expected, 'canvas redrawn with the theme background');
        const box = (await p.page.getByTestId('heatmap-canvas').boundingBox())!;
        await p.page.mouse.move(box.x + box.width - 60, box.y + 24 + 4 * 18 + 9);
        await raf2(p);
        await p.page.screenshot({ path: path.join(resultsDir(), `routing-${theme}.png`), fullPage: true });
        await p.page.getByTestId('heatmap-value-routerProbs').click();
        await raf2(p);
        await p.page.getByTestId('heatmap').screenshot({ path: path.join(resultsDir(), `routing-${theme}-probs.png`) });
        await p.page.getByTestId('view-mode-table').click();
        await raf2(p);
        await p.page.getByTestId('table-view').locator('tbody tr').nth(3).focus();
        await p.page.screenshot({ path: path.join(resultsDir(), `routing-${theme}-table.png`) });
        await expectClean(p);
      } finally {
        await p.close();
      }
    });
  }
});
