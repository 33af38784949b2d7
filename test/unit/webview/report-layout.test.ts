/**
 * The spot-check HTML report (src/report/html.ts) rendered in headless Chromium at a desktop width: the charts are
 * inline SVG (no image files) and the page uses its whole width (issue 14: the right 30% used to stay empty).
 * Screenshots (light and dark) go to test-results/webview/report-*.png.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import { renderSpotCheckHtml } from '../../../src/report/html';
import { makeFakeSpotCheck } from './fake-spotcheck';
import { launchBrowser, resultsDir, skipReason } from './harness';

const skip = skipReason();

describe('spot-check HTML report in Chromium', { skip: skip ?? false, timeout: 120_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`fills the width with inline SVG charts (${scheme})`, async () => {
      const width = 1400;
      const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: scheme });
      try {
        await page.setContent(renderSpotCheckHtml(makeFakeSpotCheck({ examples: 40 })));
        const m = await page.evaluate(() => {
          const right = (sel: string): number =>
            Math.max(0, ...[...document.querySelectorAll(sel)].map((e) => e.getBoundingClientRect().right));
          const tables = [...document.querySelectorAll('table.tokens')].map((t) => t.getBoundingClientRect());
          return {
            body: document.body.getBoundingClientRect().width,
            charts: right('.charts figure'),
            images: document.querySelectorAll('img, image, object, iframe').length,
            svgs: document.querySelectorAll('figure svg').length,
            tokensSideBySide: tables.length === 2 && Math.abs(tables[0].top - tables[1].top) < 2 && tables[1].left > tables[0].right,
            tokensRight: Math.max(0, ...tables.map((t) => t.right)),
            overflow: document.documentElement.scrollWidth > window.innerWidth,
          };
        });
        assert.equal(m.images, 0, 'no image files or embeds: every chart is inline SVG');
        assert.ok(m.svgs >= 1 + 4 * 3, `${m.svgs} inline SVG charts`);
        assert.ok(m.charts > 0.9 * width, `chart grids reach ${m.charts.toFixed(0)} of ${width} px`);
        assert.ok(m.tokensSideBySide, 'most / least important tokens side by side');
        assert.ok(m.tokensRight > 0.9 * width, `token tables reach ${m.tokensRight.toFixed(0)} px`);
        assert.equal(m.overflow, false, 'no horizontal scrolling');
        await page.screenshot({ path: path.join(resultsDir(), `report-${scheme}.png`), fullPage: true });
      } finally {
        await page.close();
      }
    });
  }
});
