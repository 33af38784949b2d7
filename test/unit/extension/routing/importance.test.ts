import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { highlightClasses, importanceBuckets } from '../../../../src/extension/routing/importance';
import { makeAnalysis } from '../fixtures';

describe('importance buckets', () => {
  it("buckets the selected layer's importance relative to that layer's maximum; specials get none", () => {
    // layer 0: the 0.5, quick 1.5 (max), fox 1.0 → floor(0.33*5)=1, 5 capped to 4, floor(0.67*5)=3
    assert.deepEqual(importanceBuckets(makeAnalysis(), 0), [-1, 1, 4, 3, -1]);
    // layer 1: quick 2.5 (max) → the 1, fox 2
    assert.deepEqual(importanceBuckets(makeAnalysis(), 1), [-1, 1, 4, 2, -1]);
  });
  it('no importance → no highlights', () => {
    const a = makeAnalysis();
    a.model.routingSource = 'router_logits';
    assert.deepEqual(importanceBuckets(a), [-1, -1, -1, -1, -1]);
  });
});

describe('highlight classes (the panel toggle / damoe.highlights.colorBy)', () => {
  it('by K: K = 1..4 of k_max 4 are levels 0..3; specials get none', () => {
    assert.deepEqual(highlightClasses(makeAnalysis(), 'k', 0), { effective: 'k', classes: [-1, 0, 2, 1, -1] });
  });
  it('by K with k_max 8: K spread over the four levels', () => {
    const a = makeAnalysis();
    a.model.kMax = 8;
    a.layers[0].k = [1, 1, 8, 4, 1];
    assert.deepEqual(highlightClasses(a, 'k', 0).classes, [-1, 0, 3, 1, -1]);
  });
  it("by top expert: the first expert's colour, modulo 8", () => {
    const a = makeAnalysis();
    a.layers[1].experts[3] = [11, 4];
    assert.deepEqual(highlightClasses(a, 'expert', 1), { effective: 'expert', classes: [-1, 2, 5, 3, -1] });
  });
  it('a fixed-K model coloured by K falls back to importance (K says nothing there)', () => {
    const a = makeAnalysis();
    a.model.routerKind = 'top-k';
    assert.deepEqual(highlightClasses(a, 'k', 0), { effective: 'importance', classes: [-1, 1, 4, 3, -1] });
  });
});
