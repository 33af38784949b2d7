import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { SpotCheckPanelLogic, type SpotCheckPanelHandlers } from '../../../../src/extension/spotcheck/spotCheckPanelLogic';
import { type SpotCheckHostMessage, parseSpotCheckMessage } from '../../../../src/shared/protocol/spotcheck';
import { makeFakeSpotCheck } from '../../webview/fake-spotcheck';

function harness(over: Partial<SpotCheckPanelHandlers> = {}) {
  const posted: SpotCheckHostMessage[] = [];
  const logs: string[] = [];
  const calls: string[] = [];
  const handlers: SpotCheckPanelHandlers = {
    openExample: (_r, line) => void calls.push(`open:${line}`),
    exportReport: async (_r, format) => `/tmp/out.${format}`,
    log: (level, m) => logs.push(`${level}: ${m}`),
    ...over,
  };
  const core = new SpotCheckPanelLogic({ postMessage: (m) => (posted.push(m), true) }, handlers, parseSpotCheckMessage);
  const methods = () => posted.map((m) => (m.kind === 'notification' ? m.method : `response#${m.id}`));
  return { core, posted, logs, calls, methods };
}
const ready = { protocol: 1, kind: 'notification', method: 'ready', params: { protocolVersion: 1 } };
const linking = { canOpen: true, note: null };

describe('SpotCheckPanelLogic', () => {
  it('posts nothing before ready, then the latest report; every ready re-sends it', async () => {
    const h = harness();
    h.core.setProgress({ running: true, done: 1, total: 4, examplesPerSecond: 2 });
    h.core.showReport(makeFakeSpotCheck({ examples: 3 }), linking);
    const latest = makeFakeSpotCheck({ examples: 5 });
    h.core.showReport(latest, linking);
    assert.deepEqual(h.posted, []);
    await h.core.receive(ready);
    assert.deepEqual(h.methods(), ['spotcheck/show']);
    assert.equal((h.posted[0] as { params: { report: { n: number } } }).params.report.n, 5);
    await h.core.receive(ready);
    assert.deepEqual(h.methods(), ['spotcheck/show', 'spotcheck/show']);
    h.core.showError('boom');
    assert.deepEqual(h.methods().at(-1), 'spotcheck/error');
  });

  it("opens only lines of the current report's examples", async () => {
    const h = harness();
    const r = makeFakeSpotCheck({ examples: 4 });
    h.core.showReport(r, linking);
    await h.core.receive(ready);
    await h.core.receive({ protocol: 1, kind: 'notification', method: 'example/open', params: { line: r.examples[1].line } });
    await h.core.receive({ protocol: 1, kind: 'notification', method: 'example/open', params: { line: 999 } });
    await h.core.receive({ protocol: 1, kind: 'notification', method: 'example/open', params: { line: '3' } });
    assert.deepEqual(h.calls, [`open:${r.examples[1].line}`]);
    assert.equal(h.logs.filter((l) => l.startsWith('warn: Dropped an invalid message')).length, 2);
  });

  it('answers export requests with the saved path, or an error', async () => {
    const h = harness();
    await h.core.receive(ready);
    await h.core.receive({ protocol: 1, kind: 'request', id: 1, method: 'spotcheck/export', params: { format: 'json' } });
    assert.deepEqual(h.posted.at(-1), { protocol: 1, kind: 'response', id: 1, ok: false, error: 'There is no report to export.' });
    h.core.showReport(makeFakeSpotCheck({ examples: 2 }), linking);
    await h.core.receive({ protocol: 1, kind: 'request', id: 2, method: 'spotcheck/export', params: { format: 'html' } });
    assert.deepEqual(h.posted.at(-1), { protocol: 1, kind: 'response', id: 2, ok: true, result: '/tmp/out.html' });
    const f = harness({
      exportReport: async () => {
        throw new Error('disk full');
      },
    });
    f.core.showReport(makeFakeSpotCheck({ examples: 2 }), linking);
    await f.core.receive(ready);
    await f.core.receive({ protocol: 1, kind: 'request', id: 3, method: 'spotcheck/export', params: { format: 'json' } });
    assert.deepEqual(f.posted.at(-1), { protocol: 1, kind: 'response', id: 3, ok: false, error: 'disk full' });
  });
  it('saves a chart through figure/save, validated first (an SVG with script never reaches the handler)', async () => {
    const saved: string[] = [];
    const h = harness({ saveFigure: async (f, r) => (saved.push(`${r.model.name}:${f.name}.${f.format}`), `/tmp/${f.name}.${f.format}`) });
    h.core.showReport(makeFakeSpotCheck({ examples: 2 }), linking);
    await h.core.receive(ready);
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="20" height="10"/></svg>';
    const req = (id: number, data: string) => ({
      protocol: 1,
      kind: 'request',
      id,
      method: 'figure/save',
      params: { name: 'k-histogram-L1', format: 'svg', data, width: 20, height: 10 },
    });
    await h.core.receive(req(4, svg));
    assert.deepEqual(h.posted.at(-1), { protocol: 1, kind: 'response', id: 4, ok: true, result: '/tmp/k-histogram-L1.svg' });
    await h.core.receive(req(5, svg.replace('<rect', '<script>alert(1)</script><rect')));
    assert.ok(!h.posted.some((m) => m.kind === 'response' && m.id === 5), 'refused at the door');
    assert.ok(
      h.logs.some((l) => /^warn: Dropped an invalid message.*script/i.test(l)),
      h.logs.join('\n'),
    );
    assert.deepEqual(saved, [`${makeFakeSpotCheck({ examples: 2 }).model.name}:k-histogram-L1.svg`]);
  });
});

describe('SpotCheckPanelLogic: the error banner and its buttons (issue 14)', () => {
  it('sends the error with its buttons, again on every ready; runs only an offered button, with the settings query', async () => {
    const actions: string[] = [];
    const h = harness({ errorAction: (a, q) => void actions.push(`${a}@${q ?? ''}`) });
    h.core.showReport(makeFakeSpotCheck({ examples: 2 }), linking);
    h.core.showError('DA-MoE spot-check: unknown text column', ['Open Settings', 'Show Output'], 'damoe.spotCheck');
    await h.core.receive(ready);
    assert.deepEqual(h.methods(), ['spotcheck/show', 'spotcheck/error']);
    assert.deepEqual((h.posted[1] as { params: unknown }).params, {
      message: 'DA-MoE spot-check: unknown text column',
      actions: ['Open Settings', 'Show Output'],
    });
    const note = (action: unknown) => ({ protocol: 1, kind: 'notification', method: 'error/action', params: { action } });
    await h.core.receive(note('Open Settings'));
    await h.core.receive(note('Select Model')); // not offered with this error
    await h.core.receive(note(42)); // refused at the door
    assert.deepEqual(actions, ['Open Settings@damoe.spotCheck']);
    assert.ok(h.logs.some((l) => /debug: Spot-check panel asked for error action "Select Model"/.test(l)));
    assert.ok(h.logs.some((l) => /warn: Dropped an invalid message/.test(l)));
    // A new report clears the error: its buttons do nothing any more, and a reloaded webview is not sent it.
    h.core.showReport(makeFakeSpotCheck({ examples: 3 }), linking);
    await h.core.receive(note('Show Output'));
    assert.deepEqual(actions, ['Open Settings@damoe.spotCheck']);
    await h.core.receive(ready);
    assert.deepEqual(h.methods().slice(2), ['spotcheck/show', 'spotcheck/show'], 'no error after the new report');
  });
});
