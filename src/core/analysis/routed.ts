/**
 * One input's routing before it becomes an Analysis: the merged tokens, their routing as flat typed arrays, and the
 * prediction. Dataset spot-checks keep only this per example (an Analysis holds arrays per token and layer, which
 * costs more to build and to collect than the model run itself at spot-check rates); buildAnalysis starts from it.
 */
import type { EncodedToken } from '../tokenizer';
import type { SequenceRouting } from './model-outputs';
import type { LayerRouting, Prediction } from '../../shared/analysis';
import type { TokenSource } from './windowing';
import { mergeNextTokenRows } from './next-token';

/** Routing of T tokens: importance and count [L, T], gates and probs [L, T, E], flattened. */
export type TokenRouting = Omit<SequenceRouting, 'logits'>;

export interface RoutedText {
  tokens: readonly EncodedToken[];
  /** Routing of `tokens` (length = tokens.length). */
  routing: TokenRouting;
  /** The class prediction; null for causal LMs (their figures are in routing.nextToken) and routing traces. */
  prediction: Prediction | null;
  /** Model runs (windows) the input needed. */
  windows: number;
}

function isIdentity(windows: readonly SequenceRouting[], sources: readonly TokenSource[]): boolean {
  if (windows.length !== 1 || sources.length !== windows[0].length) return false;
  for (let i = 0; i < sources.length; i++) if (sources[i].window !== 0 || sources[i].position !== i) return false;
  return true;
}

/** The routing of the merged tokens, token i read from sources[i] (its window and position there). */
export function mergeWindowRouting(windows: readonly SequenceRouting[], sources: readonly TokenSource[]): TokenRouting {
  if (isIdentity(windows, sources)) return windows[0];
  const { numLayers: L, numExperts: E } = windows[0];
  const T = sources.length;
  const hasImportance = windows.every((w) => w.importance !== null);
  const importance = hasImportance ? new Float32Array(L * T) : null;
  const count = new Int32Array(L * T);
  const gates = new Float32Array(L * T * E);
  const probs = new Float32Array(L * T * E);
  const dropped = windows.some((w) => w.dropped) ? new Uint8Array(L * T) : null;
  for (let l = 0; l < L; l++) {
    for (let t = 0; t < T; t++) {
      const { window, position } = sources[t];
      const w = windows[window];
      const from = l * w.length + position;
      const to = l * T + t;
      if (importance) importance[to] = w.importance![from];
      count[to] = w.count[from];
      gates.set(w.gates.subarray(from * E, from * E + E), to * E);
      probs.set(w.probs.subarray(from * E, from * E + E), to * E);
      if (dropped && w.dropped) dropped[to] = w.dropped[from];
    }
  }
  return {
    length: T,
    numLayers: L,
    numExperts: E,
    importance,
    count,
    gates,
    probs,
    dropped,
    routerInput: windows[0].routerInput,
    nextToken: mergeNextTokenRows(
      windows.map((w) => w.nextToken),
      sources,
    ),
  };
}

/** Flat routing from LayerRouting lists (an Analysis' layers): the inverse of routingLayers in build.ts. */
export function routingFromLayers(layers: readonly LayerRouting[], numExperts: number): TokenRouting {
  const L = layers.length;
  const E = numExperts;
  const T = layers[0]?.k.length ?? 0;
  const importance = new Float32Array(L * T);
  const count = new Int32Array(L * T);
  const gates = new Float32Array(L * T * E);
  const probs = new Float32Array(L * T * E);
  const dropped = layers.some((layer) => layer.dropped) ? new Uint8Array(L * T) : null;
  layers.forEach((layer, l) => {
    for (const t of layer.dropped ?? []) if (dropped && t < T) dropped[l * T + t] = 1;
    for (let t = 0; t < T; t++) {
      const lt = l * T + t;
      importance[lt] = layer.importance[t];
      count[lt] = layer.k[t];
      layer.experts[t].forEach((e, i) => (gates[lt * E + e] = layer.gates[t][i]));
      layer.routerProbs[t]?.forEach((p, e) => (probs[lt * E + e] = p));
    }
  });
  return { length: T, numLayers: L, numExperts: E, importance, count, gates, probs, dropped, nextToken: null };
}
