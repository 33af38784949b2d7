import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { routingLayers } from '../../../../src/core/analysis/build';
import type { SequenceRouting } from '../../../../src/core/analysis/model-outputs';

/** The reference ordering: chosen experts by gate, highest first, ties to the lower expert index. */
function reference(gates: number[]): { experts: number[]; gates: number[] } {
  const chosen = gates
    .map((g, e) => ({ g, e }))
    .filter((x) => x.g !== 0)
    .sort((a, b) => b.g - a.g || a.e - b.e);
  return { experts: chosen.map((x) => x.e), gates: chosen.map((x) => x.g) };
}

function routing(rows: number[][], E: number): SequenceRouting {
  const T = rows.length;
  const gates = Float32Array.from(rows.flat());
  const probs = new Float32Array(T * E).fill(1 / E);
  return {
    length: T,
    numLayers: 1,
    numExperts: E,
    logits: new Float32Array(2),
    importance: Float32Array.from(rows.map((_, t) => t / 2)),
    count: Int32Array.from(rows.map((r) => r.filter((g) => g !== 0).length)),
    gates,
    probs,
    nextToken: null,
  };
}

describe('routingLayers', () => {
  it('orders experts by gate with ties to the lower index, as the comparator sort does', () => {
    const rows = [
      [0, 0.5, 0, 0.5],
      [0.25, 0.25, 0.25, 0.25],
      [0.1, 0, 0.6, 0.3],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
      [Number.NaN, 0.5, 0.5, 0],
      [0.2, Number.NaN, 0.7, 0.1],
    ];
    const r = routing(rows, 4);
    const [layer] = routingLayers(r);
    rows.forEach((row, t) => {
      const want = reference(Array.from(Float32Array.from(row)));
      assert.deepEqual(layer.experts[t], want.experts, `token ${t}`);
      assert.deepEqual(layer.gates[t], want.gates, `token ${t}`);
      assert.deepEqual(layer.routerProbs[t], [0.25, 0.25, 0.25, 0.25]);
    });
    assert.deepEqual(layer.k, [2, 4, 3, 1, 0, 3, 4]);
    assert.deepEqual(layer.importance, [0, 0.5, 1, 1.5, 2, 2.5, 3]);
  });
});
