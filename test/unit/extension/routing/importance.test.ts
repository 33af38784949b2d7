import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { importanceBuckets } from '../../../../src/extension/routing/importance';
import { makeAnalysis } from '../fixtures';

describe('importance buckets', () => {
  it('buckets mean importance relative to the maximum; specials get none', () => {
    const b = importanceBuckets(makeAnalysis());
    // means: the 0.5, quick 2.0 (max), fox 1.0 → floor(0.25*5)=1, 5 capped to 4, floor(0.5*5)=2
    assert.deepEqual(b, [-1, 1, 4, 2, -1]);
  });
  it('no importance → no highlights', () => {
    const a = makeAnalysis();
    a.model.routingSource = 'router_logits';
    assert.deepEqual(importanceBuckets(a), [-1, -1, -1, -1, -1]);
  });
});
