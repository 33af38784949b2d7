import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildCompareReport } from '../../../../src/core/compare/report';
import {
  checkModelChoice,
  compareExportFileName,
  ComparePanelLogic,
  type ComparePanelHandlers,
} from '../../../../src/extension/compare/comparePanelLogic';
import { type CompareHostMessage, parseCompareMessage, parseComparePanelState } from '../../../../src/shared/protocol/compare';
import { makeFakeAnalysis } from '../../webview/fake-analysis';
import type { SpotCheckReport } from '../../../../src/shared/spotcheck-report';
import { makeFakeSpotCheck } from '../../webview/fake-spotcheck';

/** Two models' reports on one fake sample: B flips the prediction of the first two examples. */
function report() {
  const a = makeFakeSpotCheck({ examples: 6 });
  const flip = (x: SpotCheckReport['examples'][number], i: number) => {
    const predicted = i < 2 ? (x.predicted === 'positive' ? 'negative' : 'positive') : x.predicted;
    return { ...x, predicted, correct: x.gold === null ? null : predicted === x.gold };
  };
  const b = { ...a, examples: a.examples.map(flip) };
  return buildCompareReport(['A', 'B'], [a, b], new Map(), { resamples: 50 });
}

function harness(over: Partial<ComparePanelHandlers> = {}) {
  const posted: CompareHostMessage[] = [];
  const logs: string[] = [];
  const calls: number[] = [];
  const exports: string[] = [];
  const handlers: ComparePanelHandlers = {
    openDisagreement: (_r, line) => void calls.push(line),
    exportReport: (r, format) => (exports.push(format), Promise.resolve(`/tmp/${compareExportFileName(r, format, new Date(0))}`)),
    log: (level, m) => logs.push(`${level}: ${m}`),
    ...over,
  };
  const core = new ComparePanelLogic({ postMessage: (m) => (posted.push(m), true) }, handlers, parseCompareMessage);
  const methods = () => posted.map((m) => (m.kind === 'notification' ? m.method : `response#${m.id}`));
  return { core, posted, logs, calls, exports, methods };
}
const ready = { protocol: 1, kind: 'notification', method: 'ready', params: { protocolVersion: 1 } };

describe('ComparePanelLogic', () => {
  it('holds everything until ready; every ready re-sends the dataset view, then the text view', async () => {
    const h = harness();
    const r = report();
    h.core.showReport(r);
    h.core.setProgress({ running: true, message: 'running' });
    assert.deepEqual(h.posted, []);
    await h.core.receive(ready);
    assert.deepEqual(h.methods(), ['compare/dataset', 'compare/progress']);
    h.core.showError('boom');
    await h.core.receive(ready);
    assert.deepEqual(h.methods().slice(2), ['compare/error', 'compare/dataset', 'compare/error']);
  });

  it('a click opens only a disagreement of the current report', async () => {
    const h = harness();
    const r = report();
    assert.equal(r.disagreements.length, 2);
    h.core.showReport(r);
    await h.core.receive(ready);
    const line = r.disagreements[1].line;
    await h.core.receive({ protocol: 1, kind: 'notification', method: 'disagreement/open', params: { line } });
    const agreeing = r.common > 2 ? [...new Set(r.disagreements.map((d) => d.line))].reduce((m, x) => Math.max(m, x), 0) + 1 : 99999;
    await h.core.receive({ protocol: 1, kind: 'notification', method: 'disagreement/open', params: { line: agreeing } });
    await h.core.receive({ protocol: 1, kind: 'notification', method: 'disagreement/open', params: { line: 'x' } });
    assert.deepEqual(h.calls, [line]);
    assert.equal(h.logs.filter((l) => l.startsWith('warn: Dropped an invalid message')).length, 2);
  });
});

describe('exporting and restoring the compare panel', () => {
  it('compare/export saves the current dataset comparison (json or html); without one, an error; other formats are refused', async () => {
    const h = harness();
    const request = (id: number, format: unknown) => ({ protocol: 1, kind: 'request', id, method: 'compare/export', params: { format } });
    await h.core.receive(ready);
    await h.core.receive(request(1, 'json'));
    const noReport = h.posted.at(-1) as { kind: string; ok: boolean; error?: string };
    assert.equal(noReport.kind, 'response');
    assert.equal(noReport.ok, false);
    assert.match(noReport.error!, /no dataset comparison to export/);
    h.core.showReport(report());
    await h.core.receive(request(2, 'html'));
    assert.deepEqual(h.posted.at(-1), {
      protocol: 1,
      kind: 'response',
      id: 2,
      ok: true,
      result: '/tmp/compare-sst2-sample-A-vs-B-1970-01-01-00-00-00.html',
    });
    await h.core.receive(request(3, 'parquet'));
    assert.deepEqual(h.exports, ['html']);
    assert.ok(
      h.logs.some((l) => /params\.format: expected one of "json", "html", got "parquet"/.test(l)),
      h.logs.join('\n'),
    );
  });

  it('the saved state brings back the dataset comparison and the text view; malformed parts are dropped', () => {
    const r = report();
    const a = makeFakeAnalysis();
    const text = {
      source: 'reviews.txt, selection',
      models: [
        { name: 'A', analysis: a },
        { name: 'B', analysis: a },
      ],
    };
    const state = JSON.parse(JSON.stringify({ protocol: 1, report: r, text }));
    const back = parseComparePanelState(state)!;
    assert.deepEqual(back.report, state.report);
    assert.deepEqual(back.text, state.text);
    assert.deepEqual(parseComparePanelState({ ...state, text: { source: 1, models: [] } })!.text, null);
    assert.equal(parseComparePanelState({ ...state, report: { ...state.report, kind: 'damoe-spot-check' } })!.report, null);
    assert.equal(parseComparePanelState({ protocol: 1, report: null, text: null }), null);
    assert.equal(parseComparePanelState({ ...state, protocol: 2 }), null);
    assert.equal(parseComparePanelState('junk'), null);
  });
});

describe('checkModelChoice', () => {
  it('2 or 3 distinct models', () => {
    assert.equal(checkModelChoice(['a', 'b'], 2, 3), null);
    assert.equal(checkModelChoice(['a', 'b', 'c'], 2, 3), null);
    assert.match(checkModelChoice(['a'], 2, 3)!, /pick 2 or 3 models to compare \(1 picked\)/);
    assert.match(checkModelChoice(['a', 'b', 'c', 'd'], 2, 3)!, /4 picked/);
    assert.equal(checkModelChoice(['a', 'a'], 2, 3), 'pick each model once');
  });
});

describe('ComparePanelLogic: the error banner and its buttons (issue 14)', () => {
  it('sends the error with its buttons on every ready; runs only an offered button; a new result clears it', async () => {
    const actions: string[] = [];
    const h = harness({ errorAction: (a, q) => void actions.push(`${a}@${q ?? ''}`) });
    h.core.showReport(report());
    h.core.showError('DA-MoE compare: the worker stopped', ['Show Output']);
    await h.core.receive(ready);
    assert.deepEqual(h.methods(), ['compare/dataset', 'compare/error']);
    assert.deepEqual((h.posted[1] as { params: unknown }).params, {
      message: 'DA-MoE compare: the worker stopped',
      actions: ['Show Output'],
    });
    const note = (action: unknown) => ({ protocol: 1, kind: 'notification', method: 'error/action', params: { action } });
    await h.core.receive(note('Show Output'));
    await h.core.receive(note('Open Settings')); // not offered
    await h.core.receive(note(''));
    assert.deepEqual(actions, ['Show Output@']);
    assert.ok(h.logs.some((l) => /Compare panel asked for error action "Open Settings"/.test(l)));
    h.core.showError('no buttons');
    assert.deepEqual((h.posted.at(-1) as { params: unknown }).params, { message: 'no buttons' });
    h.core.showText({
      source: 'x',
      models: [
        { name: 'A', analysis: makeFakeAnalysis() },
        { name: 'B', analysis: makeFakeAnalysis() },
      ],
    });
    await h.core.receive(note('Show Output'));
    assert.deepEqual(actions, ['Show Output@']);
    await h.core.receive(ready);
    assert.deepEqual(h.methods().slice(-2), ['compare/dataset', 'compare/text']);
  });
});
