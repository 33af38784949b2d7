import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ModelSummary } from '../../../src/shared/analysis';
import {
  denseLayersDescription,
  isDropped,
  layerLabel,
  routerDescription,
  sharedExpertsDescription,
} from '../../../src/shared/router-text';

const base: ModelSummary = {
  name: 'm',
  path: '/m',
  routerKind: 'top-k',
  numLayers: 2,
  numExperts: 8,
  kMax: 2,
  labels: [],
  maxSequenceLength: 64,
  routingSource: 'router_logits',
};

describe('router-text', () => {
  it('describes each convention with the parameters that change the choice', () => {
    assert.equal(routerDescription(base), null);
    assert.match(
      routerDescription({ ...base, router: { convention: 'softmax-topk', input: 'probabilities' } })!,
      /softmax-topk \(softmax → top-k \(not renormalised\)\), router_logits were already probabilities/,
    );
    const ds = routerDescription({
      ...base,
      router: {
        convention: 'sigmoid-group-topk',
        input: 'logits',
        nGroup: 4,
        topkGroup: 2,
        normTopkProb: true,
        routedScalingFactor: 2.5,
        selectionBias: true,
      },
    })!;
    assert.match(ds, /4 groups, 2 kept, gates normalised, × 2\.5, correction bias in the selection/);
    assert.match(
      routerDescription({ ...base, router: { convention: 'switch-capacity', input: 'logits', expertCapacity: 3 } })!,
      /capacity 3 tokens per expert/,
    );
  });
  it('shared experts and dense layers', () => {
    assert.equal(sharedExpertsDescription(base), null);
    assert.equal(sharedExpertsDescription({ ...base, sharedExperts: { count: 2, gate: 'none' } }), '2 shared experts, always on');
    assert.equal(denseLayersDescription(base), null);
    assert.equal(denseLayersDescription({ ...base, denseLayers: [0, 2] }), 'decoder layers 0, 2 dense (no router)');
  });
  it('layer labels and dropped tokens', () => {
    const layer = { layer: 1, importance: [], k: [1, 0], experts: [[0], []], gates: [[1], []], routerProbs: [] };
    assert.equal(layerLabel(layer), '1');
    assert.equal(layerLabel({ ...layer, decoderLayer: 3 }), '1 (decoder 3)');
    assert.equal(isDropped(layer, 1), false);
    assert.equal(isDropped({ ...layer, dropped: [1] }, 1), true);
    assert.equal(isDropped({ ...layer, dropped: [1] }, 0), false);
  });
});
