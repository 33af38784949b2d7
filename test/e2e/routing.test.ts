/**
 * User-level scenarios of the routing panel, in a real VS Code (code-server) with the extension installed from the
 * VSIX, driven through the UI by Chromium: analyse a selection from the command palette, editor hover, cursor ↔
 * panel linking, HTML in the analysed text, window reload (serializer), and a broken model in the user settings.
 * One code-server and one browser serve all scenarios (they build on each other, in order).
 * Screenshots (light and dark): test-results/e2e/routing-*.png.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import * as h from './harness';
import * as s from './support';

const WORKSPACE = path.join(s.ROOT, 'test', 'e2e', 'fixtures', 'workspace');
const LINES = fs.readFileSync(path.join(WORKSPACE, 'reviews.txt'), 'utf8').split('\n');
const T = { timeout: 240_000 };

describe('DA-MoE Inspector in VS Code: routing panel', { timeout: 900_000 }, () => {
  const model = s.shippedModel();
  let cs: h.CodeServer | undefined;
  let b: h.BrowserSession | undefined;
  const page = () => b!.page;
  const ignore = [...s.reloadNoise];
  const tmp: string[] = [];

  before(async () => {
    const t = Date.now();
    const vsix = s.ensureVsix();
    assert.ok(fs.existsSync(path.join(WORKSPACE, 'reviews.txt')), `fixture workspace missing: ${WORKSPACE}`);
    cs = await h.startCodeServer({ extensionVsix: vsix, workspace: WORKSPACE, trusted: true, theme: 'Light Modern' });
    b = await h.launchBrowser();
    await h.openWorkbench(b.page, cs.url, cs.workspace);
    await h.openFile(b.page, 'reviews.txt');
    console.log(
      `[e2e] set-up (VSIX ${path.relative(s.ROOT, vsix)}, code-server, browser, workbench): ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
  });

  after(async () => {
    if (b && cs) {
      const errs = b.collector.unexpectedErrors(ignore);
      if (errs.length) console.log(`[e2e] unexpected browser errors:\n  ${errs.join('\n  ')}`);
    }
    await b?.close();
    await cs?.stop();
    await h.stopAll();
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
    s.printSummary('routing.test');
  });

  it('Analyze Routing from the palette fills the panel: one heatmap row per token, one column per expert', T, () =>
    s.scenario('analyze selection', async () => {
      const text = LINES[0];
      const exp = s.expectedEncoding(text);
      const status = await h.selectText(page(), { line: 1 });
      assert.match(status, new RegExp(`\\(${text.length} selected\\)`));
      await h.runCommand(page(), s.ANALYZE);
      const p = await s.waitForAnalysis(page(), exp);

      assert.equal(p.rows, exp.content.length, 'heatmap rows = non-special tokens of the selection');
      assert.equal(p.cols, model.numExperts, 'heatmap columns = experts of the shipped model');
      assert.equal(p.tokenCount, exp.tokens.length, 'header token count (special tokens included)');
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      assert.equal(sum(p.histogram), exp.tokens.length, `K histogram ${p.histogram} must count every token once`);
      assert.equal(p.histogramTotal, exp.tokens.length);
      assert.equal(p.histogram.length, model.kMax + 1, 'K histogram bins 0..K_max');
      assert.equal(p.layerHistograms.length, model.numLayers);
      for (const [l, counts] of p.layerHistograms.entries()) assert.equal(sum(counts), exp.tokens.length, `layer ${l} histogram ${counts}`);
      assert.equal(sum(p.overall), exp.tokens.length * model.numLayers, 'overall histogram = tokens × layers');
      assert.match(p.provider, new RegExp(`^${process.env.E2E_EXPECT_PROVIDER ?? 'cpu'}\\b`), `provider shown: ${p.provider}`);
      assert.ok(model.labels.includes(p.prediction), `prediction "${p.prediction}" is not one of ${model.labels}`);
      assert.equal(p.modelName, 'damoe-sst2');
      assert.ok(p.modelPath.startsWith(cs!.extensionsDir), `model loaded from the installed VSIX: ${p.modelPath}`);
      // The token strip lists every token, specials included, in order.
      assert.deepEqual(
        p.stripTokens.map((t) => [t.text, t.special]),
        exp.tokens.map((t) => [t.text, t.special]),
      );
      // The status bar names the model and provider too.
      assert.match(await s.statusText(page()), /damoe-sst2 · cpu|damoe-sst2 · \w+/);
      await s.screenshotBothThemes(page(), 'routing-analyze');
    }),
  );

  it("hovering a token in the editor shows its importance and K per layer (same as the panel's table)", T, () =>
    s.scenario('editor hover', async () => {
      const exp = s.expectedEncoding(LINES[0]);
      const idx = s.tokenIndex(exp, 'moving');
      const hover = await h.hoverEditorText(page(), 'moving');
      assert.match(hover, new RegExp(`DA-MoE · token ${idx}\\b`), hover);
      const imp = /importance (\d+\.\d+) \(mean over layers\)/.exec(hover);
      assert.ok(imp, `hover has no importance: ${hover}`);
      const rows = [...hover.matchAll(/^(\d+)\s+(\d+\.\d+)\s+(\d+) \/ (\d+)\s+E\d/gm)];
      assert.equal(rows.length, model.numLayers, `one hover row per layer: ${hover}`);
      const hoverK = rows.map((r) => Number(r[3]));
      for (const r of rows) assert.equal(Number(r[4]), model.kMax);
      const meanImp = rows.reduce((x, r) => x + Number(r[2]), 0) / rows.length;
      assert.ok(Math.abs(meanImp - Number(imp[1])) < 0.002 * rows.length, `mean of per-layer importance ${meanImp} vs ${imp[1]}`);
      await s.screenshotBothThemes(page(), 'routing-hover');

      // Cross-check against the panel's table view (K of every layer, importance of the selected layer).
      const f = s.routing(page());
      await f.locator('[data-testid=view-mode-table]').click();
      const row = f.locator(`[data-testid=table-row][data-token="${idx}"]`);
      await row.waitFor({ timeout: 15_000 });
      const cells = await row.locator('td, th').allInnerTexts();
      // # | token | importance (layer 0) | K (layer 0) | per layer: "K=k: experts"
      assert.equal(cells[1].trim(), 'moving');
      const tableK = cells.slice(4).map((c) => Number(/^K=(\d+)/.exec(c.trim())?.[1]));
      assert.deepEqual(tableK, hoverK, `K per layer: table ${cells.slice(4)} vs hover ${hoverK}`);
      assert.equal(Number(cells[3]), hoverK[0]);
      assert.equal(cells[2].trim(), rows[0][2], 'layer-0 importance: table vs hover');
      await s.screenshotBothThemes(page(), 'routing-table');
      await f.locator('[data-testid=view-mode-chart]').click();
      await f.locator('[data-testid=token-strip]').waitFor({ state: 'visible', timeout: 15_000 });
    }),
  );

  it("the editor cursor is highlighted in the panel, and the panel's pointer is highlighted in the editor", T, () =>
    s.scenario('cursor and pointer linking', async () => {
      const exp = s.expectedEncoding(LINES[0]);
      const f = s.routing(page());
      const cursorIndex = async () => {
        const c = f.locator('[data-testid=token-strip] .tok.is-cursor');
        return (await c.count()) === 1 ? Number(await c.getAttribute('data-index')) : null;
      };
      const waitCursor = async (want: number, what: string) => {
        const end = Date.now() + 15_000;
        let got: number | null = null;
        while (Date.now() < end && (got = await cursorIndex()) !== want) await s.sleep(100);
        assert.equal(got, want, `panel cursor token after ${what}`);
      };
      // Click into "wonderful" in the editor.
      const w = await s.editorTextBox(page(), 'wonderful', 3, 4);
      await page().mouse.click(w.x, w.y);
      await waitCursor(s.tokenIndex(exp, 'wonderful'), 'clicking "wonderful"');
      // Keyboard: Home goes to the start of the line, the first token.
      await page().keyboard.press('Home');
      await waitCursor(exp.content[0].index, 'Home');
      await page().keyboard.press('Control+ArrowRight');
      await page().keyboard.press('Control+ArrowRight'); // after "quiet"
      await page().keyboard.press('ArrowLeft');
      await waitCursor(s.tokenIndex(exp, 'quiet'), 'moving the cursor into "quiet"');
      await s.screenshotBothThemes(page(), 'routing-cursor');

      // Pointer over "film" in the panel's token strip: the editor outlines exactly that word.
      assert.deepEqual(await s.borderedDecorations(page()), [], 'no token outline before pointing');
      const filmIdx = s.tokenIndex(exp, 'film');
      await f.locator(`[data-testid=token-strip] .tok[data-index="${filmIdx}"]`).hover();
      const film = await s.editorTextBox(page(), 'film');
      let deco: Awaited<ReturnType<typeof s.borderedDecorations>> = [];
      for (let end = Date.now() + 15_000; Date.now() < end && deco.length === 0;) {
        deco = await s.borderedDecorations(page());
        if (deco.length === 0) await s.sleep(100);
      }
      assert.equal(deco.length, 1, 'one outlined token in the editor');
      const d = deco[0];
      const tol = 3;
      assert.ok(
        Math.abs(d.left - film.left) <= tol && Math.abs(d.right - film.right) <= tol && d.top <= film.y && d.bottom >= film.y,
        `outline ${JSON.stringify(d)} does not cover "film" ${JSON.stringify(film)}`,
      );
      await h.screenshot(
        page(),
        'routing-pointer-' +
          ((await page().evaluate(() => document.querySelector('.monaco-workbench')?.classList.contains('vs-dark'))) ? 'dark' : 'light'),
      );
      // Leaving the strip removes the outline.
      await page().mouse.move(2, 500);
      for (let end = Date.now() + 10_000; Date.now() < end && (await s.borderedDecorations(page())).length > 0;) await s.sleep(100);
      assert.deepEqual(await s.borderedDecorations(page()), [], 'outline removed when the pointer leaves the panel');
    }),
  );

  it('HTML in the analysed text is shown as text and never runs', T, () =>
    s.scenario('html in text', async () => {
      const text = LINES[2];
      assert.equal(text, '<img src=x onerror=alert(1)>');
      const exp = s.expectedEncoding(text);
      const dialogsBefore = b!.collector.dialogs.length;
      const cspBefore = b!.collector.console.filter((m) => /Content Security Policy|Refused to/i.test(m.text)).length;
      await s.analyzeLine(page(), 3);
      const p = await s.waitForAnalysis(page(), exp);
      assert.equal(p.rows, exp.content.length);
      // Every piece of the markup is a token chip with its literal text ("<", "img", "src", "=", ...).
      const shown = p.stripTokens.filter((t) => !t.special).map((t) => t.text);
      assert.deepEqual(
        shown,
        exp.content.map((t) => t.text),
      );
      // "<" and ">" are not in the shipped vocabulary ([UNK] to the model): their chips show the characters themselves.
      for (const piece of ['<', '=', 'x', 'alert', '(', '1', ')', '>'])
        assert.ok(shown.includes(piece), `chip "${piece}" in ${shown.join(' ')}`);
      assert.equal(shown.join('').replace(/##/g, ''), text.toLowerCase().replace(/\s+/g, ''), 'the chips spell the text');
      // The same in the table view.
      const f = s.routing(page());
      await f.locator('[data-testid=view-mode-table]').click();
      await f.locator('[data-testid=table-row]').first().waitFor({ timeout: 15_000 });
      const tableTokens = await f.locator('[data-testid=table-row] .tok-cell').allInnerTexts();
      assert.deepEqual(
        tableTokens.map((t) => t.trim()),
        exp.content.map((t) => t.text),
      );
      await s.screenshotBothThemes(page(), 'routing-html');
      await f.locator('[data-testid=view-mode-chart]').click();
      // No element was created from the text, no script ran, nothing was blocked by the CSP either.
      const injected = await f.locator('body').evaluate(() =>
        [...document.querySelectorAll('img, iframe, object, embed, [onerror], [onload], script')]
          .filter((e) => !(e instanceof HTMLScriptElement && (e.nonce || e.id === '_vscodeApiScript'))) // ours, and VS Code's API shim
          .map((e) => e.outerHTML.slice(0, 200)),
      );
      assert.deepEqual(injected, [], 'elements created from the analysed text');
      await s.focusFile(page(), 'reviews.txt');
      const hover = await h.hoverEditorText(page(), 'onerror');
      assert.match(hover, /DA-MoE · token \d+/);
      await s.sleep(500);
      assert.deepEqual(b!.collector.dialogs.slice(dialogsBefore), [], 'dialogs opened');
      const csp = b!.collector.console.filter((m) => /Content Security Policy|Refused to/i.test(m.text)).slice(cspBefore);
      assert.deepEqual(
        csp.map((m) => m.text),
        [],
        'CSP violations while showing the HTML text',
      );
      assert.deepEqual(b!.collector.unexpectedErrors(ignore), [], 'console errors');
    }),
  );

  it('after Developer: Reload Window the panel comes back with its analysis', T, () =>
    s.scenario('reload window', async () => {
      const exp = s.expectedEncoding(LINES[0]);
      await s.analyzeLine(page(), 1);
      const before = await s.waitForAnalysis(page(), exp);
      await s.sleep(500); // the webview persists its state right after rendering
      const navigated = page().waitForEvent('framenavigated', { predicate: (fr) => fr === page().mainFrame(), timeout: 60_000 });
      await h.runCommand(page(), 'Developer: Reload Window');
      await navigated;
      await h.waitForWorkbench(page(), 120_000);
      const after = await s.waitForAnalysis(page(), exp);
      assert.deepEqual(
        { rows: after.rows, cols: after.cols, tokens: after.stripTokens, prediction: after.prediction, histogram: after.histogram },
        { rows: before.rows, cols: before.cols, tokens: before.stripTokens, prediction: before.prediction, histogram: before.histogram },
      );
      // Re-linked to the editor (the text is unchanged): importance highlights are back, the stale banner is not shown.
      await s.focusFile(page(), 'reviews.txt');
      let n = 0;
      for (let end = Date.now() + 20_000; Date.now() < end && (n = await s.importanceDecorationCount(page())) < exp.content.length;)
        await s.sleep(200);
      assert.equal(n, exp.content.length, 'importance highlights after the reload (one per token)');
      assert.ok(await s.routing(page()).locator('[data-testid=stale-banner]').isHidden(), 'stale banner after reload');
      await s.screenshotBothThemes(page(), 'routing-reload');
    }),
  );

  it('a broken model in the user settings is reported; clearing the setting brings the shipped model back', T, () =>
    s.scenario('broken model setting', async () => {
      const broken = s.writeBrokenModel(path.join(s.tmpDir('damoe-e2e-'), 'broken-model'));
      tmp.push(path.dirname(broken));
      await s.clearNotifications(page());
      await s.setSettingInSettingsUI(page(), cs!.userDataDir, 'damoe.modelPath', broken);
      await s.waitForStatus(page(), /broken-model/); // the configuration change reached the extension
      await s.analyzeLine(page(), 2);
      const msg = await h.waitForNotification(page(), /does not follow the model contract/, 120_000);
      assert.ok(msg.includes(broken), `the notification names the model folder: ${msg}`);
      assert.match(msg, /router_probs/, `the notification names the missing output: ${msg}`);
      const toast = (await h.notifications(page())).find((n) => n.message.includes('model contract'));
      assert.equal(toast?.severity, 'error');
      const banner = s.routing(page()).locator('[data-testid=error-banner]');
      await banner.waitFor({ state: 'visible', timeout: 15_000 });
      assert.match(await banner.innerText(), /does not follow the model contract/);
      await s.screenshotBothThemes(page(), 'routing-broken-model');

      // The extension keeps working: clear the setting, analyse again.
      await s.clearNotifications(page());
      await s.setSettingInSettingsUI(page(), cs!.userDataDir, 'damoe.modelPath', '');
      await s.waitForStatus(page(), /damoe-sst2/);
      const exp = s.expectedEncoding(LINES[1]);
      await s.analyzeLine(page(), 2);
      const p = await s.waitForAnalysis(page(), exp);
      assert.equal(p.rows, exp.content.length);
      assert.equal(p.modelName, 'damoe-sst2');
      assert.ok(model.labels.includes(p.prediction));
      assert.ok(await banner.isHidden(), 'error banner gone after a good analysis');
      assert.deepEqual(
        (await h.notifications(page())).filter((n) => n.severity === 'error'),
        [],
      );
      await s.screenshotBothThemes(page(), 'routing-recovered');
    }),
  );
});
