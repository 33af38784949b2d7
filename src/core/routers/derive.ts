/**
 * Router scores -> experts and gates, by the convention of the model's Hugging Face family
 * (docs/model-contract.md#router-conventions). The one implementation: the analysis of router_logits models
 * (core/analysis/model-outputs.ts) and anything else that holds a family's router logits call deriveRouting.
 *
 * Arithmetic is float64 over the float32 inputs; the convention's reference (training/export_hf fixtures,
 * test/fixtures/models/hf) is float32 PyTorch, so ids agree exactly unless two scores tie within float32 rounding.
 * Ties go to the lower expert index.
 */
import type { RouterSpec } from './spec';

export interface DerivedRouting {
  /** [L, T, E]: softmax over all experts (sigmoid scores for sigmoid-group-topk): what the views call router probabilities. */
  probs: Float32Array;
  /** [L, T, E]: the weight each chosen expert's output gets; exactly 0 for the others. */
  gates: Float32Array;
  /** [L, T]: experts chosen (k, or 0 for a token dropped by capacity). */
  count: Int32Array;
  /** [L, T]: 1 where a switch-capacity router dropped the token (no expert). */
  dropped: Uint8Array;
  /** What the rows were taken to be ('auto' resolved). */
  input: 'logits' | 'probabilities';
}

/** Rows all >= 0 that sum to 1 within this are already probabilities (Qwen's post-softmax "router_logits"). */
const PROBABILITY_ROW_TOLERANCE = 1e-4;

/** True when every row of [rows, E] is a probability distribution. */
export function rowsAreProbabilities(x: ArrayLike<number>, rows: number, E: number): boolean {
  if (rows === 0) return false;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let e = 0; e < E; e++) {
      const v = x[r * E + e];
      if (!(v >= 0 && v <= 1)) return false;
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= PROBABILITY_ROW_TOLERANCE)) return false;
  }
  return true;
}

/**
 * `routerLogits`: [L, T, E] of one sequence's real tokens in order (capacity counts tokens in sequence order, as
 * Switch's cumsum over the sequence does). Layer l of the spec's e_score_correction_bias applies to layer l here.
 */
export function deriveRouting(routerLogits: ArrayLike<number>, L: number, T: number, E: number, spec: RouterSpec): DerivedRouting {
  const rows = L * T;
  const input: 'logits' | 'probabilities' =
    spec.input === 'auto'
      ? spec.convention !== 'sigmoid-group-topk' && rowsAreProbabilities(routerLogits, rows, E)
        ? 'probabilities'
        : 'logits'
      : spec.input;
  const out: DerivedRouting = {
    probs: new Float32Array(rows * E),
    gates: new Float32Array(rows * E),
    count: new Int32Array(rows),
    dropped: new Uint8Array(rows),
    input,
  };
  const row = new Float64Array(E);
  const scores = new Float64Array(E);
  const order = new Int32Array(E);
  for (let l = 0; l < L; l++) {
    const used = spec.convention === 'switch-capacity' ? new Int32Array(E) : null;
    const bias = spec.eScoreCorrectionBias?.[l] ?? null;
    for (let t = 0; t < T; t++) {
      const base = (l * T + t) * E;
      for (let e = 0; e < E; e++) row[e] = routerLogits[base + e];
      let k = spec.k;
      switch (spec.convention) {
        case 'softmax-topk-renorm':
        case 'softmax-topk': {
          toProbabilities(row, input, scores);
          topK(input === 'logits' ? row : scores, k, order);
          let mass = 0;
          for (let j = 0; j < k; j++) mass += scores[order[j]];
          const renorm = spec.convention === 'softmax-topk-renorm';
          for (let j = 0; j < k; j++) out.gates[base + order[j]] = renorm ? scores[order[j]] / mass : scores[order[j]];
          break;
        }
        case 'topk-softmax': {
          toProbabilities(row, input, scores);
          topK(input === 'logits' ? row : scores, k, order);
          // softmax over the k chosen logits = their probabilities renormalised (exp(l_i) / Z cancels Z).
          let mass = 0;
          for (let j = 0; j < k; j++) mass += scores[order[j]];
          for (let j = 0; j < k; j++) out.gates[base + order[j]] = scores[order[j]] / mass;
          break;
        }
        case 'sigmoid-group-topk': {
          for (let e = 0; e < E; e++) scores[e] = input === 'logits' ? 1 / (1 + Math.exp(-row[e])) : row[e];
          groupLimitedTopK(scores, bias, spec, order);
          let mass = 0;
          for (let j = 0; j < k; j++) mass += scores[order[j]];
          const denom = spec.normTopkProb ? mass + 1e-20 : 1;
          for (let j = 0; j < k; j++) out.gates[base + order[j]] = (scores[order[j]] / denom) * spec.routedScalingFactor;
          break;
        }
        case 'switch-capacity': {
          toProbabilities(row, input, scores);
          topK(scores, 1, order);
          const e = order[0];
          if (used![e] < (spec.expertCapacity ?? Infinity)) {
            used![e]++;
            out.gates[base + e] = scores[e];
          } else {
            out.dropped[l * T + t] = 1;
            k = 0;
          }
          break;
        }
      }
      for (let e = 0; e < E; e++) out.probs[base + e] = scores[e];
      out.count[l * T + t] = k;
    }
  }
  return out;
}

/** softmax of `row` into `into` (or a copy, when the row already holds probabilities). */
function toProbabilities(row: Float64Array, input: 'logits' | 'probabilities', into: Float64Array): void {
  if (input === 'probabilities') {
    into.set(row);
    return;
  }
  let max = -Infinity;
  for (let e = 0; e < row.length; e++) if (row[e] > max) max = row[e];
  let z = 0;
  for (let e = 0; e < row.length; e++) z += into[e] = Math.exp(row[e] - max);
  for (let e = 0; e < row.length; e++) into[e] /= z;
}

/** The k highest entries of `values` into order[0..k), highest first, ties to the lower index. */
function topK(values: ArrayLike<number>, k: number, order: Int32Array): void {
  let n = 0;
  for (let e = 0; e < values.length; e++) {
    const v = values[e];
    if (n === k && !(v > values[order[k - 1]])) continue;
    let j = Math.min(n, k - 1);
    while (j > 0 && v > values[order[j - 1]]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = e;
    if (n < k) n++;
  }
}

/**
 * DeepSeek-V3's selection: choice = score + bias; each group is scored by the sum of its two best choices; the
 * topkGroup best groups are kept; choices outside them are set to 0 (not -inf, as transformers does); top-k of the rest.
 */
function groupLimitedTopK(scores: Float64Array, bias: readonly number[] | null, spec: RouterSpec, order: Int32Array): void {
  const E = scores.length;
  const choice = new Float64Array(E);
  for (let e = 0; e < E; e++) choice[e] = scores[e] + (bias ? bias[e] : 0);
  if (spec.nGroup > 1) {
    const size = E / spec.nGroup;
    const groupScore = new Float64Array(spec.nGroup);
    const best = new Int32Array(Math.min(2, size));
    for (let g = 0; g < spec.nGroup; g++) {
      const members = choice.subarray(g * size, (g + 1) * size);
      topK(members, best.length, best);
      for (let j = 0; j < best.length; j++) groupScore[g] += members[best[j]];
    }
    const kept = new Int32Array(spec.topkGroup);
    topK(groupScore, spec.topkGroup, kept);
    const keep = new Uint8Array(spec.nGroup);
    for (const g of kept) keep[g] = 1;
    for (let e = 0; e < E; e++) if (!keep[Math.floor(e / size)]) choice[e] = 0;
  }
  topK(choice, spec.k, order);
}
