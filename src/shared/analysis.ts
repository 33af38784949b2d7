/**
 * The Analysis: everything the views (heatmap, histograms, hover, spot-checks) and the CLI's JSON know about one
 * run of the model over one text. Plain data only (numbers, strings, arrays), so it survives JSON, postMessage and
 * webview state unchanged. Field names are documented in docs/cli.md; change them only with ANALYSIS_VERSION.
 */
import type { ImportanceCheck } from './importance-check';

export const ANALYSIS_VERSION = 1;

export type RouterKind = 'da-moe' | 'top-k';

/**
 * How a router_logits model turns its router's scores into experts and gates (docs/model-contract.md#router-conventions):
 * softmax -> top-k -> renormalise (Mixtral, OLMoE / Qwen-MoE with norm_topk_prob); softmax -> top-k (Qwen2-MoE's
 * default); top-k on the logits -> softmax over the k (GPT-OSS, Granite-MoE, JetMoE); sigmoid + correction bias with
 * group-limited top-k (DeepSeek-V3, GLM-4-MoE); Switch top-1 with an expert capacity (tokens over it are dropped).
 */
export type RouterConvention = 'softmax-topk-renorm' | 'softmax-topk' | 'topk-softmax' | 'sigmoid-group-topk' | 'switch-capacity';
export const ROUTER_CONVENTIONS: readonly RouterConvention[] = [
  'softmax-topk-renorm',
  'softmax-topk',
  'topk-softmax',
  'sigmoid-group-topk',
  'switch-capacity',
];

/** The router of a router_logits model, as the views show it (the parameters that change which experts a token gets). */
export interface RouterInfo {
  convention: RouterConvention;
  /** What the model's router_logits held: raw logits, or scores already through softmax (sigmoid for sigmoid-group-topk). */
  input: 'logits' | 'probabilities';
  /** sigmoid-group-topk: groups of experts, groups kept per token, gate normalisation and scale. */
  nGroup?: number;
  topkGroup?: number;
  normTopkProb?: boolean;
  routedScalingFactor?: number;
  /** sigmoid-group-topk: whether a non-zero e_score_correction_bias took part in the selection. */
  selectionBias?: boolean;
  /** switch-capacity: tokens one expert takes per sequence (per model run); the rest are dropped. */
  expertCapacity?: number;
}

/** Experts every token goes through besides the routed ones (Qwen2-MoE's shared_expert, DeepSeek's n_shared_experts). */
export interface SharedExperts {
  count: number;
  /** 'sigmoid': each token's shared output is scaled by a learned sigmoid gate (Qwen2-MoE); 'none': weight 1 (DeepSeek). */
  gate: 'sigmoid' | 'none';
}

/** What the model predicts: a class per text, or (causal LMs) the next token at every position. */
export type ModelTask = 'sequence-classification' | 'causal-lm';
export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda';
export type ExecutionProviderChoice = 'auto' | ExecutionProviderName;

export interface ModelSummary {
  /** Directory name of the model, e.g. "damoe-sst2". */
  name: string;
  /** Absolute path of the model directory. */
  path: string;
  routerKind: RouterKind;
  /** Absent means 'sequence-classification' (written before this field). */
  task?: ModelTask;
  numLayers: number;
  numExperts: number;
  /** Largest number of experts one token can use: k_max for da-moe, k for top-k. */
  kMax: number;
  /** Class names in logit order; empty for causal LMs. */
  labels: string[];
  maxSequenceLength: number;
  /**
   * Where the routing came from: the full contract outputs, derived from router_logits + k, or a trace of expert ids
   * recorded by a serving engine (vLLM, SGLang; see docs/routing-traces.md), which has no gates and no importance.
   */
  routingSource: 'contract' | 'router_logits' | 'trace';
  /**
   * False when the model has no token_importance (router_logits models): every importance value is then NaN in
   * memory and null in JSON, and views say "not available". Absent means available (written before this field).
   */
  importanceAvailable?: boolean;
  /**
   * False when no gates were recorded (routing traces: expert ids only): every gate is NaN in memory and null in
   * JSON, routerProbs[t] is [], expert gate mass is NaN/null, and views say "not recorded". Absent means available.
   */
  gatesAvailable?: boolean;
  /** Where a routing trace came from; absent for an Analysis made by running a model. */
  trace?: TraceInfo;
  /** FLOPs of one expert on one token from the metadata; null when the model does not say. */
  expertFlopsPerToken?: number | null;
  /** How gates were made ("renormalized-top-k" | "router-probability"), from the metadata; null when not given. */
  gates?: string | null;
  /** The metadata's description of token_importance, shown as given; null when not given. */
  importanceDefinition?: Record<string, unknown> | null;
  /** router_logits models: the convention the routing was derived by. Absent for contract-routing models. */
  router?: RouterInfo;
  /** Always-on experts of every MoE layer; absent or null when the model has none. */
  sharedExperts?: SharedExperts | null;
  /**
   * Decoder layers whose MLP is dense (no router: DeepSeek's first_k_dense_replace, Qwen2-MoE's decoder_sparse_step and
   * mlp_only_layers), as indices among all decoder layers. `layers` holds the MoE layers only; each says its
   * decoderLayer. Absent or empty: every layer is an MoE layer.
   */
  denseLayers?: number[];
}

export type TraceEngine = 'vllm' | 'sglang' | 'hf-hooks';
export type TraceFormat =
  'vllm-completions' | 'vllm-chat-completions' | 'sglang-generate' | 'sglang-completions' | 'sglang-chat-completions' | 'hf-hooks';

export interface TraceInfo {
  engine: TraceEngine;
  /** The response format read (docs/routing-traces.md lists each, with the engine version it comes from). */
  format: TraceFormat;
  /** The trace file, or the server URL for a live request. */
  source: string;
  /** The engine's `model` field, when the response has one. */
  engineModel: string | null;
  /** Experts per token the engine recorded (top_k). */
  topK: number;
  /** Prompt tokens, then generated tokens (tokens[promptTokens..] are marked generated). */
  promptTokens: number;
  generatedTokens: number;
  /** Tokens the engine recorded no routing for (tokens[].recorded === false). */
  unrecordedTokens: number;
  /** What the reader noticed and the views should say (several choices, generated ids missing...). */
  notes: string[];
}

export interface ProviderReport {
  requested: ExecutionProviderChoice;
  used: ExecutionProviderName;
  /** Providers tried before `used` and why each was skipped. */
  skipped: { provider: ExecutionProviderName; reason: string }[];
  /**
   * Where onnxruntime ran the graph's nodes, read from its own profile of the warm-up run (once per session).
   * GPU providers only: absent on cpu, where every node runs on the CPU, and when the profile could not be read
   * (then `placementProblem` says why). docs/cli.md documents it.
   */
  placement?: NodePlacement;
  /** Why `placement` is absent on a GPU provider (profiling failed, or the model has no contract inputs to warm up). */
  placementProblem?: string;
  /** The graph file that ran, relative to the model directory: model.onnx, or model.gpu.onnx on GPU providers. Absent: model.onnx. */
  modelFile?: string;
  /** How the graph that ran computes the experts (see ExpertCompute). Absent: 'routed'. */
  expertCompute?: ExpertCompute;
  /** On a GPU provider: why the folder's model.gpu.onnx was not used (made from another model.onnx, unreadable). */
  gpuGraphProblem?: string;
}

/**
 * 'routed': each expert runs only on the tokens routed to it (the contract's model.onnx; the shipped models' sparse
 * dispatch). 'dense-masked': every expert runs on every position and its output is weighted by the gate, 0 when
 * not chosen (the shipped GPU graphs, model.gpu.onnx): the same outputs, E/mean-K times the expert FLOPs.
 */
export type ExpertCompute = 'routed' | 'dense-masked';

/**
 * Node placement of the optimised graph (after onnxruntime's fusions and constant folding), counted over the nodes
 * its profiler saw run. Field names are snake_case as in the CLI JSON's other ORT figures.
 */
export interface NodePlacement {
  /** Nodes run by the GPU provider, its memory-copy nodes not counted. */
  gpu_nodes: number;
  /** Nodes run by the CPU provider (the GPU provider has no kernel for them, or ORT keeps shape arithmetic on CPU). */
  cpu_nodes: number;
  /** Op types of the CPU nodes, most frequent first (ties by name). */
  cpu_ops: string[];
  /** How many nodes of each op type in `cpu_ops` ran on CPU. */
  cpu_op_counts: Record<string, number>;
  /** MemcpyToHost / MemcpyFromHost nodes ORT inserted between GPU and CPU nodes: one tensor copy each per run. */
  memcpy_nodes: number;
  /** The GPU provider's name in onnxruntime (WebGpuExecutionProvider, CUDAExecutionProvider). */
  gpu_provider: string;
  /** Where the figures come from. */
  source: 'onnxruntime-profile';
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
  /**
   * Causal LMs: the loss of this token, -ln p(token i | tokens 0..i-1) in nats. Absent for the first token (nothing
   * predicts it) and for classifiers.
   */
  loss?: number;
  /**
   * Causal LMs: the model's most probable tokens for the NEXT position (i + 1) given tokens 0..i, most probable
   * first (up to 5). The same distribution tokens[i + 1].loss is read from: when token i + 1 is among them,
   * tokens[i + 1].loss = -ln(its probability).
   */
  predictions?: TokenPrediction[];
  /**
   * Causal LMs: how many tokens before this one the model saw when it scored it (its position in the window it
   * was read from, special tokens included). Equal to `index` unless the text was split into windows.
   */
  context?: number;
  /** Produced by the engine after the prompt (routing traces). Absent for prompt tokens. */
  generated?: true;
  /**
   * False when the engine recorded no routing for this token (a routing trace's prefix-cached prompt rows, or the
   * last generated token, which was never fed back): experts [] and k 0 in every layer, left out of the statistics.
   */
  recorded?: false;
}

export interface TokenPrediction {
  id: number;
  /** The vocabulary string of `id` (as AnalysisToken.text shows a token, e.g. "##ing"). */
  token: string;
  probability: number;
}

/** Causal LMs: the text's next-token figures, over every token that has a loss (all but the first). */
export interface LanguageModelScore {
  /** exp(meanLoss). */
  perplexity: number;
  /** Mean of tokens[i].loss, nats. */
  meanLoss: number;
  /** Tokens with a loss. */
  scoredTokens: number;
  /** Share of scored tokens that were the previous position's most probable prediction. */
  top1Accuracy: number;
  /** Share of scored tokens among the previous position's predictions (top-k, k = predictionsPerToken). */
  topKAccuracy: number;
  /** Predictions kept per token (the model's k, at most 5). */
  predictionsPerToken: number;
}

export interface LayerRouting {
  layer: number;
  /** Per token (same order as Analysis.tokens). */
  importance: number[];
  k: number[];
  /**
   * Per token: chosen experts, ordered by gate, highest first (a routing trace: in the order the engine recorded
   * them, its top-k order). Empty for pads and unrecorded tokens.
   */
  experts: number[][];
  /** Per token: gates matching `experts` (NaN each when model.gatesAvailable is false). */
  gates: number[][];
  /**
   * Per token: router softmax over all experts (length numExperts); sigmoid scores for sigmoid-group-topk routers;
   * [] when model.gatesAvailable is false (a routing trace).
   */
  routerProbs: number[][];
  /** Index of this MoE layer among all decoder layers, when the model has dense layers (ModelSummary.denseLayers). */
  decoderLayer?: number;
  /**
   * Tokens (indices into Analysis.tokens) that a capacity-limited router (switch-capacity) dropped in this layer: they
   * got no expert (k 0, no gates). Absent: none dropped.
   */
  dropped?: number[];
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
  /** How the per-window predictions were combined ('per-token' for causal LMs: each token is read from one window). */
  predictionMerge: 'mean-probabilities' | 'per-token';
  /**
   * How each token's routing was chosen among the windows that contain it. Absent: 'most-central'. Causal LMs use
   * 'longest-context': every token (its loss, predictions and routing) is read from the first window that holds
   * it, where it has the most tokens before it; `tokens[i].context` says how many.
   */
  tokenSource?: 'most-central' | 'longest-context';
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
  /**
   * Expert FLOPs the graph that ran executed on these tokens: `spent` for a routed graph; numLayers * tokens *
   * numExperts * perExpertToken for a dense-masked one (the GPU graph runs every expert on every token). Absent in
   * analyses written before this field.
   */
  executed?: number;
  /** How the graph that ran computes the experts (ProviderReport.expertCompute). */
  execution?: ExpertCompute;
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
  /** Where the model ran; null for a routing trace (the serving engine ran it, elsewhere). */
  provider: ProviderReport | null;
  /** Absent means 'sequence-classification' (written before this field). */
  task?: ModelTask;
  tokens: AnalysisToken[];
  layers: LayerRouting[];
  /** The class prediction; null for causal LMs (see languageModel) and for routing traces. */
  prediction: Prediction | null;
  /** Causal LMs: perplexity and accuracy of the next-token predictions. Absent for classifiers. */
  languageModel?: LanguageModelScore;
  windowing: WindowingInfo | null;
  stats: RoutingStats;
  timings: Timings;
  /**
   * Importance against occlusion for this text (`damoe analyze --importance-check`, the routing panel's button);
   * snake_case like the reports' statistics (src/shared/importance-check.ts). Absent unless asked for.
   */
  importance_check?: ImportanceCheck;
}
