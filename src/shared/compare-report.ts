/**
 * The dataset comparison of two or three models on the same sample (`damoe compare --json`, the HTML report, the
 * Compare Models on Dataset panel). Plain JSON data (snake_case keys, no NaN), like the spot-check report it is
 * built from (src/core/compare/report.ts). Field names are documented in docs/cli.md; change them only with
 * COMPARE_REPORT_VERSION.
 */
import type { SkippedRow } from './dataset';
import type { SpotCheckReport } from './spotcheck-report';

export const COMPARE_REPORT_VERSION = 1;

export interface CompareModel {
  /** The name given in --models (a shipped model's name, or the folder's name for a path). */
  name: string;
  path: string;
  router_kind: string;
  /** Share of the labelled examples this model got right; null without labels or when labels do not map. */
  accuracy: number | null;
  /** Wilson score 95% interval of `accuracy`; null when accuracy is. */
  ci95: [number, number] | null;
  correct: number | null;
  labelled: number;
  /** Examples this model analysed. */
  n: number;
  /** Mean K over every routed token and layer (special tokens included), as the spot-check's mean_k.overall. */
  mean_k: number;
  mean_k_per_layer: number[];
  /** Expert FLOPs spent over the whole sample (expert evaluations when the model does not state its FLOPs). */
  expert_flops: number;
  /** What a fixed top-2 router would spend on the same tokens (the shipped baseline), in the same unit. */
  expert_flops_fixed_top_2: number;
  flops_unit: 'flops' | 'expert-evaluations';
  /** Tokens routed over the sample (special tokens included). */
  tokens: number;
  /** Examples of the sample this model could not run (input too long for it, worker failures). */
  skipped_run: number;
}

/** One model against another on the examples both analysed and both have a mapped label for. */
export interface ComparePaired {
  /** The model subtracted from (models[0]). */
  first: string;
  second: string;
  /** Paired examples. */
  n: number;
  /** accuracy(first) - accuracy(second) on the paired examples. */
  difference: number;
  /** 95% paired bootstrap percentile interval of `difference`. */
  ci95: [number, number];
  /** McNemar's exact two-sided p on the discordant pairs. */
  mcnemar_p: number;
  /** Discordant pairs: examples only the first got right, and only the second. */
  first_only_correct: number;
  second_only_correct: number;
  bootstrap: { resamples: number; seed: number | string };
}

export interface CompareDisagreement {
  line: number;
  /** The example's whole text (not cut: a click opens the compare view on it). */
  text: string;
  pair: string | null;
  /** The label as written in the dataset; null when the row has none. */
  label: string | null;
  /** predictions[i]: models[i]'s predicted label. */
  predictions: string[];
  /** correct[i]: whether models[i] got it right; null without a mapped label. */
  correct: (boolean | null)[];
}

export interface CompareReport {
  version: typeof COMPARE_REPORT_VERSION;
  kind: 'damoe-compare';
  created_at: string;
  dataset: SpotCheckReport['dataset'];
  sample: SpotCheckReport['sample'];
  models: CompareModel[];
  /** models[0] - models[1]; null without mapped labels on both. */
  paired: ComparePaired | null;
  /** Every other model against models[0] (paired_with_first[0] is `paired`); with two models, one entry. */
  paired_with_first: ComparePaired[];
  /** Examples every model analysed (the population of agreement and disagreements). */
  common: number;
  /** Examples where some two models predicted different labels (disagreements_total of them; the first MAX_DISAGREEMENTS_LISTED listed, by line). */
  disagreements_total: number;
  disagreements: CompareDisagreement[];
  /** A model's run was cancelled or lost examples: the figures cover fewer examples than the sample. */
  cancelled: boolean;
  partial: boolean;
  partial_reason: string | null;
  /** Rows the reader skipped (the same for every model); the examples a model could not run are its skipped_run. */
  skipped: { reader: number; first: SkippedRow[] };
  elapsed_ms: number;
}
