/**
 * How a causal LM's per-token figures are written in every view (hover, CLI table, panel): a token's loss with the
 * probability it stands for, and a list of predictions. One wording, so the views agree.
 */
import type { AnalysisToken, TokenPrediction } from './analysis';

/** "3.57 nats (p 0.028)": loss and e^-loss. */
export function lossText(loss: number): string {
  const p = Math.exp(-loss);
  return `${loss.toFixed(2)} nats (p ${p >= 0.01 ? p.toFixed(2) : p.toExponential(1)})`;
}

/** "movie 0.32 · is 0.32 · [SEP] 0.03": the first `n` predictions, token text through `show`. */
export function predictionsText(predictions: readonly TokenPrediction[], n: number, show: (token: string) => string = (t) => t): string {
  return predictions
    .slice(0, n)
    .map((p) => `${show(p.token)} ${p.probability.toFixed(2)}`)
    .join(' · ');
}

/**
 * Where token i stood among what the model expected at its position (tokens[i - 1].predictions): its rank 1..k, or
 * null when it was not among them (or i is the first token).
 */
export function rankAmongExpected(tokens: readonly AnalysisToken[], i: number): number | null {
  const expected = i > 0 ? tokens[i - 1]?.predictions : undefined;
  if (!expected) return null;
  const at = expected.findIndex((p) => p.id === tokens[i].id);
  return at < 0 ? null : at + 1;
}
