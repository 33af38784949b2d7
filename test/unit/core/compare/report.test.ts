import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildCompareReport, type FullText } from '../../../../src/core/compare/report';
import type { SpotCheckReport } from '../../../../src/shared/spotcheck-report';
import { mcnemarExactP } from '../../../../src/shared/stats';
import { makeFakeSpotCheck } from '../../webview/fake-spotcheck';

/** A copy of `base` whose example i is predicted `pred(i)` (gold stays), dropping the lines in `drop`. */
function variant(base: SpotCheckReport, pred: (i: number, gold: string | null) => string, drop: number[] = []): SpotCheckReport {
  const examples = base.examples
    .map((x, i) => {
      const predicted = pred(i, x.gold);
      return { ...x, predicted, correct: x.gold === null ? null : predicted === x.gold };
    })
    .filter((x) => !drop.includes(x.line));
  const labelled = examples.filter((x) => x.correct !== null).length;
  const correct = examples.filter((x) => x.correct === true).length;
  return { ...base, examples, n: examples.length, labelled, correct, accuracy: labelled ? correct / labelled : null };
}

const flip = (g: string | null): string => (g === 'positive' ? 'negative' : 'positive');

describe('buildCompareReport', () => {
  const base = makeFakeSpotCheck({ examples: 10 });
  const lines = base.examples.map((x) => x.line);
  // A is right on examples 0..7, B on 2..9: A only on 0, 1; B only on 8, 9 (drop example 9 from B: one fewer pair).
  const a = variant(base, (i, g) => (i <= 7 ? g! : flip(g)));
  const b = variant(base, (i, g) => (i >= 2 ? g! : flip(g)), [lines[9]]);
  const full = new Map<number, FullText>(lines.map((l) => [l, { text: `whole text of line ${l}`, pair: null }]));

  it('pairs by line on the examples both analysed; McNemar on the discordant pairs', () => {
    const r = buildCompareReport(['A', 'B'], [a, b], full, { seed: 1, resamples: 500 });
    // 9 pairs: A right on 0..7 (8), B right on 2..8 (7) -> difference (8 - 7) / 9; discordant: A only {0, 1}, B only {8}.
    assert.equal(r.paired!.n, 9);
    assert.ok(Math.abs(r.paired!.difference - 1 / 9) < 1e-12);
    assert.equal(r.paired!.first_only_correct, 2);
    assert.equal(r.paired!.second_only_correct, 1);
    assert.equal(r.paired!.mcnemar_p, mcnemarExactP(2, 1)); // 2 * (1 + 3) / 8 = 1
    assert.equal(r.paired!.mcnemar_p, 1);
    // Each model's own accuracy is over its own examples (B: 7 of 9).
    assert.equal(r.models[0].accuracy, 8 / 10);
    assert.equal(r.models[1].accuracy, 7 / 9);
    assert.ok(r.models[1].ci95![0] < 7 / 9 && 7 / 9 < r.models[1].ci95![1]);
  });

  it('lists disagreements with the whole text, in line order, capped but counted', () => {
    const r = buildCompareReport(['A', 'B'], [a, b], full, { resamples: 100 });
    assert.equal(r.common, 9);
    assert.deepEqual(
      r.disagreements.map((d) => d.line),
      [lines[0], lines[1], lines[8]],
    );
    assert.equal(r.disagreements[0].text, `whole text of line ${lines[0]}`);
    assert.deepEqual(r.disagreements[0].correct, [true, false]);
    const capped = buildCompareReport(['A', 'B'], [a, b], full, { resamples: 100, maxDisagreements: 2 });
    assert.equal(capped.disagreements.length, 2);
    assert.equal(capped.disagreements_total, 3);
  });

  it('three models: each paired against the first; adding a model leaves the first pair as it was', () => {
    const c = variant(base, (i, g) => g!);
    const two = buildCompareReport(['A', 'B'], [a, b], full, { seed: 5, resamples: 300 });
    const three = buildCompareReport(['A', 'B', 'C'], [a, b, c], full, { seed: 5, resamples: 300 });
    assert.deepEqual(
      three.paired_with_first.map((p) => [p.first, p.second]),
      [
        ['A', 'B'],
        ['A', 'C'],
      ],
    );
    assert.deepEqual(three.paired, two.paired);
    assert.ok(Math.abs(three.paired_with_first[1].difference - (8 / 10 - 1)) < 1e-12);
  });

  it('without labels: accuracies and paired statistics are null, disagreements still listed', () => {
    const unlabelled = makeFakeSpotCheck({ examples: 6, labels: 'none' });
    const x = variant(unlabelled, () => 'positive');
    const y = variant(unlabelled, (i) => (i < 2 ? 'negative' : 'positive'));
    const r = buildCompareReport(['X', 'Y'], [x, y], new Map(), { resamples: 100 });
    assert.equal(r.paired, null);
    assert.deepEqual(r.paired_with_first, []);
    assert.equal(r.models[0].ci95, null);
    assert.equal(r.disagreements_total, 2);
    assert.deepEqual(r.disagreements[0].correct, [null, null]);
  });
});
