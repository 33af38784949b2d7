/**
 * The spot-check report webview in real headless Chromium: real bundle, real HTML and CSP, stubbed acquireVsCodeApi,
 * a SpotCheckReport built by the real report builder from fake analyses. Screenshots (light / dark / high contrast)
 * go to test-results/webview/spotcheck-*.png.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import { hostResponse } from '../../../src/shared/protocol/envelope';
import { pngSize, validateFigureSave } from '../../../src/shared/protocol/figure';
import { type SpotCheckPanelState, spotCheckHostNotification } from '../../../src/shared/protocol/spotcheck';
import { makeFakeSpotCheck } from './fake-spotcheck';
import {
  applyTheme,
  buildWebview,
  cspViolations,
  launchBrowser,
  openPanel,
  resultsDir,
  skipReason,
  underError,
  type PanelPage,
  type ThemeName,
} from './harness';

const skip = skipReason();
if (skip) console.log(`# SKIP spot-check webview browser tests: ${skip}`);

const linking = { canOpen: true, note: null };

async function expectClean(p: PanelPage): Promise<void> {
  assert.deepEqual(await cspViolations(p), [], 'no CSP violations');
  assert.deepEqual(p.rec.pageErrors, [], 'no page errors');
  assert.deepEqual(p.rec.dialogs, [], 'no dialogs');
  assert.deepEqual(p.rec.consoleErrors, [], 'no console errors');
}

const rowLines = (p: PanelPage): Promise<number[]> =>
  p.page.getByTestId('spotcheck-example-row').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.line)));

describe('spot-check webview (headless Chromium)', { skip: skip ?? false, timeout: 600_000 }, () => {
  let browser: Browser;

  before(async () => {
    buildWebview();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('posts ready first, then renders the report: accuracy, confusion matrix, K histograms, load, examples', async () => {
    const p = await openPanel(browser, { bundle: 'spotcheck', theme: 'dark' });
    try {
      const posted0 = await p.posted();
      assert.deepEqual(posted0, [{ protocol: 1, kind: 'notification', method: 'ready', params: { protocolVersion: 1 } }]);
      const report = makeFakeSpotCheck();
      await p.send(spotCheckHostNotification('spotcheck/show', { report, linking }));

      const acc = p.page.getByTestId('spotcheck-accuracy');
      assert.equal(Number(await acc.getAttribute('data-value')), report.accuracy);
      assert.match((await acc.innerText())!, new RegExp(`${(report.accuracy! * 100).toFixed(1)}%`));
      const matrix = JSON.parse((await p.page.getByTestId('spotcheck-confusion').getAttribute('data-matrix'))!);
      assert.deepEqual(matrix, report.confusion!.matrix);
      assert.equal(await p.page.locator('[data-testid=spotcheck-confusion] td.cell').count(), 4);

      const hists = p.page.getByTestId('spotcheck-k-histogram');
      assert.equal(await hists.count(), report.model.num_layers);
      for (let l = 0; l < report.model.num_layers; l++) {
        const counts = (await hists.nth(l).getAttribute('data-counts'))!.split(',').map(Number);
        assert.deepEqual(counts, report.k_histogram.per_layer[l]);
        assert.equal(
          counts.reduce((a, b) => a + b, 0),
          report.tokens,
          `layer ${l} histogram sums to the token count`,
        );
      }
      const loads = p.page.getByTestId('spotcheck-expert-load-layer');
      assert.equal(await loads.count(), report.model.num_layers);
      assert.equal(await loads.first().getAttribute('data-dead'), String(report.model.num_experts - 1), 'dead expert marked');
      assert.equal(await loads.first().locator('g.dead').count(), 1);
      assert.equal(await p.page.getByTestId('spotcheck-coactivation').locator('rect.coact-cell').count(), report.model.num_experts ** 2);
      // Co-activation as P(j | i): the diagonal is blank, an off-diagonal cell is its count over the row's diagonal.
      const co = report.co_activation[0];
      const cellP = async (i: number, j: number) =>
        p.page.locator(`[data-testid=spotcheck-coactivation] rect[data-i="${i}"][data-j="${j}"]`).getAttribute('data-p');
      assert.equal(await cellP(0, 0), '');
      assert.equal(Number(await cellP(0, 1)), Number((co[0][1] / co[0][0]).toFixed(6)));
      assert.match(await p.page.getByTestId('spotcheck-coactivation').innerText(), /P\(j \| i\)/);
      // The accuracy's Wilson interval, and the specialisation table (one row per expert of the selected layer).
      assert.match(await p.page.getByTestId('spotcheck-accuracy-ci').innerText(), /^95% CI \[\d+\.\d, \d+\.\d\]$/);
      assert.equal(await p.page.getByTestId('spotcheck-specialisation-row').count(), report.model.num_experts);
      const specTokens = await p.page.locator('[data-testid=spotcheck-specialisation-row] .sc-spec-token').count();
      assert.ok(specTokens > 0);
      assert.equal(
        specTokens,
        report.expert_specialisation![0].reduce((n, x) => n + x.tokens.length, 0),
      );
      assert.equal(
        await p.page.getByTestId('spotcheck-label-row').count(),
        report.routing_by_label.length + report.routing_by_prediction.length,
      );
      assert.ok((await p.page.getByTestId('spotcheck-tokens-most').locator('li').count()) > 0);
      assert.deepEqual(
        await rowLines(p),
        report.examples.map((e) => e.line),
      );
      assert.equal(await p.page.getByTestId('spotcheck-cancelled').isVisible(), false);
      assert.equal(await p.page.getByTestId('spotcheck-skipped').isVisible(), true);
      assert.equal(await p.page.getByTestId('spotcheck-model').textContent(), 'damoe-sst2');
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('filters by outcome and text, sorts by column, and clicking a row posts example/open', async () => {
    const p = await openPanel(browser, { bundle: 'spotcheck', theme: 'light' });
    try {
      const report = makeFakeSpotCheck();
      await p.send(spotCheckHostNotification('spotcheck/show', { report, linking }));
      await p.page.getByTestId('spotcheck-filter-wrong').click();
      await p.page.waitForTimeout(50);
      const wrong = report.examples.filter((e) => e.correct === false).map((e) => e.line);
      assert.deepEqual(await rowLines(p), wrong);
      await p.page.getByTestId('spotcheck-filter-correct').click();
      await p.page.waitForTimeout(50);
      assert.deepEqual(
        await rowLines(p),
        report.examples.filter((e) => e.correct === true).map((e) => e.line),
      );
      await p.page.getByTestId('spotcheck-filter-all').click();

      await p.page.getByTestId('spotcheck-sort-confidence').click();
      const byConfDesc = [...report.examples].sort((a, b) => b.confidence! - a.confidence! || a.line - b.line).map((e) => e.line);
      assert.deepEqual(await rowLines(p), byConfDesc);
      assert.equal(await p.page.locator('th[aria-sort=descending]').count(), 1);
      await p.page.getByTestId('spotcheck-sort-confidence').click();
      assert.deepEqual(
        await rowLines(p),
        [...report.examples].sort((a, b) => a.confidence! - b.confidence! || a.line - b.line).map((e) => e.line),
      );

      const word = report.examples[5].text.split(' ')[0];
      await p.page.getByTestId('spotcheck-search').fill(word);
      await p.page.waitForTimeout(300);
      const lines = await rowLines(p);
      assert.ok(lines.length > 0 && lines.length <= report.examples.length);
      for (const line of lines)
        assert.ok(
          report.examples
            .find((e) => e.line === line)!
            .text.toLowerCase()
            .includes(word),
        );
      await p.page.getByTestId('spotcheck-search').fill('');
      await p.page.waitForTimeout(300);

      const target = report.examples[2].line;
      await p.page.locator(`[data-testid=spotcheck-example-row][data-line="${target}"]`).click();
      const posted = await p.posted();
      assert.deepEqual(posted.at(-1), { protocol: 1, kind: 'notification', method: 'example/open', params: { line: target } });
      // Keyboard: Enter on a focused row.
      await p.page.locator(`[data-testid=spotcheck-example-row][data-line="${report.examples[4].line}"]`).focus();
      await p.page.keyboard.press('Enter');
      assert.deepEqual((await p.posted()).at(-1)?.params, { line: report.examples[4].line });

      // The view is saved for the serializer.
      await p.page.waitForTimeout(50);
      const st = (await p.state()) as unknown as SpotCheckPanelState;
      assert.equal(st.report?.n, report.n);
      assert.deepEqual(st.sort, { key: 'confidence', descending: false });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('export buttons send requests and show where the report was saved', async () => {
    const p = await openPanel(browser, { bundle: 'spotcheck' });
    try {
      await p.send(spotCheckHostNotification('spotcheck/show', { report: makeFakeSpotCheck(), linking }));
      await p.page.getByTestId('spotcheck-export-html').click();
      const req = (await p.posted()).at(-1)!;
      assert.equal(req.kind, 'request');
      assert.equal(req.method, 'spotcheck/export');
      assert.deepEqual(req.params, { format: 'html' });
      await p.send(hostResponse(req.id!, '/tmp/report.html'));
      assert.equal(await p.page.getByTestId('spotcheck-notice').textContent(), 'Saved to /tmp/report.html');
      await p.page.getByTestId('spotcheck-export-json').click();
      assert.deepEqual((await p.posted()).at(-1)!.params, { format: 'json' });
      await p.page.getByTestId('spotcheck-export-parquet').click();
      assert.deepEqual((await p.posted()).at(-1)!.params, { format: 'parquet' });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it("a failed run: the banner with the host's buttons, the report dimmed under it; the next report clears both", async () => {
    const p = await openPanel(browser, { bundle: 'spotcheck', theme: 'light' });
    try {
      const report = makeFakeSpotCheck();
      await p.send(spotCheckHostNotification('spotcheck/show', { report, linking }));
      assert.deepEqual(await underError(p), { app: false, dimmed: 0, busy: 0, opacity: [], dimmedAround: [] });
      await p.send(
        spotCheckHostNotification('spotcheck/error', {
          message: 'DA-MoE spot-check: the model at /m does not follow the model contract',
          actions: ['Select Model', 'Show Output'],
        }),
      );
      const banner = p.page.getByTestId('spotcheck-error');
      assert.equal(await banner.isVisible(), true);
      assert.match((await banner.locator('.banner-text').textContent())!, /does not follow the model contract/);
      assert.deepEqual(await banner.getByTestId('error-action').allTextContents(), ['Select Model', 'Show Output']);
      await banner.getByTestId('error-action').nth(1).click();
      assert.deepEqual((await p.posted()).at(-1), {
        protocol: 1,
        kind: 'notification',
        method: 'error/action',
        params: { action: 'Show Output' },
      });
      // The report stays, dimmed and busy; the header's banners and export buttons do not.
      const marked = await underError(p, ['spotcheck-error', 'spotcheck-export-json']);
      assert.equal(marked.app, true);
      assert.ok(marked.dimmed >= 5, `the report's sections are dimmed: ${JSON.stringify(marked)}`);
      assert.equal(marked.busy, marked.dimmed);
      assert.deepEqual(marked.opacity, ['0.45']);
      assert.deepEqual(marked.dimmedAround, [], 'the banner and the export buttons are not dimmed');
      assert.equal(await p.page.locator('.under-error-dimmed [data-testid=spotcheck-example-row]').count(), report.examples.length);
      await p.page.screenshot({ path: path.join(resultsDir(), 'spotcheck-error-light.png'), fullPage: true });
      // A failed export is no news about the report: the banner, not dimmed.
      await p.send(spotCheckHostNotification('spotcheck/show', { report, linking }));
      assert.equal(await banner.isVisible(), false);
      assert.deepEqual(await underError(p), { app: false, dimmed: 0, busy: 0, opacity: [], dimmedAround: [] });
      await p.page.getByTestId('spotcheck-export-json').click();
      const req = (await p.posted()).at(-1)!;
      await p.send({ protocol: 1, kind: 'response', id: req.id!, ok: false, error: 'disk full' });
      assert.match((await banner.textContent())!, /Export failed: disk full/);
      assert.equal(await banner.getByTestId('error-action').count(), 0);
      assert.equal((await underError(p)).app, false);
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it("importance vs occlusion: the sample's rho per layer with interval and n; a report without it says how to get it", async () => {
    const p = await openPanel(browser, { bundle: 'spotcheck', theme: 'light' });
    try {
      const report = makeFakeSpotCheck();
      await p.send(spotCheckHostNotification('spotcheck/show', { report, linking }));
      assert.match(
        (await p.page.getByTestId('spotcheck-importance-check').textContent())!,
        /Not run for this report \(setting damoe\.spotCheck\.importanceCheck/,
      );
      const layers = report.mean_k.per_layer.map((_, layer) => ({
        layer,
        spearman: layer === 0 ? -0.101 : 0.122,
        n: 5129,
        ci95: [0.094, 0.149] as [number, number],
        mean_text_spearman: 0.21,
        texts: 200,
      }));
      const withCheck = {
        ...report,
        importance_check: {
          occlusion: 'deletion' as const,
          measure: 'predicted-class-probability-drop' as const,
          pooling: 'tokens' as const,
          n: 5129,
          texts: 200,
          requested: 200,
          skipped: 0,
          seed: 'importance:42',
          sequences: 5329,
          mean_drop: 0.017,
          max_drop: 0.87,
          layers,
        },
      };
      await p.send(spotCheckHostNotification('spotcheck/show', { report: withCheck, linking }));
      const rows = p.page.getByTestId('spotcheck-importance-check-row');
      assert.equal(await rows.count(), layers.length);
      assert.equal(await rows.nth(0).locator('td').nth(0).textContent(), '-0.101 [+0.094, +0.149] (n 5129)');
      assert.equal(await rows.nth(0).locator('td').nth(1).textContent(), '0.210 (200)');
      assert.match(
        (await p.page.getByTestId('spotcheck-importance-check-summary').textContent())!,
        /pooled over all 5129 tokens \(5329 model inputs\)/,
      );
      await p.page
        .getByTestId('spotcheck-importance-check')
        .screenshot({ path: path.join(resultsDir(), 'spotcheck-importance-check.png') });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it("every chart saves as PNG and SVG through figure/save (the routing panel's path), also after a layer change", async () => {
    const p = await openPanel(browser, { bundle: 'spotcheck', theme: 'dark', deviceScaleFactor: 2 });
    try {
      const report = makeFakeSpotCheck();
      await p.send(spotCheckHostNotification('spotcheck/show', { report, linking }));
      const figures = p.page.locator('figure.chart-figure:has(> svg.chart)');
      const n = await figures.count();
      assert.ok(n >= 1 + 2 * report.model.num_layers, `${n} charts`);
      assert.equal(
        await p.page.locator('figure.chart-figure:has(> svg.chart) [data-testid=figure-save-png]').count(),
        n,
        'one toolbar per chart',
      );
      const next = async (prev: number | undefined): Promise<{ id?: number; method: string; params: Record<string, unknown> }> => {
        for (let i = 0; i < 100; i++) {
          const last = (await p.posted()).at(-1)!;
          if (last.method === 'figure/save' && last.id !== prev) return last;
          await p.page.waitForTimeout(50);
        }
        throw new Error('no figure/save request');
      };
      await p.page.getByTestId('figure-tools-k-histogram-overall').getByTestId('figure-save-png').click();
      let req = await next(undefined);
      const png = validateFigureSave(req.params);
      assert.equal(png.format, 'png');
      assert.deepEqual(pngSize(new Uint8Array(Buffer.from(png.data, 'base64'))), { width: png.width, height: png.height });
      assert.equal(png.width, 500, 'the 250 px chart at devicePixelRatio 2');
      await p.send(hostResponse(req.id!, '/tmp/k.png'));
      assert.match((await p.page.getByTestId('spotcheck-notice').textContent())!, /Saved the k-histogram-overall chart to \/tmp\/k\.png/);
      // The clickable per-layer histograms: saving does not select the layer.
      await p.page.getByTestId('figure-tools-k-histogram-L1').getByTestId('figure-save-svg').click();
      req = await next(req.id);
      const svgFig = validateFigureSave(req.params);
      assert.equal(svgFig.name, 'k-histogram-L1');
      assert.match(svgFig.data, /<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svgFig.data, /<rect [^>]*data-k="1" data-count="\d+" fill="rgb\(/, 'bars with their colours inlined');
      await p.send(hostResponse(req.id!, null));
      assert.equal(await p.page.locator('[data-testid=spotcheck-k-histogram].selected').getAttribute('data-layer'), '0');
      // Co-activation (rebuilt per layer) keeps its toolbar after a layer change.
      await p.page.locator('[data-testid=spotcheck-k-histogram][data-layer="1"]').click();
      await p.page.getByTestId('figure-tools-coactivation-L1').getByTestId('figure-save-png').click();
      req = await next(req.id);
      assert.equal(validateFigureSave(req.params).name, 'coactivation-L1');
      await p.send(hostResponse(req.id!, null));
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('--group-column: per value, n, accuracy with its 95% CI, mean K and the expert load against the sample', async () => {
    const p = await openPanel(browser, { bundle: 'spotcheck', theme: 'light' });
    try {
      const report = makeFakeSpotCheck({ groups: true });
      await p.send(spotCheckHostNotification('spotcheck/show', { report, linking }));
      const table = p.page.getByTestId('spotcheck-by-group');
      await table.waitFor();
      assert.match(await table.locator('caption').innerText(), /By "domain"/);
      const rows = table.getByTestId('spotcheck-label-row');
      const groups = report.routing_by_group!;
      assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.label)), ['books', 'film', 'music']);
      const layer = Number(await table.getAttribute('data-layer'));
      for (const [i, g] of groups.entries()) {
        const row = rows.nth(i);
        const acc = row.locator('.sc-group-accuracy');
        assert.equal(Number(await acc.getAttribute('data-accuracy')), Number(g.accuracy!.toFixed(6)));
        const ci = g.accuracy_ci95!;
        assert.match(
          await acc.innerText(),
          new RegExp(
            `${(100 * g.accuracy!).toFixed(1)}% \\[${(100 * ci[0]).toFixed(1)}, ${(100 * ci[1]).toFixed(1)}\\] · ${g.correct}/${g.labelled}`,
          ),
        );
        const shift = row.locator('.sc-load-shift');
        assert.equal(Number(await shift.getAttribute('data-shift')), Number(g.expert_load_shift![layer].toFixed(6)));
        assert.match(await shift.innerText(), /\d+\.\d% moved · most: expert \d+ [+−]\d+\.\d pts/);
        // One bar per expert, up or down; the dead expert (no token anywhere) has no difference.
        assert.equal(await shift.locator('rect').count(), report.model.num_experts);
      }
      await p.page.screenshot({ path: path.join(resultsDir(), 'spotcheck-groups-light.png'), fullPage: true });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('a cancelled report says so; labels that do not map get a clear note; text is rendered as text', async () => {
    const p = await openPanel(browser, { bundle: 'spotcheck', theme: 'dark' });
    try {
      const evil = '<img src=x onerror="alert(1)"> <b>bold</b>';
      const report = makeFakeSpotCheck({ cancelled: true, labels: 'foreign', injectText: evil });
      await p.send(
        spotCheckHostNotification('spotcheck/show', {
          report,
          linking: { canOpen: true, note: 'JSONL text with escapes is analysed without editor linking.' },
        }),
      );
      const banner = p.page.getByTestId('spotcheck-cancelled');
      assert.equal(await banner.isVisible(), true);
      assert.match((await banner.textContent())!, new RegExp(`${report.n} of ${report.sample.size}`));
      assert.equal(await p.page.getByTestId('spotcheck-accuracy').getAttribute('data-value'), '');
      assert.match((await p.page.getByTestId('spotcheck-accuracy').innerText())!, /n\/a/);
      assert.match((await p.page.getByTestId('spotcheck-label-note').textContent())!, /do not match the model/);
      assert.match((await p.page.getByTestId('spotcheck-linking-note').textContent())!, /without editor linking/);
      const row = p.page.locator(`[data-testid=spotcheck-example-row][data-line="5"] .sc-text`);
      assert.equal((await row.textContent())!, evil);
      assert.equal(await p.page.locator('#app img, #app b').count(), 0, 'no element made from the text');
      await p.page.waitForTimeout(200);
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('restores from the saved state (serializer path) and ignores malformed reports and foreign messages', async () => {
    const report = makeFakeSpotCheck({ labels: 'none' });
    const state: SpotCheckPanelState = {
      protocol: 1,
      report,
      linking,
      layer: 2,
      filter: 'all',
      query: '',
      sort: { key: 'mean_k', descending: true },
    };
    const p = await openPanel(browser, { bundle: 'spotcheck', state });
    try {
      assert.equal(await p.page.getByTestId('spotcheck-example-row').count(), report.examples.length);
      assert.equal(await p.page.getByTestId('spotcheck-coactivation').getAttribute('data-layer'), '2');
      assert.equal(await p.page.locator('th[aria-sort=descending]').count(), 1);
      assert.match((await p.page.getByTestId('spotcheck-confusion').textContent())!, /No labels/);
      await p.send({ protocol: 1, kind: 'notification', method: 'spotcheck/show', params: { report: { kind: 'nope' }, linking } } as never);
      assert.match((await p.page.getByTestId('spotcheck-error').textContent())!, /malformed/);
      assert.equal(await p.page.getByTestId('spotcheck-example-row').count(), report.examples.length, 'the old report stays');
      await p.send({ protocol: 1, kind: 'notification', method: 'analysis/show', params: {} } as never);
      await p.send(
        spotCheckHostNotification('spotcheck/progress', {
          running: true,
          done: 3,
          total: 10,
          examplesPerSecond: 12.5,
          message: 'Spot-checking x.tsv…',
        }),
      );
      assert.equal(await p.page.getByTestId('spotcheck-progress').textContent(), 'Spot-checking x.tsv… 3/10 · 12.5 examples/s');
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  for (const theme of ['light', 'dark', 'hc'] as ThemeName[]) {
    it(`screenshot (${theme})`, async () => {
      const p = await openPanel(browser, { bundle: 'spotcheck', theme, width: 1200, height: 2400 });
      try {
        await p.send(spotCheckHostNotification('spotcheck/show', { report: makeFakeSpotCheck({ cancelled: theme === 'dark' }), linking }));
        await applyTheme(p.page, theme);
        const file = path.join(resultsDir(), `spotcheck-${theme}.png`);
        await p.page.screenshot({ path: file, fullPage: true });
        await expectClean(p);
      } finally {
        await p.close();
      }
    });
  }
});
