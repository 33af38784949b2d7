/**
 * The compare webview in real headless Chromium (real bundle, HTML and CSP, stubbed acquireVsCodeApi): a dataset
 * comparison built by the real report builder from fake spot-checks, its Export JSON / HTML requests, and the state
 * it saves, from which a reloaded page draws the same views at once.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { buildCompareReport } from '../../../src/core/compare/report';
import { hostResponse } from '../../../src/shared/protocol/envelope';
import { compareHostNotification, type ComparePanelState } from '../../../src/shared/protocol/compare';
import type { SpotCheckReport } from '../../../src/shared/spotcheck-report';
import { makeFakeAnalysis } from './fake-analysis';
import { makeFakeSpotCheck } from './fake-spotcheck';
import * as path from 'path';
import { buildWebview, cspViolations, launchBrowser, openPanel, resultsDir, skipReason, underError, type PanelPage } from './harness';

const skip = skipReason();
if (skip) console.log(`# SKIP compare webview browser tests: ${skip}`);

/** Two models on one fake sample; B flips the first two predictions, so there are two disagreements. */
function report() {
  const a = makeFakeSpotCheck({ examples: 6 });
  const flip = (x: SpotCheckReport['examples'][number], i: number) => {
    const predicted = i < 2 ? (x.predicted === 'positive' ? 'negative' : 'positive') : x.predicted;
    return { ...x, predicted, correct: x.gold === null ? null : predicted === x.gold };
  };
  return buildCompareReport(['damoe-sst2', 'top2-sst2'], [a, { ...a, examples: a.examples.map(flip) }], new Map(), { resamples: 50 });
}

async function expectClean(p: PanelPage): Promise<void> {
  assert.deepEqual(await cspViolations(p), [], 'no CSP violations');
  assert.deepEqual(p.rec.pageErrors, [], 'no page errors');
  assert.deepEqual(p.rec.consoleErrors, [], 'no console errors');
}

describe('compare webview (headless Chromium)', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser;
  before(async () => {
    buildWebview();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('Export JSON / HTML request the export and say where it was saved; the shown views are saved for a reload', async () => {
    const p = await openPanel(browser, { bundle: 'compare', theme: 'dark' });
    try {
      const r = report();
      await p.send(compareHostNotification('compare/dataset', { report: r }));
      const a = makeFakeAnalysis();
      const text = {
        source: 'reviews.txt, selection',
        models: [
          { name: 'damoe-sst2', analysis: a },
          { name: 'top2-sst2', analysis: a },
        ],
      };
      await p.send(compareHostNotification('compare/text', text));
      await p.page.getByTestId('compare-export-html').click();
      const req = (await p.posted()).find((m) => m.kind === 'request')!;
      assert.deepEqual([req.method, req.params], ['compare/export', { format: 'html' }]);
      await p.send(hostResponse(req.id!, '/tmp/compare.html'));
      assert.equal(await p.page.getByTestId('compare-notice').innerText(), 'Saved to /tmp/compare.html');
      await p.page.getByTestId('compare-export-json').click();
      const req2 = (await p.posted()).filter((m) => m.kind === 'request')[1];
      assert.deepEqual(req2.params, { format: 'json' });
      const state = (await p.state()) as unknown as ComparePanelState;
      assert.equal(state.protocol, 1);
      assert.deepEqual(state.report, JSON.parse(JSON.stringify(r)));
      assert.equal(state.text!.source, 'reviews.txt, selection');
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it("a failed comparison: the banner with the host's buttons, the views dimmed under it; the next result clears both", async () => {
    const p = await openPanel(browser, { bundle: 'compare', theme: 'dark' });
    try {
      // Nothing shown yet: an error has nothing to dim.
      await p.send(compareHostNotification('compare/error', { message: 'DA-MoE compare: first error' }));
      assert.equal((await underError(p)).app, false);
      const r = report();
      await p.send(compareHostNotification('compare/dataset', { report: r }));
      const banner = p.page.getByTestId('compare-error');
      assert.equal(await banner.isVisible(), false);
      await p.send(
        compareHostNotification('compare/error', {
          message: 'DA-MoE spot-check: unknown text column (damoe.spotCheck.textColumn) "body"',
          actions: ['Open Settings', 'Show Output'],
        }),
      );
      assert.equal(await banner.isVisible(), true);
      assert.deepEqual(await banner.getByTestId('error-action').allTextContents(), ['Open Settings', 'Show Output']);
      await banner.getByTestId('error-action').first().click();
      assert.deepEqual((await p.posted()).at(-1), {
        protocol: 1,
        kind: 'notification',
        method: 'error/action',
        params: { action: 'Open Settings' },
      });
      const marked = await underError(p, ['compare-error']);
      assert.deepEqual(marked, { app: true, dimmed: 1, busy: 1, opacity: ['0.45'], dimmedAround: [] });
      assert.equal(await p.page.locator('.under-error-dimmed [data-testid=compare-model-row]').count(), 2);
      await p.page.screenshot({ path: path.join(resultsDir(), 'compare-error-dark.png'), fullPage: true });
      // A new run clears the banner; its result un-dims the views.
      await p.send(compareHostNotification('compare/progress', { running: true, message: 'Comparing…' }));
      assert.equal(await banner.isVisible(), false);
      await p.send(compareHostNotification('compare/error', { message: 'again', actions: ['Show Output'] }));
      assert.equal((await underError(p)).app, true);
      await p.send(compareHostNotification('compare/dataset', { report: r }));
      assert.equal(await banner.isVisible(), false);
      assert.deepEqual(await underError(p), { app: false, dimmed: 0, busy: 0, opacity: [], dimmedAround: [] });
      await expectClean(p);
    } finally {
      await p.close();
    }
  });

  it('a reloaded page draws the saved comparison at once, before the host sends anything', async () => {
    const r = report();
    const a = makeFakeAnalysis();
    const state: ComparePanelState = {
      protocol: 1,
      report: r,
      text: {
        source: `line ${r.disagreements[0].line} of sst2-sample.tsv`,
        models: [
          { name: 'damoe-sst2', analysis: a },
          { name: 'top2-sst2', analysis: a },
        ],
      },
    };
    const p = await openPanel(browser, { bundle: 'compare', theme: 'light', state: JSON.parse(JSON.stringify(state)) });
    try {
      assert.equal(await p.page.getByTestId('compare-model-row').count(), 2);
      assert.equal(await p.page.getByTestId('compare-disagreement').count(), r.disagreements.length);
      assert.equal(await p.page.getByTestId('compare-model-card').count(), 2);
      assert.match(await p.page.getByTestId('compare-source').innerText(), /line \d+ of sst2-sample\.tsv/);
      assert.equal(await p.page.getByTestId('compare-empty').isVisible(), false);
      await expectClean(p);
    } finally {
      await p.close();
    }
  });
});
