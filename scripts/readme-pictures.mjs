#!/usr/bin/env node
/**
 * README's hero picture (docs/images/hero-dark.png; --theme light / hc for the others) from a real run: the shipped damoe-sst2 and
 * top2-sst2 models analyse a plain review (the real CLI: tokenizer, onnxruntime, analysis), and the real webview
 * bundles (dist/webview/*.js, with the host's HTML and CSP, through the webview test harness) render it in Chromium:
 * the routing panel's header, K grid and token strip, its dynamic-K histograms and expert load, and the compare panel
 * on the same text.
 * The views are laid out on one page and screenshotted.
 *
 * Usage: npm run build && npx tsc -p test/tsconfig.browser.json && node scripts/readme-pictures.mjs [--out DIR] [--theme dark|light|hc]...
 */
/* global requestAnimationFrame, getComputedStyle, document -- page.evaluate callbacks run in Chromium */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const need = (p) => {
  const f = path.join(root, p);
  if (!fs.existsSync(f)) throw new Error(`${p} is missing: run npm run build and npx tsc -p test/tsconfig.browser.json first`);
  return require(f);
};
const harness = need('out/test/unit/webview/harness.js');
const { packAnalysis } = need('out/src/shared/protocol/packed-analysis.js');
const { hostNotification } = need('out/src/shared/protocol/routing.js');
const { compareHostNotification } = need('out/src/shared/protocol/compare.js');

const { values: args } = parseArgs({
  options: { out: { type: 'string', default: path.join(root, 'docs/images') }, theme: { type: 'string', multiple: true } },
});
const themes = args.theme?.length ? args.theme : ['dark'];

// Plain review text (the XSS probe stays in the tests).
const TEXT =
  'A quiet, moving film with a wonderful cast. The plot drags in the middle, but the ending is earned and the performances are superb.';

function analyze(model) {
  const r = spawnSync(process.execPath, ['bin/damoe.js', 'analyze', '--model', `models/${model}`, '--provider', 'cpu', '--json', TEXT], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`damoe analyze (${model}) failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));

async function shot(locator) {
  return (await locator.screenshot({ animations: 'disabled' })).toString('base64');
}

async function main() {
  const damoe = analyze('damoe-sst2');
  const top2 = analyze('top2-sst2');
  fs.mkdirSync(args.out, { recursive: true });
  const browser = await harness.launchBrowser();
  try {
    for (const theme of themes) {
      // Routing panel: K grid + token strip, and the histograms.
      const p = await harness.openPanel(browser, { theme, width: 1280, height: 1800, deviceScaleFactor: 1 });
      await p.send(hostNotification('analysis/show', { analysis: packAnalysis(damoe), stale: false }));
      await p.page.evaluate(frames);
      await p.page.waitForTimeout(300);
      const header = await shot(p.page.getByTestId('header'));
      const first = await shot(p.page.locator('.first-grid'));
      const hist = await shot(p.page.locator('.charts-grid'));
      await p.close();
      // Compare panel on the same text.
      const c = await harness.openPanel(browser, { theme, width: 980, height: 1200, bundle: 'compare' });
      await c.send(
        compareHostNotification('compare/text', {
          models: [
            { name: 'damoe-sst2', analysis: damoe },
            { name: 'top2-sst2', analysis: top2 },
          ],
          source: 'the selection',
        }),
      );
      await c.page.waitForTimeout(300);
      const compare = await shot(c.page.locator('#app'));
      const bg = await c.page.evaluate(() =>
        getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-background').trim(),
      );
      await c.close();
      // One page: the routing panel's views on the left, the compare view on the right.
      const page = await browser.newPage({ viewport: { width: 1960, height: 1200 }, deviceScaleFactor: 1 });
      await page.setContent(
        `<!doctype html><html><body style="margin:0;background:${bg};display:flex;gap:28px;padding:20px;align-items:flex-start">` +
          `<div style="display:flex;flex-direction:column;gap:10px;width:960px">` +
          [header, first, hist].map((b) => `<img style="width:960px" src="data:image/png;base64,${b}">`).join('') +
          `</div><div style="width:940px"><img style="max-width:940px" src="data:image/png;base64,${compare}"></div></body></html>`,
      );
      const box = await page.evaluate(() => ({ w: document.body.scrollWidth, h: document.body.scrollHeight }));
      const out = path.join(args.out, `hero-${theme}.png`);
      await page.screenshot({ path: out, clip: { x: 0, y: 0, width: box.w, height: Math.min(box.h, 1500) } });
      await page.close();
      console.log(`wrote ${path.relative(root, out)} (${(fs.statSync(out).size / 1024).toFixed(0)} KiB)`);
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
