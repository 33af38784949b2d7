/**
 * A causal LM in a real VS Code (code-server + Chromium, the extension installed from the VSIX, dark theme): the
 * shipped models/damoe-lm-sst2 set as damoe.modelPath. Analyze Routing on a review line: the panel shows the
 * perplexity, each token's loss and the model's top-5 next-token predictions (strip coloured by loss, the token
 * detail, the table's Loss and Next columns), and the editor hover shows the loss and the predictions. Then
 * Spot-Check Dataset on the workspace's reviews.txt: the perplexity with what it is computed over and the loss by K
 * per layer, no accuracy and no Predicted line (panel and status bar).
 * Screenshots: test-results/e2e/causal-*.png.
 */
import * as assert from 'assert';
import * as path from 'path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as h from './harness';
import * as s from './support';

const WORKSPACE = path.join(s.ROOT, 'test', 'e2e', 'fixtures', 'workspace');
const MODEL = path.join(s.ROOT, 'models', 'damoe-lm-sst2');
const SPOT_CHECK = 'DA-MoE: Spot-Check Dataset';
const T = { timeout: 300_000 };

const quickRow = (page: Page, label: RegExp) =>
  page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: label }) })
    .first();

describe('DA-MoE Inspector in VS Code: a causal LM (damoe-lm-sst2)', { timeout: 900_000 }, () => {
  const wb = s.useWorkbench('causal-lm.test', { workspace: WORKSPACE, trusted: true, theme: 'Dark Modern', open: 'reviews.txt' });
  const page = wb.page;

  it('Analyze Routing on a review: loss and top-5 predictions in the panel (strip, detail, table) and the hover', T, () =>
    s.scenario('causal LM analyze', async () => {
      await s.setSettingInSettingsUI(page(), wb.codeServer().userDataDir, 'damoe.modelPath', MODEL);
      await s.closeModalEditor(page());
      await s.analyzeLine(page(), 1);
      const f = s.routing(page());
      await f.locator('[data-testid=app][data-ready=true]').waitFor({ timeout: 120_000 });
      const ppl = f.locator('[data-testid=perplexity]');
      await ppl.waitFor({ state: 'visible', timeout: 120_000 }).catch(async (e: unknown) => {
        await h.screenshot(page(), 'causal-failed');
        const banner = await f
          .locator('[data-testid=error-banner]')
          .innerText({ timeout: 2000 })
          .catch(() => '');
        throw new Error(`${String(e)}\n  panel error: ${banner}`);
      });
      assert.equal((await f.locator('[data-testid=model-name]').innerText()).trim(), 'damoe-lm-sst2');
      assert.match((await ppl.innerText()).trim(), /^\d+\.\d\d$/);
      await s.waitForStatus(page(), /damoe-lm-sst2/);

      // Every chip's title: its loss (the first token: none) and what the model predicts next.
      const chips = f.locator('[data-testid=token-strip] .tok');
      const n = await chips.count();
      assert.ok(n >= 8, `${n} tokens`);
      assert.match((await chips.first().getAttribute('title')) ?? '', /no loss \(first token\)/);
      for (let i = 1; i < n; i++) {
        const title = (await chips.nth(i).getAttribute('title')) ?? '';
        assert.match(title, /loss \d+\.\d\d nats \(p [\d.e-]+\) · next: (\S+ \d\.\d\d( · )?){5}$/, `token ${i}: ${title}`);
      }
      // Colour by loss, then point at "moving": the detail spells out its loss, rank, what was expected and what is next.
      await f.locator('[data-testid=strip-color-by-loss]').click();
      await f.locator('[data-testid=token-strip][data-color-by=loss]').waitFor({ timeout: 10_000 });
      const moving = f.locator('[data-testid=token-strip] .tok', { hasText: /^moving/ }).first();
      const detail = f.locator('[data-testid=token-detail]');
      // The detail sits under the strip: in view (for the screenshot) before the pointer goes to the token.
      await detail.scrollIntoViewIfNeeded();
      await moving.hover();
      await detail.locator('[data-testid=detail-loss]').waitFor({ timeout: 10_000 });
      assert.match(await detail.locator('[data-testid=detail-loss]').innerText(), /^\d+\.\d\d nats \(p [\d.e-]+\)$/);
      assert.equal(await detail.locator('[data-testid=detail-expected] .pred').count(), 5);
      assert.equal(await detail.locator('[data-testid=detail-predictions] .pred').count(), 5);
      await h.screenshot(page(), 'causal-panel-dark');

      // The table: Loss and Next (top 5) beside K.
      await f.locator('[data-testid=view-mode-table]').click();
      await f.locator('[data-testid=table-row]').first().waitFor({ timeout: 15_000 });
      const headers = (await f.locator('[data-testid=routing-table] thead th').allInnerTexts()).map((t) => t.trim());
      assert.deepEqual(headers.slice(4, 6), ['Loss', 'Next (top 5)'], headers.join(' | '));
      const row = f.locator('[data-testid=table-row]').first();
      assert.match((await row.locator('td.loss').innerText()).trim(), /^\d+\.\d\d$/);
      const preds = (await row.locator('td.preds').innerText()).trim().split('\n');
      assert.equal(preds.length, 5, preds.join(' | '));
      for (const p of preds) assert.match(p, /^\S+ \d\.\d\d$/);
      // Half the window is too narrow for every column: the table scrolls sideways with the token column kept in view.
      const tokCell = row.locator('.tok-cell');
      assert.equal(await tokCell.evaluate((e) => getComputedStyle(e).position), 'sticky');
      // Maximised, the whole table fits: nothing cut at its right edge.
      await page().locator('.tabs-container .tab', { hasText: 'DA-MoE Routing' }).first().click();
      await h.runCommand(page(), 'View: Toggle Maximize Editor Group');
      const fits = async () => f.locator('[data-testid=table-view] .table-scroll').evaluate((e) => e.scrollWidth <= e.clientWidth + 1);
      for (let end = Date.now() + 10_000; !(await fits()) && Date.now() < end;) await s.sleep(200);
      assert.ok(await fits(), 'the table fits the maximised panel');
      await h.screenshot(page(), 'causal-table-dark');
      await h.runCommand(page(), 'View: Toggle Maximize Editor Group');
      await f.locator('[data-testid=view-mode-chart]').click();

      // The editor hover: the token's loss, where it stood among the expected tokens, and the next-token predictions.
      await s.focusFile(page(), 'reviews.txt');
      const hover = await h.hoverEditorText(page(), 'wonderful');
      assert.match(hover, /loss \d+\.\d\d nats \(p [\d.e-]+\)/, hover);
      assert.match(hover, /expected here: /, hover);
      assert.match(hover, /predicts next: (\S+ \d\.\d\d( · )?){5}/, hover);
      await h.hoverEditorText(page(), 'wonderful');
      await h.screenshot(page(), 'causal-hover-dark');
    }),
  );

  it('Spot-Check Dataset on reviews.txt: perplexity over the scored tokens and loss by K, no accuracy or Predicted', T, () =>
    s.scenario('causal LM spot-check', async () => {
      await s.focusFile(page(), 'reviews.txt');
      await h.runCommand(page(), SPOT_CHECK);
      const run = quickRow(page(), /Run spot-check/);
      await run.waitFor({ state: 'visible', timeout: 30_000 });
      await run.click();
      const f = await s.frameWith(page(), '[data-testid=spotcheck-perplexity]');
      const ppl = (await f.locator('[data-testid=spotcheck-perplexity]').innerText()).trim();
      assert.match(ppl, /^\d+(\.\d+)?$/);
      const basis = await f.locator('[data-testid=spotcheck-perplexity-basis]').innerText();
      assert.match(
        basis,
        new RegExp(`Perplexity ${ppl.replace('.', '\\.')} = e\\^\\(mean loss \\d+\\.\\d{3} nats\\) over \\d+ tokens of 3 texts`),
      );
      assert.equal(await f.locator('[data-testid=spotcheck-k-loss-row]').count(), 4, 'one row per layer');
      const kLoss = await f
        .locator('[data-testid=spotcheck-k-loss]')
        .evaluate((t) => ({ table: t.getBoundingClientRect().right, box: t.parentElement!.getBoundingClientRect().right }));
      assert.ok(kLoss.table <= kLoss.box + 1, `the loss-by-K table fits the panel: ${JSON.stringify(kLoss)}`);
      assert.equal(await f.locator('[data-testid=spotcheck-confusion-section]').isVisible(), false);
      assert.equal(await f.locator('[data-testid=spotcheck-predicted]').count(), 0);
      assert.doesNotMatch(await f.locator('[data-testid=spotcheck-accuracy]').innerText(), /accuracy/);
      assert.equal(await f.locator('[data-testid=spotcheck-example-row]').count(), 3);
      // The status bar says the perplexity, not an accuracy.
      const item = page().locator(s.SPOT_STATUS);
      await item.waitFor({ state: 'visible', timeout: 10_000 });
      const summary = (await item.innerText()).trim();
      assert.match(summary, new RegExp(`^perplexity ${ppl.replace('.', '\\.')} on 3 · mean K \\d\\.\\d\\d$`), 'status bar');
      assert.doesNotMatch(summary, /%|accuracy|Predicted/, 'status bar');
      await page().mouse.move(2, 500);
      await h.screenshot(page(), 'causal-spotcheck-dark');
    }),
  );
});
