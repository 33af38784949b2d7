/** Importance helpers shared by the hover and the highlights (pure). */
import type { Analysis } from '../../shared/analysis';

/** Mean over layers of a token's importance; null when the model exposes no importance. */
export function meanImportance(analysis: Analysis, tokenIndex: number): number | null {
  if (!importanceAvailable(analysis) || analysis.layers.length === 0) return null;
  let sum = 0;
  for (const l of analysis.layers) sum += l.importance[tokenIndex] ?? 0;
  return sum / analysis.layers.length;
}

/**
 * router_logits-only models have no importance (docs/model-contract.md), nor do routing traces
 * (docs/routing-traces.md): say so instead of showing zeros.
 */
export function importanceAvailable(analysis: Analysis): boolean {
  return analysis.model.importanceAvailable !== false && analysis.model.routingSource === 'contract';
}

export const IMPORTANCE_BUCKETS = 5;

/**
 * Bucket per token (−1: no highlight) from the token's mean importance over layers, relative to the analysis's
 * largest: strength is comparable within one text, which is what the highlights are for. Pure.
 */
export function importanceBuckets(analysis: Analysis, buckets = IMPORTANCE_BUCKETS): number[] {
  const n = analysis.tokens.length;
  const out = new Array<number>(n).fill(-1);
  if (!importanceAvailable(analysis) || analysis.layers.length === 0) return out;
  const mean = new Array<number>(n).fill(0);
  for (const l of analysis.layers) for (let i = 0; i < n; i++) mean[i] += (l.importance[i] ?? 0) / analysis.layers.length;
  let max = 0;
  for (let i = 0; i < n; i++) if (!analysis.tokens[i].special && Number.isFinite(mean[i]) && mean[i] > max) max = mean[i];
  if (max <= 0) return out;
  for (let i = 0; i < n; i++) {
    const t = analysis.tokens[i];
    if (t.special || t.start === null || !(mean[i] > 0)) continue;
    out[i] = Math.min(buckets - 1, Math.floor((mean[i] / max) * buckets));
  }
  return out;
}
