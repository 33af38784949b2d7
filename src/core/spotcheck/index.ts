/**
 * Dataset spot-checks: read a dataset (streamed), take a seeded stratified sample, run it through the engine's
 * batch path and build a SpotCheckReport. Shared by `damoe spot-check` and the VS Code side.
 */
import type { Dataset } from '../datasets/reader';
import { DatasetError } from '../datasets/types';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { ReportBuilderOptions, SpotCheckReportBuilder } from './report';
import { BatchEngine, defaultSpotCheckWorkers, RunOptions, runSpotCheck, workerMemoryFor } from './run';
import { choose, SampleResult, StratifiedSampler } from './sample';
import { createRng } from './rng';
import { DEFAULT_SPOTCHECK_SAMPLE_SIZE, DEFAULT_SPOTCHECK_SEED } from '../../shared/defaults';
import type { DatasetRecord } from '../datasets/types';
import { checkSampleImportance, type ImportanceCheckProgress, type OcclusionEngine } from '../analysis/importance-check';
import { EngineError } from '../errors';
import { importanceCheckUnavailable, type ImportanceCheck } from '../../shared/importance-check';

export * from './report';
export * from './run';
export * from './routing-table';
export * from './sample';
export { createRng } from './rng';

export interface SpotCheckOptions extends RunOptions, ReportBuilderOptions {
  /** Examples to take, or 'all' (default 500). */
  sample?: number | 'all';
  seed?: number | string;
  /** Recorded in the report (the engine's intra-op threads). */
  threads?: number | null;
  /** Called while the file is read and sampled, with the rows read so far (every 10,000 rows and at the end). */
  onRead?: (rows: number) => void;
  /** Called once the sample is drawn, before the model runs. */
  onSampled?: (sample: SampleResult) => void;
  /**
   * Importance against occlusion on this many examples of the sample (a seeded random subset), after the run;
   * 0 or absent: none. docs/importance-check.md.
   */
  importanceCheck?: number;
  onImportanceProgress?: (progress: ImportanceCheckProgress) => void;
}

/**
 * The examples of a sample that the importance check occludes: n of them drawn with the seed "importance:<seed>"
 * (the sample itself is in line order), in line order.
 */
export function importanceSubsample(records: readonly DatasetRecord[], n: number, seed: number | string): DatasetRecord[] {
  if (n >= records.length) return [...records];
  return choose(records, n, createRng(`importance:${String(seed)}`)).sort((a, b) => a.line - b.line);
}

/** The sample's importance check (see SpotCheckOptions.importanceCheck). */
async function sampleImportanceCheck(
  engine: BatchEngine,
  records: readonly DatasetRecord[],
  seed: number | string,
  options: SpotCheckOptions,
  workers: number,
): Promise<ImportanceCheck> {
  const occluding = engine as Partial<OcclusionEngine> & BatchEngine;
  if (!occluding.occludeBatch)
    throw new EngineError('importance-unavailable', 'This engine cannot re-run inputs for the importance check.');
  const picked = importanceSubsample(records, options.importanceCheck!, seed);
  const check = await checkSampleImportance(
    occluding as OcclusionEngine,
    picked.map((r) => (r.pair === undefined ? { text: r.text } : { text: r.text, textPair: r.pair })),
    { signal: options.signal, workers, batchSize: options.batchSize, onProgress: options.onImportanceProgress },
  );
  return { ...check, requested: options.importanceCheck!, seed: `importance:${String(seed)}` };
}

export interface DatasetSample extends SampleResult {
  /** The sampling stopped early because the signal was aborted. */
  readCancelled: boolean;
}

/**
 * Reads `dataset` once, sampling as it streams (bounded memory). Throws DatasetError('empty-dataset') when the file
 * has no usable example. Needs no model, so a caller can sample before loading one.
 */
export async function sampleDataset(
  dataset: Dataset,
  options: Pick<SpotCheckOptions, 'sample' | 'seed' | 'signal' | 'onRead'> = {},
): Promise<DatasetSample> {
  const sampler = new StratifiedSampler({
    size: options.sample ?? DEFAULT_SPOTCHECK_SAMPLE_SIZE,
    seed: options.seed ?? DEFAULT_SPOTCHECK_SEED,
  });
  let readCancelled = false;
  for await (const record of dataset.records()) {
    sampler.add(record);
    if (options.onRead && dataset.report.rows % 10000 === 0) options.onRead(dataset.report.rows);
    if (options.signal?.aborted) {
      readCancelled = true;
      break;
    }
  }
  const reader = dataset.report;
  options.onRead?.(reader.rows);
  const sample = sampler.result();
  if (sample.seen === 0 && !readCancelled) {
    const first = reader.skipped.first.slice(0, 5).map((s) => `line ${s.line}: ${s.reason}`);
    throw new DatasetError(
      'empty-dataset',
      reader.skipped.count === 0
        ? `the dataset has no examples: ${dataset.path}`
        : `the dataset has no usable examples: all ${reader.skipped.count} rows were skipped (${first.join('; ')}${reader.skipped.count > first.length ? '; …' : ''})`,
    );
  }
  return { ...sample, readCancelled };
}

/** Runs a sample drawn by sampleDataset through the engine and builds the report. */
export async function runDatasetSample(
  engine: BatchEngine,
  dataset: Dataset,
  sample: DatasetSample,
  options: SpotCheckOptions = {},
): Promise<SpotCheckReport> {
  const reader = dataset.report;
  if (options.importanceCheck) {
    // Refused before the run, not after it: the model cannot be checked.
    const unavailable = importanceCheckUnavailable(engine.model);
    if (unavailable) throw new EngineError('importance-unavailable', unavailable);
  }
  const builder = new SpotCheckReportBuilder(engine.model, options, dataset.resolved.group ?? null);
  const workers = options.workers ?? defaultSpotCheckWorkers(options.threads ?? 0, undefined, workerMemoryFor(engine.model.path));
  // The pool's start-up (a model load per worker) is a fixed cost, kept out of the run's examples/s.
  if (workers > 1) await engine.startBatchWorkers?.(workers);
  const run = await runSpotCheck(engine, sample.records, builder, { ...options, workers });
  const importance =
    options.importanceCheck && !run.cancelled && !sample.readCancelled && !options.signal?.aborted
      ? await sampleImportanceCheck(engine, sample.records, sample.seed, options, workers)
      : undefined;
  const report = builder.build({
    dataset: {
      path: dataset.path,
      format: dataset.format,
      columns: dataset.columns,
      text_column: dataset.resolved.text,
      pair_column: dataset.resolved.pair,
      label_column: dataset.resolved.label,
      group_column: dataset.resolved.group ?? null,
      rows: reader.rows,
      records: reader.records,
    },
    sample: {
      requested: sample.requested,
      seed: sample.seed,
      size: sample.records.length,
      stratified: sample.stratified,
      strata: sample.strata,
      note: sample.readCancelled ? 'cancelled while reading the dataset' : sample.note,
    },
    provider: engine.provider,
    threads: options.threads ?? null,
    workers,
    cancelled: sample.readCancelled || run.cancelled,
    elapsedMs: run.elapsedMs,
    workerRestarts: run.workerRestarts,
    partialReason: run.partialReason,
    readerSkipped: reader.skipped,
  });
  return importance ? { ...report, importance_check: importance } : report;
}

/**
 * Reads and samples `dataset`, runs the sample and returns the report (sampleDataset + runDatasetSample).
 * Cancelling (options.signal) returns the partial report with `cancelled: true`.
 */
export async function spotCheckDataset(engine: BatchEngine, dataset: Dataset, options: SpotCheckOptions = {}): Promise<SpotCheckReport> {
  const sample = await sampleDataset(dataset, options);
  options.onSampled?.(sample);
  return runDatasetSample(engine, dataset, sample, options);
}
