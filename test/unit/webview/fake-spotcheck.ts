/**
 * A SpotCheckReport built by the real SpotCheckReportBuilder from deterministic fake analyses (no model needed), for
 * the spot-check webview tests and the host logic tests.
 */
import { RoutingStatsAccumulator } from '../../../src/core/analysis/stats';
import type { Analysis, LayerRouting, ModelSummary } from '../../../src/shared/analysis';
import type { DatasetRecord } from '../../../src/core/datasets/types';
import { SpotCheckReportBuilder } from '../../../src/core/spotcheck/report';
import type { SpotCheckReport } from '../../../src/shared/spotcheck-report';

export interface FakeSpotCheckOptions {
  examples?: number;
  layers?: number;
  experts?: number;
  kMax?: number;
  /** Dataset labels (default '0'/'1', mapped by index); 'none' = no labels; 'foreign' = labels the model lacks. */
  labels?: 'index' | 'none' | 'foreign';
  cancelled?: boolean;
  /** Text of example 3 (e.g. HTML, to check it is shown as text). */
  injectText?: string;
  pair?: boolean;
  /** Group the examples by a 'domain' column (books, film, music in turn). */
  groups?: boolean;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const WORDS = [
  'the',
  'film',
  'is',
  'a',
  'moving',
  'quiet',
  'wonderful',
  'cast',
  'plot',
  'drags',
  'jokes',
  'fall',
  'flat',
  'not',
  'good',
  'bad',
  'great',
  'boring',
];

export function makeFakeSpotCheck(o: FakeSpotCheckOptions = {}): SpotCheckReport {
  const L = o.layers ?? 4;
  const E = o.experts ?? 8;
  const kMax = o.kMax ?? 4;
  const model: ModelSummary = {
    name: 'damoe-sst2',
    path: '/ext/models/damoe-sst2',
    routerKind: 'da-moe',
    numLayers: L,
    numExperts: E,
    kMax,
    labels: ['negative', 'positive'],
    maxSequenceLength: 128,
    routingSource: 'contract',
    importanceAvailable: true,
    expertFlopsPerToken: 1000,
  };
  const r = rng(7);
  const builder = new SpotCheckReportBuilder(model, { minTokenCount: 2 }, o.groups ? 'domain' : null);
  const n = o.examples ?? 24;
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 3 + Math.floor(r() * 6) }, () => WORDS[Math.floor(r() * WORDS.length)]);
    const text = i === 3 && o.injectText !== undefined ? o.injectText : words.join(' ');
    const toks = ['[CLS]', ...text.split(/\s+/).filter(Boolean), '[SEP]'];
    const layers: LayerRouting[] = Array.from({ length: L }, (_, l) => {
      const k = toks.map((_, t) => (t === 0 ? 1 : 1 + Math.floor(r() * kMax)));
      // Expert E-1 is dead in every layer.
      const experts = k.map((kk) => {
        const all = Array.from({ length: E - 1 }, (_, e) => e).sort(() => r() - 0.5);
        return all.slice(0, kk);
      });
      return {
        layer: l,
        importance: toks.map(() => r()),
        k,
        experts,
        gates: k.map((kk) => new Array(kk).fill(1 / kk)),
        routerProbs: toks.map(() => new Array(E).fill(1 / E)),
      };
    });
    const acc = new RoutingStatsAccumulator({ numLayers: L, numExperts: E, kMax, flopsPerExpertToken: 1000 });
    acc.add(layers);
    const p = r();
    const probabilities = [p, 1 - p];
    const index = p > 0.5 ? 0 : 1;
    const analysis: Analysis = {
      version: 1,
      text,
      model,
      provider: { requested: 'auto', used: 'cpu', skipped: [{ provider: 'cuda', reason: 'libcudart not found' }] },
      tokens: toks.map((t, j) => ({ index: j, id: j, text: t, start: null, end: null, special: j === 0 || j === toks.length - 1 })),
      layers,
      prediction: { index, label: model.labels[index], probabilities },
      windowing: null,
      stats: acc.result(),
      timings: { tokenizeMs: 0, inferenceMs: 1, analysisMs: 0, totalMs: 1 },
    };
    const record: DatasetRecord = { line: i + 2, text };
    if (o.pair) record.pair = 'a second sentence';
    if (o.groups) record.group = ['books', 'film', 'music'][i % 3];
    const gold = i % 3 === 0 ? index : 1 - index; // one in three correct-by-construction flips
    if (o.labels === 'foreign') record.label = gold ? 'pos' : 'neg';
    else if (o.labels !== 'none') record.label = String(i % 4 === 0 ? 1 - gold : gold);
    builder.add(record, analysis);
  }
  return builder.build({
    dataset: {
      path: '/work/data/sst2-sample.tsv',
      format: 'tsv',
      columns: o.pair ? ['sentence1', 'sentence2', 'label'] : ['sentence', 'label'],
      text_column: o.pair ? 'sentence1' : 'sentence',
      pair_column: o.pair ? 'sentence2' : null,
      label_column: o.labels === 'none' ? null : 'label',
      ...(o.groups ? { group_column: 'domain' } : {}),
      rows: n + 1,
      records: n,
    },
    sample: { requested: 500, seed: 42, size: o.cancelled ? n * 2 : n, stratified: o.labels !== 'none', strata: [], note: null },
    provider: { requested: 'auto', used: 'cpu', skipped: [{ provider: 'cuda', reason: 'libcudart not found' }] },
    threads: 0,
    cancelled: o.cancelled ?? false,
    elapsedMs: 1234,
    readerSkipped: { count: 1, first: [{ line: n + 2, reason: 'expected 2 columns, found 3' }] },
    createdAt: new Date('2025-01-01T00:00:00Z'),
  });
}
