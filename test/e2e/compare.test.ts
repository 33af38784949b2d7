/**
 * User-level scenarios of Compare Models in a real VS Code (code-server) with the extension installed from the VSIX,
 * driven through the UI by Chromium:
 * - a selected line of reviews.txt through damoe-sst2 and top2-sst2 (the quick pick's default pair): one card per
 *   model, a token table with both models' K, and every K that differs from the first model's marked;
 * - "Compare Models on Dataset" on sst2-sample.tsv: accuracies with 95% CIs, the paired row with McNemar's p, the
 *   disagreements; a click on one shows the compare view of that text, whose predictions are the row's;
 * - the comparison exports as JSON and HTML through the save dialog, and the panel comes back after Reload Window
 *   (its serializer), where a click on a disagreement still compares that text.
 * Screenshots (light, dark, high contrast): test-results/e2e/compare-*.png.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as h from './harness';
import * as s from './support';

const WORKSPACE = path.join(s.ROOT, 'test', 'e2e', 'fixtures', 'workspace');
const REVIEWS = 'reviews.txt';
const DATASET = 'sst2-sample.tsv';
const REVIEW_LINES = fs.readFileSync(path.join(WORKSPACE, REVIEWS), 'utf8').split('\n');
const T = { timeout: 300_000 };

/** Accepts the model quick pick with its pre-picked pair (damoe-sst2, top2-sst2). */
async function acceptDefaultModels(page: Page): Promise<void> {
  const rows = page.locator('.quick-input-list .monaco-list-row');
  await rows.first().waitFor({ state: 'visible', timeout: 30_000 });
  const texts = await rows.allInnerTexts();
  assert.ok(texts.some((t) => /damoe-sst2/.test(t)) && texts.some((t) => /top2-sst2/.test(t)), `quick pick: ${texts.join(' | ')}`);
  await page.keyboard.press('Enter');
}

async function screenshotThreeThemes(page: Page, name: string): Promise<void> {
  await s.screenshotBothThemes(page, name);
  await h.setTheme(page, 'Dark High Contrast');
  await s.sleep(400);
  await h.screenshot(page, `${name}-high-contrast`);
  await h.setTheme(page, 'Light Modern');
}

describe('DA-MoE Inspector in VS Code: Compare Models', { timeout: 900_000 }, () => {
  const { page, codeServer } = s.useWorkbench('compare.test', {
    workspace: WORKSPACE,
    trusted: true,
    theme: 'Light Modern',
    open: REVIEWS,
  });

  it('Compare Models on a selection: the two models side by side, K differences marked', T, () =>
    s.scenario('compare a selection', async () => {
      const text = REVIEW_LINES[0];
      await s.focusFile(page(), REVIEWS);
      await h.selectText(page(), { line: 1 });
      await h.runCommand(page(), 'DA-MoE: Compare Models');
      await acceptDefaultModels(page());
      const f = await s.frameWith(page(), '[data-testid=compare-model-card]');
      const cards = f.locator('[data-testid=compare-model-card]');
      await cards.nth(1).waitFor({ timeout: 120_000 });
      assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-model'))), ['damoe-sst2', 'top2-sst2']);
      // The view opens on DA-MoE's most dynamic layer, with the chosen experts; switch to K averaged over layers.
      assert.match((await f.locator('[data-testid=compare-token-table]').getAttribute('data-layer'))!, /^[0-3]$/);
      assert.ok((await f.locator('td.cmp-experts').count()) > 0, 'experts shown for the layer');
      await f.locator('[data-testid=compare-layer]').selectOption('-1');
      await f.locator('[data-testid=compare-token-table][data-layer="-1"]').waitFor({ timeout: 10_000 });
      const enc = s.expectedEncoding(text);
      const rows = f.locator('[data-testid=compare-token-row]');
      assert.equal(await rows.count(), enc.tokens.length, 'one row per token, special tokens included');
      // Mean K over layers: top-2 spends exactly 2 everywhere; each of its cells is marked iff DA-MoE's K differs.
      const cells = await rows.evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll('td.cmp-k')].map((td) => ({ k: Number(td.getAttribute('data-k')), diff: td.classList.contains('diff') })),
        ),
      );
      assert.ok(
        cells.every((c) => c.length === 2 && c[1].k === 2),
        JSON.stringify(cells),
      );
      for (const [i, c] of cells.entries()) assert.equal(c[1].diff, Math.abs(c[0].k - 2) > 1e-9, `row ${i}: ${JSON.stringify(c)}`);
      assert.ok(
        cells.some((c) => c[1].diff),
        'DA-MoE gives some token a K other than 2',
      );
      assert.match(await f.locator('[data-testid=compare-source]').innerText(), /reviews\.txt, selection/);
      await screenshotThreeThemes(page(), 'compare-selection');
    }),
  );

  it('Compare Models on Dataset: accuracies with CIs, paired statistics, disagreements; a click compares that text', T, () =>
    s.scenario('compare on a dataset', async () => {
      await h.openFile(page(), DATASET);
      await h.runCommand(page(), 'DA-MoE: Compare Models on Dataset');
      await acceptDefaultModels(page());
      const f = await s.frameWith(page(), '[data-testid=compare-model-row]', 180_000);
      const models = f.locator('[data-testid=compare-model-row]');
      assert.equal(await models.count(), 2);
      for (let i = 0; i < 2; i++) assert.match(await models.nth(i).innerText(), /\d+\.\d% \[\d+\.\d, \d+\.\d\]/);
      const paired = f.locator('[data-testid=compare-paired-row]');
      assert.equal(await paired.count(), 1);
      assert.match(await paired.innerText(), /damoe-sst2 − top2-sst2[\s\S]*31[\s\S]*pts \[[\s\S]*p [=<] /);
      const dis = f.locator('[data-testid=compare-disagreement]');
      const n = await dis.count();
      assert.ok(n > 0, 'the two models disagree on some of the 31 examples');
      await screenshotThreeThemes(page(), 'compare-dataset');

      // Click the first disagreement: the text view shows that line, with the predictions of the row.
      const row = dis.first();
      const line = Number(await row.getAttribute('data-line'));
      const predicted = (await row.locator('td').allInnerTexts()).slice(3).map((t) => t.replace(/ [✓✗]$/, ''));
      await row.click();
      const source = f.locator('[data-testid=compare-source]');
      for (let end = Date.now() + 60_000; Date.now() < end; await s.sleep(250)) {
        if (new RegExp(`line ${line} of ${DATASET.replace('.', '\\.')}`).test(await source.innerText().catch(() => ''))) break;
      }
      assert.match(await source.innerText(), new RegExp(`line ${line} of sst2-sample\\.tsv`));
      const cards = f.locator('[data-testid=compare-model-card]');
      assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-prediction'))), predicted);
      assert.equal(await f.locator('[data-testid=compare-model-card].diff').count(), 1, 'the second card is marked as differing');
      await screenshotThreeThemes(page(), 'compare-click-through');
    }),
  );

  it('the comparison exports as JSON and HTML; after Reload Window the panel comes back and still clicks through', T, () =>
    s.scenario('compare export and restore', async () => {
      const f = await s.frameWith(page(), '[data-testid=compare-model-row]');
      const dir = s.tmpDir('damoe-e2e-compare-');
      try {
        const json = path.join(dir, 'comparison.json');
        await f.locator('[data-testid=compare-export-json]').click();
        assert.ok(
          await s.saveThroughDialog(page(), 'compare-sst2-sample-damoe-sst2-vs-top2-sst2', json, 'compare-export'),
          `saved ${json}`,
        );
        const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
        assert.equal(rep.kind, 'damoe-compare');
        assert.deepEqual(
          rep.models.map((m: { name: string }) => m.name),
          ['damoe-sst2', 'top2-sst2'],
        );
        assert.equal(rep.paired.n, 31);
        const notice = f.locator('[data-testid=compare-notice]');
        await notice.waitFor({ state: 'visible', timeout: 10_000 });
        assert.equal(await notice.innerText(), `Saved to ${json}`);
        const html = path.join(dir, 'comparison.html');
        await f.locator('[data-testid=compare-export-html]').click();
        assert.ok(await s.saveThroughDialog(page(), 'compare-sst2-sample', html, 'compare-export-html'), `saved ${html}`);
        const page0 = fs.readFileSync(html, 'utf8');
        assert.match(page0, /^<!doctype html>/i);
        assert.ok(
          page0.includes('damoe-sst2') && page0.includes('top2-sst2') && /McNemar/.test(page0),
          'the HTML report of the comparison',
        );

        // Reload: the serializer brings back the dataset comparison and the text view of the last click.
        const rows = async (g: typeof f) => g.locator('[data-testid=compare-model-row]').allInnerTexts();
        const before = {
          rows: await rows(f),
          disagreements: await f.locator('[data-testid=compare-disagreement]').count(),
          source: await f.locator('[data-testid=compare-source]').innerText(),
        };
        await s.sleep(500); // the webview persists its state right after rendering
        const navigated = page().waitForEvent('framenavigated', { predicate: (fr) => fr === page().mainFrame(), timeout: 60_000 });
        await h.runCommand(page(), 'Developer: Reload Window');
        await navigated;
        await h.waitForWorkbench(page(), 120_000);
        const g = await s.frameWith(page(), '[data-testid=compare-model-row]', 120_000);
        assert.deepEqual(
          {
            rows: await rows(g),
            disagreements: await g.locator('[data-testid=compare-disagreement]').count(),
            source: await g.locator('[data-testid=compare-source]').innerText(),
          },
          before,
          'the restored panel shows what it showed',
        );
        await screenshotThreeThemes(page(), 'compare-restored');
        // The engines did not survive the reload; a click starts them again from the report's model paths.
        const row = g.locator('[data-testid=compare-disagreement]').last();
        const line = Number(await row.getAttribute('data-line'));
        await row.click();
        const source = g.locator('[data-testid=compare-source]');
        for (let end = Date.now() + 120_000; Date.now() < end; await s.sleep(250)) {
          if ((await source.innerText().catch(() => '')).includes(`line ${line} of`)) break;
        }
        assert.match(await source.innerText(), new RegExp(`line ${line} of sst2-sample\\.tsv`));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  it('a failed comparison with its panel in view: one error, in the banner with working buttons, over the dimmed views', T, () =>
    s.scenario('compare error shown once', async () => {
      const f = await s.frameWith(page(), '[data-testid=compare-model-row]');
      await s.clearNotifications(page());
      // A text column the dataset does not have: the dataset error, with Open Settings at the column settings.
      await s.setSettingInSettingsUI(page(), codeServer().userDataDir, 'damoe.spotCheck.textColumn', 'body');
      try {
        // The dataset is open since the second scenario (restored by the reload): make it the active editor.
        await s.focusFile(page(), DATASET);
        await h.runCommand(page(), 'DA-MoE: Compare Models on Dataset');
        await acceptDefaultModels(page());
        const text = await s.expectErrorOnceInPanel(page(), f, {
          banner: 'compare-error',
          message: /^DA-MoE compare: .*text column \(damoe\.spotCheck\.textColumn\)/,
          actions: ['Open Settings', 'Show Output'],
          rows: '[data-testid=compare-model-row]',
          rowCount: 2,
          logged: 'damoe.spotCheck.textColumn',
        });
        assert.match(text, /body/, `the banner names the column: ${text}`);
        await screenshotThreeThemes(page(), 'compare-error');
      } finally {
        await h.runCommand(page(), 'View: Hide Panel').catch(() => page().keyboard.press('Escape'));
        await s.setSettingInSettingsUI(page(), codeServer().userDataDir, 'damoe.spotCheck.textColumn', '');
      }
      // The next good result (a click on a disagreement) clears the banner and the dimming.
      const row = f.locator('[data-testid=compare-disagreement]').first();
      const line = Number(await row.getAttribute('data-line'));
      await row.click();
      const source = f.locator('[data-testid=compare-source]');
      for (let end = Date.now() + 120_000; Date.now() < end; await s.sleep(250)) {
        if ((await source.innerText().catch(() => '')).includes(`line ${line} of`) && (await f.locator('#app.under-error').count()) === 0)
          break;
      }
      assert.match(await source.innerText(), new RegExp(`line ${line} of sst2-sample\\.tsv`));
      assert.equal(await f.locator('[data-testid=compare-error]').isVisible(), false, 'the banner is gone');
      assert.equal(await f.locator('.under-error-dimmed').count(), 0, 'nothing dimmed after a good result');
    }),
  );
});
