/** damoe spot-check FILE: run the model over a (sampled) dataset and report accuracy and routing statistics. */
import { createEngine, EngineError, RoutingTableWriter, runDatasetSample, type RoutingTableSummary } from '../../core';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { DEFAULT_IMPORTANCE_CHECK_SAMPLE } from '../../shared/defaults';
import { importanceCheckLines, importanceCheckUnavailable } from '../../shared/importance-check';
import { formatPercentWithCi, wilsonInterval } from '../../shared/stats';
import { correlationText, kLossColumns, kLossRows, perplexityBasis, perplexityText } from '../../shared/lm-report-text';
import { renderSpotCheckHtml } from '../../report/html';
import type { Command } from '../context';
import {
  batchWorkers,
  checkOutput,
  DATASET_OPTIONS,
  datasetArgs,
  datasetOptionsHelp,
  table,
  withDatasetSample,
  writeAtomic,
} from '../dataset-run';
import { EXIT_FAILURE, UsageError } from '../errors';
import { providerFields } from '../../shared/provider-text';
import { formatFlops, providerLine } from '../format';
import { engineOptions, MODEL_OPTIONS, MODEL_OPTIONS_HELP, parse } from '../options';

/** --importance-check [--importance-sample N]: the examples to check, 0 for none. */
function importanceSample(check: boolean, raw: string | undefined): number {
  if (raw !== undefined && !check) throw new UsageError('--importance-sample goes with --importance-check');
  if (!check) return 0;
  if (raw === undefined) return DEFAULT_IMPORTANCE_CHECK_SAMPLE;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`--importance-sample must be a whole number >= 1, got '${raw}'`);
  return Number(raw);
}

const HELP = `Usage: damoe spot-check [options] FILE

Runs the model over a sample of the dataset FILE (TSV with a header as in GLUE, CSV, JSON Lines, or plain text
with one example per line; detected from the extension and content) and prints accuracy, the confusion matrix,
K histograms, expert load, throughput and the rows that were skipped. Progress goes to standard error.
Rows that cannot be read (wrong column count, bad JSON, invalid UTF-8, empty text) are skipped and listed.
Ctrl-C stops the run and still writes the reports for the examples done ("cancelled": true).

Options:
${datasetOptionsHelp('report')}
  --importance-check   after the run, delete each token of a seeded subset of the sample in turn, re-run the
                       model and report per layer Spearman's rho between importance and the drop in the
                       predicted class's probability, pooled over the subset's tokens (docs/importance-check.md)
  --importance-sample N  examples of the sample the check takes (default ${DEFAULT_IMPORTANCE_CHECK_SAMPLE})
  --routing OUT        write the per-token routing as Parquet to OUT: one row per (example, token, layer) with
                       K, importance, experts and gates (lists), router entropy, label and prediction (docs/cli.md)
${MODEL_OPTIONS_HELP}
  -h, --help           show this help`;

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
  if (r.accuracy !== null && r.correct !== null) {
    lines.push(
      `Accuracy:    ${formatPercentWithCi(r.accuracy, wilsonInterval(r.correct, r.labelled))} (${r.correct} of ${r.labelled} labelled; 95% Wilson CI in brackets)`,
    );
  } else if (r.language_model) {
    const lm = r.language_model;
    lines.push(`Perplexity:  ${perplexityText(lm.perplexity)} (${perplexityBasis(lm, r.n)})`);
    const rows = kLossRows(lm);
    lines.push('Loss by K (mean loss in nats of the scored tokens with that K in the layer, tokens in brackets; K-loss correlation):');
    lines.push(
      table(
        ['', ...kLossColumns(rows).map((k) => `K=${k}`), 'K-loss'],
        rows.map((row) => [
          `layer ${row.layer}`,
          ...kLossColumns(rows).map((k) => {
            const c = row.cells.find((x) => x.k === k);
            return c && c.meanLoss !== null ? `${c.meanLoss.toFixed(2)} (${c.tokens})` : '–';
          }),
          correlationText(row.correlation),
        ]),
      ),
    );
  } else lines.push(`Accuracy:    n/a${r.labelled === 0 ? ' (no labels)' : ''}`);
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
  // A causal LM predicts no class: no line for it.
  if (r.predicted_counts.length > 0) lines.push(`Predicted:   ${r.predicted_counts.map((p) => `${p.label} ${p.count}`).join(', ')}`);
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
  if (r.routing_by_group && r.routing_by_group.length > 0) {
    const withAccuracy = r.routing_by_group.some((g) => g.accuracy !== undefined && g.accuracy !== null);
    lines.push(
      `Routing by "${r.dataset.group_column}" (${withAccuracy ? 'accuracy with 95% CI; ' : ''}mean K per layer; load shift per layer = ` +
        `share of the group's expert assignments that differ from the whole sample's):`,
    );
    lines.push(
      table(
        [
          'group',
          'n',
          'tokens',
          ...(withAccuracy ? ['accuracy'] : []),
          'mean K',
          ...r.mean_k.per_layer.map((_, l) => `K L${l}`),
          'load shift per layer',
        ],
        r.routing_by_group.map((g) => [
          g.label,
          String(g.n),
          String(g.tokens),
          ...(withAccuracy
            ? [g.accuracy === null || g.accuracy === undefined ? 'n/a' : formatPercentWithCi(g.accuracy, g.accuracy_ci95 ?? null)]
            : []),
          g.mean_k.overall.toFixed(2),
          ...g.mean_k.per_layer.map((k) => k.toFixed(2)),
          (g.expert_load_shift ?? []).map((x) => `${(100 * x).toFixed(1)}%`).join(' '),
        ]),
      ),
    );
  }
  if (r.expert_specialisation && r.expert_specialisation.length > 0) {
    lines.push(
      `Expert specialisation (top tokens by lift, seen at least ${r.expert_specialisation_min_count} times by the expert; --json has all layers):`,
    );
    // The most dynamic view fits a terminal: the last layer, three tokens per expert.
    const l = r.expert_specialisation.length - 1;
    for (const x of r.expert_specialisation[l]) {
      const top = x.tokens.slice(0, 3).map((t) => `${JSON.stringify(t.token)} ×${t.lift.toFixed(1)} (${t.count})`);
      lines.push(`  layer ${l} expert ${x.expert}: ${top.length ? top.join(', ') : '–'}`);
    }
  }
  if (r.importance_check) lines.push(...importanceCheckLines(r.importance_check));
  const f = r.flops;
  lines.push(
    `Expert FLOPs: ${formatFlops(f.spent, f.unit)} spent; fixed top-${m.k_max} ${formatFlops(f.fixed_top_k_max, f.unit)}, fixed top-2 ${formatFlops(f.fixed_top_2, f.unit)}`,
  );
  const ep = r.execution_provider;
  lines.push(ep ? `Provider:    ${providerLine(providerFields(ep))}` : 'Provider:    none (routing traces recorded by a serving engine)');
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

export const spotCheckCommand: Command = {
  name: 'spot-check',
  summary: 'run the model over a dataset sample: accuracy, routing statistics, JSON/HTML report',
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...MODEL_OPTIONS,
      ...DATASET_OPTIONS,
      routing: { type: 'string' },
      'importance-check': { type: 'boolean' },
      'importance-sample': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const run = datasetArgs('spot-check', values, positionals);
    const routingOut = values.routing !== undefined ? checkOutput('--routing', values.routing, run.input) : undefined;
    if (routingOut !== undefined && (routingOut === run.jsonOut || routingOut === run.htmlOut)) {
      throw new UsageError(`--routing and --${routingOut === run.jsonOut ? 'json' : 'html'} name the same file`);
    }
    const importanceCheck = importanceSample(values['importance-check'] === true, values['importance-sample']);
    const options = engineOptions(values);
    const workers = batchWorkers(run.workers, options.threads, options.modelDir);
    if (workers > 1) options.threads = 1;

    let routingSummary: RoutingTableSummary | undefined;
    const report = await withDatasetSample(run, io, async ({ dataset, drawn, callbacks, progress }) => {
      const engine = await createEngine(options);
      // Rows are written as the examples come back: the table of a large sample never sits in memory.
      const table = routingOut
        ? new RoutingTableWriter(routingOut, engine.model, { 'damoe.dataset': dataset.path, 'damoe.seed': String(run.seed) })
        : undefined;
      try {
        const unavailable = importanceCheck ? importanceCheckUnavailable(engine.model) : null;
        if (unavailable) throw new EngineError('importance-unavailable', `--importance-check: ${unavailable}`);
        const started = Date.now();
        const result = await runDatasetSample(engine, dataset, drawn, {
          ...callbacks,
          importanceCheck,
          onImportanceProgress: (p) =>
            progress.update(p.textsDone, p.texts, p.textsDone / Math.max(1e-3, (Date.now() - started) / 1000), 'importance check'),
          batchSize: run.batchSize,
          workers,
          threads: options.threads ?? 0,
          onExample: table ? (record, routed) => table.add(record, routed) : undefined,
        });
        routingSummary = table?.finish();
        return result;
      } catch (e) {
        table?.abort();
        throw e;
      } finally {
        await engine.dispose();
      }
    });
    if (typeof report === 'number') return report;
    if (run.jsonOut) writeAtomic(run.jsonOut, `${JSON.stringify(report, null, 2)}\n`);
    if (run.htmlOut) writeAtomic(run.htmlOut, renderSpotCheckHtml(report));
    io.stdout.write(`${spotCheckSummary(report)}\n`);
    if (run.jsonOut) io.stderr.write(`wrote ${run.jsonOut}\n`);
    if (run.htmlOut) io.stderr.write(`wrote ${run.htmlOut}\n`);
    if (routingSummary) {
      const s = routingSummary;
      io.stderr.write(
        `wrote ${s.file} (${s.rows} rows: the tokens x layers of ${s.examples} examples, ${s.rowGroups} row group${s.rowGroups === 1 ? '' : 's'}, ${(s.bytes / 2 ** 20).toFixed(1)} MiB)\n`,
      );
    }
    if (report.cancelled || report.importance_check?.cancelled) return 130;
    if (report.partial) {
      io.stderr.write(`damoe: the report is partial: ${report.partial_reason}\n`);
      return EXIT_FAILURE;
    }
    return 0;
  },
};
