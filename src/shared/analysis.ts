/**
 * The Analysis: everything the views (heatmap, histograms, hover, spot-checks) and the CLI's JSON know about one
 * run of the model over one text. Plain data only (numbers, strings, arrays), so it survives JSON, postMessage and
 * webview state unchanged. Field names are documented in docs/cli.md; change them only with ANALYSIS_VERSION.
 */
export const ANALYSIS_VERSION = 1;

export type RouterKind = 'da-moe' | 'top-k';
export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda';
export type ExecutionProviderChoice = 'auto' | ExecutionProviderName;

export interface ModelSummary {
  /** Directory name of the model, e.g. "damoe-sst2". */
  name: string;
  /** Absolute path of the model directory. */
  path: string;
  routerKind: RouterKind;
  numLayers: number;
  numExperts: number;
  /** Largest number of experts one token can use: k_max for da-moe, k for top-k. */
  kMax: number;
  labels: string[];
  maxSequenceLength: number;
  /** Where the routing tensors came from: the full contract outputs, or derived from router_logits + k. */
  routingSource: 'contract' | 'router_logits';
  /**
   * False when the model has no token_importance (router_logits models): every importance value is then NaN in
   * memory and null in JSON, and views say "not available". Absent means available (written before this field).
   */
  importanceAvailable?: boolean;
  /** FLOPs of one expert on one token from the metadata; null when the model does not say. */
  expertFlopsPerToken?: number | null;
  /** How gates were made ("renormalized-top-k" | "router-probability"), from the metadata; null when not given. */
  gates?: string | null;
  /** The metadata's description of token_importance, shown as given; null when not given. */
  importanceDefinition?: Record<string, unknown> | null;
}

export interface ProviderReport {
  requested: ExecutionProviderChoice;
  used: ExecutionProviderName;
  /** Providers tried before `used` and why each was skipped. */
  skipped: { provider: ExecutionProviderName; reason: string }[];
}

export interface AnalysisToken {
  index: number;
  id: number;
  text: string;
  /** [start, end) in UTF-16 code units of Analysis.text; null for special tokens. */
  start: number | null;
  end: number | null;
  special: boolean;
  /** Which input start/end index into: 0 = text, 1 = textPair; null for special tokens. Absent means 0. */
  sequence?: 0 | 1 | null;
  /**
   * The tokenizer's unknown token (e.g. [UNK]): `text` is that token's string, and the characters it stands for are
   * start..end of the input (see src/shared/token-text.ts). Absent otherwise.
   */
  unknown?: true;
}

export interface LayerRouting {
  layer: number;
  /** Per token (same order as Analysis.tokens). */
  importance: number[];
  k: number[];
  /** Per token: chosen experts, ordered by gate, highest first. Empty for pads. */
  experts: number[][];
  /** Per token: gates matching `experts`. */
  gates: number[][];
  /** Per token: router softmax over all experts (length numExperts). */
  routerProbs: number[][];
}

export interface Prediction {
  index: number;
  label: string;
  probabilities: number[];
}

export interface WindowingInfo {
  windows: number;
  /** Tokens of content per window (without special tokens). */
  windowTokens: number;
  /** Content tokens shared by neighbouring windows. */
  overlapTokens: number;
  /** How the per-window predictions were combined. */
  predictionMerge: 'mean-probabilities';
  /** How each token's routing was chosen among the windows that contain it. Absent: 'most-central'. */
  tokenSource?: 'most-central';
}

export interface KHistogram {
  /** counts[k] = number of (non-pad) tokens with K = k, k = 0..kMax; perLayer[l][k]. */
  perLayer: number[][];
  overall: number[];
}

export interface ExpertLoad {
  layer: number;
  /** Tokens routed to each expert. */
  tokens: number[];
  /** Sum of gates given to each expert. */
  gateMass: number[];
  /** tokens[e] / (sum(tokens) / numExperts): 1 is perfectly balanced. */
  utilisation: number[];
  /** Experts that received no token. */
  dead: number[];
  /** Coefficient of variation (std / mean) of tokens over experts; 0 when nothing was routed. */
  cv: number;
}

export interface ExpertFlops {
  /** Expert FLOPs actually spent: sum over layers and tokens of K * flopsPerExpertToken. */
  spent: number;
  /** What a fixed top-kMax router would spend on the same tokens. */
  fixedTopKMax: number;
  /** What a fixed top-2 router would spend on the same tokens. */
  fixedTop2: number;
  /** FLOPs of one expert on one token (2 * params of the expert MLP), from the contract metadata or an estimate. */
  perExpertToken: number;
  /**
   * 'flops' when perExpertToken came from the metadata; 'expert-evaluations' when the model does not give
   * expert_flops_per_token, so perExpertToken is 1 and the figures count expert-token evaluations. Absent: 'flops'.
   */
  unit?: 'flops' | 'expert-evaluations';
}

export interface RoutingStats {
  tokens: number;
  kHistogram: KHistogram;
  meanK: { perLayer: number[]; overall: number };
  expertLoad: ExpertLoad[];
  /** coActivation[l][i][j]: tokens in layer l routed to both i and j (diagonal: tokens routed to i). */
  coActivation: number[][][];
  flops: ExpertFlops;
}

export interface Timings {
  tokenizeMs: number;
  inferenceMs: number;
  analysisMs: number;
  totalMs: number;
}

export interface Analysis {
  version: typeof ANALYSIS_VERSION;
  text: string;
  /** Second segment for pair inputs; token ranges with sequence 1 index into it. */
  textPair?: string;
  model: ModelSummary;
  provider: ProviderReport;
  tokens: AnalysisToken[];
  layers: LayerRouting[];
  prediction: Prediction;
  windowing: WindowingInfo | null;
  stats: RoutingStats;
  timings: Timings;
}
