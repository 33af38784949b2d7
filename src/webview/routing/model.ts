/** Data derived once per analysis and shared by the views. */
import type { Analysis } from '../../shared/analysis';

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
  /** Per layer: the K of each row (same order as rows). */
  numExperts: number;
  kMax: number;
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
  return { analysis: a, rows, rowOf, maxImportance, numExperts: a.model.numExperts, kMax: Math.max(a.model.kMax, kMaxSeen) };
}

/** Importance of token t in layer l, relative to the layer's maximum, in [0, 1]. */
export function relImportance(d: Derived, l: number, t: number): number {
  const m = d.maxImportance[l];
  const v = d.analysis.layers[l]?.importance[t] ?? 0;
  return m > 0 ? Math.max(0, Math.min(1, v / m)) : 0;
}
