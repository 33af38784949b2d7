/** damoe models: the shipped models (or --model DIR): router rule, task, accuracy, size, providers; never run. */
import { describeModel, listShippedModels, resolveModelDir, shippedModelsDir } from '../../core';
import type { ModelListing, ProviderSupport } from '../../shared/model-listing';
import type { Command } from '../context';
import { UsageError } from '../errors';
import { parse } from '../options';

const HELP = `Usage: damoe models [--json] [--model DIR]

Lists the shipped models (models/ in the package), or describes one model directory: the contract check, the task,
the router rule (K rule and its parameters from the moe.contract metadata), the accuracy from metrics.json, the
file sizes, and which execution providers this installation offers. Nothing is run: 'damoe analyze --model DIR'
also checks the outputs, and shows which provider a run actually used.

Options:
  --json          print JSON: [{ version, name, path, ok, problems, metadata, task, router, metrics, size,
                  providers }] (fields documented in docs/cli.md)
  --model DIR     describe this model directory instead
  -h, --help      show this help`;

const MiB = (b: number): string => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);

function routerLine(m: ModelListing): string {
  const r = m.router;
  if (!r) return 'not stated';
  const parts: string[] = [];
  if (r.kind === 'top-k') parts.push(`top-k, fixed K = ${r.k ?? '?'}${r.k === 1 ? ' (Switch)' : ''}`);
  else parts.push(`${r.kind}, K per token from its importance`);
  if (r.rule) parts.push(r.rule);
  const params = [`k_max ${r.k_max}`];
  if (r.k_scale !== null) params.push(`k_scale ${r.k_scale}`);
  if (r.k_calibration) params.push(`k_calibration ${JSON.stringify(r.k_calibration)}`);
  if (r.gates) params.push(`gates ${r.gates}`);
  if (r.convention) params.push(`convention ${r.convention}`);
  if (r.shared_experts) params.push(`shared experts ${JSON.stringify(r.shared_experts)}`);
  if (r.dense_layers.length > 0) params.push(`dense decoder layers ${r.dense_layers.join(', ')}`);
  return `${parts.join(': ')}; ${params.join(', ')}`;
}

/** The providers are the installation's, the same for every model: printed once, after the models. */
export function providersText(ps: readonly ProviderSupport[]): string {
  const mark = { available: 'yes', 'needs-hardware': 'with a GPU', 'not-installed': 'no' } as const;
  return ['Execution providers of this installation (every model; `damoe analyze` reports the one a run used):']
    .concat(ps.map((p) => `  ${p.provider.padEnd(6)} ${mark[p.status]}: ${p.detail}`))
    .join('\n');
}

export function modelText(m: ModelListing): string {
  const lines = [`${m.name}  ${m.path}${m.ok ? '' : '  (CONTRACT PROBLEMS: below)'}`];
  const md = m.metadata;
  const row = (label: string, value: string): number => lines.push(`  ${label.padEnd(10)} ${value}`);
  if (md) {
    row('task', `${m.task}${Array.isArray(md.labels) ? `, labels ${md.labels.map(String).join(', ')}` : ''}`);
    row('router', routerLine(m));
    row(
      'shape',
      `${String(md.num_layers)} MoE layers x ${String(md.num_experts)} experts, max sequence length ${String(md.max_sequence_length)}, ` +
        `expert FLOPs/token ${md.expert_flops_per_token === undefined ? 'not given' : String(md.expert_flops_per_token)}`,
    );
  }
  const x = m.metrics;
  if (x) {
    const lm = typeof x.perplexity === 'number' && x.accuracy === null;
    const acc = lm
      ? (x.perplexity as number).toFixed(1)
      : x.accuracy === null
        ? 'not in metrics.json'
        : `${(100 * x.accuracy).toFixed(1)}%`;
    const on = x.evaluated_on ? ` on ${x.evaluated_on.split('/').pop()}` : '';
    const n = x.examples !== null ? ` (${x.examples} examples)` : '';
    row(lm ? 'perplexity' : 'accuracy', `${acc}${on}${n}${x.mean_k !== null ? `, mean K ${x.mean_k.toFixed(2)}` : ''} (metrics.json)`);
  } else row('accuracy', 'no metrics.json');
  const s = m.size;
  row(
    'size',
    [
      s.model_bytes !== null ? `model ${MiB(s.model_bytes)}` : null,
      s.tokenizer_bytes !== null ? `tokenizer ${MiB(s.tokenizer_bytes)}` : null,
      x?.parameters ? `${(x.parameters / 1e6).toFixed(2)}M parameters` : null,
    ]
      .filter(Boolean)
      .join(', ') || 'unknown',
  );
  for (const p of m.problems) lines.push(`  problem: ${p}`);
  return lines.join('\n');
}

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list the shipped models: router rule, task, accuracy, size, providers',
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      json: { type: 'boolean' },
      model: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`models takes no arguments, got '${positionals[0]}'`);
    const dirs = values.model !== undefined ? [resolveModelDir(values.model)] : listShippedModels();
    const listings: ModelListing[] = await Promise.all(dirs.map(describeModel));
    if (values.json) io.stdout.write(`${JSON.stringify(listings, null, 2)}\n`);
    else if (listings.length === 0) io.stdout.write(`No shipped models found in ${shippedModelsDir() ?? 'models/'}.\n`);
    else io.stdout.write(`${listings.map(modelText).join('\n\n')}\n\n${providersText(listings[0].providers)}\n`);
    return listings.every((l) => l.ok) ? 0 : 1;
  },
};
