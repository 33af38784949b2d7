/** Assembles the Analysis of one input from its tokens, the routing of its window(s) and run facts. */
import type { EncodedToken } from '../tokenizer';
import type { SequenceRouting } from './model-outputs';
import type { RoutedText, TokenRouting } from './routed';
import { RoutingStatsAccumulator } from './stats';
import { moeDecoderLayers } from '../routers';
import { annotateTokens, IdToToken, languageModelScore } from './next-token';
import {
  Analysis,
  ANALYSIS_VERSION,
  AnalysisToken,
  LayerRouting,
  ModelSummary,
  Prediction,
  ProviderReport,
  Timings,
  WindowingInfo,
} from '../../shared/analysis';

/** `unknownId`: the tokenizer's unknown-token id; such tokens are marked `unknown` (their text is not the source's). */
export function analysisTokens(tokens: readonly EncodedToken[], unknownId?: number): AnalysisToken[] {
  return tokens.map((t, index) => ({
    index,
    id: t.id,
    text: t.text,
    start: t.start,
    end: t.end,
    special: t.special,
    sequence: t.sequenceIndex,
    ...(t.id === unknownId && !t.special && t.start !== null ? { unknown: true as const } : {}),
  }));
}

/**
 * LayerRouting per layer of flat routing (experts by gate, highest first; ties to the lower expert index).
 * `decoderLayers`: each MoE layer's index among all decoder layers, when the model has dense layers.
 */
export function routingLayers(r: TokenRouting, decoderLayers?: readonly number[]): LayerRouting[] {
  const layers = emptyLayers(r.numLayers, decoderLayers);
  appendRoutingLayers(r, layers, 0, r.length);
  return layers;
}

function emptyLayers(L: number, decoderLayers?: readonly number[]): LayerRouting[] {
  return Array.from({ length: L }, (_, l) => ({
    layer: l,
    importance: [],
    k: [],
    experts: [],
    gates: [],
    routerProbs: [],
    ...(decoderLayers ? { decoderLayer: decoderLayers[l] } : {}),
  }));
}

/** Appends tokens [from, to) of `r` to every layer of `layers` (routingLayers in slices). */
function appendRoutingLayers(r: TokenRouting, layers: LayerRouting[], from: number, to: number): void {
  const { numLayers: L, numExperts: E, length: T } = r;
  // Hot path of every analysis: plain loops, no per-token closures.
  const chosenE = new Array<number>(E);
  const chosenG = new Array<number>(E);
  for (let l = 0; l < L; l++) {
    const layer = layers[l];
    for (let t = from; t < to; t++) {
      const lt = l * T + t;
      const base = lt * E;
      layer.importance.push(r.importance ? r.importance[lt] : Number.NaN);
      if (r.dropped?.[lt]) (layer.dropped ??= []).push(t);
      layer.k.push(r.count[lt]);
      const probs: number[] = [];
      for (let e = 0; e < E; e++) probs.push(r.probs[base + e]);
      // Chosen experts by gate, highest first, ties to the lower index (insertion in expert order keeps ties stable).
      let n = 0;
      let sawNaN = false;
      for (let e = 0; e < E; e++) {
        const g = r.gates[base + e];
        if (g === 0) continue;
        if (g !== g) sawNaN = true;
        let j = n;
        while (j > 0 && chosenG[j - 1] < g) {
          chosenG[j] = chosenG[j - 1];
          chosenE[j] = chosenE[j - 1];
          j--;
        }
        chosenG[j] = g;
        chosenE[j] = e;
        n++;
      }
      if (sawNaN) {
        // A broken model's NaN gates: keep the exact ordering of the general comparator sort.
        const chosen = Array.from(r.gates.subarray(base, base + E))
          .map((g, e) => ({ g, e }))
          .filter((x) => x.g !== 0)
          .sort((a, b) => b.g - a.g || a.e - b.e);
        layer.experts.push(chosen.map((x) => x.e));
        layer.gates.push(chosen.map((x) => x.g));
      } else {
        const experts: number[] = [];
        const gates: number[] = [];
        for (let j = 0; j < n; j++) {
          experts.push(chosenE[j]);
          gates.push(chosenG[j]);
        }
        layer.experts.push(experts);
        layer.gates.push(gates);
      }
      layer.routerProbs.push(probs);
    }
  }
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const out = new Array<number>(logits.length);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= z;
  return out;
}

/** Mean of the windows' class probabilities (one window: its softmax). */
export function predict(windows: readonly SequenceRouting[], labels: readonly string[]): Prediction {
  const probabilities = new Array<number>(labels.length).fill(0);
  for (const w of windows) softmax(w.logits).forEach((p, c) => (probabilities[c] += p / windows.length));
  let index = 0;
  probabilities.forEach((p, c) => {
    if (p > probabilities[index]) index = c;
  });
  return { index, label: labels[index], probabilities };
}

/** Decoder-layer index of each MoE layer when the model has dense layers; undefined when every layer is MoE. */
function decoderLayersOf(model: ModelSummary): number[] | undefined {
  const dense = model.denseLayers ?? [];
  return dense.length === 0 ? undefined : moeDecoderLayers(model.numLayers, dense);
}

export interface AnalysisInput {
  text: string;
  textPair?: string;
  model: ModelSummary;
  provider: ProviderReport;
  routed: RoutedText;
  /** The tokenizer's unknown-token id, if it has one. */
  unknownId?: number;
  /** Vocabulary strings of predicted ids (causal LMs). */
  idToToken?: IdToToken;
  windowing: WindowingInfo | null;
  timings: Omit<Timings, 'analysisMs' | 'totalMs'> & { startedAt: number };
}

export function buildAnalysis(input: AnalysisInput): Analysis {
  const t0 = performance.now();
  return assemble(
    input,
    routingLayers(input.routed.routing, decoderLayersOf(input.model)),
    analysisTokens(input.routed.tokens, input.unknownId),
    t0,
  );
}

/** Tokens per slice of buildAnalysisAsync. */
const SLICE_TOKENS = 4096;

/**
 * buildAnalysis in slices of tokens with `await pause()` between them, so a text of hundreds of thousands of
 * tokens never blocks the caller's thread for long. The same Analysis.
 */
export async function buildAnalysisAsync(input: AnalysisInput, pause: () => Promise<void> | undefined): Promise<Analysis> {
  const t0 = performance.now();
  const r = input.routed.routing;
  const layers = emptyLayers(r.numLayers, decoderLayersOf(input.model));
  const tokens: AnalysisToken[] = [];
  for (let from = 0; from < r.length; from += SLICE_TOKENS) {
    const to = Math.min(r.length, from + SLICE_TOKENS);
    appendRoutingLayers(r, layers, from, to);
    for (const t of analysisTokens(input.routed.tokens.slice(from, to), input.unknownId)) {
      t.index += from;
      tokens.push(t);
    }
    await pause();
  }
  // Tokens past the routing (none for a consistent input) still get their entries, as analysisTokens gives them.
  for (const t of analysisTokens(input.routed.tokens.slice(r.length), input.unknownId)) {
    t.index += r.length;
    tokens.push(t);
  }
  return assemble(input, layers, tokens, t0);
}

function assemble(input: AnalysisInput, layers: LayerRouting[], tokens: AnalysisToken[], t0: number): Analysis {
  const { model, routed } = input;
  const stats = new RoutingStatsAccumulator({
    numLayers: model.numLayers,
    numExperts: model.numExperts,
    kMax: model.kMax,
    flopsPerExpertToken: model.expertFlopsPerToken ?? null,
    expertCompute: input.provider.expertCompute,
  });
  stats.addRouting(routed.routing);
  const next = routed.routing.nextToken;
  if (next) annotateTokens(tokens, next, input.idToToken ?? (() => undefined));
  const analysis: Analysis = {
    version: ANALYSIS_VERSION,
    text: input.text,
    ...(input.textPair !== undefined ? { textPair: input.textPair } : {}),
    model,
    provider: input.provider,
    task: model.task ?? 'sequence-classification',
    tokens,
    layers,
    prediction: routed.prediction,
    ...(next
      ? {
          languageModel: languageModelScore(
            next,
            routed.tokens.map((t) => t.id),
          ),
        }
      : {}),
    windowing: input.windowing,
    stats: stats.result(),
    timings: { tokenizeMs: 0, inferenceMs: 0, analysisMs: 0, totalMs: 0 },
  };
  const now = performance.now();
  analysis.timings = {
    tokenizeMs: input.timings.tokenizeMs,
    inferenceMs: input.timings.inferenceMs,
    analysisMs: now - t0,
    totalMs: now - input.timings.startedAt,
  };
  return analysis;
}
