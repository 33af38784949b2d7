/** damoe compare --models A,B[,C] FILE: two or three models on the same dataset sample, with paired statistics. */
import * as path from 'path';
import { compareOnSample, createEngine, modelDirByName } from '../../core';
import type { CompareReport } from '../../shared/compare-report';
import { DEFAULT_BOOTSTRAP_RESAMPLES, MAX_COMPARE_MODELS, MIN_COMPARE_MODELS } from '../../shared/defaults';
import { formatP, formatPercentWithCi, formatPointsWithCi } from '../../shared/stats';
import { renderCompareHtml } from '../../report/compare-html';
import type { Command } from '../context';
import { batchWorkers, DATASET_OPTIONS, datasetArgs, datasetOptionsHelp, table, withDatasetSample, writeAtomic } from '../dataset-run';
import { EXIT_FAILURE, UsageError } from '../errors';
import { formatFlops } from '../format';
import { ENGINE_OPTIONS, ENGINE_OPTIONS_HELP, engineOptions, parse } from '../options';

const HELP = `Usage: damoe compare --models A,B[,C] [options] FILE

Runs ${MIN_COMPARE_MODELS} or ${MAX_COMPARE_MODELS} models over the same sample of the dataset FILE (read and sampled as by
spot-check) and prints each model's accuracy with its 95% Wilson CI, mean K and expert FLOPs; the paired accuracy
difference of the first model minus each other model on the examples both analysed, with its 95% paired bootstrap CI
(${DEFAULT_BOOTSTRAP_RESAMPLES.toLocaleString('en-US')} resamples, seeded with --seed) and McNemar's exact p; and the
examples where the models disagree. The models run one after the other.

Options:
  --models A,B[,C]     the models: shipped model names (damoe-sst2, top2-sst2, switch-sst2) or model folders
${datasetOptionsHelp('comparison')}
Engine options (every model):
${ENGINE_OPTIONS_HELP}
  -h, --help           show this help`;

/** The --models list: 2 or 3 distinct models, each a folder or a shipped model's name. */
function modelList(raw: string | undefined): { name: string; dir: string }[] {
  if (raw === undefined) throw new UsageError(`compare needs --models A,B (${MIN_COMPARE_MODELS} or ${MAX_COMPARE_MODELS} models)`);
  const entries = raw
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (entries.length < MIN_COMPARE_MODELS || entries.length > MAX_COMPARE_MODELS) {
    throw new UsageError(`--models takes ${MIN_COMPARE_MODELS} or ${MAX_COMPARE_MODELS} models separated by commas, got ${entries.length}`);
  }
  const models = entries.map((entry) => {
    try {
      const dir = modelDirByName(entry);
      return { name: /[\\/]/.test(entry) ? path.basename(dir) : entry, dir };
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  const dirs = new Set(models.map((m) => m.dir));
  const names = new Set(models.map((m) => m.name));
  if (dirs.size < models.length) throw new UsageError('--models names the same model twice');
  if (names.size < models.length)
    throw new UsageError('--models: two model folders have the same name; copy or link one under another name');
  return models;
}

function ciOf(x: number | null, ci: [number, number] | null): string {
  return x === null ? 'n/a' : formatPercentWithCi(x, ci);
}

/** The stdout summary of a comparison. */
export function compareSummary(r: CompareReport): string {
  const lines: string[] = [];
  lines.push(
    `Dataset:     ${r.dataset.path} (${r.dataset.format}; text "${r.dataset.text_column}"${r.dataset.pair_column ? `, pair "${r.dataset.pair_column}"` : ''}${r.dataset.label_column ? `, label "${r.dataset.label_column}"` : ', no labels'})`,
  );
  lines.push(
    `Sample:      ${r.sample.size} of ${r.dataset.records} examples (seed ${r.sample.seed}, ${r.sample.stratified ? 'stratified by label' : 'not stratified'}${r.sample.note ? `: ${r.sample.note}` : ''}); the same sample for every model`,
  );
  if (r.partial) lines.push(`${r.cancelled ? 'CANCELLED' : 'PARTIAL'}:   ${r.partial_reason ?? ''}; the figures cover the examples done`);
  lines.push('Models (accuracy with its 95% Wilson CI; mean K and expert FLOPs over the sample, special tokens included):');
  lines.push(
    table(
      ['model', 'router', 'accuracy [95% CI]', 'correct', 'mean K', 'expert FLOPs', 'vs top-2'],
      r.models.map((m) => [
        m.name,
        m.router_kind,
        ciOf(m.accuracy, m.ci95),
        m.correct === null ? 'n/a' : `${m.correct}/${m.labelled}`,
        m.mean_k.toFixed(2),
        formatFlops(m.expert_flops, m.flops_unit),
        m.expert_flops_fixed_top_2 > 0 ? `${((100 * m.expert_flops) / m.expert_flops_fixed_top_2).toFixed(1)}%` : 'n/a',
      ]),
    ),
  );
  if (r.paired_with_first.length === 0) {
    lines.push('Paired:      n/a (no labelled examples whose labels map to the models’ labels)');
  } else {
    const p0 = r.paired_with_first[0];
    lines.push(
      `Paired (${r.models[0].name} minus ${r.paired_with_first.length > 1 ? 'each other model' : p0.second}; 95% paired bootstrap CI, ${p0.bootstrap.resamples.toLocaleString('en-US')} resamples, seed ${p0.bootstrap.seed}; McNemar's exact test):`,
    );
    for (const p of r.paired_with_first) {
      lines.push(
        `  ${p.first} − ${p.second}: ${formatPointsWithCi(p.difference, p.ci95)}, McNemar ${formatP(p.mcnemar_p)} ` +
          `(n ${p.n}; only ${p.first} right ${p.first_only_correct}, only ${p.second} right ${p.second_only_correct})`,
      );
    }
  }
  lines.push(
    `Disagreements: ${r.disagreements_total} of ${r.common} examples every model analysed${r.disagreements_total > r.disagreements.length ? ` (first ${r.disagreements.length} in the JSON)` : ''}`,
  );
  const shown = r.disagreements.slice(0, 20);
  for (const d of shown) {
    const text = [...d.text].length > 70 ? `${[...d.text].slice(0, 69).join('')}…` : d.text;
    lines.push(
      `  line ${d.line}: ${d.predictions.map((p, i) => `${r.models[i].name} ${p}${d.correct[i] === null ? '' : d.correct[i] ? ' ✓' : ' ✗'}`).join(' · ')}${d.label !== null ? ` · label ${d.label}` : ''}  ${JSON.stringify(text)}`,
    );
  }
  if (r.disagreements_total > shown.length)
    lines.push(`  … and ${r.disagreements_total - shown.length} more (--json or --html lists them)`);
  if (r.skipped.reader > 0) lines.push(`Skipped:     ${r.skipped.reader} unreadable row${r.skipped.reader === 1 ? '' : 's'}`);
  for (const m of r.models)
    if (m.skipped_run > 0) lines.push(`Skipped:     ${m.skipped_run} example${m.skipped_run === 1 ? '' : 's'} ${m.name} could not run`);
  return lines.join('\n');
}

export const compareCommand: Command = {
  name: 'compare',
  summary: 'two or three models on the same dataset sample: accuracy CIs, paired bootstrap CI, McNemar p, disagreements',
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      models: { type: 'string' },
      ...ENGINE_OPTIONS,
      ...DATASET_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const models = modelList(values.models);
    const run = datasetArgs('compare', values, positionals);
    const options = engineOptions(values);
    const workers = batchWorkers(run.workers, options.threads, models[0].dir);
    if (workers > 1) options.threads = 1;

    const report = await withDatasetSample(run, io, async ({ dataset, drawn, callbacks, progress }) => {
      let current = '';
      return compareOnSample(
        models.map((m) => ({
          name: m.name,
          open: async () => {
            const engine = await createEngine({ ...options, modelDir: m.dir });
            return { engine, release: () => engine.dispose() };
          },
        })),
        dataset,
        drawn,
        {
          ...callbacks,
          batchSize: run.batchSize,
          workers,
          threads: options.threads ?? 0,
          onModel: (i) => {
            progress.end();
            current = models[i].name;
          },
          onProgress: (p) => progress.update(p.done, p.total, p.examplesPerSecond, current),
        },
      );
    });
    if (typeof report === 'number') return report;
    if (run.jsonOut) writeAtomic(run.jsonOut, `${JSON.stringify(report, null, 2)}\n`);
    if (run.htmlOut) writeAtomic(run.htmlOut, renderCompareHtml(report));
    io.stdout.write(`${compareSummary(report)}\n`);
    if (run.jsonOut) io.stderr.write(`wrote ${run.jsonOut}\n`);
    if (run.htmlOut) io.stderr.write(`wrote ${run.htmlOut}\n`);
    if (report.cancelled) return 130;
    if (report.partial) {
      io.stderr.write(`damoe: the comparison is partial: ${report.partial_reason}\n`);
      return EXIT_FAILURE;
    }
    return 0;
  },
};
