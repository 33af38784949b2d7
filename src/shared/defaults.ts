/**
 * One source for every default and limit that the CLI, the engine and VS Code share. package.json's
 * `contributes.configuration` repeats some of them for the Settings editor (VS Code reads only the manifest), so
 * test/unit/shared/defaults.test.ts checks the manifest against this file; change a value here and there together.
 *
 * Dataset file extensions are the table in ./dataset.ts (DATASET_EXTENSIONS), checked against the manifest's menus.
 */
import type { ExecutionProviderChoice } from './analysis';

/** The shipped model used when none is configured (`models/<name>`). */
export const DEFAULT_MODEL_NAME = 'damoe-sst2';

/** `damoe.executionProvider` / `--provider`. */
export const EXECUTION_PROVIDER_CHOICES: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'webgpu', 'cuda'];
export const DEFAULT_EXECUTION_PROVIDER: ExecutionProviderChoice = 'auto';

/** `damoe.threads` / `--threads`: onnxruntime intra-op threads; 0 lets onnxruntime choose. */
export const DEFAULT_THREADS = 0;
export const MAX_THREADS = 256;

/**
 * `damoe.maxTokens` / `--max-tokens`: the longest token sequence per model run (special tokens included); longer
 * text is windowed. The minimum is what the engine can window with: one content token between [CLS] and [SEP].
 */
export const DEFAULT_MAX_TOKENS = 512;
export const MIN_MAX_TOKENS = 3;
export const MAX_MAX_TOKENS = 8192;

/**
 * `damoe.workerTimeoutSeconds` / `--worker-timeout`: a model worker that sends no heartbeat for this long is
 * killed and restarted (requests fail with 'worker-unresponsive'). 0 turns the watchdog off.
 */
export const DEFAULT_WORKER_TIMEOUT_SECONDS = 20;
export const MAX_WORKER_TIMEOUT_SECONDS = 3600;

/** `damoe.spotCheck.sampleSize` / `--sample`: examples a spot-check takes (VS Code: 0 = all; CLI: `all`). */
export const DEFAULT_SPOTCHECK_SAMPLE_SIZE = 500;
export const MAX_SPOTCHECK_SAMPLE_SIZE = 10_000_000;

/** `damoe.spotCheck.seed` / `--seed`: the same file, size and seed give the same sample in VS Code and the CLI. */
export const DEFAULT_SPOTCHECK_SEED = 42;

/** `damoe.highlights.enabled`. */
export const DEFAULT_HIGHLIGHTS_ENABLED = true;

/**
 * Paired bootstrap of an accuracy difference (`damoe compare`, Compare Models on Dataset): resamples drawn, seeded
 * with the run's seed (DEFAULT_SPOTCHECK_SEED unless --seed says otherwise). 10,000 as training/compare.py uses.
 */
export const DEFAULT_BOOTSTRAP_RESAMPLES = 10_000;

/** Confidence level of every interval shown (accuracy, paired differences). */
export const CONFIDENCE_LEVEL = 0.95;

/**
 * Importance against occlusion (docs/importance-check.md): texts of a spot-check's sample that `--importance-check`
 * without a number (and VS Code's spot-check) occlude, as the model cards' check does (200 sentences).
 */
export const DEFAULT_IMPORTANCE_CHECK_SAMPLE = 200;
/** The longest text (tokens, specials included) the importance check takes: it costs one model input per token. */
export const MAX_OCCLUSION_TOKENS = 2048;

/** Expert specialisation: a token is listed for an expert only if the expert received it at least this many times. */
export const DEFAULT_SPECIALISATION_MIN_COUNT = 5;
/** Expert specialisation: tokens listed per expert (highest lift first). */
export const DEFAULT_SPECIALISATION_TOP_TOKENS = 8;

/** `damoe compare` and Compare Models: how many models one comparison takes. */
export const MIN_COMPARE_MODELS = 2;
export const MAX_COMPARE_MODELS = 3;
/** Disagreements listed in a comparison (all are counted in disagreements_total). */
export const MAX_DISAGREEMENTS_LISTED = 1000;
/** The models Compare Models offers picked: the headline comparison, DA-MoE against the fixed top-2 baseline. */
export const DEFAULT_COMPARE_MODELS: readonly string[] = ['damoe-sst2', 'top2-sst2'];

/** The largest routing trace file `damoe trace` and Open Routing Trace read (JSON is parsed whole). */
export const MAX_TRACE_FILE_BYTES = 512 * 1024 * 1024;

/** `--remote-kind`: the serving engine behind `--remote URL` (docs/routing-traces.md, "Live source"). */
export const REMOTE_KINDS = ['vllm', 'sglang'] as const;
export type RemoteKind = (typeof REMOTE_KINDS)[number];
export const DEFAULT_REMOTE_KIND: RemoteKind = 'vllm';
/** `--remote-timeout`: a request with no complete answer by then is aborted. */
export const DEFAULT_REMOTE_TIMEOUT_SECONDS = 60;
export const MAX_REMOTE_TIMEOUT_SECONDS = 3600;
/** The CLI reads the remote server's API key from this environment variable (VS Code: SecretStorage). */
export const REMOTE_API_KEY_ENV = 'DAMOE_REMOTE_API_KEY';

/** `damoe.highlights.colorBy`: what the editor highlights show in the panel's selected layer (the panel can switch it). */
export const HIGHLIGHT_COLOR_BY_CHOICES = ['importance', 'k', 'expert'] as const;
export const DEFAULT_HIGHLIGHT_COLOR_BY: (typeof HIGHLIGHT_COLOR_BY_CHOICES)[number] = 'importance';

/** Token chips the routing panel's strip builds at a time: a longer text gets the next ones as the strip is scrolled. */
export const TOKEN_STRIP_CHUNK = 240;
