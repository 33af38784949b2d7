/**
 * The engine: model directory -> checked contract -> worker runtime -> Analysis. One implementation for the
 * extension, the CLI and the spot-checks (createEngine), so no caller computes routing facts of its own.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildAnalysisAsync, predict, softmax } from './analysis/build';
import type { OccludedText } from './analysis/occlusion';
import { occludedProbabilities, occlusionVariants, probabilityDrops, type OcclusionVariant } from './analysis/occlusion';
import { importanceCheckUnavailable } from '../shared/importance-check';
import { extractSequenceRouting, SequenceRouting } from './analysis/model-outputs';
import { mergeWindowRouting, RoutedText } from './analysis/routed';
import type { Analysis, ModelSummary, ProviderReport } from '../shared/analysis';
import { defaultOverlap, mapMergedTokens, planWindows, TokenSource, WindowPlan } from './analysis/windowing';
import { checkModelDirectory, checkModelIO, CONTRACT_DOC, ContractMetadata, MODEL_FILE, ModelContract } from './contract';
import { AnalyzeRequest, BatchAnalyzeOptions, Engine, EngineError, EngineOptions } from './engine-api';
import { defaultModelDir } from './model-dirs';
import { findGpuGraph } from './gpu-graph';
import { isProviderChoice } from './runtime/providers';
import { BucketRunner, runBuckets } from './runtime/batch-dispatch';
import { ModelRuntime } from './runtime/model-runtime';
import { routerInfo } from './routers';
import { EncodedToken, Encoding, Tokenizer, TokenizerConfigError } from './tokenizer';
import { createPause, type Pause } from './pause';
import {
  DEFAULT_WORKER_TIMEOUT_SECONDS,
  EXECUTION_PROVIDER_CHOICES,
  MAX_OCCLUSION_TOKENS,
  MAX_WORKER_TIMEOUT_SECONDS,
  MIN_MAX_TOKENS,
} from '../shared/defaults';

export interface CreateEngineOptions extends EngineOptions {
  /** Compiled worker script; default: worker.js next to the runtime module (see ModelRuntime). */
  workerPath?: string;
  /** Windows per model run when one text needs several (default 8). */
  windowBatchSize?: number;
  /**
   * false: GPU providers run model.onnx even when the folder has a GPU graph (bench/gpu compares the two graphs'
   * placement). Default true.
   */
  gpuGraph?: boolean;
}

/** One input made ready for the model: its merged tokens and the windows the model will see. */
interface PreparedInput {
  request: AnalyzeRequest;
  tokens: EncodedToken[];
  windows: number[][];
  /** The tokens of each window (specials included), for occlusion's bookkeeping. */
  windowTokens: EncodedToken[][];
  sources: TokenSource[];
  plan: WindowPlan;
  tokenizeMs: number;
}

const NO_TOKENS = (what: string): string =>
  `Nothing to analyze: the ${what} has no characters the tokenizer keeps (only control, zero-width or unpaired surrogate characters).`;

export async function createEngine(options: CreateEngineOptions = {}): Promise<DamoeEngine> {
  validateOptions(options);
  const dir = resolveModelDir(options.modelDir);
  const check = await checkModelDirectory(dir);
  const log = options.log ?? (() => undefined);
  if (!check.modelReadable) {
    // Not worth starting onnxruntime for: say what the file is and what to do.
    throw new EngineError(
      'contract-violation',
      check.notARegularFile
        ? `${check.violations[0]}. A model directory's ${MODEL_FILE} must be a non-empty regular file (or a link to one): put the exported model there (see ${CONTRACT_DOC}) or pick another model directory.`
        : `${check.violations[0]}. The file is damaged, truncated or not an ONNX model: export the model again (see ${CONTRACT_DOC}) or pick another model directory.`,
      check.violations,
    );
  }
  let tokenizer: Tokenizer | null = null;
  if (check.tokenizerPath) {
    try {
      tokenizer = await Tokenizer.load(check.tokenizerPath);
    } catch (e) {
      if (e instanceof TokenizerConfigError) throw new EngineError('tokenizer', `Cannot load the model's tokenizer: ${e.message}`);
      throw e;
    }
  }
  const provider = options.executionProvider ?? 'auto';
  // Only a GPU provider runs the GPU graph: on cpu the folder's model.gpu.onnx is not even read.
  const gpu = provider === 'cpu' || options.gpuGraph === false ? null : await findGpuGraph(dir);
  if (gpu?.problem) log('warn', gpu.problem);
  const runtime = await ModelRuntime.start({
    modelPath: check.modelPath,
    gpuGraph: gpu?.graph,
    gpuGraphProblem: gpu?.problem,
    provider,
    threads: options.threads ?? 0,
    workerPath: options.workerPath,
    workerTimeoutMs: workerTimeoutMs(options),
    log,
  });
  const io = checkModelIO(runtime.io.inputs, runtime.io.outputs, check.metadata);
  const violations = [...check.violations, ...io.violations];
  if (violations.length > 0 || !check.metadata || !tokenizer || !check.tokenizerPath) {
    await runtime.dispose();
    throw new EngineError(
      'contract-violation',
      `${dir} does not follow the model contract (${violations.length} problem${violations.length === 1 ? '' : 's'}; see ${CONTRACT_DOC}):\n` +
        violations.map((v) => `  - ${v}`).join('\n'),
      violations,
    );
  }
  const contract: ModelContract = {
    dir,
    modelPath: check.modelPath,
    tokenizerPath: check.tokenizerPath,
    metadata: check.metadata,
    routingSource: io.routingSource,
    nextTokenSource: io.nextTokenSource,
  };
  return new DamoeEngine(contract, tokenizer, runtime, options);
}

function workerTimeoutMs(options: EngineOptions): number {
  return (options.workerTimeoutSeconds ?? DEFAULT_WORKER_TIMEOUT_SECONDS) * 1000;
}

function validateOptions(options: CreateEngineOptions): void {
  const { threads, maxTokens, executionProvider, workerTimeoutSeconds } = options;
  if (
    workerTimeoutSeconds !== undefined &&
    (!Number.isFinite(workerTimeoutSeconds) || workerTimeoutSeconds < 0 || workerTimeoutSeconds > MAX_WORKER_TIMEOUT_SECONDS)
  ) {
    throw new EngineError(
      'invalid-option',
      `workerTimeoutSeconds must be a number of seconds from 0 (no watchdog) to ${MAX_WORKER_TIMEOUT_SECONDS}, got ${workerTimeoutSeconds}`,
    );
  }
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0)) {
    throw new EngineError('invalid-option', `threads must be a whole number >= 0 (0 lets onnxruntime choose), got ${threads}`);
  }
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < MIN_MAX_TOKENS)) {
    throw new EngineError('invalid-option', `maxTokens must be a whole number >= ${MIN_MAX_TOKENS}, got ${maxTokens}`);
  }
  if (executionProvider !== undefined && !isProviderChoice(executionProvider)) {
    throw new EngineError(
      'invalid-option',
      `executionProvider must be one of ${EXECUTION_PROVIDER_CHOICES.join(', ')}, got ${String(executionProvider)}`,
    );
  }
}

/** The model directory to use; throws 'model-not-found' with what to do about it. */
export function resolveModelDir(modelDir: string | undefined): string {
  const dir = modelDir !== undefined ? path.resolve(modelDir) : defaultModelDir();
  if (!dir) {
    throw new EngineError(
      'model-not-found',
      'Cannot locate the shipped models: the damoe-inspector package root was not found. Pass a model directory.',
    );
  }
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    const hint = modelDir === undefined ? ' The shipped model has not been installed or trained yet; pass a model directory instead.' : '';
    throw new EngineError('model-not-found', `Model directory not found: ${dir}.${hint}`);
  }
  if (!fs.existsSync(path.join(dir, MODEL_FILE))) {
    throw new EngineError(
      'model-not-found',
      `No ${MODEL_FILE} in ${dir}: a model directory holds model.onnx and its tokenizer (see ${CONTRACT_DOC}).`,
    );
  }
  return dir;
}

export function modelSummary(contract: ModelContract): ModelSummary {
  const m: ContractMetadata = contract.metadata;
  return {
    name: path.basename(contract.dir),
    path: contract.dir,
    routerKind: m.routerKind,
    task: m.task,
    numLayers: m.numLayers,
    numExperts: m.numExperts,
    kMax: m.kMax,
    labels: [...m.labels],
    maxSequenceLength: m.maxSequenceLength,
    routingSource: contract.routingSource,
    importanceAvailable: contract.routingSource === 'contract',
    expertFlopsPerToken: m.expertFlopsPerToken,
    gates: m.gates,
    importanceDefinition: m.importance,
    ...(contract.routingSource === 'router_logits' ? { router: routerInfo(m.router) } : {}),
    ...(m.sharedExperts ? { sharedExperts: { ...m.sharedExperts } } : {}),
    ...(m.denseLayers.length > 0 ? { denseLayers: [...m.denseLayers] } : {}),
  };
}

/** The summary with the router input a run resolved ('auto' metadata: logits, or rows that were already probabilities). */
function withRouterInput(model: ModelSummary, input: 'logits' | 'probabilities' | undefined): ModelSummary {
  if (!model.router || !input || model.router.input === input) return model;
  return { ...model, router: { ...model.router, input } };
}

export class DamoeEngine implements Engine {
  readonly model: ModelSummary;
  /** Tokens per model run: the model's max length, or maxTokens when smaller. */
  readonly maxTokens: number;
  private disposed = false;
  /** Throughput workers (see BatchAnalyzeOptions.workers); grown by one start at a time. */
  private pool: ModelRuntime[] = [];
  private poolGrowth: Promise<void> = Promise.resolve();
  /** Restarts of pool workers already released. */
  private retiredRestarts = 0;

  constructor(
    readonly contract: ModelContract,
    readonly tokenizer: Tokenizer,
    private readonly runtime: ModelRuntime,
    private readonly options: CreateEngineOptions,
  ) {
    this.model = modelSummary(contract);
    this.maxTokens = Math.min(contract.metadata.maxSequenceLength, options.maxTokens ?? Infinity);
  }

  /** A causal LM: per-token loss and predictions instead of a class, windows read by longest context. */
  private get causal(): boolean {
    return this.contract.metadata.task === 'causal-lm';
  }

  get provider(): ProviderReport {
    return this.runtime.provider;
  }

  /** One text: its windows go through the interactive worker in batches of windowBatchSize. Cancel with request.signal. */
  async analyze(request: AnalyzeRequest): Promise<Analysis> {
    const [analysis] = await this.analyzeBatch([request], { batchSize: this.options.windowBatchSize ?? 8, signal: request.signal });
    return analysis;
  }

  /**
   * Throughput path: every input's windows are batched together, bucketed by length. Cancel with `signal`.
   * Results are in input order.
   */
  async analyzeBatch(requests: readonly AnalyzeRequest[], options: BatchAnalyzeOptions = {}): Promise<Analysis[]> {
    const started = performance.now();
    const pause = createPause();
    const { prepared, routed, inferenceMs } = await this.route(requests, options, pause);
    const analyses: Analysis[] = [];
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i];
      const plan = p.plan;
      const analysis = await buildAnalysisAsync(
        {
          text: p.request.text,
          textPair: p.request.textPair,
          model: withRouterInput(this.model, routed[i].routing.routerInput),
          provider: this.provider,
          routed: routed[i],
          unknownId: this.tokenizer.specialTokens.unk?.id,
          idToToken: (id) => this.tokenizer.idToToken(id),
          windowing:
            plan.windows.length > 1
              ? {
                  windows: plan.windows.length,
                  windowTokens: plan.windowTokens,
                  overlapTokens: plan.overlapTokens,
                  predictionMerge: this.causal ? 'per-token' : 'mean-probabilities',
                  tokenSource: this.causal ? 'longest-context' : 'most-central',
                }
              : null,
          // In a batch, an item's total is its own tokenisation, its share of the model runs and its analysis.
          timings: {
            tokenizeMs: p.tokenizeMs,
            inferenceMs,
            startedAt: requests.length === 1 ? started : performance.now() - inferenceMs - p.tokenizeMs,
          },
        },
        pause,
      );
      analyses.push(analysis);
    }
    return analyses;
  }

  /**
   * The throughput path without building Analyses (dataset spot-checks): each input's merged tokens, flat routing
   * and prediction. The same model runs, checks and merging as analyzeBatch.
   */
  async routeBatch(requests: readonly AnalyzeRequest[], options: BatchAnalyzeOptions = {}): Promise<RoutedText[]> {
    return (await this.route(requests, options, createPause())).routed;
  }

  /**
   * Importance against occlusion (docs/importance-check.md): each input, and each input once per ordinary token with
   * that token deleted from every window that holds it, all bucketed into the same batched runs (one text of T
   * tokens costs about one batch of T + 1 sequences, not T runs). Results in input order. Rejects with
   * 'importance-unavailable' for models without importance or without a class prediction, and 'input-too-long' for
   * a text of more than MAX_OCCLUSION_TOKENS tokens.
   */
  async occludeBatch(requests: readonly AnalyzeRequest[], options: BatchAnalyzeOptions = {}): Promise<OccludedText[]> {
    if (this.disposed) throw new EngineError('cancelled', 'The engine has been disposed.');
    const unavailable = importanceCheckUnavailable(this.model);
    if (unavailable) throw new EngineError('importance-unavailable', unavailable);
    const pause = createPause();
    const prepared: PreparedInput[] = [];
    const variants: OcclusionVariant[][] = [];
    for (const r of requests) {
      const p = await this.prepare(r, pause);
      if (p.tokens.length > MAX_OCCLUSION_TOKENS) {
        throw new EngineError(
          'input-too-long',
          `The text has ${p.tokens.length} tokens; the importance check re-runs the model once per token and takes texts of at most ${MAX_OCCLUSION_TOKENS} tokens: check a shorter selection.`,
        );
      }
      prepared.push(p);
      variants.push(
        occlusionVariants(
          p.tokens,
          p.windows.map((ids, w) => ({ ids, tokens: p.windowTokens[w] })),
          p.plan,
        ),
      );
      await pause();
      if (options.signal?.aborted) throw new EngineError('cancelled', 'The request was cancelled.');
    }
    const flat = prepared.flatMap((p, i) => [...p.windows.map((ids) => ({ ids })), ...variants[i].map((v) => ({ ids: v.ids }))]);
    const results = await runBuckets(await this.batchRunners(options.workers ?? 1), flat, {
      batchSize: options.batchSize ?? 16,
      signal: options.signal,
      padId: this.tokenizer.specialTokens.pad?.id ?? 0,
      onProgress: options.onProgress,
    });
    if (options.signal?.aborted) throw new EngineError('cancelled', 'The request was cancelled.');
    const spec = { metadata: this.contract.metadata, routingSource: this.contract.routingSource };
    let next = 0;
    const out: OccludedText[] = [];
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i];
      const windows: SequenceRouting[] = p.windows.map(() => extractSequenceRouting(results[next++], spec));
      const variantProbs = variants[i].map(() => softmax(extractSequenceRouting(results[next++], spec).logits));
      const prediction = predict(windows, this.model.labels);
      const occluded = occludedProbabilities(
        p.tokens.length,
        variants[i],
        variantProbs,
        windows.map((w) => softmax(w.logits)),
      );
      out.push({
        importance: mergeWindowRouting(windows, p.sources).importance,
        length: p.tokens.length,
        drops: probabilityDrops(prediction.probabilities, occluded, prediction.index),
        prediction,
        sequences: windows.length + variants[i].length,
      });
      await pause();
    }
    return out;
  }

  /**
   * Tokenisation, the model runs and the window merge of `requests`. The work on this thread is cut into slices
   * (`pause`), so a long text or a large batch never blocks the caller's event loop (the extension host's) for long.
   */
  private async route(
    requests: readonly AnalyzeRequest[],
    options: BatchAnalyzeOptions,
    pause: Pause,
  ): Promise<{ prepared: PreparedInput[]; routed: RoutedText[]; inferenceMs: number }> {
    if (this.disposed) throw new EngineError('cancelled', 'The engine has been disposed.');
    const prepared: PreparedInput[] = [];
    for (const r of requests) {
      prepared.push(await this.prepare(r, pause));
      if (options.signal?.aborted) throw new EngineError('cancelled', 'The request was cancelled.');
    }
    const flat = prepared.flatMap((p) => p.windows.map((ids) => ({ ids })));
    const t0 = performance.now();
    const runners = await this.batchRunners(options.workers ?? 1);
    const results = await runBuckets(runners, flat, {
      batchSize: options.batchSize ?? 16,
      signal: options.signal,
      padId: this.tokenizer.specialTokens.pad?.id ?? 0,
      onProgress: options.onProgress,
    });
    if (options.signal?.aborted) throw new EngineError('cancelled', 'The request was cancelled.');
    const inferenceMs = (performance.now() - t0) / Math.max(1, requests.length);
    const spec = { metadata: this.contract.metadata, routingSource: this.contract.routingSource };
    let next = 0;
    const routed: RoutedText[] = [];
    for (const p of prepared) {
      const windows: SequenceRouting[] = [];
      for (let w = 0; w < p.windows.length; w++) {
        windows.push(extractSequenceRouting(results[next++], spec));
        await pause();
      }
      routed.push({
        tokens: p.tokens,
        routing: mergeWindowRouting(windows, p.sources),
        prediction: this.causal ? null : predict(windows, this.model.labels),
        windows: windows.length,
      });
      await pause();
    }
    return { prepared, routed, inferenceMs };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all([this.runtime.dispose(), this.releaseBatchWorkers()]);
  }

  /** Model worker restarts (crashes, watchdog kills) since the engine started, over every worker it ran. */
  get workerRestarts(): number {
    return this.retiredRestarts + this.runtime.restarts + this.pool.reduce((n, r) => n + r.restarts, 0);
  }

  /** Stops the throughput pool (the interactive worker stays). */
  async releaseBatchWorkers(): Promise<void> {
    const pool = this.pool;
    this.pool = [];
    this.retiredRestarts += pool.reduce((n, r) => n + r.restarts, 0);
    await Promise.all(pool.map((r) => r.dispose()));
  }

  /** Worker processes started for batches (beside the interactive worker) now. */
  get batchWorkerCount(): number {
    return this.pool.length;
  }

  /**
   * Starts (if needed) the single-threaded model workers for batches of `workers` workers, and resolves with the
   * number of batch workers running. An engine made with threads: 1 counts its interactive worker as one of them
   * (one process less). A pool only pays off on the CPU (several processes do not share one GPU faster): elsewhere,
   * and for workers <= 1, it resolves with 0 and batches run on the interactive worker. A worker that cannot start
   * is logged and the pool is smaller.
   */
  async startBatchWorkers(workers: number): Promise<number> {
    if (!Number.isInteger(workers) || workers < 1)
      throw new EngineError('invalid-option', `workers must be a whole number >= 1, got ${workers}`);
    if (workers === 1 || this.provider.used !== 'cpu') return 0;
    const own = this.interactiveIsBatchWorker ? 1 : 0;
    const grow = async (): Promise<void> => {
      const missing = workers - own - this.pool.length;
      if (missing <= 0 || this.disposed) return;
      const started = await Promise.allSettled(
        Array.from({ length: missing }, () =>
          ModelRuntime.start({
            modelPath: this.contract.modelPath,
            provider: 'cpu',
            threads: 1,
            workerPath: this.options.workerPath,
            workerTimeoutMs: workerTimeoutMs(this.options),
            log: this.options.log,
          }),
        ),
      );
      for (const s of started) {
        if (s.status === 'rejected') {
          this.options.log?.('warn', `could not start a model worker for batches: ${(s.reason as Error).message}`);
        } else if (this.disposed) await s.value.dispose();
        else this.pool.push(s.value);
      }
    };
    this.poolGrowth = this.poolGrowth.then(grow);
    await this.poolGrowth;
    if (this.disposed) throw new EngineError('cancelled', 'The engine has been disposed.');
    return Math.min(own + this.pool.length, workers);
  }

  /** The interactive worker is single-threaded, so it can take its share of a batch like a pool worker. */
  private get interactiveIsBatchWorker(): boolean {
    return this.options.threads === 1;
  }

  /** The runners for a batch: `workers` batch workers, or the interactive worker (see startBatchWorkers). */
  private async batchRunners(workers: number): Promise<BucketRunner[]> {
    const running = await this.startBatchWorkers(workers);
    if (running === 0) return [this.runtime];
    return this.interactiveIsBatchWorker ? [this.runtime, ...this.pool.slice(0, running - 1)] : this.pool.slice(0, running);
  }

  /** Process ids of the batch workers started beside the interactive one (for diagnostics and benchmarks). */
  get batchWorkerPids(): number[] {
    return this.pool.flatMap((r) => (r.pid === undefined ? [] : [r.pid]));
  }

  /** Process id of the model worker (for diagnostics and tests). */
  get workerPid(): number | undefined {
    return this.runtime.pid;
  }

  private async prepare(request: AnalyzeRequest, pause: Pause): Promise<PreparedInput> {
    const t0 = performance.now();
    if (typeof request.text !== 'string' || request.text.trim() === '') {
      throw new EngineError('empty-text', 'Nothing to analyze: the text is empty.');
    }
    if (request.textPair !== undefined && this.causal) {
      throw new EngineError(
        'invalid-option',
        `${this.model.name} is a causal language model: it reads one text, not a text pair. Analyze the texts one at a time, or join them into one text.`,
      );
    }
    if (request.textPair !== undefined && request.textPair.trim() === '') {
      throw new EngineError('empty-text', 'Nothing to analyze: the pair text is empty.');
    }
    const a = await this.tokenizer.tokenizeAsync(request.text, 0, pause);
    const b = request.textPair === undefined ? undefined : await this.tokenizer.tokenizeAsync(request.textPair, 1, pause);
    // Text of only control, zero-width or lone surrogate characters tokenises to nothing: refused like empty text,
    // instead of analysing the special tokens alone.
    if (a.length === 0) throw new EngineError('empty-text', NO_TOKENS('text'));
    if (b !== undefined && b.length === 0) throw new EngineError('empty-text', NO_TOKENS('pair text'));
    const specials = this.tokenizer.numSpecialTokensToAdd(b !== undefined);
    const budget = this.maxTokens - specials - (b?.length ?? 0);
    if (budget < 1) {
      throw new EngineError(
        'input-too-long',
        `The pair text has ${b?.length ?? 0} tokens; with ${specials} special tokens it leaves no room for the first text in ` +
          `a ${this.maxTokens}-token window. Only the first text is split into windows: shorten the pair text.`,
      );
    }
    const plan = planWindows(a.length, budget, defaultOverlap(budget));
    if (plan.windows.length === 1) {
      // One window holds the whole input: it is the merged encoding, and every token reads its own position.
      const whole = this.tokenizer.postProcess(a, b);
      return {
        request,
        tokens: whole.tokens,
        windows: [whole.ids],
        windowTokens: [whole.tokens],
        sources: whole.tokens.map((_, position) => ({ window: 0, position })),
        plan,
        tokenizeMs: performance.now() - t0,
      };
    }
    const windowEncodings: Encoding[] = [];
    for (const w of plan.windows) {
      windowEncodings.push(this.tokenizer.postProcess(a.slice(w.start, w.end), b));
      await pause();
    }
    const merged = this.tokenizer.postProcess(a, b);
    const sources = mapMergedTokens(
      merged.tokens,
      windowEncodings.map((e) => e.tokens),
      plan,
      this.causal ? 'longest-context' : 'most-central',
    );
    return {
      request,
      tokens: merged.tokens,
      windows: windowEncodings.map((e) => e.ids),
      windowTokens: windowEncodings.map((e) => e.tokens),
      sources,
      plan,
      tokenizeMs: performance.now() - t0,
    };
  }
}
