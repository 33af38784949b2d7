/**
 * A plausible, internally consistent fake Analysis for webview tests: N tokens (first and last are the special
 * [CLS] / [SEP]) × E experts × L layers. Deterministic for a given seed.
 *
 * Consistency guaranteed (and checked by fake-analysis.test.ts):
 * - layers[l].gates[t] is nonzero for exactly k[t] experts, listed in `experts[t]` ordered by gate (highest first),
 *   gates sum to 1; routerProbs[t] is a softmax over all E experts; chosen experts are the top-k of routerProbs.
 * - stats.kHistogram.perLayer[l] sums to the token count; overall[k] = sum over layers (sums to tokens × layers).
 * - stats.expertLoad matches the routing (tokens, gate mass, utilisation, dead experts, cv); meanK matches k.
 * - the last expert is never routed to in layer 0 (a dead expert), so dead-expert marking is exercised.
 */
import type { Analysis, AnalysisToken, ExpertLoad, LayerRouting } from '../../../src/shared/analysis';

export interface FakeAnalysisOptions {
  /** Total tokens including the two special tokens (>= 2). */
  tokens?: number;
  experts?: number;
  layers?: number;
  kMax?: number;
  seed?: number;
  routerKind?: 'da-moe' | 'top-k';
  /** Replace the content token at this position (1-based content index) with this exact text. */
  injectText?: { at: number; text: string };
  windowed?: boolean;
  labels?: string[];
}

const WORDS = (
  'the quick brown fox jumps over a lazy dog while experts route each token through sparse layers of ' +
  'mixture models that learn when to spend more compute on hard words like antidisestablishmentarianism or ' +
  'simple ones such as and of to in is it'
).split(' ');

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (x: number, d = 6): number => Math.round(x * 10 ** d) / 10 ** d;

export function makeFakeAnalysis(opts: FakeAnalysisOptions = {}): Analysis {
  const N = Math.max(2, opts.tokens ?? 24);
  const E = opts.experts ?? 8;
  const L = opts.layers ?? 4;
  const kMax = Math.min(opts.kMax ?? 4, E - 1);
  const routerKind = opts.routerKind ?? 'da-moe';
  const rnd = mulberry32(opts.seed ?? 42);
  const labels = opts.labels ?? ['negative', 'positive'];

  // ---- tokens and text
  const tokens: AnalysisToken[] = [];
  let text = '';
  tokens.push({ index: 0, id: 101, text: '[CLS]', start: null, end: null, special: true });
  for (let i = 1; i < N - 1; i++) {
    let word = WORDS[Math.floor(rnd() * WORDS.length)];
    if (opts.injectText && opts.injectText.at === i) word = opts.injectText.text;
    if (text.length > 0) text += ' ';
    const start = text.length;
    text += word;
    tokens.push({ index: i, id: 1000 + Math.floor(rnd() * 20000), text: word, start, end: text.length, special: false });
  }
  if (N >= 2) tokens.push({ index: N - 1, id: 102, text: '[SEP]', start: null, end: null, special: true });

  // ---- routing
  const layers: LayerRouting[] = [];
  for (let l = 0; l < L; l++) {
    const layer: LayerRouting = { layer: l, importance: [], k: [], experts: [], gates: [], routerProbs: [] };
    for (let t = 0; t < N; t++) {
      const logits = Array.from({ length: E }, (_, e) => {
        const base = (rnd() - 0.5) * 4 + Math.sin((t + 1) * (e + 1) * 0.37 + l) * 1.5;
        return l === 0 && e === E - 1 ? base - 30 : base; // expert E-1 is dead in layer 0
      });
      const mx = Math.max(...logits);
      const ex = logits.map((x) => Math.exp(x - mx));
      const sum = ex.reduce((a, b) => a + b, 0);
      const probs = ex.map((x) => x / sum);
      const order = probs.map((p, e) => [p, e] as const).sort((a, b) => b[0] - a[0]);
      let k: number;
      if (routerKind === 'top-k') k = kMax;
      else {
        // Dynamic K: more experts when the router is unsure (low top-1 probability).
        const top1 = order[0][0];
        k = Math.max(1, Math.min(kMax, Math.round((1 - top1) * kMax + rnd() * 0.8)));
      }
      const chosen = order.slice(0, k);
      const mass = chosen.reduce((a, c) => a + c[0], 0);
      layer.k.push(k);
      layer.experts.push(chosen.map((c) => c[1]));
      layer.gates.push(chosen.map((c) => round(c[0] / mass)));
      layer.routerProbs.push(probs.map((p) => round(p)));
      const special = tokens[t].special;
      layer.importance.push(round(special ? 0.05 + rnd() * 0.1 : Math.pow(rnd(), 1.5)));
    }
    layers.push(layer);
  }

  // ---- stats (derived from the routing)
  const perLayer = layers.map((ly) => {
    const c = new Array<number>(kMax + 1).fill(0);
    for (const k of ly.k) c[k]++;
    return c;
  });
  const overall = new Array<number>(kMax + 1).fill(0);
  for (const c of perLayer) c.forEach((v, k) => (overall[k] += v));
  const meanPerLayer = layers.map((ly) => round(ly.k.reduce((a, b) => a + b, 0) / Math.max(1, N)));
  const meanOverall = round(layers.reduce((a, ly) => a + ly.k.reduce((x, y) => x + y, 0), 0) / Math.max(1, N * L));
  const expertLoad: ExpertLoad[] = layers.map((ly) => {
    const tok = new Array<number>(E).fill(0);
    const gm = new Array<number>(E).fill(0);
    ly.experts.forEach((ex, t) =>
      ex.forEach((e, j) => {
        tok[e]++;
        gm[e] += ly.gates[t][j];
      }),
    );
    const total = tok.reduce((a, b) => a + b, 0);
    const mean = total / E;
    const util = tok.map((x) => (mean > 0 ? round(x / mean) : 0));
    const sd = Math.sqrt(tok.reduce((a, x) => a + (x - mean) ** 2, 0) / E);
    return {
      layer: ly.layer,
      tokens: tok,
      gateMass: gm.map((x) => round(x)),
      utilisation: util,
      dead: tok.map((x, e) => (x === 0 ? e : -1)).filter((e) => e >= 0),
      cv: mean > 0 ? round(sd / mean) : 0,
    };
  });
  const coActivation = layers.map((ly) => {
    const m = Array.from({ length: E }, () => new Array<number>(E).fill(0));
    for (const ex of ly.experts) for (const i of ex) for (const j of ex) m[i][j]++;
    return m;
  });
  const perExpertToken = 2 * 2 * 256 * 1024;
  const spentK = layers.reduce((a, ly) => a + ly.k.reduce((x, y) => x + y, 0), 0);

  const probs = labels.map(() => 0.1 + rnd());
  const ps = probs.reduce((a, b) => a + b, 0);
  const probabilities = probs.map((p) => round(p / ps, 4));
  const predIndex = probabilities.indexOf(Math.max(...probabilities));

  return {
    version: 1,
    text,
    model: {
      name: routerKind === 'da-moe' ? 'damoe-sst2' : 'topk-sst2',
      path: '/models/' + (routerKind === 'da-moe' ? 'damoe-sst2' : 'topk-sst2'),
      routerKind,
      numLayers: L,
      numExperts: E,
      kMax,
      labels,
      maxSequenceLength: 512,
      routingSource: 'contract',
    },
    provider: {
      requested: 'auto',
      used: 'cpu',
      skipped: [
        { provider: 'cuda', reason: 'libcudart.so.12 not found' },
        { provider: 'webgpu', reason: 'not available in the extension host' },
      ],
    },
    tokens,
    layers,
    prediction: { index: predIndex, label: labels[predIndex], probabilities },
    windowing: opts.windowed ? { windows: 3, windowTokens: 510, overlapTokens: 128, predictionMerge: 'mean-probabilities' } : null,
    stats: {
      tokens: N,
      kHistogram: { perLayer, overall },
      meanK: { perLayer: meanPerLayer, overall: meanOverall },
      expertLoad,
      coActivation,
      flops: {
        spent: spentK * perExpertToken,
        fixedTopKMax: N * L * kMax * perExpertToken,
        fixedTop2: N * L * 2 * perExpertToken,
        perExpertToken,
      },
    },
    timings: { tokenizeMs: 1.2, inferenceMs: 38.4, analysisMs: 2.1, totalMs: 41.7 },
  };
}
