/**
 * The spot-check report: plain JSON data (snake_case keys, no NaN) that `damoe spot-check --json` writes, the HTML
 * renderer (src/report/) draws, the spot-check panel shows and VS Code exports. It crosses every boundary (CLI JSON,
 * host -> webview, webview state), so it lives here; the builder that fills it is src/core/spotcheck/report.ts.
 * Field names are documented in docs/cli.md; change them only with SPOT_CHECK_REPORT_VERSION.
 *
 * Conventions (docs/cli.md):
 * - routing statistics (K histogram, mean K, expert load, co-activation, FLOPs, per-label routing) count every
 *   token the model routes, special tokens included, as `damoe analyze` does;
 * - token lists (most/least important tokens) and the importance entropy are about the text: special tokens are
 *   left out.
 */
import type { ExpertCompute, NodePlacement } from './analysis';
import type { DatasetFormat, SkippedRow } from './dataset';
import type { ImportanceCheck } from './importance-check';

export const SPOT_CHECK_REPORT_VERSION = 1;

export interface SpotCheckExpertLoad {
  layer: number;
  /** Tokens routed to each expert. */
  tokens: number[];
  gate_mass: number[];
  /** tokens[e] / (sum(tokens) / E): 1 is the fair share. */
  utilisation: number[];
  /** Experts that received no token. */
  dead: number[];
  /** Coefficient of variation of tokens over experts. */
  cv: number;
}

export interface SpotCheckKHistogram {
  /** per_layer[l][k]: tokens with K = k in layer l, k = 0..kMax. */
  per_layer: number[][];
  overall: number[];
}

export interface SpotCheckRoutingGroup {
  /** The group's label: the dataset label (routing_by_label) or the predicted model label (routing_by_prediction). */
  label: string;
  /** The model label the dataset label maps to; null when it does not map (always the label itself for predictions). */
  model_label: string | null;
  /** Examples in the group. */
  n: number;
  /** Tokens counted (special tokens included). */
  tokens: number;
  mean_k: { per_layer: number[]; overall: number };
  k_histogram: SpotCheckKHistogram;
  expert_load: SpotCheckExpertLoad[];
  /** Examples of the group that have a dataset label. Absent in reports saved before it (as are the next four). */
  labelled?: number;
  /** Of those, predicted correctly; null when the labels do not map to the model's. */
  correct?: number | null;
  /** correct / labelled; null when correct is null or nothing in the group is labelled. */
  accuracy?: number | null;
  /** Wilson score 95% interval of accuracy; null with it. */
  accuracy_ci95?: [number, number] | null;
  /**
   * Per layer: how far the group's expert load is from the whole sample's, as the total variation distance between
   * their shares of expert assignments (0 = the same mix, 1 = disjoint experts; src/shared/stats.ts totalVariation).
   */
  expert_load_shift?: number[];
}

export interface TokenImportanceEntry {
  /** The token's vocabulary string (`##ing`, `Ġthe`). */
  token: string;
  /** Occurrences in the sample (content tokens only). */
  count: number;
  /** Mean over its occurrences of the token's importance averaged over layers. */
  mean_importance: number;
}

/** One token an expert receives more often than chance (expert_specialisation). */
export interface SpecialisationToken {
  /** The token's vocabulary string. */
  token: string;
  /** Times the expert received it in this layer (content tokens; each of a token's K experts counts it once). */
  count: number;
  /** (count / the expert's assignments) / (the token's occurrences / all content tokens): 1 = chance, 3 = three times as often. */
  lift: number;
}

export interface SpecialisationExpert {
  expert: number;
  /** Highest lift first, among tokens the expert received at least expert_specialisation_min_count times. */
  tokens: SpecialisationToken[];
}

export interface SpotCheckExample {
  line: number;
  /** The text, cut to a snippet (ending in … when cut). */
  text: string;
  pair: string | null;
  /** The label as written in the dataset; null when the row has none. */
  label: string | null;
  /** The model label the dataset label maps to; null when it has none or does not map. */
  gold: string | null;
  /** The predicted label; null when there is no classifier output (routing traces, docs/routing-traces.md). */
  predicted: string | null;
  /** Probability of the predicted class; null with `predicted`. */
  confidence: number | null;
  /** null when there is no mapped label. */
  correct: boolean | null;
  /** Mean K over all tokens and layers (special tokens included). */
  mean_k: number;
  /** Shannon entropy (bits) of the content tokens' importance (mean over layers) normalised to sum to 1; null when not available. */
  importance_entropy: number | null;
  /** Tokens of the example, special tokens included. */
  tokens: number;
  /** Windows the text was split into (1 when it fitted). */
  windows: number;
  /** Causal LMs: mean loss (nats) of the example's scored tokens, all but its first; null for a one-token text. Absent for classifiers. */
  mean_loss?: number | null;
}

export type LabelMappingStrategy = 'exact' | 'case-insensitive' | 'index' | 'mixed' | 'none' | 'no-labels';

export interface LabelMapping {
  strategy: LabelMappingStrategy;
  /** One entry per distinct dataset label value in the sample. */
  pairs: { dataset_label: string; model_label: string | null; by: 'exact' | 'case-insensitive' | 'index' | null }[];
  /** Why accuracy is null, or how labels were matched when it was not by name. */
  note: string | null;
}

export interface SpotCheckConfusion {
  /** Row names: model labels when dataset labels map to them, else the dataset label values. */
  rows: string[];
  rows_are: 'model-labels' | 'dataset-labels';
  /** Column names: the model labels (predictions). */
  columns: string[];
  /** matrix[row][column]: examples with that label predicted as that column. */
  matrix: number[][];
}

/** A causal LM's next-token figures over the sample, and K against loss (every scored token: all but each text's first). */
export interface SpotCheckLanguageModel {
  /** exp(mean_loss). */
  perplexity: number;
  /** Mean token loss, nats. */
  mean_loss: number;
  scored_tokens: number;
  /** by_k[l][k]: scored tokens with K = k in layer l and their mean loss (null when none), k = 0..k_max. */
  by_k: { tokens: number; mean_loss: number | null }[][];
  /** Per layer: Pearson correlation of a token's K with its loss; null when K or loss does not vary. */
  k_loss_correlation: (number | null)[];
}

export interface SpotCheckReport {
  version: typeof SPOT_CHECK_REPORT_VERSION;
  kind: 'damoe-spot-check';
  created_at: string;
  dataset: {
    path: string;
    format: DatasetFormat;
    /** Header columns (TSV/CSV) or first JSON object's keys; null for plain text. */
    columns: string[] | null;
    text_column: string;
    pair_column: string | null;
    label_column: string | null;
    /** The --group-column (routing_by_group); null or absent when none. */
    group_column?: string | null;
    /** Data rows read (good and skipped). */
    rows: number;
    /** Good records (the sampling population). */
    records: number;
  };
  sample: {
    requested: number | 'all';
    seed: number | string;
    /** Examples in the sample (the run's total). */
    size: number;
    stratified: boolean;
    strata: { label: string | null; seen: number; taken: number }[];
    note: string | null;
  };
  model: {
    name: string;
    path: string;
    router_kind: string;
    num_layers: number;
    num_experts: number;
    k_max: number;
    labels: string[];
    max_sequence_length: number;
    importance_available: boolean;
  };
  /** null for routing traces (docs/routing-traces.md): the serving engine ran the model, elsewhere. */
  execution_provider: {
    requested: string;
    used: string;
    skipped: { provider: string; reason: string }[];
    /** Node placement of the main worker's session (GPU providers; see Analysis.provider.placement in docs/cli.md). */
    placement?: NodePlacement;
    /** Why placement is absent on a GPU provider. */
    placement_problem?: string;
    /** The graph file that ran (model.onnx or model.gpu.onnx). Absent: model.onnx. */
    model_file?: string;
  } | null;
  threads: number | null;
  /** Model worker processes the run was spread over (single-threaded each when more than 1). */
  workers: number;
  /** Examples analysed (less than sample.size when cancelled, or when some failed). */
  n: number;
  cancelled: boolean;
  /**
   * The figures do not cover the whole sample: cancelled, or examples were lost to model worker failures (a chunk
   * that failed twice; they are counted under skipped with the reason). partial_reason says which.
   */
  partial: boolean;
  partial_reason: string | null;
  /** Model worker restarts during the run (a worker crashed or went silent; its chunks were retried once). */
  worker_restarts: number;
  /** Rows skipped by the reader (bad rows) and examples the model could not run; first MAX_SKIPPED_LISTED listed. */
  skipped: { count: number; reader: number; run: number; first: SkippedRow[] };
  /** Share of labelled examples predicted correctly; null without labels or when labels do not map. */
  accuracy: number | null;
  /** Wilson score 95% interval of accuracy (src/shared/stats.ts); null when accuracy is. Absent in reports saved before it. */
  accuracy_ci95?: [number, number] | null;
  /** Analysed examples that have a label. */
  labelled: number;
  correct: number | null;
  label_mapping: LabelMapping;
  confusion: SpotCheckConfusion | null;
  predicted_counts: { label: string; count: number }[];
  /** Tokens counted in the routing statistics (special tokens included). */
  tokens: number;
  k_histogram: SpotCheckKHistogram;
  mean_k: { per_layer: number[]; overall: number };
  expert_load: SpotCheckExpertLoad[];
  /** co_activation[l][i][j]: tokens routed to both i and j in layer l. */
  co_activation: number[][][];
  flops: {
    spent: number;
    /** Expert FLOPs the graph that ran executed (see ExpertFlops.executed): `spent`, or all experts on every token for the GPU graph. */
    executed?: number;
    execution?: ExpertCompute;
    fixed_top_k_max: number;
    fixed_top_2: number;
    per_expert_token: number;
    unit: 'flops' | 'expert-evaluations';
  };
  /** Routing per dataset label (empty without labels). */
  routing_by_label: SpotCheckRoutingGroup[];
  /** Routing per predicted label. */
  routing_by_prediction: SpotCheckRoutingGroup[];
  /**
   * Routing per value of dataset.group_column (--group-column), values in natural order; examples whose cell is
   * empty form the group "(empty)". Absent or empty without a group column.
   */
  routing_by_group?: SpotCheckRoutingGroup[];
  /** expert_specialisation[l][e]: the tokens expert e of layer l receives most over chance (content tokens). Absent in older reports. */
  expert_specialisation?: SpecialisationExpert[][];
  /**
   * Importance against occlusion over a subset of the sample (--importance-check; docs/importance-check.md), pooled
   * over the subset's tokens. Absent when not asked for, or when the run was cancelled before it.
   */
  importance_check?: ImportanceCheck;
  /** Causal LMs: perplexity and K against loss over the sample. Absent for classifiers. */
  language_model?: SpotCheckLanguageModel;
  /** The minimum count of a token in expert_specialisation. */
  expert_specialisation_min_count?: number;
  token_importance: {
    available: boolean;
    min_count: number;
    special_tokens: 'excluded';
    distinct_tokens: number;
    most: TokenImportanceEntry[];
    least: TokenImportanceEntry[];
  };
  examples: SpotCheckExample[];
  examples_per_second: number;
  elapsed_ms: number;
}
