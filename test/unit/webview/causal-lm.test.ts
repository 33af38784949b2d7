/**
 * The routing and spot-check panels for a causal LM in real headless Chromium, on what the real CLI gives for the
 * shipped models/damoe-lm-sst2 (real onnxruntime): `damoe analyze --json` on a review, `damoe spot-check --json` on
 * test/fixtures/datasets/reviews.txt. Loss and predictions in the strip, the token detail and the table; the
 * perplexity, what it is computed over and the loss by K in the spot-check panel, with no class lines. Screenshots
 * (dark) go to test-results/webview/causal-*.png.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as child_process from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import type { Analysis } from '../../../src/shared/analysis';
import type { SpotCheckReport } from '../../../src/shared/spotcheck-report';
import { hostNotification } from '../../../src/shared/protocol/routing';
import { spotCheckHostNotification } from '../../../src/shared/protocol/spotcheck';
import { buildWebview, cspViolations, launchBrowser, openPanel, repoRoot, resultsDir, skipReason, type PanelPage } from './harness';

const skip = skipReason();
if (skip) console.log(`# SKIP causal-LM webview tests: ${skip}`);

const ROOT = repoRoot();
const MODEL = path.join(ROOT, 'models', 'damoe-lm-sst2');
const TEXT = 'the movie was incredibly inspiring .';

function damoe(args: string[]): string {
  const r = child_process.spawnSync(process.execPath, [path.join(ROOT, 'bin', 'damoe.js'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

async function expectClean(p: PanelPage): Promise<void> {
  assert.deepEqual(await cspViolations(p), [], 'no CSP violations');
  assert.deepEqual(p.rec.pageErrors, [], 'no page errors');
  assert.deepEqual(p.rec.consoleErrors, [], 'no console errors');
}

describe('causal LM panels (headless Chromium, damoe-lm-sst2 through the real CLI)', { skip: skip ?? false, timeout: 600_000 }, () => {
  let browser: Browser;
  let analysis: Analysis;
  let report: SpotCheckReport;

  before(async () => {
    buildWebview();
    analysis = JSON.parse(damoe(['analyze', '--model', MODEL, '--threads', '1', '--json', TEXT])) as Analysis;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-causal-webview-'));
    const out = path.join(dir, 'report.json');
    damoe([
      'spot-check',
      '--model',
      MODEL,
      '--threads',
      '1',
      '--json',
      out,
      path.join(ROOT, 'test', 'fixtures', 'datasets', 'reviews.txt'),
    ]);
    report = JSON.parse(fs.readFileSync(out, 'utf8')) as SpotCheckReport;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('routing panel: loss and predictions in the strip, the token detail and the table; the first token has no loss', async () => {
    assert.equal(analysis.task, 'causal-lm');
    const p = await openPanel(browser, { theme: 'dark', width: 1200, height: 1000 });
    try {
      await p.send(hostNotification('analysis/show', { analysis, stale: false }));
      const strip = p.page.getByTestId('token-strip');
      const chips = strip.locator('.tok');
      assert.equal(await chips.count(), analysis.tokens.length);
      // Every chip's title has the token's loss (or says it has none) and its top predictions.
      const first = (await chips.nth(0).getAttribute('title'))!;
      assert.match(first, /no loss \(first token\)/);
      const t2 = analysis.tokens[2];
      const title2 = (await chips.nth(2).getAttribute('title'))!;
      assert.ok(title2.includes(`loss ${t2.loss!.toFixed(2)} nats`), title2);
      assert.ok(title2.includes(`next: ${t2.predictions![0].token} ${t2.predictions![0].probability.toFixed(2)}`), title2);

      // Colour by loss: the chips' colours follow the loss; the first token (no loss) is outlined, not coloured as 0.
      await p.page.getByTestId('strip-color-by-loss').click();
      assert.equal(await strip.getAttribute('data-color-by'), 'loss');
      await p.page.waitForTimeout(250); // the debounced setState
      assert.equal((await p.state())?.stripColorBy, 'loss', 'the choice is saved with the panel state');
      const lossChips = await strip
        .locator('.tok:not(.special)')
        .evaluateAll((els) => els.map((e) => ({ i: Number((e as HTMLElement).dataset.index), bg: getComputedStyle(e).backgroundColor })));
      const byLoss = [...lossChips].sort((a, b) => analysis.tokens[a.i].loss! - analysis.tokens[b.i].loss!);
      assert.notEqual(byLoss[0].bg, byLoss.at(-1)!.bg, 'lowest and highest loss differ in colour');
      assert.equal(
        await p.page.getByTestId('importance-legend').getAttribute('data-max'),
        Math.max(...analysis.tokens.map((t) => t.loss ?? 0)).toFixed(3),
      );

      // The token detail: hover token 3 ("was"): its loss, rank, what was expected there and what comes next.
      await chips.nth(3).hover();
      const detail = p.page.getByTestId('token-detail');
      assert.equal(await detail.getAttribute('data-token'), '3');
      const t3 = analysis.tokens[3];
      assert.match((await p.page.getByTestId('detail-loss').textContent())!, new RegExp(`^${t3.loss!.toFixed(2)} nats`));
      const expected = await p.page.getByTestId('detail-expected').locator('.pred').count();
      assert.equal(expected, analysis.tokens[2].predictions!.length);
      const next = await p.page.getByTestId('detail-predictions').locator('.pred code').allTextContents();
      assert.deepEqual(
        next,
        t3.predictions!.map((x) => x.token),
      );
      await p.page.screenshot({ path: path.join(resultsDir(), 'causal-routing-dark.png'), fullPage: true });
      // The first token: "none", not 0.
      await chips.nth(0).hover();
      assert.match((await p.page.getByTestId('detail-loss').textContent())!, /none: the first token/);

      // The table: Loss and Next columns beside K, one prediction per line.
      await p.page.getByTestId('view-mode-table').click();
      const heads = await p.page.getByTestId('routing-table').locator('thead th').allTextContents();
      assert.ok(heads.includes('Loss') && heads.includes('Next (top 5)'), heads.join(' | '));
      const row = p.page.getByTestId('table-row').first();
      const t = Number(await row.getAttribute('data-token'));
      const cells = row.locator('td');
      const lossCell = await row.locator('td.loss').textContent();
      assert.equal(lossCell, analysis.tokens[t].loss!.toFixed(2));
      const preds = (await row.locator('td.preds').textContent())!.split('\n');
      assert.equal(preds.length, 5);
      assert.equal(preds[0], `${analysis.tokens[t].predictions![0].token} ${analysis.tokens[t].predictions![0].probability.toFixed(2)}`);
      assert.ok((await cells.count()) >= 6);
      await p.page.screenshot({ path: path.join(resultsDir(), 'causal-table-dark.png'), fullPage: true });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('Hugging Face fixtures: a token dropped by capacity is marked dropped (K grid, strip, detail); shared experts are always on in the table', async () => {
    const hf = (family: string): string => path.join(ROOT, 'test', 'fixtures', 'models', 'hf', family);
    const text = (
      JSON.parse(fs.readFileSync(path.join(hf('switch_transformers'), 'reference.json'), 'utf8')) as { texts: { text: string }[] }
    ).texts.at(-1)!.text;
    const sw = JSON.parse(damoe(['analyze', '--model', hf('switch_transformers'), '--threads', '1', '--json', text])) as Analysis;
    const layer = sw.layers.findIndex((l) => (l.dropped?.length ?? 0) > 0);
    assert.ok(layer >= 0, 'the fixture drops a token on this text');
    const t = sw.layers[layer].dropped![0];
    const p = await openPanel(browser, { theme: 'dark', width: 1200, height: 1000 });
    try {
      await p.send(hostNotification('analysis/show', { analysis: sw, stale: false }));
      // router_logits only: no importance, so the strip is coloured by loss and the importance choice is off.
      assert.equal(sw.model.importanceAvailable, false);
      assert.equal(await p.page.getByTestId('token-strip').getAttribute('data-color-by'), 'loss');
      assert.equal(await p.page.getByTestId('strip-color-by-importance').getAttribute('disabled'), '');
      const grid = p.page.getByTestId('k-grid');
      assert.equal(await grid.getAttribute('data-dropped'), String(sw.layers.reduce((n, l) => n + (l.dropped?.length ?? 0), 0)));
      assert.equal(await grid.locator('.k-dropped').count(), 1, 'the K legend keys the dropped mark');
      await p.page.getByTestId('layer-select').evaluate((e, l) => {
        (e as HTMLElement & { value: string }).value = String(l);
        e.dispatchEvent(new Event('change'));
      }, layer);
      const chip = p.page.getByTestId('token-strip').locator(`.tok[data-index="${t}"]`);
      assert.match((await chip.getAttribute('title'))!, /dropped \(over capacity\)/);
      await chip.hover();
      assert.match(
        (await p.page.getByTestId('token-detail').textContent())!,
        new RegExp(`layer ${layer}: K 0 · .*dropped \\(over capacity\\)`),
      );
      await p.page.screenshot({ path: path.join(resultsDir(), 'causal-hf-dropped-dark.png'), fullPage: true });

      const qwen = JSON.parse(damoe(['analyze', '--model', hf('qwen2_moe'), '--threads', '1', '--json', text])) as Analysis;
      assert.equal(qwen.model.sharedExperts?.count, 1);
      await p.send(hostNotification('analysis/show', { analysis: qwen, stale: false }));
      await p.page.getByTestId('view-mode-table').click();
      const cells = await p.page.getByTestId('table-row').first().locator('td.experts').allTextContents();
      assert.equal(cells.length, qwen.layers.length);
      for (const c of cells) assert.match(c, /\n\+ 1 shared$/, c);
      // No importance (router_logits only): no importance column.
      assert.equal(await p.page.getByTestId('routing-table').locator('th.imp-col').isVisible(), false);
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('spot-check panel: perplexity with what it is computed over, loss by K per layer, no accuracy or predicted lines', async () => {
    const lm = report.language_model!;
    assert.ok(lm, 'the report has language_model');
    const p = await openPanel(browser, { bundle: 'spotcheck', theme: 'dark', width: 1200, height: 1000 });
    try {
      await p.send(spotCheckHostNotification('spotcheck/show', { report, linking: { canOpen: true, note: null } }));
      const box = p.page.getByTestId('spotcheck-accuracy');
      assert.equal(Number(await box.getAttribute('data-perplexity')), lm.perplexity);
      assert.match((await box.textContent())!, /perplexity/);
      assert.doesNotMatch((await box.textContent())!, /accuracy/);
      const basis = (await p.page.getByTestId('spotcheck-perplexity-basis').textContent())!;
      assert.ok(basis.includes(`over ${lm.scored_tokens} tokens of ${report.n} texts`), basis);
      assert.equal(await p.page.getByTestId('spotcheck-confusion-section').isHidden(), true, 'no confusion matrix');
      assert.equal(await p.page.getByTestId('spotcheck-predicted').count(), 0, 'no Predicted line');
      const rows = p.page.getByTestId('spotcheck-k-loss-row');
      assert.equal(await rows.count(), report.model.num_layers);
      for (let l = 0; l < report.model.num_layers; l++) {
        const r = rows.nth(l);
        const c = lm.k_loss_correlation[l];
        assert.equal(await r.getAttribute('data-correlation'), c === null ? '' : c.toFixed(6));
        for (let k = 1; k < lm.by_k[l].length; k++) {
          const b = lm.by_k[l][k];
          const cell = r.locator(`td[data-k="${k}"]`);
          if (b.tokens === 0) assert.equal(await cell.textContent(), '–');
          else assert.equal(await cell.getAttribute('data-mean-loss'), b.mean_loss!.toFixed(6));
        }
      }
      // The examples table: mean loss and perplexity in the prediction's place, no correct/wrong filter.
      const heads = await p.page.getByTestId('spotcheck-examples-table').locator('thead th').allTextContents();
      assert.ok(heads.some((h) => h.startsWith('mean loss')) && heads.includes('perplexity'), heads.join(' | '));
      assert.ok(!heads.includes('predicted') && !heads.includes('confidence'), heads.join(' | '));
      assert.equal(await p.page.getByTestId('spotcheck-filter').isVisible(), false);
      await p.page.getByTestId('spotcheck-sort-mean_loss').click();
      const sorted = await p.page
        .getByTestId('spotcheck-example-row')
        .evaluateAll((rs) => rs.map((r) => Number((r as HTMLElement).dataset.line)));
      const want = [...report.examples].sort((a, b) => b.mean_loss! - a.mean_loss! || a.line - b.line).map((e) => e.line);
      assert.deepEqual(sorted, want, 'sorted by mean loss, highest first');
      await p.page.screenshot({ path: path.join(resultsDir(), 'causal-spotcheck-dark.png'), fullPage: true });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });
});
