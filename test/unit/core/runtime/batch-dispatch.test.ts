/** runBuckets: length buckets spread over several runners, results in input order, failures and depth. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { BucketRunner, planBuckets, runBuckets } from '../../../../src/core/runtime/batch-dispatch';
import { EngineError } from '../../../../src/core/engine-api';
import type { TensorMap } from '../../../../src/core/runtime/tensors';

/** A runner that answers with its name and the feeds it got, after `delayMs`, and records how deep its queue got. */
function fakeRunner(name: string, delayMs = 1, failOn?: (feeds: TensorMap) => boolean) {
  const state = { name, runs: 0, inFlight: 0, maxInFlight: 0 };
  const runner: BucketRunner = {
    async run(feeds) {
      state.runs++;
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      await new Promise((r) => setTimeout(r, delayMs));
      state.inFlight--;
      if (failOn?.(feeds)) throw new EngineError('inference-failed', `${name} failed`);
      return { ...feeds, runner: { type: 'string', dims: [], data: new Uint8Array([name.charCodeAt(0)]) } };
    },
  };
  return { runner, state };
}

const seqs = (lengths: number[]) => lengths.map((n, i) => ({ ids: Array.from({ length: n }, (_, t) => 100 * i + t + 1) }));

describe('planBuckets', () => {
  it('sorts by length and pads each bucket to its longest member', () => {
    const plan = planBuckets(seqs([5, 1, 3, 2, 4]), 2);
    assert.deepEqual(
      plan.map((b) => b.members),
      [[1, 3], [2, 4], [0]],
    );
    assert.deepEqual(
      plan.map((b) => b.paddedLength),
      [2, 4, 5],
    );
  });
});

describe('runBuckets', () => {
  it('spreads the buckets over the runners and returns every input in order with its row', async () => {
    const a = fakeRunner('a', 3);
    const b = fakeRunner('b', 3);
    const items = seqs([7, 2, 9, 4, 4, 1, 3, 8, 6, 5]);
    const progress: number[] = [];
    const res = await runBuckets([a.runner, b.runner], items, { batchSize: 2, onProgress: (d) => progress.push(d) });
    assert.ok(a.state.runs > 0 && b.state.runs > 0, `both runners used: a ${a.state.runs}, b ${b.state.runs}`);
    assert.equal(a.state.runs + b.state.runs, 5);
    assert.ok(a.state.maxInFlight <= 2 && b.state.maxInFlight <= 2);
    assert.equal(progress[progress.length - 1], items.length);
    assert.ok(progress.every((p, i) => i === 0 || p > progress[i - 1]));
    res.forEach((r, i) => {
      assert.equal(r.length, items[i].ids.length);
      assert.equal(r.rowLengths?.[r.row], r.length);
      const ids = r.outputs.input_ids;
      const row = Array.from(ids.data as BigInt64Array)
        .slice(r.row * r.paddedLength, r.row * r.paddedLength + r.length)
        .map(Number);
      assert.deepEqual(row, items[i].ids, `item ${i} came back in its own row`);
      const mask = Array.from(r.outputs.attention_mask.data as BigInt64Array)
        .slice(r.row * r.paddedLength, (r.row + 1) * r.paddedLength)
        .map(Number);
      assert.deepEqual(
        mask,
        Array.from({ length: r.paddedLength }, (_, t) => (t < r.length ? 1 : 0)),
      );
    });
  });

  it('keeps each runner inFlightPerWorker deep', async () => {
    const a = fakeRunner('a', 5);
    await runBuckets([a.runner], seqs([1, 1, 1, 1, 1, 1, 1, 1]), { batchSize: 1, inFlightPerWorker: 3 });
    assert.equal(a.state.maxInFlight, 3);
  });

  it('rejects with the first failure and starts no new bucket after it', async () => {
    const a = fakeRunner('a', 2, (feeds) => feeds.input_ids.dims[1] === 3);
    const items = seqs([1, 2, 3, 4, 5, 6]);
    await assert.rejects(runBuckets([a.runner], items, { batchSize: 1, inFlightPerWorker: 1 }), /a failed/);
    assert.equal(a.state.runs, 3);
  });

  it('an empty input is an empty result; no runner is an error', async () => {
    assert.deepEqual(await runBuckets([fakeRunner('a').runner], []), []);
    await assert.rejects(runBuckets([], seqs([1])), /No model worker/);
  });
});
