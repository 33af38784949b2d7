import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { describeKRule, kFromRule, kRuleOf, kThresholds } from '../../../src/shared/k-rule';

describe('k-rule (thresholds from the moe.contract metadata)', () => {
  it('k_scale: steps at k / (k_scale · k_max)', () => {
    const rule = kRuleOf({ routerKind: 'da-moe', kMax: 4, importanceDefinition: { k_scale: 0.375, k_rule: 'K = …' } });
    assert.equal(rule.source, 'k_scale');
    assert.deepEqual(
      kThresholds(rule, 3).map((x) => +x.toFixed(6)),
      [0.666667, 1.333333, 2],
    );
    assert.equal(kFromRule(rule, 0, 0.6), 1);
    assert.equal(kFromRule(rule, 0, 0.7), 2);
    assert.equal(kFromRule(rule, 0, 9), 4);
    assert.match(describeKRule(rule, 0), /K=1 up to 0\.667, K=2 up to 1\.333, K=3 up to 2\.000, K=4 above 2\.000/);
  });

  it('k_calibration: one s per layer wins over k_scale', () => {
    const rule = kRuleOf({
      routerKind: 'da-moe',
      kMax: 3,
      importanceDefinition: { k_scale: 0.5, k_calibration: { method: 'mean-k', target_mean_k: 2, s_per_layer: [2, 4] } },
    });
    assert.equal(rule.source, 'k_calibration');
    assert.deepEqual(kThresholds(rule, 0), [0.5, 1]);
    assert.deepEqual(kThresholds(rule, 1), [0.25, 0.5]);
    assert.deepEqual(kThresholds(rule, 2), [], 'a layer the calibration does not cover');
  });

  it('fixed top-k and a DA-MoE model without numbers draw no thresholds', () => {
    assert.deepEqual(kThresholds(kRuleOf({ routerKind: 'top-k', kMax: 2, importanceDefinition: null }), 0), []);
    const unknown = kRuleOf({ routerKind: 'da-moe', kMax: 4, importanceDefinition: { k_scale: 'x' } });
    assert.equal(unknown.kind, 'unknown');
    assert.deepEqual(kThresholds(unknown, 0), []);
    assert.equal(describeKRule(unknown, 0), 'the model does not state its K rule');
  });
});
