/**
 * The wire form of an Analysis for `analysis/show`: the per-token routing of every layer packed into typed arrays.
 *
 * Why: a 4,096-token × 16-expert × 8-layer analysis holds about 100,000 small nested arrays (experts, gates and
 * router probabilities per token and layer). Posting that to a webview costs a structured clone of every one of
 * them (about 0.7 s in Chromium for that size, before the panel can draw anything); typed arrays are cloned as
 * memory blocks, and VS Code (engines >= 1.57) transfers them to webviews as binary, not as JSON. Float64Array
 * keeps every value exact: `unpackAnalysis(packAnalysis(a))` deep-equals `a`.
 */
import type { Analysis, LayerRouting } from '../analysis';

export const PACKED_LAYERS_ENCODING = 'damoe-packed-layers/1';

/** The per-token lists unpackAnalysis builds when first read. */
const LAZY_KEYS = ['experts', 'gates', 'routerProbs'] as const;

/**
 * All layers' per-token arrays, layer-major: entry (l, t) is at l * tokens + t. Variable-length lists (experts and
 * gates, router probabilities) are concatenated, with offsets of tokens * layers + 1 entries.
 */
export interface PackedLayers {
  encoding: typeof PACKED_LAYERS_ENCODING;
  tokens: number;
  /** What is not per token, one entry per layer. */
  meta: { layer: number; decoderLayer?: number; dropped?: number[] }[];
  importance: Float64Array;
  k: Int32Array;
  /** experts / gates of (l, t) are [expertStart[i], expertStart[i + 1]) with i = l * tokens + t. */
  expertStart: Uint32Array;
  experts: Int32Array;
  gates: Float64Array;
  /** routerProbs of (l, t) are [probStart[i], probStart[i + 1]) (empty when the engine recorded none). */
  probStart: Uint32Array;
  routerProbs: Float64Array;
}

/** An Analysis whose `layers` travel packed. */
export type PackedAnalysis = Omit<Analysis, 'layers'> & { layers?: undefined; packedLayers: PackedLayers };

export function isPackedAnalysis(a: unknown): a is PackedAnalysis {
  if (typeof a !== 'object' || a === null) return false;
  const p = (a as { packedLayers?: unknown }).packedLayers;
  return typeof p === 'object' && p !== null && (p as { encoding?: unknown }).encoding === PACKED_LAYERS_ENCODING;
}

export function packAnalysis(a: Analysis): PackedAnalysis {
  const T = a.tokens.length;
  const L = a.layers.length;
  let nExperts = 0;
  let nProbs = 0;
  for (const l of a.layers)
    for (let t = 0; t < T; t++) {
      nExperts += l.experts[t]?.length ?? 0;
      nProbs += l.routerProbs[t]?.length ?? 0;
    }
  const importance = new Float64Array(L * T);
  const k = new Int32Array(L * T);
  const expertStart = new Uint32Array(L * T + 1);
  const experts = new Int32Array(nExperts);
  const gates = new Float64Array(nExperts);
  const probStart = new Uint32Array(L * T + 1);
  const routerProbs = new Float64Array(nProbs);
  let ei = 0;
  let pi = 0;
  a.layers.forEach((l, li) => {
    for (let t = 0; t < T; t++) {
      const i = li * T + t;
      importance[i] = l.importance[t];
      k[i] = l.k[t];
      expertStart[i] = ei;
      const ex = l.experts[t] ?? [];
      const g = l.gates[t] ?? [];
      for (let j = 0; j < ex.length; j++, ei++) {
        experts[ei] = ex[j];
        gates[ei] = g[j];
      }
      probStart[i] = pi;
      const p = l.routerProbs[t] ?? [];
      for (let e = 0; e < p.length; e++, pi++) routerProbs[pi] = p[e];
    }
  });
  expertStart[L * T] = ei;
  probStart[L * T] = pi;
  const meta = a.layers.map((l) => {
    const m: PackedLayers['meta'][number] = { layer: l.layer };
    if (l.decoderLayer !== undefined) m.decoderLayer = l.decoderLayer;
    if (l.dropped !== undefined) m.dropped = l.dropped;
    return m;
  });
  const { layers: _layers, ...rest } = a;
  return {
    ...rest,
    packedLayers: { encoding: PACKED_LAYERS_ENCODING, tokens: T, meta, importance, k, expertStart, experts, gates, probStart, routerProbs },
  };
}

/** Why `p` cannot be unpacked (sizes that do not add up), or null. */
export function packedLayersProblem(p: PackedLayers, tokens: number): string | null {
  const L = Array.isArray(p.meta) ? p.meta.length : -1;
  const n = L * tokens;
  if (L < 0 || p.tokens !== tokens) return `packed layers for ${p.tokens} tokens, analysis has ${tokens}`;
  const typed: [string, unknown, number | null][] = [
    ['importance', p.importance, n],
    ['k', p.k, n],
    ['expertStart', p.expertStart, n + 1],
    ['probStart', p.probStart, n + 1],
    ['experts', p.experts, null],
    ['gates', p.gates, null],
    ['routerProbs', p.routerProbs, null],
  ];
  for (const [name, arr, len] of typed) {
    if (!ArrayBuffer.isView(arr)) return `packed ${name} is not a typed array`;
    if (len !== null && (arr as unknown as { length: number }).length !== len) return `packed ${name} has the wrong length`;
  }
  if (p.expertStart[n] !== p.experts.length || p.gates.length !== p.experts.length) return 'packed experts/gates lengths disagree';
  if (p.probStart[n] !== p.routerProbs.length) return 'packed routerProbs length disagrees';
  return null;
}

/**
 * The Analysis back, with plain nested arrays (what the views index). Throws on a malformed packing.
 *
 * Each layer's `experts`, `gates` and `routerProbs` (three small arrays per token: about 100,000 for 4,096 tokens ×
 * 8 layers) are built when one of them is first read, all three at once, and are plain data properties from then
 * on: a new analysis's first paint reads them for the selected layer only (the heatmap), the rest follow after it
 * (the layer thumbnails) or never (bench/paint.ts). `importance` and `k` are built at once.
 */
export function unpackAnalysis(p: PackedAnalysis): Analysis {
  const P = p.packedLayers;
  const T = Array.isArray(p.tokens) ? p.tokens.length : 0;
  const problem = packedLayersProblem(P, T);
  if (problem) throw new Error(problem);
  const slice = (src: Float64Array | Int32Array, a: number, b: number): number[] => {
    const out = new Array<number>(b - a);
    for (let i = a; i < b; i++) out[i - a] = src[i];
    return out;
  };
  const layers: LayerRouting[] = P.meta.map((m, li) => {
    const base = li * T;
    const layer = {
      layer: m.layer,
      importance: slice(P.importance, base, base + T),
      k: slice(P.k, base, base + T),
    } as LayerRouting;
    const build = (): void => {
      const experts = new Array<number[]>(T);
      const gates = new Array<number[]>(T);
      const routerProbs = new Array<number[]>(T);
      for (let t = 0; t < T; t++) {
        const i = base + t;
        experts[t] = slice(P.experts, P.expertStart[i], P.expertStart[i + 1]);
        gates[t] = slice(P.gates, P.expertStart[i], P.expertStart[i + 1]);
        routerProbs[t] = slice(P.routerProbs, P.probStart[i], P.probStart[i + 1]);
      }
      const data = { experts, gates, routerProbs };
      for (const key of LAZY_KEYS)
        Object.defineProperty(layer, key, { value: data[key], writable: true, enumerable: true, configurable: true });
    };
    for (const key of LAZY_KEYS)
      Object.defineProperty(layer, key, {
        enumerable: true,
        configurable: true,
        get: () => (build(), layer[key]),
        set: (v: number[][]) => {
          build();
          layer[key] = v;
        },
      });
    if (m.decoderLayer !== undefined) layer.decoderLayer = m.decoderLayer;
    if (m.dropped !== undefined) layer.dropped = m.dropped;
    return layer;
  });
  const { packedLayers: _packed, layers: _none, ...rest } = p;
  return { ...rest, layers } as Analysis;
}
