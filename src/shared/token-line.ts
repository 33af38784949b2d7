/**
 * `damoe analyze --format jsonl`: one JSON object per token and line, for jq and line-oriented tools. A line is the
 * token as in the Analysis (`tokens[i]`: index, id, text, start, end, special, sequence, and whatever else the
 * Analysis gives a token) plus its routing in every MoE layer, indexed by layer. docs/cli.md documents it.
 */
import type { Analysis } from './analysis';

export type TokenLine = Analysis['tokens'][number] & {
  /** importance[l]: the token's importance in layer l; null when the model gives none. */
  importance: (number | null)[];
  /** k[l]: experts the token used in layer l. */
  k: number[];
  /** experts[l]: the chosen experts in layer l, highest gate first. */
  experts: number[][];
  /** gates[l]: their gates, in the same order. */
  gates: number[][];
};

/** The lines of an Analysis, one token at a time (nothing is built for the whole text at once). */
export function* tokenLines(a: Analysis): Generator<TokenLine> {
  for (const token of a.tokens) {
    const t = token.index;
    yield {
      ...token,
      importance: a.layers.map((l) => (Number.isFinite(l.importance[t]) ? l.importance[t] : null)),
      k: a.layers.map((l) => l.k[t]),
      experts: a.layers.map((l) => l.experts[t]),
      gates: a.layers.map((l) => l.gates[t]),
    };
  }
}
