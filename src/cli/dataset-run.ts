/**
 * What the dataset commands (`spot-check`, `compare`) share: their dataset options and help, argument checks, the
 * output files, opening and sampling the dataset, progress on stderr and Ctrl-C. One implementation, so the two
 * commands read, sample and report a dataset the same way.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ParseArgsConfig } from 'util';
import { DATASET_FORMATS, type DatasetFormat } from '../shared/dataset';
import {
  DatasetError,
  defaultSpotCheckWorkers,
  openDataset,
  resolveModelDir,
  sampleDataset,
  workerMemoryFor,
  type Dataset,
  type DatasetSample,
  type SpotCheckOptions,
} from '../core';
import { DEFAULT_SPOTCHECK_SAMPLE_SIZE, DEFAULT_SPOTCHECK_SEED } from '../shared/defaults';
import type { CliIO } from './context';
import { EXIT_FAILURE, UsageError } from './errors';
import { wholeNumber } from './options';

export const DATASET_OPTIONS = {
  sample: { type: 'string' },
  seed: { type: 'string' },
  'text-column': { type: 'string' },
  'pair-column': { type: 'string' },
  'label-column': { type: 'string' },
  'group-column': { type: 'string' },
  format: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  'batch-size': { type: 'string' },
  workers: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Help lines of DATASET_OPTIONS; `what` names the run's JSON report ("report", "comparison"). */
export function datasetOptionsHelp(what: string): string {
  return `  --sample N|all       examples to take (default ${DEFAULT_SPOTCHECK_SAMPLE_SIZE}); stratified by label, seeded; 'all' takes every row
  --seed S             seed of the sample (default ${DEFAULT_SPOTCHECK_SEED}, as in VS Code): the same seed and file give the same sample
  --text-column NAME   column (or JSON key) holding the text; default: detected (sentence, text, sentence1/sentence2...)
  --pair-column NAME   column holding the second text of a pair (encoded as a pair); default: detected
  --label-column NAME  column holding the label; default: detected (label, gold_label, class...)
  --group-column NAME  column (or JSON key) whose values group the routing statistics (a domain, a source...)
  --format F           tsv, csv, jsonl or text, instead of detecting it
  --json OUT           write the ${what} as JSON to OUT (fields documented in docs/cli.md)
  --html OUT           write a self-contained HTML ${what} to OUT
  --batch-size N       sequences per model run (default 32)
  --workers N          single-threaded model worker processes on the CPU (default: --threads when set, otherwise one
                       per CPU, at most 8, as many as half the free memory holds)`;
}

/** What a run reports back while it goes: Ctrl-C, progress on stderr, worker retries. */
export type RunProgressCallbacks = Pick<SpotCheckOptions, 'signal' | 'onProgress' | 'onRetry'>;

type DatasetValues = { [K in keyof typeof DATASET_OPTIONS]?: string };

/** The checked dataset arguments of a run. */
export interface DatasetArgs {
  input: string;
  sample: number | 'all';
  seed: number | string;
  format: DatasetFormat | undefined;
  columns: { textColumn?: string; pairColumn?: string; labelColumn?: string; groupColumn?: string };
  batchSize: number | undefined;
  /** --workers as given; undefined: the default for the model (batchWorkers). */
  workers: number | undefined;
  jsonOut: string | undefined;
  htmlOut: string | undefined;
}

function sampleSize(raw: string | undefined): number | 'all' {
  if (raw === undefined) return DEFAULT_SPOTCHECK_SAMPLE_SIZE;
  if (raw.toLowerCase() === 'all') return 'all';
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`--sample must be a whole number >= 1 or 'all', got '${raw}'`);
  return Number(raw);
}

function seedValue(raw: string | undefined): number | string {
  if (raw === undefined) return DEFAULT_SPOTCHECK_SEED;
  if (raw.trim() === '') throw new UsageError('--seed must not be empty');
  return /^-?\d+$/.test(raw) ? Number(raw) : raw;
}

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    // Not there yet: resolve the parent instead.
    try {
      return path.join(fs.realpathSync(path.dirname(p)), path.basename(p));
    } catch {
      return path.resolve(p);
    }
  }
}

/** Checks an output path before the run: never the dataset itself, its folder must exist, not a directory. */
export function checkOutput(option: string, out: string, input: string): string {
  const abs = path.resolve(out);
  if (realOrResolved(abs) === realOrResolved(input)) {
    throw new UsageError(`${option} ${out} is the dataset file itself; refusing to overwrite it`);
  }
  const dir = path.dirname(abs);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${option}: the folder ${dir} does not exist`);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) throw new UsageError(`${option}: ${out} is a directory`);
  return abs;
}

/** Checks the dataset options and the one FILE of `command` before anything is read or loaded. */
export function datasetArgs(command: string, values: DatasetValues, positionals: readonly string[]): DatasetArgs {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? `${command} needs a dataset FILE` : `${command} takes one FILE, got ${positionals.length}`,
    );
  }
  const sample = sampleSize(values.sample);
  const seed = seedValue(values.seed);
  if (values.format !== undefined && !DATASET_FORMATS.includes(values.format as DatasetFormat)) {
    throw new UsageError(`--format must be one of ${DATASET_FORMATS.join(', ')}, got '${values.format}'`);
  }
  const batchSize = wholeNumber('batch-size', values['batch-size'], 1);
  const workers = wholeNumber('workers', values.workers, 1);
  const input = path.resolve(positionals[0]);
  const jsonOut = values.json !== undefined ? checkOutput('--json', values.json, input) : undefined;
  const htmlOut = values.html !== undefined ? checkOutput('--html', values.html, input) : undefined;
  if (jsonOut !== undefined && jsonOut === htmlOut) throw new UsageError('--json and --html name the same file');
  return {
    input,
    sample,
    seed,
    format: values.format as DatasetFormat | undefined,
    columns: {
      textColumn: values['text-column'],
      pairColumn: values['pair-column'],
      labelColumn: values['label-column'],
      groupColumn: values['group-column'],
    },
    batchSize,
    workers,
    jsonOut,
    htmlOut,
  };
}

/**
 * Model workers of a run: --workers, else the default for the model's size and the machine. --threads is the CPU
 * budget of a dataset run: N single-threaded workers (see defaultSpotCheckWorkers).
 */
export function batchWorkers(workers: number | undefined, threads: number | undefined, modelDirOption: string | undefined): number {
  if (workers !== undefined) return workers;
  let modelDir: string | undefined;
  try {
    modelDir = resolveModelDir(modelDirOption);
  } catch {
    // reported when the engine loads, after the dataset has been checked
  }
  return defaultSpotCheckWorkers(threads ?? 0, undefined, modelDir === undefined ? undefined : workerMemoryFor(modelDir));
}

/** Writes `data` to `file` atomically: a temporary file in the same folder, then a rename. */
export function writeAtomic(file: string, data: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, data, { encoding: 'utf8', flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** A plain-text table, two spaces of indent, first column left-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h) => h.length);
  for (const r of rows) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c], r[c].length);
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

export interface ProgressWriter {
  update(done: number, total: number, eps: number, what?: string): void;
  read(rows: number): void;
  end(): void;
}

/** Progress on stderr: a rewritten line on a terminal, a line every ~10% otherwise. */
export function progressWriter(stderr: CliIO['stderr']): ProgressWriter {
  const tty = (stderr as NodeJS.WriteStream).isTTY === true;
  let lastDecile = -1;
  let lastWhat: string | undefined;
  let lastWrite = 0;
  let open = false;
  return {
    read(rows) {
      if (tty && Date.now() - lastWrite > 200) {
        stderr.write(`\rreading: ${rows} rows`);
        lastWrite = Date.now();
        open = true;
      }
    },
    update(done, total, eps, what) {
      const msg = `analysing${what ? ` (${what})` : ''}: ${done}/${total} examples (${eps.toFixed(1)} examples/s)`;
      if (tty) {
        if (Date.now() - lastWrite > 100 || done === total) {
          stderr.write(`\r${msg}\x1b[K`);
          lastWrite = Date.now();
          open = true;
        }
        return;
      }
      const decile = total === 0 ? 10 : Math.floor((10 * done) / total);
      if (decile !== lastDecile || what !== lastWhat) {
        lastDecile = decile;
        lastWhat = what;
        stderr.write(`${msg}\n`);
      }
    },
    end() {
      if (tty && open) stderr.write('\n');
      open = false;
    },
  };
}

/** Dataset problems: a wrong column is a usage error (exit 2); a missing, unreadable or empty file exits 1. */
export function datasetError(e: unknown, io: CliIO): number {
  if (!(e instanceof DatasetError)) throw e;
  if (e.code === 'unknown-column') throw new UsageError(e.message);
  io.stderr.write(`damoe: ${e.message}\n`);
  return EXIT_FAILURE;
}

/**
 * Opens and samples the dataset of `args` (no model needed, so an empty or unreadable dataset fails before a model
 * loads), then calls `run` with it; Ctrl-C aborts the signal (the run keeps what it did). A dataset problem is
 * reported and returns its exit code instead.
 */
export async function withDatasetSample<T>(
  args: DatasetArgs,
  io: CliIO,
  run: (ctx: {
    dataset: Dataset;
    drawn: DatasetSample;
    signal: AbortSignal;
    progress: ProgressWriter;
    callbacks: RunProgressCallbacks;
  }) => Promise<T>,
): Promise<T | number> {
  let dataset: Dataset;
  try {
    dataset = await openDataset(args.input, { format: args.format, ...args.columns });
  } catch (e) {
    return datasetError(e, io);
  }
  const controller = new AbortController();
  const onSigint = (): void => {
    io.stderr.write('\ndamoe: cancelling (Ctrl-C again to quit at once)…\n');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  const progress = progressWriter(io.stderr);
  try {
    let drawn: DatasetSample;
    try {
      drawn = await sampleDataset(dataset, {
        sample: args.sample,
        seed: args.seed,
        signal: controller.signal,
        onRead: (rows) => progress.read(rows),
      });
    } catch (e) {
      progress.end();
      return datasetError(e, io);
    }
    progress.end();
    io.stderr.write(`sample: ${drawn.records.length} of ${drawn.seen} examples${drawn.stratified ? ' (stratified by label)' : ''}\n`);
    const callbacks: RunProgressCallbacks = {
      signal: controller.signal,
      onProgress: (p) => progress.update(p.done, p.total, p.examplesPerSecond),
      onRetry: (r) => {
        progress.end();
        // The first sentence says what happened; the rest (what a single request should do) does not apply here.
        const what = r.reason.split('\n')[0].replace(/(, so the request failed)?\.\s.*$/, '');
        io.stderr.write(`damoe: a model worker failed (${what}); running its ${r.examples} examples again on a restarted worker\n`);
      },
    };
    return await run({ dataset, drawn, signal: controller.signal, progress, callbacks });
  } finally {
    progress.end();
    process.removeListener('SIGINT', onSigint);
  }
}
