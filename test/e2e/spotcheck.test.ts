/**
 * User-level scenario of the dataset spot-check, in a real VS Code (code-server) with the extension installed from
 * the VSIX, driven through the UI by Chromium: open a TSV, run "DA-MoE: Spot-Check Dataset" from the palette, change
 * the sample size in its quick pick and run; the report shows the accuracy and K histograms; clicking an example
 * opens the dataset at that line with the text cell selected and the routing panel shows that text.
 * Screenshots (light and dark): test-results/e2e/spotcheck-*.png.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import * as h from './harness';
import * as s from './support';

const WORKSPACE = path.join(s.ROOT, 'test', 'e2e', 'fixtures', 'workspace');
const DATASET = 'sst2-sample.tsv';
const LINES = fs.readFileSync(path.join(WORKSPACE, DATASET), 'utf8').split('\n');
const T = { timeout: 300_000 };
const SPOT_CHECK = 'DA-MoE: Spot-Check Dataset';
const SAMPLE = 20;

const quickRow = (page: Page, label: RegExp) =>
  page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: label }) })
    .first();

describe('DA-MoE Inspector in VS Code: dataset spot-check', { timeout: 900_000 }, () => {
  const model = s.shippedModel();
  const { page, codeServer } = s.useWorkbench('spotcheck.test', {
    workspace: WORKSPACE,
    trusted: true,
    theme: 'Light Modern',
    open: DATASET,
  });

  it('Spot-Check Dataset from the palette, through the quick pick, shows accuracy and K histograms', T, () =>
    s.scenario('spot-check from the palette', async () => {
      await h.runCommand(page(), SPOT_CHECK);
      // The quick pick shows the detected columns and offers Run first; change the sample size, then run.
      const run = quickRow(page(), /Run spot-check/);
      await run.waitFor({ state: 'visible', timeout: 30_000 });
      const rows = await page().locator('.quick-input-list .monaco-list-row').allInnerTexts();
      assert.ok(
        rows.some((r) => /Text column[\s\S]*sentence \(detected\)/.test(r)),
        `quick pick rows: ${rows.join(' | ')}`,
      );
      assert.ok(
        rows.some((r) => /Label column[\s\S]*label \(detected\)/.test(r)),
        `quick pick rows: ${rows.join(' | ')}`,
      );
      await quickRow(page(), /^Sample size$/).click();
      const input = page().locator('.quick-input-widget input').first();
      await page().waitForFunction(() => document.querySelector<HTMLInputElement>('.quick-input-widget input')?.value === '500', null, {
        timeout: 10_000,
      });
      await input.fill(String(SAMPLE));
      await page().keyboard.press('Enter');
      await quickRow(page(), /Run spot-check/).waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(await quickRow(page(), /Run spot-check/).innerText(), new RegExp(`${SAMPLE} examples, seed 42`));
      // Group by: None and every column but the text one (here only the label column, which may group too).
      await quickRow(page(), /^Group by$/).click();
      await quickRow(page(), /^None$/).waitFor({ state: 'visible', timeout: 10_000 });
      // The list is replaced in place: read it until it holds the new items only.
      let groupChoices: string[] = [];
      for (let end = Date.now() + 10_000; Date.now() < end; await s.sleep(200)) {
        // One label per shown row (a row's detail line is a label too).
        groupChoices = await page().evaluate(() =>
          [...document.querySelectorAll<HTMLElement>('.quick-input-list .monaco-list-row')]
            .filter((r) => r.getBoundingClientRect().height > 0)
            .map((r) => (r.querySelector<HTMLElement>('.label-name')?.innerText ?? '').trim()),
        );
        if (groupChoices.length === 2) break;
      }
      assert.deepEqual(groupChoices, ['None', 'label'], 'Group by offers None and the columns that are not the text');
      await quickRow(page(), /^label$/).click();
      await quickRow(page(), /^Group by$/).waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(await quickRow(page(), /^Group by$/).innerText(), /label \(chosen\)/);
      await quickRow(page(), /Run spot-check/).click();

      const f = await s.frameWith(page(), '[data-testid=spotcheck-accuracy][data-value]');
      await f.locator('[data-testid=spotcheck-example-row]').first().waitFor({ timeout: 120_000 });
      const acc = f.locator('[data-testid=spotcheck-accuracy]');
      const value = Number(await acc.getAttribute('data-value'));
      assert.ok(value >= 0 && value <= 1, `accuracy ${value}`);
      assert.match(await acc.innerText(), /\d+(\.\d)?%/);
      assert.equal(await f.locator('[data-testid=spotcheck-example-row]').count(), SAMPLE);
      const hists = f.locator('[data-testid=spotcheck-k-histogram]');
      assert.equal(await hists.count(), model.numLayers);
      const sums: number[] = [];
      for (let l = 0; l < model.numLayers; l++) {
        const counts = ((await hists.nth(l).getAttribute('data-counts')) ?? '').split(',').map(Number);
        assert.equal(counts.length, model.kMax + 1, 'bins 0..K_max');
        sums.push(counts.reduce((x, y) => x + y, 0));
      }
      assert.ok(sums[0] > SAMPLE * 2 && sums.every((x) => x === sums[0]), `every layer counts every token once: ${sums}`);
      assert.equal(await f.locator('[data-testid=spotcheck-cancelled]').isVisible(), false);
      assert.equal(await f.locator('[data-testid=spotcheck-expert-load-layer]').count(), model.numLayers);
      // Issue 14's defects, where they were seen: no K=0 bar; compute against top-2 as well as top-K max; the most
      // and least important tokens are different tokens; the status bar summary is not cut off.
      assert.equal(await f.locator('[data-testid=spotcheck-k-histogram] rect.bar[data-k="0"]').count(), 0, 'no K=0 bin');
      // The same histograms as the routing panel's: no reference line through a label, the mean label in the text colour.
      assert.deepEqual(await s.refLineCrossings(page(), f), []);
      const colours = await f.locator('#app').evaluate((app) => ({
        mean: [...app.querySelectorAll('.ref-mean-label')].map((e) => getComputedStyle(e).fill),
        fg: getComputedStyle(document.body).color,
      }));
      assert.ok(
        colours.mean.length > 0 && colours.mean.every((c) => c === colours.fg),
        `mean-K labels in the text colour: ${JSON.stringify(colours)}`,
      );
      assert.match(await f.locator('[data-testid=spotcheck-compute]').innerText(), /\d+\.\d% of top-2, \d+\.\d% of top-4/);
      const listed = async (id: string) => (await f.locator(`[data-testid=${id}] .tok`).allInnerTexts()).map((t) => t.trim());
      const most = await listed('spotcheck-tokens-most');
      const least = await listed('spotcheck-tokens-least');
      assert.ok(most.length > 0, 'most important tokens listed');
      assert.deepEqual(
        most.filter((t) => least.includes(t)),
        [],
        `most ${most} / least ${least}`,
      );
      // The status bar summary: short and complete (accuracy with its CI, examples, mean K), never cut off; the rest
      // of the figures in its tooltip.
      const accText = (await f.locator('[data-testid=spotcheck-accuracy-ci]').innerText()).replace(/^95% CI /, '');
      const meanK = (await f.locator('[data-testid=spotcheck-mean-k]').innerText()).match(/\d+\.\d\d/)![0];
      const item = page().locator(s.SPOT_STATUS);
      await item.waitFor({ state: 'visible', timeout: 10_000 });
      const summary = await item.evaluate((e) => {
        const label = e.querySelector<HTMLElement>('.statusbar-item-label') ?? (e as HTMLElement);
        return { text: (label.textContent ?? '').trim(), scroll: label.scrollWidth, client: label.clientWidth };
      });
      assert.equal(summary.text, `${(100 * value).toFixed(1)}% ${accText} on ${SAMPLE} · mean K ${meanK}`, 'status bar summary');
      assert.ok(summary.scroll <= summary.client + 1, `status bar summary not cut off: ${JSON.stringify(summary)}`);
      await s.screenshotBothThemes(page(), 'spotcheck-report');
      // The detail: the item's tooltip, also its accessible label (the same lines; a screen reader reads them). The
      // tooltip is shown for the screenshot; its text is read from the label (the hover's DOM is VS Code's own).
      const tipText = await item.evaluate(
        (e) => e.getAttribute('aria-label') || e.querySelector('[aria-label]')?.getAttribute('aria-label') || '',
      );
      assert.match(tipText, /labelled examples right/);
      assert.match(tipText, new RegExp(`DA-MoE spot-check: damoe-sst2 on ${DATASET.replace('.', '\\.')}`));
      assert.match(
        tipText,
        new RegExp(`Accuracy ${(100 * value).toFixed(1)}% ${accText.replace(/[[\]]/g, '\\$&')} \\(95% Wilson interval\\)`),
      );
      assert.match(tipText, /Expert compute \d+\.\d% of a fixed top-2 router, \d+\.\d% of top-4/);
      assert.match(tipText, /Mean K \d\.\d\d \(per layer( \d\.\d\d,?){4}\)/);
      await item.hover();
      await s.sleep(3000);
      await h.screenshot(page(), 'spotcheck-status-tooltip');
      await page().mouse.move(2, 500);
      await page().keyboard.press('Escape');
      await s.sleep(1000);
    }),
  );

  it('the report groups by the chosen column and shows expert specialisation and co-activation P(j | i)', T, () =>
    s.scenario('groups, specialisation, co-activation', async () => {
      const f = await s.frameWith(page(), '[data-testid=spotcheck-by-group]');
      // Per value of the group column (the label here): n, accuracy with its 95% CI, mean K, load against the sample.
      const groups = f.locator('[data-testid=spotcheck-by-group] [data-testid=spotcheck-label-row]');
      assert.deepEqual(await groups.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.label)), ['0', '1']);
      assert.match(await f.locator('[data-testid=spotcheck-by-group] caption').innerText(), /By "label"/);
      let n = 0;
      for (let i = 0; i < 2; i++) {
        const cells = await groups.nth(i).locator('td').allInnerTexts();
        n += Number(cells[0]);
        assert.match(cells[2], /^\d+\.\d% \[\d+\.\d, \d+\.\d\] · \d+\/\d+$/, `accuracy cell: ${cells[2]}`);
        assert.match(cells[3], /^\d\.\d\d$/, 'mean K');
        const shift = Number(await groups.nth(i).locator('.sc-load-shift').getAttribute('data-shift'));
        assert.ok(shift >= 0 && shift <= 1, `load shift ${shift}`);
        assert.equal(await groups.nth(i).locator('.sc-load-shift rect').count(), model.numExperts);
      }
      assert.equal(n, SAMPLE, 'the groups hold every example');
      // Wide tables scroll inside their own box; nothing is cut at the panel's edge.
      const fit = await f.locator('#app').evaluate((app) => ({
        overflow: [...app.querySelectorAll<HTMLElement>('.sc-groups-scroll')].map((d) => getComputedStyle(d).overflowX),
        page: { scroll: document.scrollingElement!.scrollWidth, client: document.scrollingElement!.clientWidth },
        // What runs past the edge, outside a box that scrolls (for the message).
        past: [...app.querySelectorAll<HTMLElement>('table, svg, pre, p, div')]
          .filter((e) => e.getBoundingClientRect().right > document.scrollingElement!.clientWidth + 1)
          .filter((e) => !e.closest('.table-scroll, .sc-groups-scroll'))
          .slice(0, 5)
          .map((e) => `${e.tagName} ${e.getAttribute('class') ?? ''} ${e.dataset.testid ?? ''}`),
      }));
      assert.ok(fit.overflow.length >= 2 && fit.overflow.every((o) => o === 'auto'), JSON.stringify(fit));
      assert.ok(fit.page.scroll <= fit.page.client + 1, `the panel does not overflow sideways: ${JSON.stringify(fit)}`);
      await f.locator('[data-testid=spotcheck-by-group]').scrollIntoViewIfNeeded();
      await h.screenshot(page(), 'spotcheck-groups');
      // Scrolled to its last columns: the load against the sample.
      await f
        .locator('.sc-groups-scroll')
        .first()
        .evaluate((d) => (d.scrollLeft = d.scrollWidth));
      await h.screenshot(page(), 'spotcheck-groups-load-shift');

      // Expert specialisation: one row per expert of the selected layer; tokens by lift (highest first), each seen
      // by the expert at least the stated minimum count.
      const spec = f.locator('[data-testid=spotcheck-specialisation-table]');
      await spec.scrollIntoViewIfNeeded();
      const intro = await f.locator('[data-testid=spotcheck-specialisation] p').first().innerText();
      const min = Number(intro.match(/at least (\d+) times/)![1]);
      assert.ok(min >= 2, `minimum count stated: ${intro}`);
      const rows = f.locator('[data-testid=spotcheck-specialisation-row]');
      assert.equal(await rows.count(), model.numExperts);
      const perExpert = await rows.evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll<HTMLElement>('.sc-spec-token')].map((t) => ({
            lift: Number(t.dataset.lift),
            count: Number((t.querySelector('.muted')?.textContent ?? '').replace(/[^\d]/g, '')),
          })),
        ),
      );
      assert.ok(
        perExpert.some((t) => t.length > 0),
        'some expert has tokens above chance',
      );
      for (const [e, toks] of perExpert.entries()) {
        for (let i = 0; i < toks.length; i++) {
          assert.ok(toks[i].count >= min, `expert ${e}: count ${toks[i].count} >= ${min}`);
          if (i > 0) assert.ok(toks[i - 1].lift >= toks[i].lift, `expert ${e}: lifts in order ${JSON.stringify(toks)}`);
        }
      }
      await h.screenshot(page(), 'spotcheck-specialisation');

      // Co-activation as P(j | i): no diagonal, a colour scale from 0 to the largest share, axis titles.
      const co = f.locator('[data-testid=spotcheck-coactivation]');
      await f.locator('[data-testid=spotcheck-coactivation-section]').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      const E = Number(await co.getAttribute('data-experts'));
      assert.equal(E, model.numExperts);
      assert.equal(await co.locator('rect.coact-cell').count(), E * E);
      const onDiagonal = await co
        .locator('rect.coact-cell')
        .evaluateAll((rs) =>
          rs
            .filter((r) => r.getAttribute('data-i') === r.getAttribute('data-j'))
            .map((r) => [r.getAttribute('class'), r.getAttribute('data-p')]),
        );
      assert.equal(onDiagonal.length, E);
      assert.ok(
        onDiagonal.every(([cls, p]) => /\bdiag\b/.test(cls ?? '') && p === ''),
        `diagonal left out: ${JSON.stringify(onDiagonal)}`,
      );
      const ps = await co.locator('rect.coact-cell:not(.diag)').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-p'))));
      const max = Number(await co.getAttribute('data-max'));
      assert.ok(max > 0 && max <= 1 && Math.abs(Math.max(...ps) - max) < 1e-6, `scale max ${max}`);
      const legend = await co.locator('.legend').innerText();
      assert.match(legend, new RegExp(`^0\\s+${max.toFixed(2)}\\s+P\\(j \\| i\\)`), `colour scale: ${legend}`);
      assert.ok(await co.locator('.legend-ramp').evaluate((e) => getComputedStyle(e).backgroundImage.startsWith('linear-gradient')));
      assert.deepEqual(await co.locator('text.axis-title').allTextContents(), ['expert j (also chosen)', 'expert i (chosen)']);
      await s.screenshotBothThemes(page(), 'spotcheck-coactivation');
    }),
  );

  it('clicking an example opens the dataset at its line with the text selected, and analyses it', T, () =>
    s.scenario('open an example', async () => {
      const f = await s.frameWith(page(), '[data-testid=spotcheck-example-row]');
      const row = f.locator('[data-testid=spotcheck-example-row]').nth(3);
      const line = Number(await row.getAttribute('data-line'));
      const text = LINES[line - 1].split('\t')[0];
      await row.click();
      let status = '';
      for (let end = Date.now() + 30_000; Date.now() < end; await s.sleep(200)) {
        status = await h.selectionStatus(page());
        if (new RegExp(`^Ln ${line},`).test(status)) break;
      }
      assert.match(
        status,
        new RegExp(`^Ln ${line}, Col ${text.length + 1} \\(${text.length} selected\\)`),
        `status bar after clicking line ${line}`,
      );
      assert.ok(
        await page().locator('.tabs-container .tab.active', { hasText: DATASET }).first().isVisible(),
        'the dataset is the active editor',
      );
      // The routing panel shows the example's tokens.
      const exp = s.expectedEncoding(text);
      const routing = await s.frameWith(page(), '[data-testid=token-strip] .tok');
      const want = exp.content.map((t) => t.text).join(' ');
      let shown = '';
      for (let end = Date.now() + 60_000; Date.now() < end; await s.sleep(250)) {
        shown = (await routing.locator('[data-testid=token-strip] .tok:not(.special)').allInnerTexts()).join(' ');
        if (shown === want) break;
      }
      assert.equal(shown, want, 'the routing panel shows the clicked example');
      // Beside the report, not as a tab over it: both panels are visible, in different editor groups.
      const tabs = await page().evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('.editor-group-container')].map((g) => ({
          active: [...g.querySelectorAll<HTMLElement>('.tabs-container .tab.active')].map((t) => t.innerText.trim()),
        })),
      );
      const groupOf = (title: RegExp) => tabs.findIndex((g) => g.active.some((t) => title.test(t)));
      assert.ok(groupOf(/DA-MoE Spot-Check/) >= 0 && groupOf(/DA-MoE Routing/) >= 0, `both panels visible: ${JSON.stringify(tabs)}`);
      assert.notEqual(groupOf(/DA-MoE Spot-Check/), groupOf(/DA-MoE Routing/), `separate groups: ${JSON.stringify(tabs)}`);
      await s.screenshotBothThemes(page(), 'spotcheck-open-example');
    }),
  );

  it('a failed spot-check with its panel in view: one error, in the banner with working buttons, over the dimmed report', T, () =>
    s.scenario('spot-check error shown once', async () => {
      const dir = s.tmpDir('damoe-e2e-');
      const broken = s.writeBrokenModel(path.join(dir, 'broken-model'));
      try {
        await s.clearNotifications(page());
        await s.setSettingInSettingsUI(page(), codeServer().userDataDir, 'damoe.modelPath', broken);
        await s.waitForStatus(page(), /broken-model/);
        await s.focusFile(page(), DATASET);
        await h.runCommand(page(), SPOT_CHECK);
        await quickRow(page(), /Run spot-check/).click({ timeout: 30_000 });
        const f = await s.frameWith(page(), '[data-testid=spotcheck-accuracy][data-value]');
        const text = await s.expectErrorOnceInPanel(page(), f, {
          banner: 'spotcheck-error',
          message: /^DA-MoE spot-check: .*does not follow the model contract/,
          actions: ['Select Model', 'Show Output'],
          rows: '[data-testid=spotcheck-example-row]',
          rowCount: SAMPLE,
          logged: 'does not follow the model contract',
        });
        assert.ok(text.includes(broken), `the banner names the model folder: ${text}`);
        await s.screenshotBothThemes(page(), 'spotcheck-error');

        // Back to the shipped model: the next report clears the banner and the dimming.
        await h.runCommand(page(), 'View: Hide Panel').catch(() => page().keyboard.press('Escape'));
        await s.setSettingInSettingsUI(page(), codeServer().userDataDir, 'damoe.modelPath', '');
        await s.waitForStatus(page(), /damoe-sst2/);
        await s.focusFile(page(), DATASET);
        await h.runCommand(page(), SPOT_CHECK);
        await quickRow(page(), /Run spot-check/).click({ timeout: 30_000 });
        // The status bar summary is hidden while a run goes and back with its report.
        await page().locator(s.SPOT_STATUS).waitFor({ state: 'visible', timeout: 120_000 });
        const g = await s.frameWith(page(), '#app.spotcheck:not(.under-error) [data-testid=spotcheck-example-row]', 30_000);
        assert.equal(await g.locator('[data-testid=spotcheck-error]').isVisible(), false, 'the banner is gone');
        assert.equal(await g.locator('.under-error-dimmed').count(), 0, 'nothing dimmed after a good report');
        assert.deepEqual(
          (await h.notifications(page())).filter((n) => n.severity === 'error'),
          [],
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
});
