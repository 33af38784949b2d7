import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { PROTOCOL_VERSION, hostErrorResponse, hostResponse } from '../../../../src/shared/protocol/envelope';
import {
  hostNotification,
  isHostMessage,
  parsePanelState,
  parseWebviewMessage,
  webviewNotification,
  webviewRequest,
} from '../../../../src/shared/protocol/routing';
import { makeFakeAnalysis } from '../../webview/fake-analysis';

const n = (method: string, params: unknown): Record<string, unknown> => ({ protocol: 1, kind: 'notification', method, params });

function rejects(raw: unknown, re: RegExp, ctx?: Parameters<typeof parseWebviewMessage>[1]): void {
  const r = parseWebviewMessage(raw, ctx);
  if (r.ok) assert.fail(`expected a rejection matching ${re}`);
  if (!r.ok) assert.match(r.error, re);
}

describe('parseWebviewMessage', () => {
  it('accepts every valid message and returns a clean copy', () => {
    const valid: unknown[] = [
      n('ready', { protocolVersion: PROTOCOL_VERSION }),
      n('token/hover', { tokenIndex: 0 }),
      n('token/hover', { tokenIndex: null }),
      n('token/hover', { tokenIndex: 1_000_000 }),
      n('token/reveal', { tokenIndex: 17 }),
      n('view/layer', { layer: 0 }),
      n('view/highlights', { colorBy: 'expert' }),
      n('error/action', { action: 'Select Model' }),
      n('importance/cancel', {}),
      { protocol: 1, kind: 'request', id: 2, method: 'importance/check', params: {} },
      { protocol: 1, kind: 'request', id: 1, method: 'analysis/export', params: { format: 'json' } },
      { protocol: 1, kind: 'request', id: Number.MAX_SAFE_INTEGER, method: 'analysis/export', params: { format: 'json' } },
    ];
    for (const raw of valid) {
      const r = parseWebviewMessage(raw);
      assert.equal(r.ok, true, JSON.stringify(raw) + (r.ok ? '' : ` -> ${r.error}`));
      if (r.ok) {
        assert.deepEqual(r.message, raw);
        assert.notEqual(r.message, raw);
      }
    }
  });

  it('builders produce messages that validate', () => {
    for (const m of [
      webviewNotification('ready', { protocolVersion: 1 }),
      webviewNotification('token/hover', { tokenIndex: null }),
      webviewNotification('token/reveal', { tokenIndex: 2 }),
      webviewNotification('view/layer', { layer: 3 }),
      webviewRequest(7, 'analysis/export', { format: 'json' }),
    ]) {
      assert.deepEqual(parseWebviewMessage(m), { ok: true, message: m });
    }
  });

  it('rejects non-objects and wrong envelopes', () => {
    rejects(undefined, /message: expected an object, got undefined/);
    rejects(null, /expected an object, got null/);
    rejects('ready', /expected an object/);
    rejects(42, /expected an object/);
    rejects([n('ready', { protocolVersion: 1 })], /got an array/);
    rejects(
      new (class X {
        protocol = 1;
      })(),
      /expected an object/,
    );
    rejects({ kind: 'notification', method: 'ready', params: { protocolVersion: 1 } }, /missing field "protocol"/);
    rejects({ ...n('ready', { protocolVersion: 1 }), protocol: 2 }, /unsupported protocol version 2/);
    rejects({ ...n('ready', { protocolVersion: 1 }), protocol: '1' }, /unsupported protocol version "1"/);
    rejects(
      { ...n('ready', { protocolVersion: 1 }), kind: 'response' },
      /message.kind: expected "notification" or "request", got "response"/,
    );
    rejects({ ...n('ready', { protocolVersion: 1 }), kind: undefined }, /message.kind/);
    rejects({ ...n('ready', { protocolVersion: 1 }), extra: true }, /unexpected field "extra"/);
    rejects({ protocol: 1, kind: 'notification', method: 'ready' }, /missing field "params"/);
  });

  it('rejects unknown methods, including prototype keys', () => {
    rejects(n('nope', {}), /unknown notification "nope"/);
    rejects(n('toString', {}), /unknown notification "toString"/);
    rejects(n('__proto__', {}), /unknown notification/);
    rejects(n('constructor', {}), /unknown notification/);
    rejects(n('analysis/export', { format: 'json' }), /unknown notification "analysis\/export"/);
    rejects(n('analysis/show', {}), /unknown notification/);
    rejects(n(42 as unknown as string, {}), /unknown notification 42/);
    rejects({ protocol: 1, kind: 'request', id: 1, method: 'ready', params: { protocolVersion: 1 } }, /unknown request "ready"/);
  });

  it('rejects bad params: shape, types, integer ranges, extra fields', () => {
    rejects(n('ready', null), /params: expected an object, got null/);
    rejects(n('ready', []), /params: expected an object, got an array/);
    rejects(n('ready', {}), /missing field "protocolVersion"/);
    rejects(n('ready', { protocolVersion: 2 }), /webview speaks protocol 2/);
    rejects(n('ready', { protocolVersion: 1, x: 1 }), /unexpected field "x"/);
    rejects(n('token/hover', {}), /missing field "tokenIndex"/);
    // The check is always of the analysis the host holds: the webview cannot hand it a text to run.
    rejects({ protocol: 1, kind: 'request', id: 3, method: 'importance/check', params: { text: 'x' } }, /unexpected field "text"/);
    rejects(n('importance/cancel', { all: true }), /unexpected field "all"/);
    rejects(n('token/hover', { tokenIndex: undefined }), /expected an integer/);
    rejects(n('token/hover', { tokenIndex: -1 }), /params.tokenIndex: expected an integer in \[0, 1000000\], got -1/);
    rejects(n('token/hover', { tokenIndex: 1.5 }), /got 1.5/);
    rejects(n('token/hover', { tokenIndex: '3' }), /got "3"/);
    rejects(n('token/hover', { tokenIndex: NaN }), /got NaN/);
    rejects(n('token/hover', { tokenIndex: Infinity }), /got Infinity/);
    rejects(n('token/hover', { tokenIndex: 1_000_001 }), /expected an integer/);
    rejects(n('token/hover', { tokenIndex: true }), /got a boolean/);
    rejects(n('token/hover', { tokenIndex: [1] }), /got an array/);
    rejects(n('token/hover', { tokenIndex: 1, other: 2 }), /unexpected field "other"/);
    rejects(n('token/reveal', { tokenIndex: null }), /expected an integer/);
    rejects(n('token/reveal', { tokenIndex: 'x'.repeat(1000) }), /got a string of length 1000/);
    rejects(n('view/layer', { layer: 1025 }), /params.layer: expected an integer in \[0, 1024\]/);
    rejects(n('view/layer', { layer: -0.5 }), /expected an integer/);
    rejects(n('view/layer', { tokenIndex: 1 }), /missing field "layer"/);
    rejects(
      { protocol: 1, kind: 'request', id: 1, method: 'analysis/export', params: { format: 'csv' } },
      /params.format: expected "json", got "csv"/,
    );
    rejects({ protocol: 1, kind: 'request', id: 1, method: 'analysis/export', params: {} }, /missing field "format"/);
    rejects(
      { protocol: 1, kind: 'request', id: 1, method: 'analysis/export', params: { format: 'json', path: '/etc/passwd' } },
      /unexpected field "path"/,
    );
  });

  it('rejects bad request ids', () => {
    const req = (id: unknown): unknown => ({ protocol: 1, kind: 'request', id, method: 'analysis/export', params: { format: 'json' } });
    rejects(req(0), /message.id: expected an integer in \[1, /);
    rejects(req(-3), /message.id/);
    rejects(req(1.1), /message.id/);
    rejects(req('1'), /message.id/);
    rejects(req(null), /message.id/);
    rejects(req(Number.MAX_SAFE_INTEGER + 2), /message.id/);
    rejects({ protocol: 1, kind: 'request', method: 'analysis/export', params: { format: 'json' } }, /missing field "id"/);
    rejects({ ...n('token/hover', { tokenIndex: 1 }), id: 4 }, /unexpected field "id"/);
  });

  it('applies the current analysis bounds when given', () => {
    assert.equal(parseWebviewMessage(n('token/hover', { tokenIndex: 9 }), { tokenCount: 10 }).ok, true);
    rejects(n('token/hover', { tokenIndex: 10 }), /\[0, 9\], got 10/, { tokenCount: 10 });
    rejects(n('token/reveal', { tokenIndex: 0 }), /expected an integer/, { tokenCount: 0 });
    assert.equal(parseWebviewMessage(n('token/hover', { tokenIndex: null }), { tokenCount: 0 }).ok, true);
    rejects(n('view/layer', { layer: 4 }), /\[0, 3\]/, { layerCount: 4 });
    // Nonsense bounds fall back to the defaults.
    assert.equal(parseWebviewMessage(n('view/layer', { layer: 4 }), { layerCount: -1 }).ok, true);
  });

  it('never throws, even on hostile objects', () => {
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        ownKeys() {
          throw new Error('boom');
        },
        getPrototypeOf() {
          return Object.prototype;
        },
      },
    );
    const r = parseWebviewMessage(proxy);
    assert.equal(r.ok, false);
    const cyclic: Record<string, unknown> = { protocol: 1, kind: 'notification', method: 'token/hover' };
    cyclic.params = cyclic;
    rejects(cyclic, /unexpected field|missing field/);
    const nullProto = Object.assign(Object.create(null), n('token/hover', { tokenIndex: 2 }));
    assert.equal(parseWebviewMessage(nullProto).ok, true);
  });
});

describe('host message builders', () => {
  it('build typed messages that the webview recognises', () => {
    const m = hostNotification('editor/cursorToken', { tokenIndex: 3 });
    assert.deepEqual(m, { protocol: 1, kind: 'notification', method: 'editor/cursorToken', params: { tokenIndex: 3 } });
    assert.equal(isHostMessage(m), true);
    assert.deepEqual(hostResponse(4, '/x.json'), { protocol: 1, kind: 'response', id: 4, ok: true, result: '/x.json' });
    assert.deepEqual(hostErrorResponse(4, 'cancelled'), { protocol: 1, kind: 'response', id: 4, ok: false, error: 'cancelled' });
    assert.equal(isHostMessage(hostErrorResponse(4, 'x')), true);
    assert.equal(isHostMessage({ ...m, protocol: 2 }), false);
    assert.equal(isHostMessage({ ...m, method: 'token/hover' }), false);
    assert.equal(isHostMessage({ protocol: 1, kind: 'notification', method: 'host/error', params: null }), false);
    assert.equal(isHostMessage('x'), false);
  });
});

describe('parsePanelState', () => {
  it('accepts a saved state and clamps the layer', () => {
    const analysis = makeFakeAnalysis({ tokens: 6, layers: 2 });
    const s = parsePanelState({ protocol: 1, analysis, layer: 7, heatmapValue: 'routerProbs', view: 'table' });
    assert.equal(s?.layer, 1);
    assert.equal(s?.heatmapValue, 'routerProbs');
    assert.equal(s?.view, 'table');
    assert.deepEqual(parsePanelState({ protocol: 1, analysis: null, layer: 0, heatmapValue: 'x', view: 'y' }), {
      protocol: 1,
      analysis: null,
      layer: 0,
      heatmapValue: 'gateK',
      view: 'chart',
      layerPinned: false,
      stripColorBy: 'importance',
    });
    assert.equal(
      parsePanelState({ protocol: 1, analysis: null, layer: 0, heatmapValue: 'gates', view: 'chart', layerPinned: true })?.layerPinned,
      true,
    );
    // The strip's colouring: 'loss' kept, anything else is importance.
    assert.equal(parsePanelState({ protocol: 1, analysis: null, layer: 0, stripColorBy: 'loss' })?.stripColorBy, 'loss');
    assert.equal(parsePanelState({ protocol: 1, analysis: null, layer: 0, stripColorBy: '<b>' })?.stripColorBy, 'importance');
  });
  it('rejects missing, foreign and malformed states', () => {
    assert.equal(parsePanelState(undefined), null);
    assert.equal(parsePanelState({ protocol: 0, analysis: null }), null);
    const analysis = makeFakeAnalysis({ tokens: 6, layers: 2 });
    const broken = JSON.parse(JSON.stringify(analysis));
    broken.layers[1].gates.pop();
    assert.equal(parsePanelState({ protocol: 1, analysis: broken, layer: 0 }), null);
    assert.equal(parsePanelState({ protocol: 1, analysis: { model: {} }, layer: 0 }), null);
  });
});
