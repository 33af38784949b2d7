/**
 * Importance against occlusion (docs/importance-check.md): does a token's importance predict how much the model's
 * prediction depends on it? Each ordinary token is deleted from the input ids in turn and the model re-run; the drop
 * in the predicted class's probability is ranked against the token's importance, per layer (Spearman's rho).
 * The JSON of `damoe analyze --importance-check` and of a spot-check's `importance_check`; the routing and spot-check
 * panels show it. Field names are snake_case as in the reports' other statistics.
 */

/**
 * How a token is removed: 'deletion' = its id is taken out of the input ids (the sequence gets one shorter; every
 * window that holds it is re-run without it). Special tokens ([CLS], [SEP]) are never removed.
 */
export type OcclusionMethod = 'deletion';

/** What is measured: p(c | text) - p(c | text without the token), c = the class predicted for the whole text. */
export type OcclusionMeasure = 'predicted-class-probability-drop';

/**
 * How several texts are pooled: 'tokens' = one correlation over every (importance, drop) pair of the sample, each
 * token once. The mean of per-text correlations is given beside it (`mean_text_spearman`), not instead.
 */
export type OcclusionPooling = 'tokens';

export interface ImportanceCheckLayer {
  /** MoE layer index (Analysis.layers[layer]). */
  layer: number;
  /** Spearman's rho between importance and the drop; null when either side is constant or n < 2. */
  spearman: number | null;
  /** Pairs in this layer's correlation: tokens whose importance is a finite number. */
  n: number;
  /**
   * 95% interval of rho by Fisher's z with Fieller, Hartley & Pearson's variance 1.06 / (n - 3) for Spearman's rho. It treats
   * the tokens as independent, which tokens of one text are not: read it as a lower bound on the uncertainty.
   * null when n < 4 or rho is null.
   */
  ci95: [number, number] | null;
  /** Mean over texts of each text's own rho (texts with >= 3 occluded tokens and a defined rho). */
  mean_text_spearman: number | null;
  /** Texts in mean_text_spearman. */
  texts: number;
}

export interface ImportanceCheck {
  occlusion: OcclusionMethod;
  measure: OcclusionMeasure;
  pooling: OcclusionPooling;
  /** Tokens occluded (importance/drop pairs) over all texts; each layer gives its own n. */
  n: number;
  /** Texts the tokens come from (1 for an analysis). */
  texts: number;
  /** A spot-check's sample: texts asked for (the first of the sample, which is in random order). */
  requested?: number;
  /** A spot-check's sample: texts left out because the model could not take them (too long, empty), or cancelled. */
  skipped?: number;
  /** A spot-check's sample: the seed the texts were drawn from the sample with ("importance:" + the sample's seed). */
  seed?: string;
  /** The check was cancelled: the figures cover the texts done before. */
  cancelled?: true;
  /** Model runs (sequences) the occluded inputs took, the unoccluded ones included. */
  sequences: number;
  /** Mean and largest drop over the occluded tokens (the scale of the effect being ranked). */
  mean_drop: number;
  max_drop: number;
  layers: ImportanceCheckLayer[];
  /**
   * One analysis only: the drop of each token (indexed like Analysis.tokens), null for special tokens; and the
   * class whose probability dropped, with its probability on the whole text. Absent for a spot-check's sample.
   */
  drops?: (number | null)[];
  predicted?: { index: number; label: string; probability: number };
}

/** The facts of a ModelSummary (src/shared/analysis.ts, which imports this file) the check depends on. */
export interface CheckedModel {
  name: string;
  routingSource: string;
  importanceAvailable?: boolean;
  task?: string;
}

/**
 * Why the importance of this model's analyses cannot be checked against occlusion, or null when it can. A routing
 * trace and a router_logits model have no importance; a causal LM has no predicted class whose probability could
 * drop (a next-token measure would be another check: docs/importance-check.md says why it is not this one).
 */
export function importanceCheckUnavailable(model: CheckedModel): string | null {
  if (model.routingSource === 'trace') {
    return 'A routing trace has no token importance (a serving engine records expert ids, a Hugging Face hooks trace router logits), and no model here to re-run without a token.';
  }
  if (model.importanceAvailable === false) {
    return `${model.name} has no token_importance output (routing derived from router_logits): there is no importance to check against occlusion.`;
  }
  if (model.task === 'causal-lm') {
    return `${model.name} is a causal language model: it predicts no class whose probability could drop when a token is removed, so the occlusion check (a classifier's) does not apply.`;
  }
  return null;
}

/** "+0.147 [+0.118, +0.175] (n 4709)" for a layer; "n/a (n 3)" when rho is undefined. */
export function formatLayerCheck(l: ImportanceCheckLayer): string {
  const f = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  if (l.spearman === null) return `n/a (n ${l.n})`;
  return `${f(l.spearman)}${l.ci95 ? ` [${f(l.ci95[0])}, ${f(l.ci95[1])}]` : ''} (n ${l.n})`;
}

/**
 * The check in plain text (CLI summaries): a head line saying what was measured, then a line per layer.
 * `what` names the texts ("this text", "200 examples of the sample").
 */
export function importanceCheckLines(c: ImportanceCheck): string[] {
  const over =
    c.texts === 1 && c.predicted
      ? `the ${c.n} tokens of this text (predicted ${c.predicted.label}, p = ${c.predicted.probability.toFixed(3)})`
      : `${c.n} tokens of ${c.texts} example${c.texts === 1 ? '' : 's'}${c.skipped ? ` (${c.skipped} left out)` : ''}, pooled`;
  const lines = [
    `Importance vs occlusion${c.cancelled ? ' (CANCELLED: partial)' : ''}: Spearman's rho of importance and the drop in the predicted class's probability when the token is deleted, over ${over}; mean drop ${c.mean_drop.toFixed(4)}, largest ${c.max_drop.toFixed(4)}; ${c.sequences} model inputs`,
  ];
  for (const l of c.layers) {
    const mean =
      c.texts > 1 && l.mean_text_spearman !== null
        ? `; mean of per-example rhos ${l.mean_text_spearman.toFixed(3)} (${l.texts} examples)`
        : '';
    lines.push(`  layer ${l.layer}: rho ${formatLayerCheck(l)}${mean}`);
  }
  return lines;
}

/**
 * One sentence saying what a sample's check measured and over what (the spot-check panel and HTML report): the
 * method, the pooling, the subset and its seed, and the size of the effect.
 */
export function importanceCheckSummary(c: ImportanceCheck): string {
  const subset =
    c.requested !== undefined
      ? `${c.texts} of the sample's examples (${c.requested} asked for${c.skipped ? `, ${c.skipped} left out` : ''}${c.seed ? `, drawn with seed ${c.seed}` : ''})`
      : `${c.texts} example${c.texts === 1 ? '' : 's'}`;
  return (
    `${c.cancelled ? 'CANCELLED, partial: ' : ''}Each token of ${subset} deleted in turn (special tokens kept); Spearman's ρ per layer between the token's importance and the drop in the predicted class's probability, ` +
    `pooled over all ${c.n} tokens (${c.sequences} model inputs). Mean drop ${c.mean_drop.toFixed(4)}, largest ${c.max_drop.toFixed(4)}. ` +
    `The interval treats tokens as independent, so it is too narrow; ρ near 0 means importance does not pick out the tokens the prediction depends on.`
  );
}
