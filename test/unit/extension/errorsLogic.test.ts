import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { describeDatasetError, describeError, isCancellation, showErrorOnce } from '../../../src/extension/errorsLogic';
import { EngineError } from '../../../src/core/engine-api';

describe('user-facing errors', () => {
  it('contract violations: first violation, count, and Select Model / Show Output', () => {
    const ue = describeError(
      new EngineError('contract-violation', 'bad model', ['expert_gates: expected 4 dims, found 3', 'labels missing']),
      '/m',
    );
    assert.match(ue.message, /does not follow the model contract: expert_gates: expected 4 dims, found 3 \(\+1 more in the output\)/);
    assert.deepEqual(ue.actions, ['Select Model', 'Show Output']);
    assert.equal(ue.details.length, 2);
  });
  it('a model onnxruntime cannot load: named as a load failure (not "failed on this text"), with Select Model', () => {
    const ue = describeError(new EngineError('model-load-failed', 'onnxruntime could not load /m/model.onnx: no such op'), '/m');
    assert.match(ue.message, /^DA-MoE: the model at \/m could not be loaded: onnxruntime could not load .* Pick another model/);
    assert.doesNotMatch(ue.message, /on this text/);
    assert.deepEqual(ue.actions, ['Select Model', 'Show Output']);
    assert.ok(ue.dropEngine);
  });
  it('a crashed worker drops the engine; cancellations are recognised', () => {
    assert.ok(describeError(new EngineError('worker-crashed', 'exit 139'), '/m').dropEngine);
    assert.ok(isCancellation(new EngineError('cancelled', 'superseded')));
    assert.ok(!isCancellation(new Error('x')));
    // An error that crossed a boundary (plain object with the same shape) is still an engine error.
    const like = Object.assign(new Error('gone'), { name: 'EngineError', code: 'model-not-found' });
    assert.deepEqual(describeError(like, '/m').actions, ['Select Model', 'Show Output']);
    assert.match(describeError(new TypeError('boom'), '/m').message, /unexpected error: boom/);
  });
});

describe('routing trace and live-source errors', () => {
  it('a refused trace keeps its whole message: the field, the expected and the found shape', () => {
    const msg =
      'prompt_routed_experts: expected [12, num_moe_layers, top_k]: one row per prompt token (12 prompt tokens), found [11, 48, 8]';
    const ue = describeError(new EngineError('bad-trace', msg), '/t.json');
    assert.equal(ue.message, `DA-MoE: the routing trace was refused: ${msg}`);
    assert.equal(ue.code, 'bad-trace');
  });
  it('a server without routing names the flag; a failed request offers the damoe.remote settings', () => {
    const nr = describeError(new EngineError('trace-no-routing', 'start it with --enable-return-routed-experts'), 'http://x');
    assert.match(nr.message, /--enable-return-routed-experts/);
    const rf = describeError(new EngineError('remote-failed', 'x did not answer within 2 s (damoe.remote.timeoutSeconds)'), 'http://x');
    assert.deepEqual(rf.actions, ['Open Settings', 'Show Output']);
    assert.equal(rf.settingsQuery, 'damoe.remote');
    assert.match(rf.message, /damoe\.remote\.timeoutSeconds/);
  });
});

describe('showErrorOnce: one error, one place (issue 14)', () => {
  const ue = describeError(new EngineError('contract-violation', 'bad model', ['router_probs missing']), '/m');
  function panel(open: boolean, visible: boolean) {
    const banners: unknown[][] = [];
    return {
      banners,
      visible,
      controller: open ? { showError: (...a: unknown[]) => void banners.push(a) } : null,
    };
  }
  function outlets() {
    const seen: string[] = [];
    return {
      seen,
      log: (u: { message: string }) => seen.push(`log:${u.message}`),
      notify: (u: { message: string }) => seen.push(`notify:${u.message}`),
    };
  }

  it('a panel in view: its banner with the buttons and the settings query, no notification; always the log', () => {
    const p = panel(true, true);
    const o = outlets();
    const q = { ...ue, settingsQuery: 'damoe.x' };
    assert.equal(showErrorOnce(q, p, o), 'banner');
    assert.deepEqual(p.banners, [[ue.message, ['Select Model', 'Show Output'], 'damoe.x']]);
    assert.deepEqual(o.seen, [`log:${ue.message}`]);
  });

  it('no panel: a notification only', () => {
    const o = outlets();
    assert.equal(showErrorOnce(ue, null, o), 'notification');
    assert.equal(showErrorOnce(ue, panel(false, false), o), 'notification');
    assert.deepEqual(o.seen, [`log:${ue.message}`, `notify:${ue.message}`, `log:${ue.message}`, `notify:${ue.message}`]);
  });

  it('a panel open behind another tab: the notification, and its banner for when it is brought back', () => {
    const p = panel(true, false);
    const o = outlets();
    assert.equal(showErrorOnce(ue, p, o), 'notification');
    assert.deepEqual(o.seen, [`log:${ue.message}`, `notify:${ue.message}`]);
    assert.equal(p.banners.length, 1);
  });

  it('a dataset error: the message as given, Open Settings at the spot-check settings for an unknown column', () => {
    const col = describeDatasetError('unknown-column', 'DA-MoE spot-check: unknown text column "body"');
    assert.deepEqual(
      { message: col.message, actions: col.actions, q: col.settingsQuery, code: col.code, drop: col.dropEngine },
      {
        message: 'DA-MoE spot-check: unknown text column "body"',
        actions: ['Open Settings', 'Show Output'],
        q: 'damoe.spotCheck',
        code: 'unknown-column',
        drop: false,
      },
    );
    const missing = describeDatasetError('file-not-found', 'DA-MoE spot-check: no such file');
    assert.deepEqual([missing.actions, missing.settingsQuery], [['Show Output'], undefined]);
  });
});
