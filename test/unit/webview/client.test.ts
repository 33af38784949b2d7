/** MessageClient and Store in Node (no DOM needed): ids, promise replies, timeouts, dispatch, persistence. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { hostErrorResponse, hostResponse } from '../../../src/shared/protocol/envelope';
import { type PanelState, type WebviewMessage, hostNotification } from '../../../src/shared/protocol/routing';
import { MessageClient, RequestError, RequestTimeoutError } from '../../../src/webview/routing/client';
import { PERSIST_DELAY_MS, Store, initialState } from '../../../src/webview/routing/store';
import type { VsCodeApi } from '../../../src/webview/routing/vscode';
import { makeFakeAnalysis } from './fake-analysis';

function fakes(): { api: VsCodeApi<unknown>; posted: WebviewMessage[]; target: Window; emit(data: unknown): void } {
  const posted: WebviewMessage[] = [];
  let listener: ((e: { data: unknown }) => void) | undefined;
  const target = {
    addEventListener: (_t: string, l: (e: { data: unknown }) => void) => (listener = l),
    removeEventListener: () => (listener = undefined),
  } as unknown as Window;
  const api: VsCodeApi<unknown> = { postMessage: (m) => posted.push(m), getState: () => undefined, setState: (s) => s };
  return { api, posted, target, emit: (data) => listener?.({ data }) };
}

describe('MessageClient', () => {
  it('posts ready and typed notifications', () => {
    const f = fakes();
    const c = new MessageClient(f.api, f.target);
    c.ready();
    c.notify('token/hover', { tokenIndex: null });
    assert.deepEqual(f.posted, [
      { protocol: 1, kind: 'notification', method: 'ready', params: { protocolVersion: 1 } },
      { protocol: 1, kind: 'notification', method: 'token/hover', params: { tokenIndex: null } },
    ]);
  });

  it('requests get increasing ids and settle on the matching response', async () => {
    const f = fakes();
    const c = new MessageClient(f.api, f.target);
    const a = c.request('analysis/export', { format: 'json' });
    const b = c.request('analysis/export', { format: 'json' });
    const ids = f.posted.map((m) => (m as { id: number }).id);
    assert.deepEqual(ids, [1, 2]);
    f.emit(hostErrorResponse(2, 'cancelled'));
    f.emit(hostResponse(99, 'nobody'));
    f.emit(hostResponse(1, '/tmp/a.json'));
    assert.equal(await a, '/tmp/a.json');
    await assert.rejects(b, (e: Error) => e instanceof RequestError && e.message === 'cancelled');
  });

  it('times out', async () => {
    const f = fakes();
    const c = new MessageClient(f.api, f.target);
    await assert.rejects(c.request('analysis/export', { format: 'json' }, 20), RequestTimeoutError);
    c.dispose();
  });

  it('dispatches host notifications and ignores foreign messages', () => {
    const f = fakes();
    const c = new MessageClient(f.api, f.target);
    const seen: unknown[] = [];
    const off = c.on('editor/cursorToken', (p) => seen.push(p.tokenIndex));
    f.emit(hostNotification('editor/cursorToken', { tokenIndex: 4 }));
    f.emit({ ...hostNotification('editor/cursorToken', { tokenIndex: 5 }), protocol: 2 });
    f.emit({ method: 'editor/cursorToken', params: { tokenIndex: 6 } });
    f.emit('garbage');
    off();
    f.emit(hostNotification('editor/cursorToken', { tokenIndex: 7 }));
    assert.deepEqual(seen, [4]);
  });
});

describe('Store', () => {
  it('notifies changed keys, clamps the layer, persists an analysis after the frame and coalesces the rest', async () => {
    const saved: PanelState[] = [];
    const s = new Store(initialState(), (st) => saved.push(st));
    const changes: string[][] = [];
    s.subscribe((_st, ch) => changes.push([...ch].sort()));
    s.update({ hoverToken: 3 });
    s.update({ hoverToken: 3 });
    assert.deepEqual(changes, [['hoverToken']]);
    assert.equal(saved.length, 0);
    s.update({ analysis: makeFakeAnalysis({ tokens: 5, layers: 2 }) });
    assert.equal(saved.length, 0, 'not before the frame that paints it');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(saved.length, 1);
    assert.equal(saved[0].analysis?.tokens.length, 5);
    s.update({ layer: 1 });
    s.update({ view: 'table' });
    s.update({ layer: 9 });
    assert.equal(s.get().layer, 1, 'clamped to the analysis');
    assert.equal(saved.length, 1);
    await new Promise((r) => setTimeout(r, PERSIST_DELAY_MS + 50));
    assert.equal(saved.length, 2);
    assert.equal(saved[1].view, 'table');
    assert.equal(saved[1].layer, 1);
  });
});
