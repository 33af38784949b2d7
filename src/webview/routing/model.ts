/** Data derived once per analysis and shared by the views. */
import type { Analysis } from '../../shared/analysis';
import { kRuleOf, type KRuleInfo } from '../../shared/k-rule';

export interface Derived {
  analysis: Analysis;
  /**
   * Heatmap / table rows: the indices of the non-special tokens, in order. Special tokens ([CLS], [SEP], …) have no
   * text range in the document, so they are shown in the token strip (marked) but get no heatmap or table row.
   */
  rows: number[];
  /** token index -> row, or -1 for special tokens. */
  rowOf: Int32Array;
  /** Per layer: the largest importance (importance is shown relative to it). */
  maxImportance: number[];
  numExperts: number;
  kMax: number;
  /** The K rule as the model's metadata states it (thresholds for the legends). */
  rule: KRuleInfo;
  /** The layer whose K varies most over the text's tokens (the panel opens on it). */
  mostDynamicLayer: number;
  /** A causal LM (tokens carry loss and predictions). */
  causal: boolean;
  /** Causal LMs: the largest token loss in the text (the loss colour scale runs 0..maxLoss); 0 otherwise. */
  maxLoss: number;
}

export function derive(a: Analysis): Derived {
  const rows: number[] = [];
  const rowOf = new Int32Array(a.tokens.length).fill(-1);
  a.tokens.forEach((t, i) => {
    if (!t.special) {
      rowOf[i] = rows.length;
      rows.push(i);
    }
  });
  const maxImportance = a.layers.map((l) => {
    let m = 0;
    for (const v of l.importance) if (v > m) m = v;
    return m;
  });
  const kMaxSeen = a.layers.reduce((m, l) => l.k.reduce((x, k) => Math.max(x, k), m), 0);
  return {
    analysis: a,
    rows,
    rowOf,
    maxImportance,
    numExperts: a.model.numExperts,
    kMax: Math.max(a.model.kMax, kMaxSeen),
    rule: kRuleOf(a.model),
    mostDynamicLayer: mostDynamicLayer(a, rows),
    causal: a.task === 'causal-lm',
    maxLoss: a.tokens.reduce((m, t) => (t.loss !== undefined && t.loss > m ? t.loss : m), 0),
  };
}

/**
 * The layer with the largest variance of K over the text's tokens (special tokens left out); the first such layer
 * on ties, so a fixed-K model opens on layer 0.
 */
export function mostDynamicLayer(a: Analysis, rows: number[]): number {
  let best = 0;
  let bestVar = -1;
  a.layers.forEach((l, li) => {
    if (rows.length === 0) return;
    let s = 0;
    let s2 = 0;
    for (const t of rows) {
      s += l.k[t];
      s2 += l.k[t] * l.k[t];
    }
    const v = s2 / rows.length - (s / rows.length) ** 2;
    if (v > bestVar + 1e-12) {
      bestVar = v;
      best = li;
    }
  });
  return best;
}

/** Importance of token t in layer l, relative to the layer's maximum, in [0, 1]. */
export function relImportance(d: Derived, l: number, t: number): number {
  const m = d.maxImportance[l];
  const v = d.analysis.layers[l]?.importance[t] ?? 0;
  return m > 0 ? Math.max(0, Math.min(1, v / m)) : 0;
}

/**
 * The heatmap's value of expert e for token t in layer l:
 * - 'gateK' (compute share): gate × K / k_max, so a token's row sums to K / k_max (its share of the most compute a
 *   token can get) split by the gates; a K=1 token's single gate of 1.0 no longer paints hotter than a K=4 token;
 * - 'gates': the gate as the model output it (renormalised top-K gates make K=1 tokens 1.0);
 * - 'routerProbs': the router's softmax before top-K selection.
 */
export function cellValue(d: Derived, value: 'gates' | 'gateK' | 'routerProbs', l: number, t: number, e: number): number {
  const layer = d.analysis.layers[l];
  if (value === 'routerProbs') return layer.routerProbs[t]?.[e] ?? 0;
  const j = layer.experts[t].indexOf(e);
  if (j < 0) return 0;
  const g = layer.gates[t][j];
  return value === 'gates' ? g : (g * layer.k[t]) / Math.max(1, d.kMax);
}

/** Token t's loss relative to the text's largest, in [0, 1]; null when the token has no loss (the first). */
export function relLoss(d: Derived, t: number): number | null {
  const loss = d.analysis.tokens[t]?.loss;
  if (loss === undefined) return null;
  return d.maxLoss > 0 ? Math.max(0, Math.min(1, loss / d.maxLoss)) : 0;
}
