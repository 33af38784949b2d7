/**
 * The engine's public surface: what the extension, the CLI and the spot-checks call. One implementation
 * (src/core/engine.ts) serves all three, so a view never computes routing facts of its own.
 */
import type { Analysis, ExecutionProviderChoice, ModelSummary, ProviderReport } from '../shared/analysis';

export interface EngineOptions {
  /** Model directory; undefined means the shipped DA-MoE model (models/damoe-sst2). */
  modelDir?: string;
  executionProvider?: ExecutionProviderChoice;
  /** Intra-op threads for onnxruntime; 0 lets onnxruntime choose. */
  threads?: number;
  /** Longest token sequence per model run; longer text is windowed. Capped by the model's max length. */
  maxTokens?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

export interface AnalyzeRequest {
  text: string;
  /** Second segment of a pair input (e.g. RTE premise/hypothesis). */
  textPair?: string;
  signal?: AbortSignal;
}

export type EngineErrorCode =
  | 'model-not-found'
  | 'contract-violation'
  | 'tokenizer'
  | 'empty-text'
  | 'worker-crashed'
  | 'cancelled'
  | 'provider-unavailable'
  | 'inference-failed'
  /** onnxruntime could not load a model file that parses (an operator it lacks, a graph it rejects). */
  | 'model-load-failed'
  /** The pair text alone (plus specials) does not fit the model's window; only the first text is windowed. */
  | 'input-too-long'
  /** An engine option is out of range (threads, maxTokens). */
  | 'invalid-option';

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly details?: string[],
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface Engine {
  readonly model: ModelSummary;
  readonly provider: ProviderReport;
  /** Interactive path: the latest call wins; an earlier call still running rejects with code 'cancelled'. */
  analyze(request: AnalyzeRequest): Promise<Analysis>;
  dispose(): Promise<void>;
}
