/**
 * The engine's one error type: a code the callers branch on (the extension's messages, the CLI's exit codes), a
 * message for people and, for contract violations, one line per violation. Low in the module graph (it imports
 * nothing), so every core module can throw it; engine-api.ts re-exports it as part of the engine's surface.
 */
export type EngineErrorCode =
  | 'model-not-found'
  | 'contract-violation'
  | 'tokenizer'
  | 'empty-text'
  | 'worker-crashed'
  /** The model worker sent no heartbeat for workerTimeoutSeconds: it was killed and is being restarted. */
  | 'worker-unresponsive'
  | 'cancelled'
  | 'provider-unavailable'
  | 'inference-failed'
  /** onnxruntime could not load a model file that parses (an operator it lacks, a graph it rejects). */
  | 'model-load-failed'
  /** The pair text alone (plus specials) does not fit the model's window; only the first text is windowed. */
  | 'input-too-long'
  /** An engine option is out of range (threads, maxTokens). */
  | 'invalid-option'
  /** A routing trace (docs/routing-traces.md) is malformed: the message names the field, expected and found shape. */
  | 'bad-trace'
  /** A serving engine answered without routing: the message names the server flag or request field to add. */
  | 'trace-no-routing'
  /** A request to a remote serving engine failed (HTTP status, connection, timeout, not JSON). */
  | 'remote-failed'
  /** The importance check (occlusion) does not apply: a routing trace, no token_importance, or no class prediction. */
  | 'importance-unavailable';

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
