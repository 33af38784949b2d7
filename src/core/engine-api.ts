/**
 * The engine's public surface: what the extension, the CLI and the spot-checks call. One implementation
 * (src/core/engine.ts) serves all three, so a view never computes routing facts of its own.
 */
import type { Analysis, ExecutionProviderChoice, ModelSummary, ProviderReport } from '../shared/analysis';
import type { RoutedText } from './analysis/routed';
import type { OccludedText } from './analysis/occlusion';

export interface EngineOptions {
  /** Model directory; undefined means the shipped DA-MoE model (models/damoe-sst2). */
  modelDir?: string;
  executionProvider?: ExecutionProviderChoice;
  /** Intra-op threads for onnxruntime; 0 lets onnxruntime choose. */
  threads?: number;
  /** Longest token sequence per model run; longer text is windowed. Capped by the model's max length. */
  maxTokens?: number;
  /**
   * Watchdog: a model worker silent (no heartbeat) for this many seconds is killed and restarted; its requests fail
   * with 'worker-unresponsive'. 0 turns it off. Default 20 (DEFAULT_WORKER_TIMEOUT_SECONDS).
   */
  workerTimeoutSeconds?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

export interface AnalyzeRequest {
  text: string;
  /** Second segment of a pair input (e.g. RTE premise/hypothesis). */
  textPair?: string;
  signal?: AbortSignal;
}

export { EngineError, type EngineErrorCode } from './errors';

export interface BatchAnalyzeOptions {
  /** Sequences (windows) per model run; sequences are bucketed by length. Default 16. */
  batchSize?: number;
  /**
   * Single-threaded model worker processes to spread the runs over (CPU only; default 1, the engine's own
   * worker). More than 1 starts a pool beside the interactive worker on first use (see startBatchWorkers); it
   * stays until releaseBatchWorkers() or dispose().
   */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (doneSequences: number, totalSequences: number) => void;
}

export interface Engine {
  readonly model: ModelSummary;
  readonly provider: ProviderReport;
  /**
   * One text (and pair): its Analysis. Cancel it with `request.signal` (it then rejects with code 'cancelled').
   * The engine runs concurrent calls side by side; deciding that a newer request supersedes an older one is the
   * caller's policy (the VS Code side: src/extension/routing/latestWins.ts), not the engine's.
   */
  analyze(request: AnalyzeRequest): Promise<Analysis>;
  /** Throughput path: every input's windows batched together, bucketed by length; results in input order. */
  analyzeBatch(requests: readonly AnalyzeRequest[], options?: BatchAnalyzeOptions): Promise<Analysis[]>;
  /** The throughput path without building Analyses (dataset spot-checks): merged tokens, flat routing, prediction. */
  routeBatch(requests: readonly AnalyzeRequest[], options?: BatchAnalyzeOptions): Promise<RoutedText[]>;
  /**
   * Importance against occlusion: each input and its one-token-deleted variants through the batch path (one batched
   * run per text, not one run per token); cancel with options.signal. docs/importance-check.md.
   */
  occludeBatch(requests: readonly AnalyzeRequest[], options?: BatchAnalyzeOptions): Promise<OccludedText[]>;
  /** Starts the pool of single-threaded batch workers for `workers` (CPU only); resolves with the number running. */
  startBatchWorkers(workers: number): Promise<number>;
  /** Stops that pool (the interactive worker stays). */
  releaseBatchWorkers(): Promise<void>;
  /** Model worker restarts (crashes, watchdog kills) since the engine started, over all its workers. */
  readonly workerRestarts: number;
  /** Stops every worker; later calls reject with 'cancelled'. */
  dispose(): Promise<void>;
}
