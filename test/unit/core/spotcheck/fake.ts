/** Small hand-made Analysis objects for spot-check tests (statistics via the engine's RoutingStatsAccumulator). */
import { routingFromLayers } from '../../../../src/core/analysis/routed';
import { RoutingStatsAccumulator } from '../../../../src/core/analysis/stats';
import type { RoutedExample } from '../../../../src/core/spotcheck/report';
import type { Analysis, LayerRouting, ModelSummary } from '../../../../src/shared/analysis';

export const MODEL: ModelSummary = {
  name: 'fake',
  path: '/models/fake',
  routerKind: 'da-moe',
  numLayers: 2,
  numExperts: 3,
  kMax: 2,
  labels: ['negative', 'positive'],
  maxSequenceLength: 64,
  routingSource: 'contract',
  importanceAvailable: true,
  expertFlopsPerToken: 10,
};

export interface FakeToken {
  text: string;
  special?: boolean;
  /** K per layer. */
  k: number[];
  /** Importance per layer. */
  imp: number[];
}

/** Layer 0 routes K tokens to experts [0, 1][:K]; layer 1 to [1, 0][:K]; expert 2 is never used. */
export function fakeAnalysis(text: string, tokens: FakeToken[], probabilities: number[], model: ModelSummary = MODEL): Analysis {
  const order = [
    [0, 1, 2],
    [1, 0, 2],
  ];
  const layers: LayerRouting[] = Array.from({ length: model.numLayers }, (_, l) => ({
    layer: l,
    importance: tokens.map((t) => t.imp[l]),
    k: tokens.map((t) => t.k[l]),
    experts: tokens.map((t) => order[l % 2].slice(0, t.k[l])),
    gates: tokens.map((t) => new Array(t.k[l]).fill(1 / t.k[l])),
    routerProbs: tokens.map(() => new Array(model.numExperts).fill(1 / model.numExperts)),
  }));
  const acc = new RoutingStatsAccumulator({
    numLayers: model.numLayers,
    numExperts: model.numExperts,
    kMax: model.kMax,
    flopsPerExpertToken: 10,
  });
  acc.add(layers);
  const index = probabilities.indexOf(Math.max(...probabilities));
  return {
    version: 1,
    text,
    model,
    provider: { requested: 'cpu', used: 'cpu', skipped: [] },
    tokens: tokens.map((t, i) => ({
      index: i,
      id: i,
      text: t.text,
      start: t.special ? null : 0,
      end: t.special ? null : 1,
      special: t.special ?? false,
    })),
    layers,
    prediction: { index, label: model.labels[index], probabilities },
    windowing: null,
    stats: acc.result(),
    timings: { tokenizeMs: 0, inferenceMs: 0, analysisMs: 0, totalMs: 0 },
  };
}

const CLS = (k: number[] = [1, 1]): FakeToken => ({ text: '[CLS]', special: true, k, imp: [10, 10] });
const SEP = (k: number[] = [1, 1]): FakeToken => ({ text: '[SEP]', special: true, k, imp: [10, 10] });

/**
 * Three examples (see report.test.ts for the hand-computed figures):
 *  e1 line 2, label "1": [CLS] good [SEP]; K L0 1,2,1, L1 1,1,1; predicted positive 0.8
 *  e2 line 3, label "0": [CLS] bad film [SEP]; K L0 2,2,2,2, L1 1,1,1,1; predicted positive 0.6 (wrong)
 *  e3 line 5, label "0": [CLS] bad [SEP]; K L0 1,1,1, L1 2,2,2; predicted negative 0.9
 */
export function threeExamples(labels: [string, string, string] = ['1', '0', '0']) {
  return [
    {
      record: { line: 2, text: 'good', label: labels[0] },
      analysis: fakeAnalysis('good', [CLS(), { text: 'good', k: [2, 1], imp: [2, 2] }, SEP()], [0.2, 0.8]),
    },
    {
      record: { line: 3, text: 'bad film', label: labels[1] },
      analysis: fakeAnalysis(
        'bad film',
        [CLS([2, 1]), { text: 'bad', k: [2, 1], imp: [1, 1] }, { text: 'film', k: [2, 1], imp: [3, 3] }, SEP([2, 1])],
        [0.4, 0.6],
      ),
    },
    {
      record: { line: 5, text: 'bad', label: labels[2] },
      analysis: fakeAnalysis('bad', [CLS([1, 2]), { text: 'bad', k: [1, 2], imp: [2, 2] }, SEP([1, 2])], [0.9, 0.1]),
    },
  ];
}

/** What DamoeEngine.routeBatch gives for the same example. */
export function routedFrom(a: Analysis): RoutedExample {
  return {
    tokens: a.tokens,
    routing: routingFromLayers(a.layers, a.model.numExperts),
    prediction: a.prediction,
    windows: a.windowing?.windows ?? 1,
  };
}
