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
/** Colour-by-K levels (theme colours damoe.k1..k4): K = 1..k_max spread over them. */
export const K_LEVELS = 4;
/** Colour-by-expert colours (theme colours damoe.expert1..8); expert e gets colour e mod 8. */
export const EXPERT_COLOURS = 8;

/**
 * Bucket per token (−1: no highlight) from the token's importance in `layer` (the panel's selected layer),
 * relative to that layer's largest: the panel's measure and scale, so the editor and the panel agree. Pure.
 */
export function importanceBuckets(analysis: Analysis, layer = 0, buckets = IMPORTANCE_BUCKETS): number[] {
  const n = analysis.tokens.length;
  const out = new Array<number>(n).fill(-1);
  const ly = analysis.layers[layer];
  if (!importanceAvailable(analysis) || !ly) return out;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = ly.importance[i];
    if (!analysis.tokens[i].special && Number.isFinite(v) && v > max) max = v;
  }
  if (max <= 0) return out;
  for (let i = 0; i < n; i++) {
    const t = analysis.tokens[i];
    const v = ly.importance[i];
    if (t.special || t.start === null || !(v > 0)) continue;
    out[i] = Math.min(buckets - 1, Math.floor((v / max) * buckets));
  }
  return out;
}

export type HighlightMode = 'importance' | 'k' | 'expert';

/**
 * Which decoration each token gets (−1: none) under `mode`, in the panel's selected `layer`: an importance bucket
 * (0..4), a K level (0..3: K = 1..k_max spread over 4 levels, the panel's K colours), or the top-1 expert's colour
 * (0..7). A fixed-K model has nothing to show by K, so it falls back to importance (`effective` says so). Pure.
 */
export function highlightClasses(analysis: Analysis, mode: HighlightMode, layer: number): { effective: HighlightMode; classes: number[] } {
  const n = analysis.tokens.length;
  const ly = analysis.layers[Math.min(Math.max(0, layer), analysis.layers.length - 1)];
  if (mode === 'k' && analysis.model.routerKind !== 'da-moe') mode = 'importance';
  if (mode === 'importance' || !ly) return { effective: 'importance', classes: importanceBuckets(analysis, ly?.layer ?? 0) };
  const out = new Array<number>(n).fill(-1);
  const kMax = Math.max(1, analysis.model.kMax);
  for (let i = 0; i < n; i++) {
    const t = analysis.tokens[i];
    if (t.special || t.start === null) continue;
    if (mode === 'k') {
      const k = ly.k[i];
      if (!(k >= 1)) continue;
      out[i] = kMax <= K_LEVELS ? Math.min(K_LEVELS, k) - 1 : Math.min(K_LEVELS - 1, Math.floor(((k - 1) * K_LEVELS) / kMax));
    } else {
      const e = ly.experts[i]?.[0];
      if (e !== undefined) out[i] = e % EXPERT_COLOURS;
    }
  }
  return { effective: mode, classes: out };
}
