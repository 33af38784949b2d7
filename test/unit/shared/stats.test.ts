import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  averageRanks,
  conditionalCoActivation,
  formatAccuracy,
  formatP,
  formatPointsWithCi,
  lift,
  mcnemarExactP,
  pairedBootstrapDifference,
  quantileSorted,
  shareDifferences,
  totalVariation,
  spearman,
  spearmanInterval,
  wilsonInterval,
} from '../../../src/shared/stats';
import { createRng } from '../../../src/core/spotcheck/rng';

const near = (a: number, b: number, eps = 1e-6): void => assert.ok(Math.abs(a - b) < eps, `${a} != ${b} (±${eps})`);

describe('Wilson score interval', () => {
  it('8 of 10', () => {
    // p = 0.8, z^2 = 3.8414588, z^2/n = 0.3841459; centre = (0.8 + 0.1920729) / 1.3841459 = 0.7167402;
    // half = (1.959964 / 1.3841459) * sqrt(0.8 * 0.2 / 10 + 3.8414588 / 400) = 1.4160097 * 0.1600114 = 0.2265777
    // -> [0.4901625, 0.9433178]
    const [lo, hi] = wilsonInterval(8, 10)!;
    near(lo, 0.4901625);
    near(hi, 0.9433178);
  });
  it('16 of 20 (the issue\'s "80.0% on 20 examples")', () => {
    // centre = (0.8 + 3.8414588/40) / (1 + 3.8414588/20) = 0.8960365 / 1.1920729 = 0.7516625;
    // half = (1.959964 / 1.1920729) * sqrt(0.008 + 3.8414588/1600) = 1.6441645 * 0.1019849 = 0.1676799
    // -> [0.5839826, 0.9193423]
    const [lo, hi] = wilsonInterval(16, 20)!;
    near(lo, 0.5839826);
    near(hi, 0.9193423);
  });
  it('0 of n and n of n stay inside [0, 1] and are not degenerate', () => {
    // 0 of 10: centre = (3.8414588/20) / 1.3841459 = 0.1387664; half = 1.4160097 * sqrt(3.8414588/400) = 0.1387664
    // (the same), so [0, 0.2775328]
    const [lo0, hi0] = wilsonInterval(0, 10)!;
    near(lo0, 0);
    near(hi0, 0.2775328);
    const [lo1, hi1] = wilsonInterval(10, 10)!;
    near(lo1, 1 - 0.2775328);
    near(hi1, 1);
  });
  it('no examples, or impossible counts: null', () => {
    assert.equal(wilsonInterval(0, 0), null);
    assert.equal(wilsonInterval(3, 2), null);
  });
});

describe("McNemar's exact test", () => {
  it('b = 1, c = 5: 2 * (C(6,0) + C(6,1)) / 2^6 = 2 * 7 / 64 = 0.21875', () => {
    near(mcnemarExactP(1, 5), 0.21875, 1e-12);
    near(mcnemarExactP(5, 1), 0.21875, 1e-12);
  });
  it('b = 0, c = 10: 2 / 1024; b = 2, c = 12: 2 * (1 + 14 + 91) / 16384', () => {
    near(mcnemarExactP(0, 10), 2 / 1024, 1e-12);
    near(mcnemarExactP(2, 12), (2 * 106) / 16384, 1e-12);
  });
  it('balanced discordant pairs and none at all give 1 (capped, never above)', () => {
    // b = c = 3: 2 * (1 + 6 + 15 + 20) / 64 = 84/64 > 1 -> 1
    assert.equal(mcnemarExactP(3, 3), 1);
    assert.equal(mcnemarExactP(0, 0), 1);
  });
  it('thousands of discordant pairs neither underflow nor overflow', () => {
    // 2^-3000 underflows a double; in log space P(X <= 1400) for n = 3000 is ~1e-4: 2 * that, well above 0.
    const p = mcnemarExactP(1400, 1600);
    assert.ok(p > 1e-5 && p < 1e-2, String(p));
    // Symmetric in its arguments and monotone in the imbalance.
    assert.equal(mcnemarExactP(1600, 1400), p);
    assert.ok(mcnemarExactP(1450, 1550) > p);
  });
});

describe('paired bootstrap of an accuracy difference', () => {
  it('the point estimate is mean(a) - mean(b); identical per-example differences give a zero-width interval', () => {
    // Every example: A right, B wrong -> d = 1 for all, each resample's mean is 1.
    const a = [true, true, true, true];
    const b = [false, false, false, false];
    const r = pairedBootstrapDifference(a, b, { resamples: 200, rng: createRng(1) })!;
    assert.equal(r.difference, 1);
    assert.deepEqual(r.ci95, [1, 1]);
    assert.equal(r.n, 4);
  });
  it('two examples, d = [1, 0]: resampled means are 0, 0.5, 1 with P 1/4, 1/2, 1/4, so the 95% interval is [0, 1]', () => {
    const r = pairedBootstrapDifference([true, true], [false, true], { resamples: 10_000, rng: createRng(42) })!;
    assert.equal(r.difference, 0.5);
    assert.deepEqual(r.ci95, [0, 1]);
  });
  it('is seeded: the same seed gives the same interval, another seed a slightly different one', () => {
    const rng = createRng(7);
    const a = Array.from({ length: 300 }, () => rng() < 0.8);
    const b = a.map((x, i) => (i % 11 === 0 ? !x : x));
    const one = pairedBootstrapDifference(a, b, { resamples: 2000, rng: createRng(42) })!;
    const two = pairedBootstrapDifference(a, b, { resamples: 2000, rng: createRng(42) })!;
    const other = pairedBootstrapDifference(a, b, { resamples: 2000, rng: createRng(43) })!;
    assert.deepEqual(one, two);
    assert.notDeepEqual(one.ci95, other.ci95);
  });
  it('agrees with the normal approximation of the paired difference on a study-sized sample', () => {
    // n = 678 (sentence-dev), 30 examples only A gets right, 40 only B: d has mean -10/678 and variance
    // (30 + 40)/678 - (10/678)^2 = 0.10303; SE = sqrt(0.10303 / 678) = 0.012327; 95% half width 1.96 SE = 0.02416.
    const n = 678;
    const a: boolean[] = [];
    const b: boolean[] = [];
    for (let i = 0; i < n; i++) {
      a.push(i < 30 || i >= 100);
      b.push((i >= 30 && i < 70) || i >= 100);
    }
    const r = pairedBootstrapDifference(a, b, { resamples: 10_000, rng: createRng(42) })!;
    near(r.difference, -10 / 678, 1e-12);
    near(r.ci95[0], -10 / 678 - 0.02416, 0.002);
    near(r.ci95[1], -10 / 678 + 0.02416, 0.002);
  });
  it('refuses unpaired samples; no pairs give null', () => {
    assert.throws(() => pairedBootstrapDifference([true], [true, false], { resamples: 10, rng: createRng(1) }), /differ in length/);
    assert.equal(pairedBootstrapDifference([], [], { resamples: 10, rng: createRng(1) }), null);
  });
  it('quantiles interpolate between order statistics as numpy.percentile does', () => {
    // [1, 2, 3, 4]: q = 0.25 -> position 0.75 -> 1 + 0.75 * (2 - 1) = 1.75
    assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
    assert.equal(quantileSorted([1, 2, 3, 4], 1), 4);
  });
});

describe("Spearman's rank correlation", () => {
  it('average ranks for ties', () => {
    // 5 -> 1, 6 -> 2, the two 7s share ranks 3 and 4 -> 3.5, 8 -> 5
    assert.deepEqual([...averageRanks([5, 6, 7, 8, 7])], [1, 2, 3.5, 5, 3.5]);
  });
  it('x = 1..5, y = [5, 6, 7, 8, 7]: rho = 8 / sqrt(10 * 9.5) = 0.8207827', () => {
    // rank deviations: x [-2, -1, 0, 1, 2], y [-2, -1, 0.5, 2, 0.5]; sum of products 4 + 1 + 0 + 2 + 1 = 8;
    // sums of squares 10 and 4 + 1 + 0.25 + 4 + 0.25 = 9.5
    near(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])!, 8 / Math.sqrt(95), 1e-12);
  });
  it('is a rank statistic: any increasing transform gives 1, a decreasing one -1', () => {
    const x = [0.3, 2, 1.5, 9, -4];
    near(
      spearman(
        x,
        x.map((v) => Math.exp(v)),
      )!,
      1,
      1e-12,
    );
    near(
      spearman(
        x,
        x.map((v) => -(v ** 3)),
      )!,
      -1,
      1e-12,
    );
  });
  it('a constant side has no rank correlation: null, not NaN', () => {
    assert.equal(spearman([1, 2, 3], [4, 4, 4]), null);
    assert.equal(spearman([1], [2]), null);
  });
  it("95% interval by Fisher's z with variance 1.06 / (n - 3)", () => {
    // atanh(0.5) = 0.549306, half-width 1.959964 * sqrt(1.06 / 100) = 0.201790 -> tanh of 0.347516 and 0.751096
    const [lo, hi] = spearmanInterval(0.5, 103)!;
    near(lo, 0.33417, 1e-5);
    near(hi, 0.635803, 1e-5);
    assert.equal(spearmanInterval(0.5, 3), null);
    assert.equal(spearmanInterval(null, 100), null);
    assert.deepEqual(spearmanInterval(-1, 10), [-1, -1]);
  });
});

describe('lift', () => {
  it('share of the expert over share of all tokens', () => {
    // "not": 30 of the expert's 200 assignments (15%), 100 of all 10,000 tokens (1%) -> 15
    assert.equal(lift(30, 200, 100, 10_000), 15);
    // a token the expert gets at chance rate: 2 of 200 (1%) vs 100 of 10,000 (1%) -> 1
    assert.equal(lift(2, 200, 100, 10_000), 1);
    assert.equal(lift(1, 0, 100, 10_000), null);
  });
});

describe('formatting', () => {
  it('accuracy with its interval, a difference in points, p-values', () => {
    assert.equal(formatAccuracy(16, 20), '80.0% [58.4, 91.9] (16 of 20)');
    assert.equal(formatAccuracy(0, 0), 'n/a');
    assert.equal(formatPointsWithCi(-0.0044, [-0.016, 0.009]), '-0.4 pts [-1.6, +0.9]');
    assert.equal(formatP(0.0312), 'p = 0.031');
    assert.equal(formatP(0.62), 'p = 0.62');
    assert.equal(formatP(0.00001), 'p < 0.001');
  });
});

describe('co-activation as P(j | i)', () => {
  it('divides each row by its diagonal and leaves the diagonal out', () => {
    // Expert 0 chose 10 tokens, 4 of them also with expert 1; expert 1 chose 8, 4 with expert 0, 2 with expert 2;
    // expert 2 chose 2, both with expert 1. P(1|0) = 4/10, P(0|1) = 4/8, P(2|1) = 2/8, P(1|2) = 2/2.
    assert.deepEqual(
      conditionalCoActivation([
        [10, 4, 0],
        [4, 8, 2],
        [0, 2, 2],
      ]),
      [
        [null, 0.4, 0],
        [0.5, null, 0.25],
        [0, 1, null],
      ],
    );
    // An expert that chose nothing has no conditional row.
    assert.deepEqual(conditionalCoActivation([[0]]), [[null]]);
  });
});

describe("share differences and total variation (a group's expert load against the sample's)", () => {
  it('part [3, 1] against whole [5, 5]: shares 0.75/0.25 vs 0.5/0.5, differences +0.25/-0.25, TVD 0.25', () => {
    assert.deepEqual(shareDifferences([3, 1], [5, 5]), [0.25, -0.25]);
    assert.equal(totalVariation([3, 1], [5, 5]), 0.25);
  });
  it('the same mix at another scale is 0; disjoint experts are 1; an empty part counts as no mix', () => {
    assert.equal(totalVariation([2, 4, 6], [10, 20, 30]), 0);
    assert.equal(totalVariation([0, 7], [9, 0]), 1);
    assert.deepEqual(shareDifferences([0, 0], [1, 3]), [-0.25, -0.75]);
  });
});
