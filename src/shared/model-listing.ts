/**
 * `damoe models --json`: what the CLI says about each model directory without running it (snake_case keys, as the
 * metadata it quotes). Filled by describeModel (src/core/model-listing.ts); fields documented in docs/cli.md.
 * Change their meaning only with MODEL_LISTING_VERSION.
 */
import type { ExecutionProviderName } from './analysis';

export const MODEL_LISTING_VERSION = 1;

export interface ModelListing {
  version: typeof MODEL_LISTING_VERSION;
  name: string;
  path: string;
  /** Passed every static contract check (metadata, files). */
  ok: boolean;
  /** Contract violations, one per line. */
  problems: string[];
  /** The moe.contract metadata as stored in the model; null when missing or unreadable. */
  metadata: Record<string, unknown> | null;
  /** `task` from the metadata; contract v1 models, which have none, are sequence classifiers. Null without metadata. */
  task: string | null;
  router: ModelRouterRule | null;
  /** Figures from the model's metrics.json; null when it has none (it is optional). */
  metrics: ModelMetrics | null;
  size: ModelSize;
  /** What this installation of onnxruntime-node offers the model, checked without running it. */
  providers: ProviderSupport[];
}

/** The K rule as the metadata states it (the rule itself is in the graph; training/damoe/routing.py). */
export interface ModelRouterRule {
  kind: string;
  /** The fixed K of a top-k router; null for da-moe. */
  k: number | null;
  /** The most experts one token can get (k_max, or k for top-k). */
  k_max: number;
  /** importance.k_rule: the formula, as written by the exporter; null when not given. */
  rule: string | null;
  /** importance.k_scale (for a calibrated rule, its starting point); null when not given. */
  k_scale: number | null;
  /** importance.k_calibration or k_calibration, as given: { method, target_mean_k, s_per_layer }. */
  k_calibration: Record<string, unknown> | null;
  /** `gates` convention (renormalized-top-k, router-probability); null when not given. */
  gates: string | null;
  /** The metadata's router convention (contract v2 `router.convention`, a Hugging Face family); null otherwise. */
  convention: string | null;
  /** Contract v2 `shared_experts`, as given (always-on experts); null when none. */
  shared_experts: Record<string, unknown> | null;
  /** Contract v2 `dense_layers`: decoder layers without a router; [] when none. */
  dense_layers: number[];
  num_layers: number;
  num_experts: number;
}

export interface ModelMetrics {
  /** Accuracy on `evaluated_on`; null when metrics.json has none (causal LMs). */
  accuracy: number | null;
  /** Causal LMs: teacher-forced perplexity on `evaluated_on`; absent or null otherwise. */
  perplexity?: number | null;
  /** The file the accuracy was measured on, as metrics.json names it (valid_file). */
  evaluated_on: string | null;
  examples: number | null;
  mean_k: number | null;
  parameters: number | null;
}

export interface ModelSize {
  /** model.onnx (plus model.onnx.data when the weights are external). */
  model_bytes: number | null;
  tokenizer_bytes: number | null;
}

export type ProviderStatus = 'available' | 'needs-hardware' | 'not-installed';

export interface ProviderSupport {
  provider: ExecutionProviderName;
  /**
   * `available`: built in and needs nothing else (cpu); `needs-hardware`: built in, used when a suitable GPU is found
   * as the model loads (webgpu, or cuda with its libraries present); `not-installed`: this installation lacks it.
   */
  status: ProviderStatus;
  detail: string;
}
