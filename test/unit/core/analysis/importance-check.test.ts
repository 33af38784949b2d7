import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildImportanceCheck, checkSampleImportance, type OcclusionEngine } from '../../../../src/core/analysis/importance-check';
import type { OccludedText } from '../../../../src/core/analysis/occlusion';
import { EngineError } from '../../../../src/core/engine-api';
import { spearman } from '../../../../src/shared/stats';
import { makeAnalysis } from '../../extension/fixtures';

/** A text of T tokens with [CLS]/[SEP] at the ends; importance [L, T] from rows. */
function text(importance: number[][], drops: (number | null)[]): OccludedText {
  return {
    importance: Float32Array.from(importance.flat()),
    length: drops.length,
    drops,
    prediction: { index: 1, label: 'positive', probabilities: [0.2, 0.8] },
    sequences: drops.length - 1,
  };
}

describe('buildImportanceCheck', () => {
  const a = text(
    [
      [0, 1, 2, 3, 4, 0],
      [0, 4, 3, 2, 1, 0],
    ],
    [null, 0.1, 0.2, 0.3, 0.4, null],
  );
  const b = text(
    [
      [0, 5, 1, 2, 0],
      [0, 1, 1, 1, 0],
    ],
    [null, 0.05, -0.1, 0.5, null],
  );

  it('pools every occluded token (specials left out) and ranks per layer', () => {
    const c = buildImportanceCheck([a, b], 2);
    assert.equal(c.n, 7);
    assert.equal(c.texts, 2);
    assert.equal(c.sequences, 5 + 4);
    assert.equal(c.layers[0].n, 7);
    const drops = [0.1, 0.2, 0.3, 0.4, 0.05, -0.1, 0.5];
    assert.equal(c.layers[0].spearman, spearman([1, 2, 3, 4, 5, 1, 2], drops));
    assert.equal(c.layers[1].spearman, spearman([4, 3, 2, 1, 1, 1, 1], drops));
    // Per text: a's layer 0 is +1, b's is spearman([5,1,2], [0.05,-0.1,0.5]) = +0.5; b's layer 1 is constant (no rho).
    assert.ok(Math.abs(c.layers[0].mean_text_spearman! - (1 + 0.5) / 2) < 1e-12);
    assert.equal(c.layers[0].texts, 2);
    assert.equal(c.layers[1].mean_text_spearman, -1);
    assert.equal(c.layers[1].texts, 1);
    assert.ok(Math.abs(c.mean_drop - drops.reduce((x, y) => x + y) / 7) < 1e-12);
    assert.equal(c.max_drop, 0.5);
    assert.equal(c.occlusion, 'deletion');
    assert.equal(c.pooling, 'tokens');
    assert.equal(c.drops, undefined);
    const [lo, hi] = c.layers[0].ci95!;
    assert.ok(lo < c.layers[0].spearman! && c.layers[0].spearman! < hi && lo >= -1 && hi <= 1);
  });

  it('one analysis carries each token drop and the predicted class', () => {
    const c = buildImportanceCheck([a], 2, true);
    assert.deepEqual(c.drops, a.drops);
    assert.deepEqual(c.predicted, { index: 1, label: 'positive', probability: 0.8 });
    assert.equal(c.layers[0].spearman, 1);
    assert.equal(c.layers[1].spearman, -1);
  });

  it('non-finite importance leaves the token out of that layer only', () => {
    const t = text(
      [
        [0, NaN, 2, 3, 0],
        [0, 1, 2, 3, 0],
      ],
      [null, 0.3, 0.2, 0.1, null],
    );
    const c = buildImportanceCheck([t], 2);
    assert.equal(c.layers[0].n, 2);
    assert.equal(c.layers[1].n, 3);
    assert.equal(c.layers[0].ci95, null, 'no interval from 2 pairs');
  });
});

describe('checkSampleImportance', () => {
  const model = makeAnalysis().model;
  const ok = (): OccludedText => text([[0, 1, 2, 0]], [null, 0.1, 0.3, null]);

  it('skips the texts the model cannot take and counts them', async () => {
    const calls: number[] = [];
    const engine: OcclusionEngine = {
      model: { ...model, numLayers: 1 },
      occludeBatch: async (requests) => {
        calls.push(requests.length);
        if (requests.some((r) => r.text === 'long')) throw new EngineError('input-too-long', 'too long');
        return requests.map(ok);
      },
    };
    const c = await checkSampleImportance(engine, [{ text: 'a' }, { text: 'long' }, { text: 'b' }, { text: 'c' }], { textsPerRun: 2 });
    assert.deepEqual(calls, [2, 1, 1, 2]);
    assert.equal(c.texts, 3);
    assert.equal(c.requested, 4);
    assert.equal(c.skipped, 1);
    assert.equal(c.n, 6);
    assert.equal(c.cancelled, undefined);
  });

  it('a cancel keeps the runs done', async () => {
    const ac = new AbortController();
    let n = 0;
    const engine: OcclusionEngine = {
      model: { ...model, numLayers: 1 },
      occludeBatch: async (requests) => {
        if (n++ === 1) {
          ac.abort();
          throw new EngineError('cancelled', 'cancelled');
        }
        return requests.map(ok);
      },
    };
    const c = await checkSampleImportance(engine, [{ text: 'a' }, { text: 'b' }, { text: 'c' }], { textsPerRun: 1, signal: ac.signal });
    assert.equal(c.texts, 1);
    assert.equal(c.cancelled, true);
    assert.equal(c.skipped, 2);
  });

  it('refuses models without importance or class before running', async () => {
    let ran = false;
    const engine = (m: Partial<typeof model>): OcclusionEngine => ({
      model: { ...model, ...m },
      occludeBatch: async () => ((ran = true), []),
    });
    await assert.rejects(checkSampleImportance(engine({ task: 'causal-lm' }), [{ text: 'a' }]), (e: EngineError) => {
      assert.equal(e.code, 'importance-unavailable');
      assert.match(e.message, /causal language model/);
      return true;
    });
    await assert.rejects(
      checkSampleImportance(engine({ routingSource: 'trace' }), [{ text: 'a' }]),
      /routing trace has no token importance/,
    );
    await assert.rejects(checkSampleImportance(engine({ importanceAvailable: false }), [{ text: 'a' }]), /no token_importance/);
    assert.equal(ran, false);
  });
});
