/**
 * A causal LM's full logits [B, T, V] reduced, in the model worker, to what the inspector shows: the loss of each
 * token and the top-k next-token predictions at each position (the contract's token_loss,
 * next_token_topk_ids and next_token_topk_logprobs; docs/model-contract.md#causal-language-models). V-sized
 * tensors (32k-200k floats per token for real LMs) therefore never cross the process boundary.
 */
import type { RawTensor, TensorMap } from './tensors';

/** Predictions kept per position when the worker reduces full logits. */
export const WORKER_TOP_K = 5;

/**
 * `outputs` with a rank-3 `logits` [B, T, V] replaced by token_loss [B, T] (column t: -log p(ids[t] | ids[<t]),
 * column 0 = 0), next_token_topk_ids [B, T, k] int64 and next_token_topk_logprobs [B, T, k] (position t's most
 * probable tokens for t + 1, descending; ties to the lower id). Other outputs pass through; outputs without
 * rank-3 logits are returned as they are.
 */
export function reduceCausalLogits(outputs: TensorMap, inputIds: RawTensor, k = WORKER_TOP_K): TensorMap {
  const logits = outputs.logits;
  if (!logits || logits.dims.length !== 3) return outputs;
  const [B, T, V] = logits.dims;
  const kk = Math.min(k, V);
  const data = logits.data as Float32Array;
  const ids = inputIds.data as BigInt64Array;
  const loss = new Float32Array(B * T);
  const topIds = new BigInt64Array(B * T * kk);
  const topLogprobs = new Float32Array(B * T * kk);
  const bestIds = new Int32Array(kk);
  const bestValues = new Float64Array(kk);
  for (let bt = 0; bt < B * T; bt++) {
    const base = bt * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (data[base + v] > max) max = data[base + v];
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(data[base + v] - max);
    const logZ = max + Math.log(z);
    // Top-k by insertion into a sorted list of k: V is large and k small.
    let n = 0;
    for (let v = 0; v < V; v++) {
      const x = data[base + v];
      if (n === kk && !(x > bestValues[kk - 1])) continue;
      let j = n < kk ? n++ : kk - 1;
      while (j > 0 && bestValues[j - 1] < x) {
        bestValues[j] = bestValues[j - 1];
        bestIds[j] = bestIds[j - 1];
        j--;
      }
      bestValues[j] = x;
      bestIds[j] = v;
    }
    for (let j = 0; j < kk; j++) {
      topIds[bt * kk + j] = BigInt(bestIds[j]);
      topLogprobs[bt * kk + j] = bestValues[j] - logZ;
    }
    // Position t's distribution scores token t + 1 of the same row.
    const t = bt % T;
    if (t + 1 < T) {
      const next = Number(ids[bt + 1]);
      loss[bt + 1] = next >= 0 && next < V ? logZ - data[base + next] : Number.NaN;
    }
  }
  const rest: TensorMap = { ...outputs };
  delete rest.logits;
  return {
    ...rest,
    token_loss: { type: 'float32', dims: [B, T], data: loss },
    next_token_topk_ids: { type: 'int64', dims: [B, T, kk], data: topIds },
    next_token_topk_logprobs: { type: 'float32', dims: [B, T, kk], data: topLogprobs },
  };
}
