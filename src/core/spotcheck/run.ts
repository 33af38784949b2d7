/**
 * The spot-check run: the sample goes through engine.routeBatch in chunks (the engine buckets each chunk's
 * windows by length and spreads the runs over its batch workers); each example's flat routing is folded into the
 * report builder and dropped, so memory holds a few chunks at a time. Cancelling (AbortSignal) keeps every finished
 * chunk: the result says `cancelled` and how many examples were done.
 *
 * Crashes do not end a run: a chunk whose model worker died or went silent (or that failed for any reason other
 * than its input) is retried once, on the restarted worker; a chunk that fails twice is skipped, every example of it
 * counted under `skipped` with the reason and its line, and the run goes on. After MAX_FAILED_CHUNKS_IN_A_ROW such
 * chunks in a row the run stops (the rest is counted as not run) and the result is marked partial.
 */
import * as fs from 'fs';
import { availableParallelism, freemem } from 'os';
import * as path from 'path';
import type { ModelSummary, ProviderReport } from '../../shared/analysis';
import { EngineError, type AnalyzeRequest, type BatchAnalyzeOptions } from '../engine-api';
import type { DatasetRecord } from '../datasets/types';
import { createPause } from '../pause';
import type { RoutedExample, SpotCheckReportBuilder } from './report';

/**
 * The part of an Engine (engine-api.ts) a spot-check needs: every Engine is one; tests pass smaller fakes, without a
 * worker pool.
 */
export interface BatchEngine {
  readonly model: ModelSummary;
  readonly provider: ProviderReport;
  routeBatch(requests: readonly AnalyzeRequest[], options?: BatchAnalyzeOptions): Promise<RoutedExample[]>;
  /** Starts the pool of model workers a run with `workers` > 1 uses (otherwise the first batch starts it). */
  startBatchWorkers?(workers: number): Promise<number>;
  /** Lets go of that pool. */
  releaseBatchWorkers?(): Promise<void>;
  /** Model worker restarts (crashes, watchdog kills) since the engine started; read before and after the run. */
  readonly workerRestarts?: number;
}

export interface SpotCheckProgress {
  /** Examples finished. */
  done: number;
  total: number;
  examplesPerSecond: number;
  elapsedMs: number;
}

export interface RunOptions {
  /**
   * Examples per routeBatch call (default: defaultChunkSize). The sample stays in its random order (so a cancelled
   * run's partial figures are not biased toward short texts) and lengths are bucketed within a chunk: bigger chunks
   * pad less. A chunk in flight when cancelled is dropped.
   */
  chunkSize?: number;
  /** Sequences per model run inside a chunk (default 32). */
  batchSize?: number;
  /** Chunks in flight at once (default 3): the workers run the next ones while this thread folds one in. */
  pipelineDepth?: number;
  /** Single-threaded model workers (default 1); see defaultSpotCheckWorkers. The caller releases the pool. */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (progress: SpotCheckProgress) => void;
  /** A chunk failed for a reason other than its input and is being run once more. */
  onRetry?: (retry: { firstLine: number; examples: number; reason: string }) => void;
  /** Each analysed example, in sample order, as it is folded into the report (e.g. the routing table's rows). */
  onExample?: (record: DatasetRecord, routed: RoutedExample) => void;
}

export interface RunResult {
  done: number;
  total: number;
  /** Examples the model could not run (input too long...), also recorded in the builder as skipped. */
  failed: number;
  cancelled: boolean;
  elapsedMs: number;
  examplesPerSecond: number;
  /** Model worker restarts during the run (crashes, watchdog kills). */
  workerRestarts: number;
  /** Chunks retried after a worker failure (each once). */
  retriedChunks: number;
  /** Examples skipped because their chunk failed twice, or not run because the run stopped. */
  lostToFailures: number;
  /** Why the figures do not cover the whole sample, besides a cancel; null when they do. */
  partialReason: string | null;
}

const MAX_CHUNK_SIZE = 1024;
const MIN_CHUNK_SIZE = 64;

/**
 * Chunks of about an eighth of the sample, 64 to 1024 examples: large enough to bucket lengths well, small enough
 * that a cancel keeps most of what was done.
 */
export function defaultChunkSize(total: number): number {
  return Math.max(MIN_CHUNK_SIZE, Math.min(MAX_CHUNK_SIZE, Math.ceil(total / 8)));
}
export const DEFAULT_BATCH_SIZE = 32;
export const DEFAULT_PIPELINE_DEPTH = 3;
const MAX_DEFAULT_WORKERS = 8;

const MB = 1024 * 1024;

/** Memory facts that bound the automatic number of workers. */
export interface WorkerMemory {
  /** Size of model.onnx. */
  modelBytes: number;
  /** Memory the system has free now (os.freemem()). */
  freeBytes: number;
}

/**
 * Resident memory of one model worker, roughly: Node and onnxruntime (about 100 MB) and the weights twice (read,
 * then held by the session). The shipped 13.5 MB model gives 127 MB; 111 to 123 MB were measured.
 */
export function workerMemoryEstimate(modelBytes: number): number {
  return 100 * MB + 2 * modelBytes;
}

/**
 * Workers for a spot-check from the engine's thread setting, read as a CPU budget: N threads -> N single-threaded
 * workers (small batches scale better across processes than across onnxruntime's intra-op threads); 0 (auto) ->
 * one per logical CPU, at most MAX_DEFAULT_WORKERS, and no more than half the free memory holds (a large model
 * gets fewer workers instead of pushing the machine into swap). An explicit N is taken as given.
 */
export function defaultSpotCheckWorkers(threads: number, cpus: number = availableParallelism(), memory?: WorkerMemory): number {
  if (threads > 0) return threads;
  const byCpu = Math.max(1, Math.min(cpus, MAX_DEFAULT_WORKERS));
  if (!memory) return byCpu;
  return Math.max(1, Math.min(byCpu, Math.floor(memory.freeBytes / 2 / workerMemoryEstimate(memory.modelBytes))));
}

/** WorkerMemory for the model in `modelDir` now; undefined when model.onnx cannot be read (the engine says why). */
export function workerMemoryFor(modelDir: string): WorkerMemory | undefined {
  try {
    return { modelBytes: fs.statSync(path.join(modelDir, 'model.onnx')).size, freeBytes: freemem() };
  } catch {
    return undefined;
  }
}

/** Engine errors caused by one example's input: that example is skipped, the run goes on. */
const INPUT_ERRORS = new Set(['empty-text', 'input-too-long', 'tokenizer']);

/** Chunks that fail twice in a row before the run stops (the model, not a worker, is at fault). */
export const MAX_FAILED_CHUNKS_IN_A_ROW = 3;

function errorText(e: unknown): string {
  if (e instanceof EngineError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

function request(r: DatasetRecord): AnalyzeRequest {
  return r.pair === undefined ? { text: r.text } : { text: r.text, textPair: r.pair };
}

type Settled = { ok: true; analyses: RoutedExample[] } | { ok: false; error: unknown };

/** Longest stretch this thread folds results without letting the event loop run. */
const FOLD_SLICE_MS = 4;

export async function runSpotCheck(
  engine: BatchEngine,
  records: readonly DatasetRecord[],
  builder: SpotCheckReportBuilder,
  options: RunOptions = {},
): Promise<RunResult> {
  const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? defaultChunkSize(records.length)));
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
  const depth = Math.max(1, Math.floor(options.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH));
  const workers = Math.max(1, Math.floor(options.workers ?? 1));
  const { signal } = options;
  const total = records.length;
  const t0 = performance.now();
  let done = 0;
  let failed = 0;
  let cancelled = false;
  /** Share of the oldest chunk in flight whose model runs are finished. */
  let headFraction = 0;
  const pause = createPause(FOLD_SLICE_MS);
  const progress = (doneNow: number): void => {
    const elapsedMs = performance.now() - t0;
    options.onProgress?.({ done: doneNow, total, elapsedMs, examplesPerSecond: elapsedMs > 0 ? (doneNow * 1000) / elapsedMs : 0 });
  };
  const isCancel = (e: unknown): boolean => signal?.aborted === true || (e instanceof EngineError && e.code === 'cancelled');
  const isInputError = (e: unknown): boolean => e instanceof EngineError && INPUT_ERRORS.has(e.code);

  // Up to `depth` chunks in flight, so the model worker always has the next chunk queued while this thread
  // turns the previous chunk's outputs into analyses and statistics. Results are folded in chunk order.
  const inflight: { start: number; chunk: readonly DatasetRecord[]; result: Promise<Settled> }[] = [];
  let next = 0;
  const launch = (): void => {
    const start = next;
    const chunk = records.slice(start, start + chunkSize);
    next += chunk.length;
    const entry = {
      start,
      chunk,
      result: engine
        .routeBatch(chunk.map(request), {
          batchSize,
          workers,
          signal,
          onProgress: (seqDone, seqTotal) => {
            if (inflight[0] !== entry) return;
            headFraction = seqDone / Math.max(1, seqTotal);
            progress(done + Math.floor(chunk.length * headFraction));
          },
        })
        .then(
          (analyses): Settled => ({ ok: true, analyses }),
          (error: unknown): Settled => ({ ok: false, error }),
        ),
    };
    inflight.push(entry);
  };

  const restartsAtStart = engine.workerRestarts ?? 0;
  let retriedChunks = 0;
  let lost = 0;
  let failedInARow = 0;
  let partialReason: string | null = null;
  /** Records every example of `chunk` as skipped with `reason`. */
  const skipAll = (chunk: readonly DatasetRecord[], reason: string): void => {
    for (const r of chunk) builder.skip(r.line, reason);
    failed += chunk.length;
    lost += chunk.length;
  };
  /** One input is at fault: run the chunk's examples one by one and skip those that fail for their input. */
  const oneByOne = async (chunk: readonly DatasetRecord[]): Promise<(RoutedExample | null)[]> => {
    const analyses: (RoutedExample | null)[] = [];
    for (const r of chunk) {
      if (signal?.aborted) break;
      let attempt = 0;
      for (;;) {
        try {
          analyses.push((await engine.routeBatch([request(r)], { batchSize, signal }))[0]);
        } catch (inner) {
          if (isCancel(inner)) return analyses;
          if (!(inner instanceof EngineError) || !INPUT_ERRORS.has(inner.code)) {
            if (attempt++ === 0) continue; // a worker failure: once more on the restarted worker
            builder.skip(r.line, `${errorText(inner)} (failed twice)`);
            lost++;
          } else builder.skip(r.line, `${inner.code}: ${inner.message}`);
          failed++;
          analyses.push(null);
        }
        break;
      }
    }
    return analyses;
  };

  try {
    while (next < total || inflight.length > 0) {
      if (signal?.aborted) {
        cancelled = true;
        break;
      }
      while (inflight.length < depth && next < total) launch();
      const head = inflight[0];
      let settled = await head.result;
      inflight.shift();
      headFraction = 0;
      let analyses: (RoutedExample | null)[];
      if (!settled.ok && !isCancel(settled.error) && !isInputError(settled.error)) {
        // The worker died or went silent (or the run failed otherwise): once more, on the restarted worker.
        retriedChunks++;
        options.onRetry?.({ firstLine: head.chunk[0]?.line ?? 0, examples: head.chunk.length, reason: errorText(settled.error) });
        settled = await engine.routeBatch(head.chunk.map(request), { batchSize, workers, signal }).then(
          (a): Settled => ({ ok: true, analyses: a }),
          (error: unknown): Settled => ({ ok: false, error }),
        );
      }
      if (settled.ok) {
        analyses = settled.analyses;
        failedInARow = 0;
      } else {
        const e = settled.error;
        if (isCancel(e)) {
          cancelled = true;
          break;
        }
        if (isInputError(e)) {
          analyses = await oneByOne(head.chunk);
          failedInARow = 0;
        } else {
          skipAll(head.chunk, `${errorText(e)} (its chunk of ${head.chunk.length} examples failed twice)`);
          analyses = head.chunk.map(() => null);
          partialReason = `${lost} example${lost === 1 ? '' : 's'} could not be run (their chunk failed twice: ${errorText(e)})`;
          if (++failedInARow >= MAX_FAILED_CHUNKS_IN_A_ROW) {
            done += analyses.length;
            const rest = [...inflight.flatMap((f) => f.chunk), ...records.slice(next)];
            inflight.length = 0;
            next = total;
            skipAll(rest, `not run: the run stopped after ${MAX_FAILED_CHUNKS_IN_A_ROW} chunks in a row failed twice (${errorText(e)})`);
            done += rest.length;
            partialReason =
              `the run stopped after ${MAX_FAILED_CHUNKS_IN_A_ROW} chunks in a row failed twice (${errorText(e)}); ` +
              `${lost} example${lost === 1 ? '' : 's'} were not analysed`;
            progress(done);
            break;
          }
        }
      }
      // Folded in slices: while this thread folds a chunk, the results of the chunks behind it must still reach the
      // batch dispatcher, which hands each worker its next run (a worker's queue holds only a few runs).
      for (let i = 0; i < analyses.length; i++) {
        const a = analyses[i];
        if (!a) continue;
        builder.addRouted(head.chunk[i], a);
        options.onExample?.(head.chunk[i], a);
        await pause();
      }
      done += analyses.length;
      progress(done);
      if (analyses.length < head.chunk.length) {
        cancelled = true;
        break;
      }
    }
  } finally {
    // Chunks still in flight after a cancel or an error: their outcome no longer matters.
    for (const f of inflight) void f.result;
  }
  const elapsedMs = performance.now() - t0;
  const analysed = done - failed;
  return {
    done,
    total,
    failed,
    cancelled,
    elapsedMs,
    examplesPerSecond: elapsedMs > 0 ? (analysed * 1000) / elapsedMs : 0,
    workerRestarts: (engine.workerRestarts ?? 0) - restartsAtStart,
    retriedChunks,
    lostToFailures: lost,
    partialReason,
  };
}
