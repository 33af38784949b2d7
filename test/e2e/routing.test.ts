/**
 * User-level scenarios of the routing panel, in a real VS Code (code-server) with the extension installed from the
 * VSIX, driven through the UI by Chromium: analyse a selection from the command palette, editor hover, cursor ↔
 * panel linking, HTML in the analysed text, window reload (serializer), and a broken model in the user settings.
 * One code-server and one browser serve all scenarios (they build on each other, in order).
 * Screenshots (light and dark): test-results/e2e/routing-*.png.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import * as h from './harness';
import * as s from './support';
import type { Analysis } from '../../src/shared/analysis';
import { formatLayerCheck } from '../../src/shared/importance-check';

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

      // K first: the K grid is the first chart, the panel opens on the most dynamic layer, the strip carries each
      // token's K there, and the importance axis marks where the shipped rule steps K (0.667, 1.333, 2.000).
      const k = await s.readKFacts(page());
      assert.equal(k.firstSection, 'k-grid');
      assert.equal(k.grid.length, exp.content.length, 'one K grid row per text token');
      assert.ok(
        k.grid.every((r) => r.length === model.numLayers && r.every((x) => x >= 1 && x <= model.kMax)),
        `K grid ${k.grid}`,
      );
      assert.equal(k.layer, s.mostDynamicLayer(k.grid), 'opens on the layer whose K varies most');
      assert.deepEqual(
        k.stripK.filter((_, i) => !exp.tokens[i].special),
        k.grid.map((r) => r[k.layer]),
        "the strip's K pips are the grid's selected column",
      );
      assert.deepEqual(
        k.thresholds,
        [0.667, 1.333, 2].filter((t) => t < k.legendMax),
      );
      assert.match(k.rule, /K=1 up to 0\.667, K=2 up to 1\.333, K=3 up to 2\.000, K=4 above 2\.000/);
      const meanSel = s.meanOfCounts(p.layerHistograms[k.layer]);
      assert.ok(k.selectText.includes(`Layer ${k.layer} (mean K ${meanSel.toFixed(2)})`), `layer select shows "${k.selectText}"`);
      const f0 = s.routing(page());
      assert.equal(await f0.locator('[data-testid=heatmap]').getAttribute('data-value'), 'gateK', 'heatmap default: compute share');
      // K histograms: no K=0 bar, no reference line through a label, the mean label in the text colour.
      assert.equal(await f0.locator('[data-testid=k-histograms] rect.bar[data-k="0"]').count(), 0, 'no K=0 bin');
      assert.deepEqual(await s.refLineCrossings(page()), []);
      const colours = await f0.locator('#app').evaluate((app) => ({
        mean: getComputedStyle(app.querySelector('.ref-mean-label')!).fill,
        fg: getComputedStyle(document.body).color,
      }));
      assert.equal(colours.mean, colours.fg, 'the mean-K label is drawn in the text colour');
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
      // The "hover" pictures show the hover: hovered again after each theme switch, and checked before each shot.
      await s.screenshotBothThemes(page(), 'routing-hover', async () => {
        await h.hoverEditorText(page(), 'moving');
        assert.ok(await page().locator('.monaco-editor .monaco-hover:not(.hidden)').first().isVisible(), 'a hover is on screen');
      });

      // Cross-check against the panel's table view (K of every layer, importance of the selected layer).
      const f = s.routing(page());
      await f.locator('[data-testid=view-mode-table]').click();
      const row = f.locator(`[data-testid=table-row][data-token="${idx}"]`);
      await row.waitFor({ timeout: 15_000 });
      const cells = await row.locator('td, th').allInnerTexts();
      // # | token | importance (selected layer) | K (selected layer, digit + pips) | per layer: "K=k: experts"
      assert.equal(cells[1].trim(), 'moving');
      const tableK = cells.slice(4).map((c) => Number(/^K=(\d+)/.exec(c.trim())?.[1]));
      assert.deepEqual(tableK, hoverK, `K per layer: table ${cells.slice(4)} vs hover ${hoverK}`);
      const shownLayer = Number(await f.locator('[data-testid=k-grid]').getAttribute('data-layer'));
      assert.equal(Number(cells[3].trim()), hoverK[shownLayer], 'the K column is the selected layer');
      assert.equal(cells[2].trim(), rows[shownLayer][2], 'importance of the selected layer: table vs hover');
      // Nothing of the table is cut: the caption wraps above it, and the columns fit the panel.
      const fit = await f.locator('[data-testid=table-view]').evaluate((sec) => {
        const scroller = sec.querySelector<HTMLElement>('.table-scroll')!;
        const intro = sec.querySelector<HTMLElement>('[data-testid=table-intro]')!;
        return {
          scroll: scroller.scrollWidth,
          client: scroller.clientWidth,
          intro: intro.scrollWidth,
          introClient: intro.clientWidth,
          introText: intro.textContent,
        };
      });
      assert.ok(fit.scroll <= fit.client + 1, `table columns fit the panel: ${fit.scroll} > ${fit.client}`);
      assert.ok(fit.intro <= fit.introClient + 1 && /tokens/.test(fit.introText ?? ''), `caption fits: ${JSON.stringify(fit)}`);
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

  it('a chart saves as PNG from the panel: a real PNG of the whole K grid, through the save dialog', T, () =>
    s.scenario('figure export', async () => {
      const exp = s.expectedEncoding(LINES[0]);
      const dir = s.tmpDir('damoe-e2e-fig-');
      tmp.push(dir);
      const out = path.join(dir, 'k-grid.png');
      const f = s.routing(page());
      await f.locator('[data-testid=figure-tools-k-grid] [data-testid=figure-save-png]').click();
      await s.saveThroughDialog(page(), 'k-grid.png', out, 'routing-figure-export');
      assert.ok(fs.existsSync(out), `saved ${out}`);
      const png = fs.readFileSync(out);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
      assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
      const width = png.readUInt32BE(16);
      const height = png.readUInt32BE(20);
      // 2× of: title 24 + header 20 + 18 per token row + legend 22 + 6 (src/webview/shared/figure.ts).
      assert.equal(height, 2 * (24 + 20 + 18 * exp.content.length + 22 + 6), `every row of the grid is in the ${width}×${height} PNG`);
      assert.ok(width >= 2 * 4 * 28, `four layer columns wide: ${width}`);
      const notice = f.locator('[data-testid=notice]');
      await notice.waitFor({ state: 'visible', timeout: 10_000 });
      assert.ok((await notice.innerText()).includes(out), await notice.innerText());
    }),
  );

  it('Check importance (occlusion) in the panel: Spearman per layer with n, the figures damoe analyze --importance-check gives', T, () =>
    s.scenario('importance check', async () => {
      const text = LINES[0];
      const exp = s.expectedEncoding(text);
      const f = s.routing(page());
      await f.locator('[data-testid=importance-check-run]').click();
      const table = f.locator('[data-testid=importance-check-table]');
      await table.waitFor({ state: 'visible', timeout: 120_000 });
      const shown = await f.locator('[data-testid=importance-check-rho]').allInnerTexts();
      const cli = spawnSync(
        process.execPath,
        [path.join(s.ROOT, 'bin', 'damoe.js'), 'analyze', '--json', '--importance-check', '--provider', 'cpu', text],
        {
          encoding: 'utf8',
          maxBuffer: 64 * 2 ** 20,
        },
      );
      assert.equal(cli.status, 0, cli.stderr);
      const check = (JSON.parse(cli.stdout) as Analysis).importance_check!;
      assert.equal(check.n, exp.content.length, 'every text token occluded once, specials never');
      assert.deepEqual(shown, check.layers.map(formatLayerCheck), 'the panel shows the same rho, interval and n per layer');
      assert.match(await table.locator('caption').innerText(), new RegExp(`${check.n} tokens, ${check.sequences} model inputs`));
      await f.locator('[data-testid=importance-check]').scrollIntoViewIfNeeded();
      await s.screenshotBothThemes(page(), 'routing-importance-check');
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
      // VS Code draws touching ranges of one decoration type as one element ("cast" + "."), so the count lies between
      // the words (never touching) and the tokens.
      const words = LINES[0].trim().split(/\s+/).length;
      let n = 0;
      for (let end = Date.now() + 20_000; Date.now() < end && (n = await s.importanceDecorationCount(page())) < words;) await s.sleep(200);
      assert.ok(
        n >= words && n <= exp.content.length,
        `importance highlights after the reload: ${n} elements for ${words} words, ${exp.content.length} tokens`,
      );
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
      // Shown once: in the panel's banner (with the notification's buttons), not also as a toast.
      const banner = s.routing(page()).locator('[data-testid=error-banner]');
      await banner.waitFor({ state: 'visible', timeout: 120_000 });
      const msg = await banner.innerText();
      assert.match(msg, /does not follow the model contract/);
      assert.ok(msg.includes(broken), `the banner names the model folder: ${msg}`);
      assert.match(msg, /router_probs/, `the banner names the missing output: ${msg}`);
      assert.deepEqual(await banner.locator('[data-testid=error-action]').allInnerTexts(), ['Select Model', 'Show Output']);
      await s.sleep(1500);
      assert.deepEqual(
        (await h.notifications(page())).filter((n) => n.message.includes('model contract')),
        [],
        'no toast as well as the banner',
      );
      assert.equal(await s.routing(page()).locator('#app.under-error').count(), 1, 'the previous analysis is dimmed under the error');
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
      assert.equal(await s.routing(page()).locator('#app.under-error').count(), 0, 'not dimmed after a good analysis');
      // The layer select names this analysis's mean K, not the previous one's.
      const k = await s.readKFacts(page());
      const meanSel = s.meanOfCounts(p.layerHistograms[k.layer]);
      assert.ok(k.selectText.includes(`Layer ${k.layer} (mean K ${meanSel.toFixed(2)})`), `layer select shows "${k.selectText}"`);
      assert.deepEqual(
        (await h.notifications(page())).filter((n) => n.severity === 'error'),
        [],
      );
      await s.screenshotBothThemes(page(), 'routing-recovered');
    }),
  );
});
