import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { RoutingPanelLogic, type PanelHandlers } from '../../../../src/extension/routing/routingPanelLogic';
import { PROTOCOL_VERSION } from '../../../../src/shared/protocol/envelope';
import { type HostMessage, parseWebviewMessage } from '../../../../src/shared/protocol/routing';
import type { Analysis } from '../../../../src/shared/analysis';
import { makeAnalysis } from '../fixtures';

function harness(over: Partial<PanelHandlers> = {}) {
  const posted: HostMessage[] = [];
  const logs: string[] = [];
  const calls: string[] = [];
  const handlers: PanelHandlers = {
    hoverToken: (i) => calls.push(`hover:${i}`),
    revealToken: (i) => void calls.push(`reveal:${i}`),
    exportAnalysis: async () => '/tmp/out.json',
    layerChanged: (l) => calls.push(`layer:${l}`),
    log: (level, m) => logs.push(`${level}: ${m}`),
    ...over,
  };
  const core = new RoutingPanelLogic({ postMessage: (m) => (posted.push(m), true) }, handlers, parseWebviewMessage);
  const methods = () => posted.map((m) => (m.kind === 'notification' ? m.method : `response#${m.id}`));
  return { core, posted, logs, calls, methods };
}

const ready = { protocol: PROTOCOL_VERSION, kind: 'notification', method: 'ready', params: { protocolVersion: PROTOCOL_VERSION } };
const note = (method: string, params: object) => ({ protocol: PROTOCOL_VERSION, kind: 'notification', method, params });

describe('RoutingPanelLogic: ready handshake', () => {
  it('posts nothing before ready, then flushes only the latest analysis (with its current stale flag)', async () => {
    const h = harness();
    const a1 = makeAnalysis({ text: 'first one!!!!' });
    const a2 = makeAnalysis({ text: 'second one!!!' });
    h.core.setProgress(true, 'Analysing…');
    h.core.showAnalysis(a1);
    h.core.showAnalysis(a2);
    h.core.setStale(true);
    h.core.setProgress(false);
    h.core.setCursorToken(2);
    assert.equal(h.posted.length, 0);
    await h.core.receive(ready);
    assert.deepEqual(h.methods(), ['analysis/show', 'analysis/progress', 'editor/cursorToken']);
    const show = h.posted[0] as Extract<HostMessage, { kind: 'notification' }>;
    assert.equal((show.params as { analysis: Analysis }).analysis.text, 'second one!!!');
    assert.equal((show.params as { stale: boolean }).stale, true);
    assert.deepEqual(h.posted[1], {
      protocol: PROTOCOL_VERSION,
      kind: 'notification',
      method: 'analysis/progress',
      params: { running: false },
    });
  });
  it('after ready, messages go out at once; a hidden (torn down) webview queues again and re-ready re-sends state', async () => {
    const h = harness();
    await h.core.receive(ready);
    assert.equal(h.posted.length, 0); // nothing to show yet
    h.core.showAnalysis(makeAnalysis());
    h.core.setStale(true);
    h.core.setStale(true); // no duplicate
    assert.deepEqual(h.methods(), ['analysis/show', 'analysis/stale']);
    h.core.notReady();
    h.core.setCursorToken(1);
    assert.equal(h.posted.length, 2);
    await h.core.receive(ready);
    assert.deepEqual(h.methods().slice(2), ['analysis/show', 'editor/cursorToken']);
  });
  it('an error is kept until the next run and flushed after the analysis', async () => {
    const h = harness();
    h.core.showError('model broken');
    await h.core.receive(ready);
    assert.deepEqual(h.methods(), ['host/error']);
    h.core.setProgress(true);
    h.core.notReady();
    await h.core.receive(ready);
    assert.deepEqual(h.methods().slice(2), ['analysis/progress']);
  });
  it('cursor token updates are de-duplicated', async () => {
    const h = harness();
    h.core.showAnalysis(makeAnalysis());
    await h.core.receive(ready);
    h.core.setCursorToken(1);
    h.core.setCursorToken(1);
    h.core.setCursorToken(null);
    assert.deepEqual(h.methods(), ['analysis/show', 'editor/cursorToken', 'editor/cursorToken']);
  });
  it('a throwing or rejecting postMessage (disposed webview) is logged, not thrown', async () => {
    const logs: string[] = [];
    const core = new RoutingPanelLogic(
      {
        postMessage: () => {
          throw new Error('Webview is disposed');
        },
      },
      { hoverToken() {}, revealToken() {}, exportAnalysis: async () => null, log: (_l, m) => logs.push(m) },
      parseWebviewMessage,
    );
    await core.receive(ready);
    core.showAnalysis(makeAnalysis());
    assert.match(logs.join('\n'), /Webview is disposed/);
  });
});

describe('RoutingPanelLogic: incoming messages', () => {
  it('validates every message: invalid ones are logged and dropped', async () => {
    const h = harness();
    h.core.showAnalysis(makeAnalysis());
    await h.core.receive(ready);
    for (const bad of [
      null,
      'ready',
      { ...ready, protocol: 99 },
      note('token/hover', { tokenIndex: 99 }),
      note('token/reveal', { tokenIndex: -1 }),
      note('token/hover', { tokenIndex: 1, extra: 1 }),
      note('eval', {}),
      { protocol: 1, kind: 'request', id: 0, method: 'analysis/export', params: { format: 'json' } },
    ]) {
      await h.core.receive(bad);
    }
    assert.deepEqual(h.calls, []);
    assert.equal(h.logs.filter((l) => l.startsWith('warn: Dropped an invalid message')).length, 8);
  });
  it('token/hover, token/reveal and view/layer reach the handlers with checked indexes', async () => {
    const h = harness();
    h.core.showAnalysis(makeAnalysis());
    await h.core.receive(ready);
    await h.core.receive(note('token/hover', { tokenIndex: 2 }));
    await h.core.receive(note('token/hover', { tokenIndex: null }));
    await h.core.receive(note('token/reveal', { tokenIndex: 3 }));
    await h.core.receive(note('view/layer', { layer: 1 }));
    assert.deepEqual(h.calls, ['hover:2', 'hover:null', 'reveal:3', 'layer:1']);
    assert.equal(h.core.currentLayer, 1);
  });
  it('token messages without an analysis are refused', async () => {
    const h = harness();
    await h.core.receive(ready);
    await h.core.receive(note('token/reveal', { tokenIndex: 0 }));
    assert.deepEqual(h.calls, []);
  });
  it('analysis/export answers with the saved path, null on cancel, or an error', async () => {
    let result: string | null | Error = '/tmp/a.json';
    const h = harness({
      exportAnalysis: async () => {
        if (result instanceof Error) throw result;
        return result;
      },
    });
    const req = (id: number) => ({
      protocol: PROTOCOL_VERSION,
      kind: 'request',
      id,
      method: 'analysis/export',
      params: { format: 'json' },
    });
    await h.core.receive(ready);
    await h.core.receive(req(1));
    assert.deepEqual(h.posted.at(-1), {
      protocol: PROTOCOL_VERSION,
      kind: 'response',
      id: 1,
      ok: false,
      error: 'There is no analysis to export.',
    });
    h.core.showAnalysis(makeAnalysis());
    await h.core.receive(req(2));
    assert.deepEqual(h.posted.at(-1), { protocol: PROTOCOL_VERSION, kind: 'response', id: 2, ok: true, result: '/tmp/a.json' });
    result = null;
    await h.core.receive(req(3));
    assert.deepEqual(h.posted.at(-1), { protocol: PROTOCOL_VERSION, kind: 'response', id: 3, ok: true, result: null });
    result = new Error('EACCES: permission denied');
    await h.core.receive(req(4));
    assert.deepEqual(h.posted.at(-1), {
      protocol: PROTOCOL_VERSION,
      kind: 'response',
      id: 4,
      ok: false,
      error: 'EACCES: permission denied',
    });
  });
  it('a throwing handler is logged and the loop keeps working', async () => {
    const h = harness({
      revealToken: () => {
        throw new Error('no editor');
      },
    });
    h.core.showAnalysis(makeAnalysis());
    await h.core.receive(ready);
    await h.core.receive(note('token/reveal', { tokenIndex: 1 }));
    assert.match(h.logs.join('\n'), /token\/reveal failed: Error: no editor/);
    await h.core.receive(note('token/hover', { tokenIndex: 1 }));
    assert.deepEqual(h.calls, ['hover:1']);
  });
});

describe('RoutingPanelLogic: error buttons, editor highlights and figures (issue 14)', () => {
  it('runs only the error actions it offered; highlight choices and figures reach their handlers', async () => {
    const saved: string[] = [];
    const h = harness({
      errorAction: (a) => h.calls.push(`action:${a}`),
      highlightModeChanged: (m) => h.calls.push(`mode:${m}`),
      saveFigure: async (f) => (saved.push(`${f.name}.${f.format} ${f.width}x${f.height}`), '/tmp/x.svg'),
    });
    h.core.showAnalysis(makeAnalysis());
    h.core.showError('the model broke', ['Select Model', 'Show Output']);
    h.core.setHighlightMode('k', true);
    await h.core.receive(ready);
    assert.deepEqual(h.methods(), ['analysis/show', 'highlights/mode', 'host/error']);
    await h.core.receive(note('error/action', { action: 'Show Output' }));
    await h.core.receive(note('error/action', { action: 'Open Settings' })); // not offered: ignored
    await h.core.receive(note('view/highlights', { colorBy: 'expert' }));
    await h.core.receive(note('view/highlights', { colorBy: 'rainbow' })); // invalid: refused at the door
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"></svg>';
    await h.core.receive({
      protocol: 1,
      kind: 'request',
      id: 9,
      method: 'figure/save',
      params: { name: 'k-grid', format: 'svg', data: svg, width: 20, height: 10 },
    });
    assert.deepEqual(h.calls, ['action:Show Output', 'mode:expert']);
    assert.deepEqual(saved, ['k-grid.svg 20x10']);
    assert.deepEqual(h.posted.at(-1), { protocol: 1, kind: 'response', id: 9, ok: true, result: '/tmp/x.svg' });
    assert.ok(h.logs.some((l) => /Open Settings/.test(l)));
  });
});

describe('RoutingPanelLogic: importance check', () => {
  const request = (id: number) => ({ protocol: 1, kind: 'request', id, method: 'importance/check', params: {} });
  const check = { occlusion: 'deletion', n: 3, layers: [] } as unknown as import('../../../../src/shared/importance-check').ImportanceCheck;

  it('runs the handler for the shown analysis, forwards progress, keeps the result on the analysis', async () => {
    const seen: Analysis[] = [];
    const h = harness({
      checkImportance: async (a, _signal, progress) => {
        seen.push(a);
        progress(2, 5);
        return check;
      },
    });
    const a = makeAnalysis();
    h.core.showAnalysis(a);
    await h.core.receive(ready);
    await h.core.receive(request(4));
    assert.deepEqual(seen, [a]);
    assert.deepEqual(h.methods().slice(1), ['importance/progress', 'response#4']);
    assert.deepEqual((h.posted[1] as { params: unknown }).params, { done: 2, total: 5 });
    assert.deepEqual(h.posted.at(-1), { protocol: 1, kind: 'response', id: 4, ok: true, result: check });
    assert.equal(a.importance_check, check);
    // A webview that comes back (hidden and shown again) gets the analysis with its check.
    h.core.notReady();
    await h.core.receive(ready);
    const show = h.posted.find((m, i) => i > 2 && m.kind === 'notification' && m.method === 'analysis/show') as {
      params: { analysis: { importance_check?: unknown } };
    };
    assert.deepEqual(show.params.analysis.importance_check, check);
  });

  it('importance/cancel and a new analysis abort it: the request answers null and nothing is kept', async () => {
    const signals: AbortSignal[] = [];
    const h = harness({
      checkImportance: (_a, signal) =>
        new Promise((_resolve, reject) => {
          signals.push(signal);
          signal.addEventListener('abort', () => reject(new Error('cancelled')));
        }),
    });
    const a = makeAnalysis();
    h.core.showAnalysis(a);
    await h.core.receive(ready);
    const first = h.core.receive(request(1));
    await new Promise((r) => setImmediate(r));
    await h.core.receive(note('importance/cancel', {}));
    await first;
    assert.deepEqual(h.posted.at(-1), { protocol: 1, kind: 'response', id: 1, ok: true, result: null });
    const second = h.core.receive(request(2));
    await new Promise((r) => setImmediate(r));
    h.core.showAnalysis(makeAnalysis({ text: 'another text!' }));
    await second;
    assert.deepEqual(h.posted.at(-1), { protocol: 1, kind: 'response', id: 2, ok: true, result: null });
    assert.equal(signals.length, 2);
    assert.ok(signals.every((s) => s.aborted));
    assert.equal(a.importance_check, undefined);
  });

  it('a failure answers the request with its message (the webview shows it in the banner); params must be empty', async () => {
    const h = harness({ checkImportance: async () => Promise.reject(new Error('damoe-lm-sst2 is a causal language model')) });
    h.core.showAnalysis(makeAnalysis());
    await h.core.receive(ready);
    await h.core.receive(request(3));
    assert.deepEqual(h.posted.at(-1), {
      protocol: 1,
      kind: 'response',
      id: 3,
      ok: false,
      error: 'damoe-lm-sst2 is a causal language model',
    });
    const before = h.posted.length;
    await h.core.receive({ ...request(5), params: { text: 'made up' } });
    assert.ok(h.posted.length === before || (h.posted.at(-1) as { ok?: boolean }).ok === false, 'made-up params are refused');
  });
});
