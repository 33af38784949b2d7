/** The supervised worker runtime on the tiny fixture model: crash recovery, cancellation, providers, dispose. */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { createEngine, DamoeEngine } from '../../src/core/engine';
import { EngineError } from '../../src/core/engine-api';
import { ModelRuntime } from '../../src/core/runtime/model-runtime';
import { isAlive, TINY_MODEL_DIR, waitFor } from '../unit/core/helpers';

const MODEL = path.join(TINY_MODEL_DIR, 'model.onnx');
const isCode = (code: string) => (e: Error) => e instanceof EngineError && e.code === code;

describe('ModelRuntime', () => {
  it('auto falls back to cpu and says why cuda and webgpu were skipped', async (t) => {
    const rt = await ModelRuntime.start({ modelPath: MODEL, provider: 'auto', threads: 1 });
    try {
      const p = rt.provider;
      assert.equal(p.requested, 'auto');
      if (p.used !== 'cpu') return t.skip(`this machine has ${p.used}; the fallback is not exercised`);
      assert.deepEqual(
        p.skipped.map((s) => s.provider),
        ['cuda', 'webgpu'],
      );
      for (const s of p.skipped) {
        assert.ok(s.reason.length > 10, s.reason);
        assert.doesNotMatch(s.reason, /onnxruntime_src/);
      }
    } finally {
      await rt.dispose();
    }
  });

  it('a forced provider that fails is a clear provider-unavailable error naming it', async (t) => {
    let rt: ModelRuntime | undefined;
    try {
      rt = await ModelRuntime.start({ modelPath: MODEL, provider: 'webgpu', threads: 1 });
    } catch (e) {
      assert.ok(isCode('provider-unavailable')(e as Error), String(e));
      assert.match((e as Error).message, /Execution provider 'webgpu' is not available: .*Choose provider 'auto'/);
      return;
    }
    await rt.dispose();
    t.skip('webgpu works on this machine');
  });

  it('runBatch buckets by length and returns results in input order', async () => {
    const rt = await ModelRuntime.start({ modelPath: MODEL, provider: 'cpu', threads: 1 });
    try {
      const items = [
        [2, 10, 3],
        [2, 10, 11, 12, 13, 14, 3],
        [2, 3],
        [2, 10, 11, 3],
      ].map((ids) => ({ ids }));
      const progress: number[] = [];
      const res = await rt.runBatch(items, { batchSize: 2, onProgress: (d) => progress.push(d) });
      assert.deepEqual(
        res.map((r) => r.length),
        [3, 7, 2, 4],
      );
      // sorted lengths 2,3 | 4,7 -> buckets padded to 3 and 7
      assert.deepEqual(
        res.map((r) => r.paddedLength),
        [3, 7, 3, 7],
      );
      assert.deepEqual(progress, [2, 4]);
      // the same sequence alone gives the same logits as inside a padded bucket
      const [alone] = await rt.runBatch([items[0]]);
      const C = 2;
      const inBucket = res[0].outputs.logits.data.slice(res[0].row * C, res[0].row * C + C) as Float32Array;
      const single = alone.outputs.logits.data.slice(0, C) as Float32Array;
      inBucket.forEach((x, i) => assert.ok(Math.abs(x - single[i]) < 1e-4, `${x} vs ${single[i]}`));
    } finally {
      await rt.dispose();
    }
  });
});

describe('engine over the worker', () => {
  let engine: DamoeEngine;
  before(async () => {
    engine = await createEngine({ modelDir: TINY_MODEL_DIR, executionProvider: 'cpu', threads: 1 });
  });
  after(async () => engine.dispose());

  it('killing the worker mid-request fails that request with worker-crashed; the next one succeeds', async () => {
    const oldPid = engine.workerPid!;
    const request = engine.analyze({ text: 'this request will lose its worker' });
    process.kill(oldPid, 'SIGKILL');
    await assert.rejects(request, (e: Error) => isCode('worker-crashed')(e) && /killed by SIGKILL/.test(e.message));
    const next = await engine.analyze({ text: 'and this one works' });
    assert.equal(next.tokens[0].text, '[CLS]');
    assert.notEqual(engine.workerPid, oldPid);
    assert.ok(await waitFor(() => !isAlive(oldPid)));
    // the report still says what was requested the first time
    assert.equal(engine.provider.used, 'cpu');
  });

  it("concurrent requests each complete; superseding one is the caller's (LatestWins), through its signal", async () => {
    const both = await Promise.all([engine.analyze({ text: 'first request' }), engine.analyze({ text: 'second request' })]);
    assert.deepEqual(
      both.map((a) => a.text),
      ['first request', 'second request'],
    );
    const superseded = new AbortController();
    const first = engine.analyze({ text: 'first request', signal: superseded.signal });
    superseded.abort();
    const second = engine.analyze({ text: 'second request' });
    await assert.rejects(first, isCode('cancelled'));
    assert.equal((await second).text, 'second request');
  });

  it('a caller signal cancels a request', async () => {
    const ac = new AbortController();
    const p = engine.analyze({ text: 'cancel me', signal: ac.signal });
    ac.abort();
    await assert.rejects(p, isCode('cancelled'));
  });

  it('empty text is an empty-text error', async () => {
    await assert.rejects(engine.analyze({ text: '  \n ' }), isCode('empty-text'));
  });
});

describe('dispose', () => {
  it('during a restart settles a request waiting for the new worker (no hang)', async () => {
    const rt = await ModelRuntime.start({ modelPath: MODEL, provider: 'cpu', threads: 1 });
    const oldPid = rt.pid!;
    process.kill(oldPid, 'SIGKILL');
    assert.ok(await waitFor(() => rt.pid !== undefined && rt.pid !== oldPid), 'a new worker was started');
    const newPid = rt.pid!;
    const waiting = rt.runBatch([{ ids: [2, 10, 3] }]);
    await rt.dispose();
    await assert.rejects(waiting, isCode('cancelled'));
    assert.ok(await waitFor(() => !isAlive(newPid)), `worker ${newPid} still alive`);
  });

  it('leaves no child process', async () => {
    const engine = await createEngine({ modelDir: TINY_MODEL_DIR, executionProvider: 'cpu', threads: 1 });
    const pid = engine.workerPid!;
    assert.ok(isAlive(pid));
    await engine.dispose();
    assert.ok(await waitFor(() => !isAlive(pid)), `worker ${pid} still alive`);
    await assert.rejects(engine.analyze({ text: 'after dispose' }), isCode('cancelled'));
  });
});
