// A small, hand-built Analysis for the extension's pure-logic tests ("the quick fox" with [CLS]/[SEP]).
import type { Analysis, AnalysisToken } from '../../../src/shared/analysis';
import { ANALYSIS_VERSION } from '../../../src/shared/analysis';

export function makeAnalysis(over: Partial<Analysis> = {}): Analysis {
  const text = over.text ?? 'the quick fox';
  const tokens: AnalysisToken[] = over.tokens ?? [
    { index: 0, id: 101, text: '[CLS]', start: null, end: null, special: true },
    { index: 1, id: 1996, text: 'the', start: 0, end: 3, special: false },
    { index: 2, id: 4248, text: 'quick', start: 4, end: 9, special: false },
    { index: 3, id: 4419, text: 'fox', start: 10, end: 13, special: false },
    { index: 4, id: 102, text: '[SEP]', start: null, end: null, special: true },
  ];
  const n = tokens.length;
  const layer = (l: number) => ({
    layer: l,
    importance: [0.2, 0.5, 1.5 + l, 1.0, 0.1].slice(0, n),
    k: [1, 1, 3, 2, 1].slice(0, n),
    experts: [[0], [2], [5, 1, 7], [3, 4], [0]].slice(0, n),
    gates: [[1], [1], [0.5, 0.3, 0.2], [0.6, 0.4], [1]].slice(0, n),
    routerProbs: tokens.map(() => new Array(8).fill(0.125)),
  });
  return {
    version: ANALYSIS_VERSION,
    text,
    model: {
      name: 'damoe-test',
      path: '/models/damoe-test',
      routerKind: 'da-moe',
      numLayers: 2,
      numExperts: 8,
      kMax: 4,
      labels: ['negative', 'positive'],
      maxSequenceLength: 512,
      routingSource: 'contract',
    },
    provider: { requested: 'auto', used: 'cpu', skipped: [] },
    tokens,
    layers: [layer(0), layer(1)],
    prediction: { index: 1, label: 'positive', probabilities: [0.1, 0.9] },
    windowing: null,
    stats: {
      tokens: n,
      kHistogram: {
        perLayer: [
          [0, 0, 0, 0, 0],
          [0, 0, 0, 0, 0],
        ],
        overall: [0, 0, 0, 0, 0],
      },
      meanK: { perLayer: [1.6, 1.6], overall: 1.6 },
      expertLoad: [],
      coActivation: [],
      flops: { spent: 0, fixedTopKMax: 0, fixedTop2: 0, perExpertToken: 0 },
    },
    timings: { tokenizeMs: 1, inferenceMs: 2, analysisMs: 1, totalMs: 4 },
    ...over,
  };
}
