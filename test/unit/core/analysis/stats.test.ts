import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { expertLoad, RoutingStatsAccumulator } from '../../../../src/core/analysis/stats';
import type { LayerRouting } from '../../../../src/shared/analysis';

/** A layer from per-token [expert, gate] lists; K = number of experts. */
function layer(l: number, tokens: [number, number][][]): LayerRouting {
  return {
    layer: l,
    importance: tokens.map(() => 1),
    k: tokens.map((t) => t.length),
    experts: tokens.map((t) => t.map(([e]) => e)),
    gates: tokens.map((t) => t.map(([, g]) => g)),
    routerProbs: tokens.map(() => [0.25, 0.25, 0.25, 0.25]),
  };
}

// Two layers, three tokens, four experts, kMax 3.
const L0 = layer(0, [
  [
    [0, 0.6],
    [1, 0.4],
  ],
  [[0, 1]],
  [
    [2, 0.5],
    [0, 0.3],
    [1, 0.2],
  ],
]);
const L1 = layer(1, [
  [[3, 1]],
  [[3, 1]],
  [
    [3, 0.7],
    [1, 0.3],
  ],
]);

describe('RoutingStatsAccumulator', () => {
  const acc = new RoutingStatsAccumulator({ numLayers: 2, numExperts: 4, kMax: 3, flopsPerExpertToken: 100 });
  acc.add([L0, L1]);
  const s = acc.result();

  it('K histogram per layer and overall, mean K', () => {
    assert.equal(s.tokens, 3);
    assert.deepEqual(s.kHistogram.perLayer, [
      [0, 1, 1, 1],
      [0, 2, 1, 0],
    ]);
    assert.deepEqual(s.kHistogram.overall, [0, 3, 2, 1]);
    assert.deepEqual(s.meanK.perLayer, [2, 4 / 3]);
    assert.equal(s.meanK.overall, 10 / 6);
  });

  it('expert load: tokens, gate mass, utilisation, dead experts, CV', () => {
    const l0 = s.expertLoad[0];
    assert.deepEqual(l0.tokens, [3, 2, 1, 0]);
    assert.deepEqual(
      l0.gateMass.map((g) => +g.toFixed(6)),
      [1.9, 0.6, 0.5, 0],
    );
    // ideal load = 6 / 4 = 1.5
    assert.deepEqual(l0.utilisation, [2, 4 / 3, 2 / 3, 0]);
    assert.deepEqual(l0.dead, [3]);
    // mean 1.5, population variance (2.25 + .25 + .25 + 2.25) / 4 = 1.25
    assert.ok(Math.abs(l0.cv - Math.sqrt(1.25) / 1.5) < 1e-12);
    assert.deepEqual(s.expertLoad[1].dead, [0, 2]);
  });

  it('co-activation: diagonal = tokens per expert, off-diagonal = shared tokens, symmetric', () => {
    assert.deepEqual(s.coActivation[0], [
      [3, 2, 1, 0],
      [2, 2, 1, 0],
      [1, 1, 1, 0],
      [0, 0, 0, 0],
    ]);
    assert.deepEqual(s.coActivation[1][3], [0, 1, 0, 3]);
  });

  it('FLOPs: spent = sum K * per-expert; fixed top-kMax and top-2 on the same tokens', () => {
    assert.deepEqual(s.flops, {
      spent: 1000,
      executed: 1000,
      execution: 'routed',
      fixedTopKMax: 1800,
      fixedTop2: 1200,
      perExpertToken: 100,
      unit: 'flops',
    });
  });

  it('FLOPs executed by a dense-masked graph: every expert on every (layer, token), spent unchanged', () => {
    const dense = new RoutingStatsAccumulator({
      numLayers: 2,
      numExperts: 4,
      kMax: 3,
      flopsPerExpertToken: 100,
      expertCompute: 'dense-masked',
    });
    dense.add([L0, L1]);
    const f = dense.result().flops;
    assert.equal(f.spent, s.flops.spent);
    assert.equal(f.execution, 'dense-masked');
    assert.equal(f.executed, 2 * s.tokens * 4 * 100);
  });

  it('accumulates over many sequences and honours the include filter', () => {
    const two = new RoutingStatsAccumulator({ numLayers: 2, numExperts: 4, kMax: 3, flopsPerExpertToken: null });
    two.add([L0, L1]);
    two.add([L0, L1], (t) => t !== 2);
    const r = two.result();
    assert.equal(r.tokens, 5);
    assert.deepEqual(r.kHistogram.perLayer[0], [0, 2, 2, 1]);
    assert.equal(r.flops.unit, 'expert-evaluations');
    assert.equal(r.flops.spent, 10 + 2 + 1 + 1 + 1);
  });

  it('flat routing (addRouting) counts exactly what the LayerRouting lists do', () => {
    const flat = new RoutingStatsAccumulator({ numLayers: 2, numExperts: 4, kMax: 3, flopsPerExpertToken: 100 });
    const T = 3;
    const count = new Int32Array([2, 1, 3, 1, 1, 2]);
    const gates = new Float32Array(2 * T * 4);
    [L0, L1].forEach((layer, l) =>
      layer.experts.forEach((es, t) => es.forEach((e, i) => (gates[(l * T + t) * 4 + e] = layer.gates[t][i]))),
    );
    flat.addRouting({ numLayers: 2, numExperts: 4, length: T, count, gates });
    const r = flat.result();
    assert.deepEqual(r.kHistogram, s.kHistogram);
    assert.deepEqual(r.coActivation, s.coActivation);
    assert.deepEqual(
      r.expertLoad.map((x) => x.tokens),
      s.expertLoad.map((x) => x.tokens),
    );
    assert.deepEqual(r.flops, s.flops);
  });

  it('without co-activation: the same histograms and load, no matrix', () => {
    const lean = new RoutingStatsAccumulator({ numLayers: 2, numExperts: 4, kMax: 3, flopsPerExpertToken: 100, coActivation: false });
    lean.add([L0, L1]);
    const r = lean.result();
    assert.deepEqual(r.coActivation, []);
    assert.deepEqual(r.kHistogram, s.kHistogram);
    assert.deepEqual(r.expertLoad, s.expertLoad);
  });

  it('refuses routing with the wrong number of layers', () => {
    assert.throws(() => acc.add([L0]), /expected 2 layers, got 1/);
  });
});

describe('expertLoad', () => {
  it('is 0 CV and 0 utilisation when nothing was routed', () => {
    const l = expertLoad(0, [0, 0], [0, 0]);
    assert.equal(l.cv, 0);
    assert.deepEqual(l.utilisation, [0, 0]);
    assert.deepEqual(l.dead, [0, 1]);
  });
  it('perfect balance: utilisation 1, CV 0', () => {
    const l = expertLoad(0, [4, 4, 4], [1, 1, 1]);
    assert.deepEqual(l.utilisation, [1, 1, 1]);
    assert.equal(l.cv, 0);
  });
});
