/**
 * A causal LM's next-token outputs (token_loss [B, T], next_token_topk_ids / next_token_topk_logprobs [B, T, k];
 * docs/model-contract.md#causal-language-models) for one sequence, and the per-token loss, predictions and
 * perplexity of the Analysis built from them.
 */
import type { RawTensor, TensorMap } from '../runtime/tensors';
import { expectDims, tensor, violation } from './output-checks';
import type { AnalysisToken, LanguageModelScore, TokenPrediction } from '../../shared/analysis';

/** The most predictions an Analysis keeps per token. */
export const MAX_PREDICTIONS = 5;

/** One sequence's next-token figures, real tokens only. */
export interface NextTokenRows {
  /** Predictions per position (min(model k, MAX_PREDICTIONS)). */
  k: number;
  /** [T]: loss[t] = -log p(token t | tokens < t), nats; loss[0] is not a loss (nothing predicts token 0). */
  loss: Float32Array;
  /** [T, k]: position t's most probable tokens for position t + 1, most probable first. */
  topIds: Int32Array;
  /** [T, k]: their natural-log probabilities. */
  topLogprobs: Float32Array;
  /** [T]: tokens before t in the model run t was read from (t itself unless the text was windowed). */
  context: Int32Array;
}

function rowSlice<A extends Float32Array | Int32Array>(t: RawTensor, row: number, take: number, inner: number, keep: number, out: A): A {
  const Tp = t.dims[1];
  const src = t.data;
  for (let p = 0; p < take; p++) {
    for (let j = 0; j < keep; j++) out[p * keep + j] = Number(src[(row * Tp + p) * inner + j]);
  }
  return out;
}

/** Row `row` of the run's next-token outputs, positions 0..length-1, checked (shapes, finite values, descending). */
export function extractNextTokenRows(outputs: TensorMap, row: number, length: number, paddedLength: number): NextTokenRows {
  const lossT = tensor(outputs, 'token_loss');
  const idsT = tensor(outputs, 'next_token_topk_ids');
  const lpT = tensor(outputs, 'next_token_topk_logprobs');
  const B = lossT.dims[0];
  expectDims(lossT, 'token_loss', [B, paddedLength]);
  const modelK = idsT.dims[2];
  expectDims(idsT, 'next_token_topk_ids', [B, paddedLength, null]);
  expectDims(lpT, 'next_token_topk_logprobs', [B, paddedLength, modelK]);
  if (!(modelK >= 1)) throw violation([`output "next_token_topk_ids": expected k >= 1 predictions per position, found ${modelK}`]);
  const k = Math.min(modelK, MAX_PREDICTIONS);
  const rows: NextTokenRows = {
    k,
    loss: rowSlice(lossT, row, length, 1, 1, new Float32Array(length)),
    topIds: rowSlice(idsT, row, length, modelK, k, new Int32Array(length * k)),
    topLogprobs: rowSlice(lpT, row, length, modelK, k, new Float32Array(length * k)),
    context: Int32Array.from({ length }, (_, t) => t),
  };
  const problems: string[] = [];
  for (let t = 1; t < length && problems.length < 5; t++) {
    const l = rows.loss[t];
    if (!(l >= 0) || !Number.isFinite(l)) {
      problems.push(`output "token_loss" (position ${t}): expected a finite loss >= 0 (nats), found ${l}`);
    }
  }
  for (let t = 0; t < length && problems.length < 5; t++) {
    for (let j = 0; j < k; j++) {
      const lp = rows.topLogprobs[t * k + j];
      if (!(lp <= 1e-4) || (j > 0 && lp > rows.topLogprobs[t * k + j - 1] + 1e-6)) {
        problems.push(
          `output "next_token_topk_logprobs" (position ${t}): expected log-probabilities <= 0, most probable first, found ${Array.from(
            rows.topLogprobs.subarray(t * k, t * k + k),
          )
            .map((v) => v.toFixed(3))
            .join(', ')}`,
        );
        break;
      }
    }
  }
  if (problems.length > 0) throw violation(problems);
  return rows;
}

/** Vocabulary string of an id (the tokenizer's idToToken); `[id N]` when the tokenizer has none. */
export type IdToToken = (id: number) => string | undefined;

/** Sets loss, predictions and context on `tokens` (every position of the merged text) from `rows`. */
export function annotateTokens(tokens: AnalysisToken[], rows: NextTokenRows, idToToken: IdToToken): void {
  const { k } = rows;
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t];
    if (t > 0) token.loss = rows.loss[t];
    const predictions: TokenPrediction[] = [];
    for (let j = 0; j < k; j++) {
      const id = rows.topIds[t * k + j];
      predictions.push({ id, token: idToToken(id) ?? `[id ${id}]`, probability: Math.exp(rows.topLogprobs[t * k + j]) });
    }
    token.predictions = predictions;
    token.context = rows.context[t];
  }
}

/** Perplexity and top-1 / top-k accuracy over every token after the first. */
export function languageModelScore(rows: NextTokenRows, ids: ArrayLike<number>): LanguageModelScore {
  const { k } = rows;
  const T = rows.loss.length;
  let sum = 0;
  let top1 = 0;
  let topK = 0;
  for (let t = 1; t < T; t++) {
    sum += rows.loss[t];
    const prev = (t - 1) * k;
    if (rows.topIds[prev] === ids[t]) top1++;
    for (let j = 0; j < k; j++) {
      if (rows.topIds[prev + j] === ids[t]) {
        topK++;
        break;
      }
    }
  }
  const n = Math.max(0, T - 1);
  const meanLoss = n > 0 ? sum / n : 0;
  return {
    perplexity: Math.exp(meanLoss),
    meanLoss,
    scoredTokens: n,
    top1Accuracy: n > 0 ? top1 / n : 0,
    topKAccuracy: n > 0 ? topK / n : 0,
    predictionsPerToken: k,
  };
}

/**
 * The next-token rows of merged tokens from their windows: token t's loss and context from sources[t], and its
 * predictions from the position before token t + 1 in token t + 1's window, so that tokens[t].predictions is the
 * very distribution tokens[t + 1].loss was read from (at a window seam the two windows differ).
 */
export function mergeNextTokenRows(
  windows: readonly (NextTokenRows | null)[],
  sources: readonly { window: number; position: number }[],
): NextTokenRows | null {
  if (windows.some((w) => w === null)) return null;
  const rows = windows as readonly NextTokenRows[];
  const k = Math.min(...rows.map((w) => w.k));
  const T = sources.length;
  const merged: NextTokenRows = {
    k,
    loss: new Float32Array(T),
    topIds: new Int32Array(T * k),
    topLogprobs: new Float32Array(T * k),
    context: new Int32Array(T),
  };
  for (let t = 0; t < T; t++) {
    const src = sources[t];
    const w = rows[src.window];
    merged.loss[t] = w.loss[src.position];
    merged.context[t] = w.context[src.position];
    const next = sources[t + 1];
    const from = next && next.position > 0 ? { w: rows[next.window], p: next.position - 1 } : { w, p: src.position };
    for (let j = 0; j < k; j++) {
      merged.topIds[t * k + j] = from.w.topIds[from.p * from.w.k + j];
      merged.topLogprobs[t * k + j] = from.w.topLogprobs[from.p * from.w.k + j];
    }
  }
  return merged;
}
