/** damoe spot-check FILE: run the model over a (sampled) dataset and report accuracy and routing statistics. */
import * as fs from 'fs';
import * as path from 'path';
import { DATASET_FORMATS, type DatasetFormat } from '../../shared/dataset';
import {
  createEngine,
  DatasetError,
  DatasetSample,
  defaultSpotCheckWorkers,
  openDataset,
  resolveModelDir,
  runDatasetSample,
  sampleDataset,
  workerMemoryFor,
} from '../../core';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { DEFAULT_SPOTCHECK_SAMPLE_SIZE, DEFAULT_SPOTCHECK_SEED } from '../../shared/defaults';
import { renderSpotCheckHtml } from '../../report/html';
import type { CliIO, Command } from '../context';
import { EXIT_FAILURE, UsageError } from '../errors';
import { formatFlops, providerLine } from '../format';
import { engineOptions, MODEL_OPTIONS, MODEL_OPTIONS_HELP, parse, wholeNumber } from '../options';

const HELP = `Usage: damoe spot-check [options] FILE

Runs the model over a sample of the dataset FILE (TSV with a header as in GLUE, CSV, JSON Lines, or plain text
with one example per line; detected from the extension and content) and prints accuracy, the confusion matrix,
K histograms, expert load, throughput and the rows that were skipped. Progress goes to standard error.
Rows that cannot be read (wrong column count, bad JSON, invalid UTF-8, empty text) are skipped and listed.
Ctrl-C stops the run and still writes the reports for the examples done ("cancelled": true).

Options:
  --sample N|all       examples to take (default ${DEFAULT_SPOTCHECK_SAMPLE_SIZE}); stratified by label, seeded; 'all' takes every row
  --seed S             seed of the sample (default ${DEFAULT_SPOTCHECK_SEED}, as in VS Code): the same seed and file give the same sample
  --text-column NAME   column (or JSON key) holding the text; default: detected (sentence, text, sentence1/sentence2...)
  --pair-column NAME   column holding the second text of a pair (encoded as a pair); default: detected
  --label-column NAME  column holding the label; default: detected (label, gold_label, class...)
  --format F           tsv, csv, jsonl or text, instead of detecting it
  --json OUT           write the report as JSON to OUT (fields documented in docs/cli.md)
  --html OUT           write a self-contained HTML report to OUT
  --batch-size N       sequences per model run (default 32)
  --workers N          single-threaded model worker processes on the CPU (default: --threads when set, otherwise one
                       per CPU, at most 8, as many as half the free memory holds)
${MODEL_OPTIONS_HELP}
  -h, --help           show this help`;

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
function checkOutput(option: string, out: string, input: string): string {
  const abs = path.resolve(out);
  if (realOrResolved(abs) === realOrResolved(input)) {
    throw new UsageError(`${option} ${out} is the dataset file itself; refusing to overwrite it`);
  }
  const dir = path.dirname(abs);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${option}: the folder ${dir} does not exist`);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) throw new UsageError(`${option}: ${out} is a directory`);
  return abs;
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

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h) => h.length);
  for (const r of rows) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c], r[c].length);
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The stdout summary of a report. */
export function spotCheckSummary(r: SpotCheckReport): string {
  const m = r.model;
  const lines: string[] = [];
  lines.push(
    `Dataset:     ${r.dataset.path} (${r.dataset.format}; text "${r.dataset.text_column}"${r.dataset.pair_column ? `, pair "${r.dataset.pair_column}"` : ''}${r.dataset.label_column ? `, label "${r.dataset.label_column}"` : ', no labels'})`,
  );
  lines.push(
    `Sample:      ${r.sample.size} of ${r.dataset.records} examples (seed ${r.sample.seed}, ${r.sample.stratified ? 'stratified by label' : 'not stratified'}` +
      `${r.sample.note ? `: ${r.sample.note}` : ''})`,
  );
  lines.push(`Model:       ${m.name} (${m.router_kind}, ${m.num_layers} layers x ${m.num_experts} experts, K max ${m.k_max})`);
  if (r.cancelled) lines.push(`CANCELLED:   ${r.n} of ${r.sample.size} examples analysed; the figures cover those only`);
  else if (r.partial) lines.push(`PARTIAL:     ${r.n} of ${r.sample.size} examples analysed: ${r.partial_reason}`);
  lines.push(`Examples:    ${r.n} analysed, ${r.tokens} tokens (special tokens included in the routing figures)`);
  if (r.accuracy !== null) lines.push(`Accuracy:    ${pct(r.accuracy)} (${r.correct} of ${r.labelled} labelled)`);
  else lines.push(`Accuracy:    n/a${r.labelled === 0 ? ' (no labels)' : ''}`);
  if (r.label_mapping.note) lines.push(`Labels:      ${r.label_mapping.note}`);
  if (r.confusion) {
    const c = r.confusion;
    lines.push(`Confusion (rows: ${c.rows_are === 'model-labels' ? 'label' : 'dataset label'}, columns: predicted):`);
    lines.push(
      table(
        ['', ...c.columns],
        c.matrix.map((row, i) => [c.rows[i], ...row.map(String)]),
      ),
    );
  }
  lines.push(`Predicted:   ${r.predicted_counts.map((p) => `${p.label} ${p.count}`).join(', ')}`);
  const kHead = r.k_histogram.overall.map((_, k) => `K=${k}`);
  lines.push('K histogram (tokens per K):');
  lines.push(
    table(
      ['', ...kHead, 'mean K'],
      [
        ...r.k_histogram.per_layer.map((row, l) => [`layer ${l}`, ...row.map(String), r.mean_k.per_layer[l].toFixed(2)]),
        ['all', ...r.k_histogram.overall.map(String), r.mean_k.overall.toFixed(2)],
      ],
    ),
  );
  lines.push('Expert load (utilisation per expert, 1.00 = fair share):');
  for (const l of r.expert_load) {
    lines.push(
      `  layer ${l.layer}: ${l.utilisation.map((u) => u.toFixed(2)).join(' ')}  CV ${l.cv.toFixed(2)}${l.dead.length ? `  DEAD: ${l.dead.join(', ')}` : ''}`,
    );
  }
  if (r.routing_by_label.length > 0) {
    lines.push(`Mean K by label: ${r.routing_by_label.map((g) => `${g.label} ${g.mean_k.overall.toFixed(2)} (n ${g.n})`).join(', ')}`);
  }
  const f = r.flops;
  lines.push(
    `Expert FLOPs: ${formatFlops(f.spent, f.unit)} spent; fixed top-${m.k_max} ${formatFlops(f.fixed_top_k_max, f.unit)}, fixed top-2 ${formatFlops(f.fixed_top_2, f.unit)}`,
  );
  lines.push(
    `Provider:    ${providerLine({ requested: r.execution_provider.requested as never, used: r.execution_provider.used as never, skipped: r.execution_provider.skipped as never })}`,
  );
  lines.push(
    `Throughput:  ${r.examples_per_second.toFixed(1)} examples/s (${(r.elapsed_ms / 1000).toFixed(1)} s${r.threads !== null ? `, ${r.threads === 0 ? "onnxruntime's default" : r.threads} thread${r.threads === 1 ? '' : 's'}` : ''}${r.workers > 1 ? `, ${r.workers} workers` : ''})`,
  );
  lines.push(
    `Restarts:    ${r.worker_restarts} model worker restart${r.worker_restarts === 1 ? '' : 's'}${r.worker_restarts > 0 ? ' (a worker crashed or stopped responding; its chunks were run again)' : ''}`,
  );
  lines.push(
    `Skipped:     ${r.skipped.count} row${r.skipped.count === 1 ? '' : 's'}${r.skipped.count ? ` (${r.skipped.reader} unreadable, ${r.skipped.run} the model could not run)` : ''}`,
  );
  for (const s of r.skipped.first) lines.push(`  line ${s.line}: ${s.reason}`);
  if (r.skipped.count > r.skipped.first.length) lines.push(`  … and ${r.skipped.count - r.skipped.first.length} more`);
  return lines.join('\n');
}

/** Progress on stderr: a rewritten line on a terminal, a line every ~10% otherwise. */
function progressWriter(stderr: CliIO['stderr']): {
  update(done: number, total: number, eps: number): void;
  read(rows: number): void;
  end(): void;
} {
  const tty = (stderr as NodeJS.WriteStream).isTTY === true;
  let lastDecile = -1;
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
    update(done, total, eps) {
      const msg = `analysing: ${done}/${total} examples (${eps.toFixed(1)} examples/s)`;
      if (tty) {
        if (Date.now() - lastWrite > 100 || done === total) {
          stderr.write(`\r${msg}\x1b[K`);
          lastWrite = Date.now();
          open = true;
        }
        return;
      }
      const decile = total === 0 ? 10 : Math.floor((10 * done) / total);
      if (decile !== lastDecile) {
        lastDecile = decile;
        stderr.write(`${msg}\n`);
      }
    },
    end() {
      if (tty && open) stderr.write('\n');
      open = false;
    },
  };
}

export const spotCheckCommand: Command = {
  name: 'spot-check',
  summary: 'run the model over a dataset sample: accuracy, routing statistics, JSON/HTML report',
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...MODEL_OPTIONS,
      sample: { type: 'string' },
      seed: { type: 'string' },
      'text-column': { type: 'string' },
      'pair-column': { type: 'string' },
      'label-column': { type: 'string' },
      format: { type: 'string' },
      json: { type: 'string' },
      html: { type: 'string' },
      'batch-size': { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0 ? 'spot-check needs a dataset FILE' : `spot-check takes one FILE, got ${positionals.length}`,
      );
    }
    const sample = sampleSize(values.sample);
    const seed = seedValue(values.seed);
    if (values.format !== undefined && !DATASET_FORMATS.includes(values.format as DatasetFormat)) {
      throw new UsageError(`--format must be one of ${DATASET_FORMATS.join(', ')}, got '${values.format}'`);
    }
    const batchSize = wholeNumber('batch-size', values['batch-size'], 1);
    const options = engineOptions(values);
    // --threads is the CPU budget of a spot-check: N single-threaded workers (see defaultSpotCheckWorkers).
    let workers = wholeNumber('workers', values.workers, 1);
    if (workers === undefined) {
      let modelDir: string | undefined;
      try {
        modelDir = resolveModelDir(options.modelDir);
      } catch {
        // reported when the engine loads, after the dataset has been checked
      }
      workers = defaultSpotCheckWorkers(options.threads ?? 0, undefined, modelDir === undefined ? undefined : workerMemoryFor(modelDir));
    }
    if (workers > 1) options.threads = 1;
    const input = path.resolve(positionals[0]);
    const jsonOut = values.json !== undefined ? checkOutput('--json', values.json, input) : undefined;
    const htmlOut = values.html !== undefined ? checkOutput('--html', values.html, input) : undefined;
    if (jsonOut !== undefined && jsonOut === htmlOut) throw new UsageError('--json and --html name the same file');

    let dataset;
    try {
      dataset = await openDataset(input, {
        format: values.format as DatasetFormat | undefined,
        textColumn: values['text-column'],
        pairColumn: values['pair-column'],
        labelColumn: values['label-column'],
      });
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
    let report: SpotCheckReport;
    try {
      // Sample first (no model needed), so an empty or unreadable dataset fails before the model loads.
      let drawn: DatasetSample;
      try {
        drawn = await sampleDataset(dataset, { sample, seed, signal: controller.signal, onRead: (rows) => progress.read(rows) });
      } catch (e) {
        progress.end();
        return datasetError(e, io);
      }
      progress.end();
      io.stderr.write(`sample: ${drawn.records.length} of ${drawn.seen} examples${drawn.stratified ? ' (stratified by label)' : ''}\n`);
      const engine = await createEngine(options);
      try {
        report = await runDatasetSample(engine, dataset, drawn, {
          batchSize,
          workers,
          threads: options.threads ?? 0,
          signal: controller.signal,
          onProgress: (p) => progress.update(p.done, p.total, p.examplesPerSecond),
          onRetry: (r) => {
            progress.end();
            // The first sentence says what happened; the rest (what a single request should do) does not apply here.
            const what = r.reason.split('\n')[0].replace(/(, so the request failed)?\.\s.*$/, '');
            io.stderr.write(`damoe: a model worker failed (${what}); running its ${r.examples} examples again on a restarted worker\n`);
          },
        });
      } finally {
        await engine.dispose();
      }
    } finally {
      progress.end();
      process.removeListener('SIGINT', onSigint);
    }
    if (jsonOut) writeAtomic(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
    if (htmlOut) writeAtomic(htmlOut, renderSpotCheckHtml(report));
    io.stdout.write(`${spotCheckSummary(report)}\n`);
    if (jsonOut) io.stderr.write(`wrote ${jsonOut}\n`);
    if (htmlOut) io.stderr.write(`wrote ${htmlOut}\n`);
    if (report.cancelled) return 130;
    if (report.partial) {
      io.stderr.write(`damoe: the report is partial: ${report.partial_reason}\n`);
      return EXIT_FAILURE;
    }
    return 0;
  },
};

/** Dataset problems: a wrong column is a usage error (exit 2); a missing, unreadable or empty file exits 1. */
function datasetError(e: unknown, io: CliIO): number {
  if (!(e instanceof DatasetError)) throw e;
  if (e.code === 'unknown-column') throw new UsageError(e.message);
  io.stderr.write(`damoe: ${e.message}\n`);
  return EXIT_FAILURE;
}
