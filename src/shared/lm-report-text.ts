/**
 * How a causal LM's spot-check figures (SpotCheckReport.language_model) are said: the perplexity and what it is
 * computed over, the mean loss per K value and the K–loss correlation. One wording for the CLI summary, the
 * spot-check panel, the HTML report and the status bar, so that they agree.
 */
import type { SpotCheckLanguageModel, SpotCheckReport } from './spotcheck-report';

/** "424.5" (one decimal from 100 up, two below). */
export function perplexityText(perplexity: number): string {
  if (!Number.isFinite(perplexity)) return '∞';
  return perplexity >= 100 ? perplexity.toFixed(1) : perplexity.toFixed(2);
}

/**
 * What the perplexity is computed over, as a sentence fragment: "e^(mean loss 6.051 nats) over 1,234 tokens of 50
 * texts; each text's first token has no loss (nothing predicts it)".
 */
export function perplexityBasis(lm: SpotCheckLanguageModel, texts: number): string {
  return (
    `e^(mean loss ${lm.mean_loss.toFixed(3)} nats) over ${lm.scored_tokens.toLocaleString('en')} tokens of ` +
    `${texts.toLocaleString('en')} text${texts === 1 ? '' : 's'}; each text's first token has no loss (nothing predicts it)`
  );
}

/** "r = -0.123" or "n/a (K constant)" for a layer's K–loss correlation. */
export function correlationText(r: number | null): string {
  return r === null ? 'n/a (K or loss constant)' : `r = ${r.toFixed(3)}`;
}

export interface KLossCell {
  k: number;
  tokens: number;
  /** null when no scored token had this K in the layer. */
  meanLoss: number | null;
}

export interface KLossRow {
  layer: number;
  /** K = 1..k_max (K = 0 kept only when some token had it: dropped tokens, or a router that can give 0). */
  cells: KLossCell[];
  correlation: number | null;
}

/** The per-layer mean loss at each K, with the K–loss correlation: the rows of the "loss by K" table. */
export function kLossRows(lm: SpotCheckLanguageModel): KLossRow[] {
  return lm.by_k.map((row, layer) => ({
    layer,
    cells: row.map((b, k) => ({ k, tokens: b.tokens, meanLoss: b.mean_loss })).filter((c) => c.k > 0 || c.tokens > 0),
    correlation: lm.k_loss_correlation[layer] ?? null,
  }));
}

/** The K values (columns) the rows share: the union of their cells' K. */
export function kLossColumns(rows: readonly KLossRow[]): number[] {
  const ks = new Set<number>();
  for (const r of rows) for (const c of r.cells) ks.add(c.k);
  return [...ks].sort((a, b) => a - b);
}

/** The report's headline figure in a few words: "perplexity 424.5" for causal LMs, else the accuracy or "no accuracy". */
export function headlineText(r: Pick<SpotCheckReport, 'accuracy' | 'language_model'>): string {
  if (r.language_model) return `perplexity ${perplexityText(r.language_model.perplexity)}`;
  return r.accuracy === null ? 'no accuracy' : `accuracy ${(100 * r.accuracy).toFixed(1)}%`;
}
