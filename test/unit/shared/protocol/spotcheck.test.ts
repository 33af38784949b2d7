import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { isHostMessage, parseWebviewMessage } from '../../../../src/shared/protocol/routing';
import {
  isSpotCheckHostMessage,
  looksLikeSpotCheckReport,
  parseSpotCheckMessage,
  parseSpotCheckState,
  spotCheckHostNotification,
  spotCheckWebviewNotification,
  spotCheckWebviewRequest,
} from '../../../../src/shared/protocol/spotcheck';
import { parseCompareMessage } from '../../../../src/shared/protocol/compare';
import { makeFakeSpotCheck } from '../../webview/fake-spotcheck';

const n = (method: string, params: unknown): Record<string, unknown> => ({ protocol: 1, kind: 'notification', method, params });
const rq = (id: unknown, method: string, params: unknown): Record<string, unknown> => ({
  protocol: 1,
  kind: 'request',
  id,
  method,
  params,
});

function rejects(raw: unknown, re: RegExp, ctx?: Parameters<typeof parseSpotCheckMessage>[1]): void {
  const r = parseSpotCheckMessage(raw, ctx);
  if (r.ok) assert.fail(`expected a rejection matching ${re}, got ${JSON.stringify(r.message)}`);
  assert.match(r.error, re);
}

describe('parseSpotCheckMessage', () => {
  it('accepts ready, example/open and spotcheck/export exactly as documented', () => {
    assert.deepEqual(parseSpotCheckMessage(n('ready', { protocolVersion: 1 })), { ok: true, message: n('ready', { protocolVersion: 1 }) });
    assert.deepEqual(parseSpotCheckMessage(n('example/open', { line: 7 })), { ok: true, message: n('example/open', { line: 7 }) });
    for (const format of ['json', 'html', 'parquet']) {
      assert.deepEqual(parseSpotCheckMessage(rq(3, 'spotcheck/export', { format })), {
        ok: true,
        message: rq(3, 'spotcheck/export', { format }),
      });
    }
    assert.deepEqual(parseSpotCheckMessage(spotCheckWebviewNotification('example/open', { line: 2 })).ok, true);
    assert.deepEqual(parseSpotCheckMessage(spotCheckWebviewRequest(1, 'spotcheck/export', { format: 'html' })).ok, true);
  });

  it('rejects wrong shapes, unknown methods, bad lines and formats, and never throws', () => {
    rejects(n('example/open', { line: 0 }), /params\.line/);
    rejects(n('example/open', { line: 1.5 }), /params\.line/);
    rejects(n('example/open', { line: '3' }), /params\.line/);
    rejects(n('example/open', { line: 3, extra: 1 }), /unexpected field "extra"/);
    rejects(n('example/open', {}), /missing field "line"/);
    rejects(n('token/reveal', { tokenIndex: 1 }), /unknown notification/);
    rejects(rq(1, 'analysis/export', { format: 'json' }), /unknown request/);
    rejects(rq(1, 'spotcheck/export', { format: 'pdf' }), /params\.format/);
    rejects(rq(0, 'spotcheck/export', { format: 'json' }), /message\.id/);
    rejects(n('ready', { protocolVersion: 2 }), /protocol 2/);
    rejects({ ...n('ready', { protocolVersion: 1 }), protocol: 2 }, /unsupported protocol/);
    rejects(null, /expected an object/);
    rejects(Object.create({ polluted: true }), /expected an object/);
    rejects({ protocol: 1, kind: 'response', id: 1, ok: true }, /message\.kind/);
  });

  it("error/action: the title of a banner button, as the routing panel's; the compare panel's parser takes the same", () => {
    assert.deepEqual(parseSpotCheckMessage(n('error/action', { action: 'Show Output' })), {
      ok: true,
      message: n('error/action', { action: 'Show Output' }),
    });
    rejects(n('error/action', { action: '' }), /params\.action/);
    rejects(n('error/action', { action: 'x'.repeat(101) }), /params\.action/);
    rejects(n('error/action', { action: 'Show Output', command: 'workbench.action.terminal.new' }), /params/);
    rejects(n('error/action', {}), /params/);
    assert.equal(parseCompareMessage(n('error/action', { action: 'Open Settings' })).ok, true);
    assert.equal(parseCompareMessage(n('error/action', { action: ['Open Settings'] })).ok, false);
  });

  it("with the report's lines, only those lines may be opened", () => {
    const ctx = { exampleLines: new Set([2, 5]) };
    assert.equal(parseSpotCheckMessage(n('example/open', { line: 5 }), ctx).ok, true);
    rejects(n('example/open', { line: 3 }), /not the line of an example/, ctx);
    rejects(n('example/open', { line: 3 }), /not the line of an example/, { exampleLines: new Set() });
  });

  it('the routing panel parser does not accept spot-check messages (and vice versa)', () => {
    assert.equal(parseWebviewMessage(n('example/open', { line: 5 })).ok, false);
    assert.equal(parseSpotCheckMessage(n('token/hover', { tokenIndex: null })).ok, false);
  });
});

describe('spot-check host messages', () => {
  it('isSpotCheckHostMessage accepts its notifications and responses only', () => {
    const report = makeFakeSpotCheck({ examples: 3 });
    assert.equal(
      isSpotCheckHostMessage(spotCheckHostNotification('spotcheck/show', { report, linking: { canOpen: true, note: null } })),
      true,
    );
    assert.equal(isSpotCheckHostMessage(spotCheckHostNotification('spotcheck/error', { message: 'x' })), true);
    assert.equal(isSpotCheckHostMessage({ protocol: 1, kind: 'response', id: 1, ok: true }), true);
    assert.equal(isSpotCheckHostMessage({ protocol: 1, kind: 'notification', method: 'analysis/show', params: {} }), false);
    assert.equal(isSpotCheckHostMessage({ protocol: 2, kind: 'notification', method: 'spotcheck/error', params: {} }), false);
    assert.equal(isHostMessage(spotCheckHostNotification('spotcheck/error', { message: 'x' })), false, 'the routing panel ignores them');
  });
});

describe('looksLikeSpotCheckReport / parseSpotCheckState', () => {
  it('accepts a real report and rejects broken ones', () => {
    const r = makeFakeSpotCheck();
    assert.equal(looksLikeSpotCheckReport(r), true);
    assert.equal(looksLikeSpotCheckReport(JSON.parse(JSON.stringify(r))), true);
    for (const broken of [
      { ...r, kind: 'other' },
      { ...r, version: 2 },
      { ...r, k_histogram: { per_layer: 'x', overall: [] } },
      { ...r, examples: [{ line: 'one', text: 'a', predicted: 'b' }] },
      { ...r, co_activation: [[['x']]] },
      { ...r, accuracy: '0.5' },
      { ...r, confusion: { rows: [], columns: [] } },
      null,
      [],
    ]) {
      assert.equal(looksLikeSpotCheckReport(broken), false, JSON.stringify(broken)?.slice(0, 80));
    }
  });

  it('restores a saved state, clamping the layer and defaulting unknown values', () => {
    const report = makeFakeSpotCheck({ layers: 3 });
    const s = parseSpotCheckState({
      protocol: 1,
      report,
      linking: { canOpen: true, note: 'n' },
      layer: 9,
      filter: 'wrong',
      query: 'abc',
      sort: { key: 'mean_k', descending: true },
    });
    assert.ok(s);
    assert.equal(s.layer, 2);
    assert.equal(s.filter, 'wrong');
    assert.deepEqual(s.sort, { key: 'mean_k', descending: true });
    assert.deepEqual(s.linking, { canOpen: true, note: 'n' });
    const d = parseSpotCheckState({ protocol: 1, report: null, layer: -1, filter: 'bogus', query: 7, sort: { key: 'evil' } });
    assert.deepEqual(d, {
      protocol: 1,
      report: null,
      linking: { canOpen: false, note: null },
      layer: 0,
      filter: 'all',
      query: '',
      sort: { key: 'line', descending: false },
    });
    assert.equal(parseSpotCheckState({ protocol: 1, report: { kind: 'x' } }), null);
    assert.equal(parseSpotCheckState({ protocol: 2 }), null);
    assert.equal(parseSpotCheckState(undefined), null);
  });
});
