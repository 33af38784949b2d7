import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { entropyBits, mapLabels, SpotCheckContext, SpotCheckReportBuilder } from '../../../../src/core/spotcheck/report';
import { fakeAnalysis, MODEL, threeExamples } from './fake';
import { wilsonInterval } from '../../../../src/shared/stats';

const near = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

function context(over: Partial<SpotCheckContext> = {}): SpotCheckContext {
  return {
    dataset: {
      path: '/d/x.tsv',
      format: 'tsv',
      columns: ['sentence', 'label'],
      text_column: 'sentence',
      pair_column: null,
      label_column: 'label',
      rows: 4,
      records: 3,
    },
    sample: { requested: 500, seed: 0, size: 3, stratified: false, strata: [], note: null },
    provider: { requested: 'cpu', used: 'cpu', skipped: [] },
    threads: 1,
    cancelled: false,
    elapsedMs: 1500,
    readerSkipped: { count: 1, first: [{ line: 4, reason: 'expected 2 columns, found 3' }] },
    createdAt: new Date('2026-01-02T03:04:05Z'),
    ...over,
  };
}

function build(labels?: [string, string, string], minTokenCount = 1) {
  const b = new SpotCheckReportBuilder(MODEL, { minTokenCount });
  for (const { record, analysis } of threeExamples(labels)) b.add(record, analysis);
  return b.build(context());
}

describe('label mapping', () => {
  const M = ['negative', 'positive'];
  it('exact, case-insensitive, index, mixed', () => {
    assert.equal(mapLabels(['positive', 'negative'], M).strategy, 'exact');
    const ci = mapLabels(['Positive', 'NEGATIVE'], M);
    assert.equal(ci.strategy, 'case-insensitive');
    assert.deepEqual(
      ci.pairs.map((p) => [p.dataset_label, p.model_label]),
      [
        ['NEGATIVE', 'negative'],
        ['Positive', 'positive'],
      ],
    );
    const idx = mapLabels(['1', '0', '1'], M);
    assert.equal(idx.strategy, 'index');
    assert.deepEqual(
      idx.pairs.map((p) => p.model_label),
      ['negative', 'positive'],
    );
    assert.match(idx.note!, /mapped by index: 0 → negative, 1 → positive/);
    assert.equal(mapLabels(['positive', '0'], M).strategy, 'mixed');
    assert.equal(mapLabels(['0', '1'], ['0', '1']).pairs[0].by, 'exact', 'a name match wins over an index');
  });

  it('no match: strategy none with a clear note; out-of-range index does not map', () => {
    const none = mapLabels(['entailment', 'not_entailment'], M);
    assert.equal(none.strategy, 'none');
    assert.match(
      none.note!,
      /"entailment", "not_entailment" do not match the model's labels \["negative", "positive"\].*accuracy is not computed/,
    );
    assert.equal(mapLabels(['0', '2'], M).strategy, 'none');
    assert.equal(mapLabels([], M).strategy, 'no-labels');
  });
});

describe('SpotCheckReport statistics (hand-computed)', () => {
  const r = build();

  it('accuracy, confusion and predicted counts', () => {
    assert.equal(r.n, 3);
    assert.equal(r.labelled, 3);
    assert.equal(r.correct, 2);
    near(r.accuracy!, 2 / 3);
    assert.equal(r.label_mapping.strategy, 'index');
    assert.deepEqual(r.confusion, {
      rows: ['negative', 'positive'],
      rows_are: 'model-labels',
      columns: ['negative', 'positive'],
      matrix: [
        [1, 1],
        [0, 1],
      ],
    });
    assert.deepEqual(r.predicted_counts, [
      { label: 'negative', count: 1 },
      { label: 'positive', count: 2 },
    ]);
  });

  it('per-example rows', () => {
    assert.deepEqual(
      r.examples.map((x) => [x.line, x.label, x.gold, x.predicted, x.correct, x.tokens]),
      [
        [2, '1', 'positive', 'positive', true, 3],
        [3, '0', 'negative', 'positive', false, 4],
        [5, '0', 'negative', 'negative', true, 3],
      ],
    );
    near(r.examples[0].confidence!, 0.8);
    near(r.examples[0].mean_k, 7 / 6);
    near(r.examples[1].mean_k, 1.5);
    near(r.examples[2].mean_k, 1.5);
    // e1 has one content token -> entropy 0; e2: importance 1 and 3 -> p = 1/4, 3/4.
    near(r.examples[0].importance_entropy!, 0);
    near(r.examples[1].importance_entropy!, -(0.25 * Math.log2(0.25) + 0.75 * Math.log2(0.75)));
  });

  it('K histogram, mean K, expert load with dead experts, co-activation (special tokens counted)', () => {
    assert.equal(r.tokens, 10);
    // L0 K: e1 1,2,1; e2 2,2,2,2; e3 1,1,1 -> K1: 5, K2: 5. L1 K: e1 1,1,1; e2 1x4; e3 2x3 -> K1: 7, K2: 3.
    assert.deepEqual(r.k_histogram.per_layer, [
      [0, 5, 5],
      [0, 7, 3],
    ]);
    assert.deepEqual(r.k_histogram.overall, [0, 12, 8]);
    near(r.mean_k.per_layer[0], 15 / 10);
    near(r.mean_k.per_layer[1], 13 / 10);
    near(r.mean_k.overall, 28 / 20);
    assert.deepEqual(r.expert_load[0].tokens, [10, 5, 0]);
    assert.deepEqual(r.expert_load[1].tokens, [3, 10, 0]);
    assert.deepEqual(r.expert_load[0].dead, [2]);
    assert.deepEqual(r.expert_load[1].dead, [2]);
    near(r.expert_load[0].utilisation[0], 10 / 5);
    assert.deepEqual(r.co_activation[0], [
      [10, 5, 0],
      [5, 5, 0],
      [0, 0, 0],
    ]);
    assert.equal(r.flops.spent, 28 * 10);
    assert.equal(r.flops.fixed_top_k_max, 20 * 2 * 10);
  });

  it('routing per dataset label and per prediction', () => {
    assert.deepEqual(
      r.routing_by_label.map((g) => [g.label, g.model_label, g.n, g.tokens]),
      [
        ['0', 'negative', 2, 7],
        ['1', 'positive', 1, 3],
      ],
    );
    const neg = r.routing_by_label[0];
    near(neg.mean_k.overall, 21 / 14);
    near(neg.mean_k.per_layer[0], 11 / 7);
    near(neg.mean_k.per_layer[1], 10 / 7);
    near(r.routing_by_label[1].mean_k.overall, 7 / 6);
    assert.deepEqual(neg.expert_load[0].tokens, [7, 4, 0]);
    assert.deepEqual(
      r.routing_by_prediction.map((g) => [g.label, g.n]),
      [
        ['negative', 1],
        ['positive', 2],
      ],
    );
  });

  it('token importance: content tokens only, aggregated by text, minimum count honoured, most and least disjoint', () => {
    const ti = r.token_importance;
    assert.equal(ti.special_tokens, 'excluded');
    // Three tokens ranked film 3 > good 2 > bad 1.5: "most" takes the top half (the median included), "least" the rest.
    assert.deepEqual(
      ti.most.map((x) => [x.token, x.count, x.mean_importance]),
      [
        ['film', 1, 3],
        ['good', 1, 2],
      ],
    );
    assert.deepEqual(
      ti.least.map((x) => [x.token, x.count, x.mean_importance]),
      [['bad', 2, 1.5]],
    );
    assert.deepEqual(
      ti.most.filter((m) => ti.least.some((l) => l.token === m.token)),
      [],
      'no token in both lists',
    );
    assert.ok(!ti.most.some((x) => x.token.startsWith('[')));
    const min2 = build(undefined, 2).token_importance;
    assert.deepEqual(
      min2.most.map((x) => x.token),
      ['bad'],
    );
    assert.deepEqual(min2.least, [], 'one qualifying token: it is not also the least important');
  });

  it('skipped rows, throughput, metadata', () => {
    assert.deepEqual(r.skipped, { count: 1, reader: 1, run: 0, first: [{ line: 4, reason: 'expected 2 columns, found 3' }] });
    near(r.examples_per_second, 2);
    assert.equal(r.model.name, 'fake');
    assert.deepEqual(r.execution_provider, { requested: 'cpu', used: 'cpu', skipped: [] });
    assert.equal(r.cancelled, false);
    assert.equal(r.created_at, '2026-01-02T03:04:05.000Z');
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
  });

  it('labels that do not map: accuracy null, confusion by dataset label, no gold', () => {
    const u = build(['entailment', 'not_entailment', 'not_entailment']);
    assert.equal(u.accuracy, null);
    assert.equal(u.correct, null);
    assert.equal(u.label_mapping.strategy, 'none');
    assert.deepEqual(u.confusion, {
      rows: ['entailment', 'not_entailment'],
      rows_are: 'dataset-labels',
      columns: ['negative', 'positive'],
      matrix: [
        [0, 1],
        [1, 1],
      ],
    });
    assert.ok(u.examples.every((x) => x.correct === null && x.gold === null));
    assert.deepEqual(
      u.routing_by_label.map((g) => g.model_label),
      [null, null],
    );
  });

  it('exact names; unlabelled rows are excluded from accuracy', () => {
    const b = new SpotCheckReportBuilder(MODEL);
    const ex = threeExamples(['positive', 'negative', 'negative']);
    b.add(ex[0].record, ex[0].analysis);
    b.add(ex[1].record, ex[1].analysis);
    b.add({ line: 9, text: 'bad' }, ex[2].analysis);
    const x = b.build(context());
    assert.equal(x.label_mapping.strategy, 'exact');
    assert.equal(x.labelled, 2);
    near(x.accuracy!, 1 / 2);
    assert.equal(x.examples[2].correct, null);
  });

  it('no labels at all: accuracy and confusion null, routing by prediction only', () => {
    const b = new SpotCheckReportBuilder(MODEL);
    for (const { record, analysis } of threeExamples()) b.add({ line: record.line, text: record.text }, analysis);
    const x = b.build(context());
    assert.equal(x.accuracy, null);
    assert.equal(x.confusion, null);
    assert.equal(x.label_mapping.strategy, 'no-labels');
    assert.deepEqual(x.routing_by_label, []);
    assert.equal(x.routing_by_prediction.length, 2);
  });

  it('models without importance: entropy null, token lists empty, no NaN in JSON', () => {
    const model = { ...MODEL, importanceAvailable: false };
    const b = new SpotCheckReportBuilder(model, { minTokenCount: 1 });
    const a = fakeAnalysis(
      'x y',
      [
        { text: 'x', k: [1, 1], imp: [NaN, NaN] },
        { text: 'y', k: [1, 1], imp: [NaN, NaN] },
      ],
      [0.3, 0.7],
      model,
    );
    b.add({ line: 2, text: 'x y', label: '1' }, a);
    const x = b.build(context());
    assert.equal(x.examples[0].importance_entropy, null);
    assert.equal(x.token_importance.available, false);
    assert.deepEqual(x.token_importance.most, []);
    assert.doesNotMatch(JSON.stringify(x), /NaN/);
  });

  it('entropyBits', () => {
    near(entropyBits([1, 1, 1, 1])!, 2);
    assert.equal(entropyBits([]), null);
    assert.equal(entropyBits([0, 0]), null);
    assert.equal(entropyBits([1, NaN]), null);
  });
});

describe('expert specialisation (lift) and routing per group', () => {
  // Content tokens of threeExamples (special tokens are left out): good, bad, film (line 3), bad (line 5): N = 4;
  // occurrences good 1, bad 2, film 1. Layer 0 sends K tokens to [0, 1][:K], layer 1 to [1, 0][:K]:
  //   layer 0: good K2 {0,1}, bad K2 {0,1}, film K2 {0,1}, bad K1 {0}  -> expert 0 gets 4 assignments, expert 1 gets 3
  //   layer 1: good K1 {1},   bad K1 {1},   film K1 {1},   bad K2 {1,0} -> expert 1 gets 4, expert 0 gets 1 (bad)
  // lift = (count / expert's assignments) / (occurrences / N):
  //   layer 0 expert 1: good (1/3)/(1/4) = 4/3, film 4/3, bad (1/3)/(2/4) = 2/3
  //   layer 0 expert 0: every token (c/4)/(c/4) = 1
  //   layer 1 expert 0: bad (1/1)/(2/4) = 2
  function built(specialisationMinCount: number, groupColumn: string | null = null, groups: (string | undefined)[] = []) {
    const b = new SpotCheckReportBuilder(MODEL, { minTokenCount: 1, specialisationMinCount }, groupColumn);
    threeExamples().forEach(({ record, analysis }, i) =>
      b.add(groups[i] === undefined ? record : { ...record, group: groups[i] }, analysis),
    );
    return b.build(context());
  }

  it('lists the tokens of each expert by lift, ties by count then text', () => {
    const r = built(1);
    const sp = r.expert_specialisation!;
    assert.equal(sp.length, 2);
    assert.deepEqual(
      sp[0].map((x) => x.expert),
      [0, 1, 2],
    );
    const l0e1 = sp[0][1].tokens;
    assert.deepEqual(
      l0e1.map((t) => t.token),
      ['film', 'good', 'bad'],
    );
    near(l0e1[0].lift, 4 / 3);
    near(l0e1[2].lift, 2 / 3);
    assert.deepEqual(
      sp[0][0].tokens.map((t) => [t.token, t.count, t.lift]),
      [
        ['bad', 2, 1],
        ['film', 1, 1],
        ['good', 1, 1],
      ],
    );
    assert.deepEqual(sp[1][0].tokens, [{ token: 'bad', count: 1, lift: 2 }]);
    // Expert 2 is never chosen: no tokens. [CLS]/[SEP] never appear.
    assert.deepEqual(sp[1][2].tokens, []);
    assert.ok(sp.flat().every((x) => x.tokens.every((t) => !t.token.startsWith('['))));
    assert.equal(r.expert_specialisation_min_count, 1);
  });

  it('the minimum count drops tokens an expert saw too rarely', () => {
    const r = built(2);
    // Only "bad" reaches 2 in an expert: layer 0 expert 0 (2 of its 4) and layer 1 expert 1 (2 of 4).
    assert.deepEqual(
      r.expert_specialisation!.flatMap((layer, l) => layer.flatMap((x) => x.tokens.map((t) => `${l}/${x.expert}/${t.token}/${t.count}`))),
      ['0/0/bad/2', '1/1/bad/2'],
    );
  });

  it('--group-column: routing statistics per value, empty cells in "(empty)"', () => {
    const r = built(1, 'domain', ['news', 'reviews', undefined]);
    const g = r.routing_by_group!;
    assert.deepEqual(
      g.map((x) => [x.label, x.n, x.tokens]),
      [
        ['(empty)', 1, 3],
        ['news', 1, 3],
        ['reviews', 1, 4],
      ],
    );
    // news = line 2: K L0 1,2,1 and L1 1,1,1 -> mean K (4 + 3) / 6; per layer 4/3 and 1.
    near(g[1].mean_k.overall, 7 / 6);
    assert.deepEqual(
      g[1].mean_k.per_layer.map((x) => +x.toFixed(6)),
      [1.333333, 1],
    );
    assert.deepEqual(g[1].expert_load[0].tokens, [3, 1, 0]);
    assert.deepEqual(built(1).routing_by_group, []);
    // Accuracy per group: line 5 (empty) and line 2 (news) right, line 3 (reviews) wrong; Wilson's interval of 1 of 1.
    assert.deepEqual(
      g.map((x) => [x.label, x.labelled, x.correct, x.accuracy]),
      [
        ['(empty)', 1, 1, 1],
        ['news', 1, 1, 1],
        ['reviews', 1, 0, 0],
      ],
    );
    assert.deepEqual(g[1].accuracy_ci95, wilsonInterval(1, 1));
    // Load shift: news's layer 0 shares 3/4, 1/4, 0 against the sample's 10/15, 5/15, 0: TVD (1/12 + 1/12) / 2.
    near(g[1].expert_load_shift![0], 1 / 12);
  });

  it('accuracy per dataset label and per prediction; no accuracy when the labels do not map', () => {
    const r = built(1);
    // Label 0: line 3 wrong, line 5 right. Predicted positive: line 2 right, line 3 wrong; negative: line 5 right.
    assert.deepEqual(
      r.routing_by_label.map((x) => [x.label, x.labelled, x.correct]),
      [
        ['0', 2, 1],
        ['1', 1, 1],
      ],
    );
    assert.deepEqual(
      r.routing_by_prediction.map((x) => [x.label, x.labelled, x.correct, x.accuracy]),
      [
        ['negative', 1, 1, 1],
        ['positive', 2, 1, 0.5],
      ],
    );
    const b = new SpotCheckReportBuilder(MODEL, { minTokenCount: 1 }, 'domain');
    for (const { record, analysis } of threeExamples(['x', 'y', 'z'])) b.add({ ...record, group: 'a' }, analysis);
    const none = b.build(context()).routing_by_group![0];
    assert.deepEqual([none.labelled, none.correct, none.accuracy, none.accuracy_ci95], [3, null, null, null]);
  });
});
