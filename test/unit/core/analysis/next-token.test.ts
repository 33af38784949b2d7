import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { languageModelScore, mergeNextTokenRows, NextTokenRows } from '../../../../src/core/analysis/next-token';
import { longestContextWindow, mapMergedTokens, planWindows } from '../../../../src/core/analysis/windowing';

/** Rows whose predictions at position p are [100 * window + p, ...]: each value says where it was read from. */
function rows(window: number, length: number, k = 2): NextTokenRows {
  return {
    k,
    loss: Float32Array.from({ length }, (_, p) => window * 10 + p),
    topIds: Int32Array.from({ length: length * k }, (_, i) => 100 * window + Math.floor(i / k)),
    topLogprobs: Float32Array.from({ length: length * k }, (_, i) => -(i % k) - 0.5),
    context: Int32Array.from({ length }, (_, p) => p),
  };
}

describe('causal LM windows', () => {
  it('longest context: a token is read from the first window that holds it', () => {
    const plan = planWindows(10, 4, 2); // windows [0,4) [2,6) [4,8) [6,10)
    assert.deepEqual(
      Array.from({ length: 10 }, (_, i) => longestContextWindow(plan, i)),
      [0, 0, 0, 0, 1, 1, 2, 2, 3, 3],
    );
  });
  it('merged rows: loss and context from the token own window, predictions from the next token window', () => {
    // Content tokens 0..5 in windows [0,4) and [2,6), each window [CLS] c.. [SEP]: positions are 1 + offset.
    const plan = planWindows(6, 4, 2);
    const tok = (special: boolean): { special: boolean; sequenceIndex: 0 | null } => ({ special, sequenceIndex: special ? null : 0 });
    const windowTokens = plan.windows.map(() => [tok(true), tok(false), tok(false), tok(false), tok(false), tok(true)]);
    const merged = [tok(true), ...Array.from({ length: 6 }, () => tok(false)), tok(true)];
    const sources = mapMergedTokens(merged as never, windowTokens as never, plan, 'longest-context');
    assert.deepEqual(sources, [
      { window: 0, position: 0 },
      { window: 0, position: 1 },
      { window: 0, position: 2 },
      { window: 0, position: 3 },
      { window: 0, position: 4 },
      { window: 1, position: 3 },
      { window: 1, position: 4 },
      { window: 1, position: 5 },
    ]);
    const m = mergeNextTokenRows([rows(0, 6), rows(1, 6)], sources)!;
    assert.deepEqual(Array.from(m.loss), [0, 1, 2, 3, 4, 13, 14, 15]);
    assert.deepEqual(Array.from(m.context), [0, 1, 2, 3, 4, 3, 4, 5]);
    // Token 4 (content 3, window 0) predicts token 5, which is scored in window 1 at position 3: its predictions
    // are window 1's position 2, the distribution token 5's loss came from.
    assert.deepEqual(
      Array.from({ length: 8 }, (_, t) => m.topIds[t * 2]),
      [0, 1, 2, 3, 102, 103, 104, 105],
    );
  });
  it('perplexity and accuracy count every token after the first', () => {
    const r: NextTokenRows = {
      k: 2,
      loss: Float32Array.from([99, 1, 3]),
      topIds: Int32Array.from([7, 8, 9, 5, 0, 0]),
      topLogprobs: new Float32Array(6),
      context: Int32Array.from([0, 1, 2]),
    };
    const s = languageModelScore(r, [1, 7, 5]);
    assert.equal(s.scoredTokens, 2);
    assert.equal(s.meanLoss, 2);
    assert.ok(Math.abs(s.perplexity - Math.exp(2)) < 1e-12);
    assert.equal(s.top1Accuracy, 0.5); // token 1 (7) was position 0's first choice; token 2 (5) was second
    assert.equal(s.topKAccuracy, 1);
  });
});
