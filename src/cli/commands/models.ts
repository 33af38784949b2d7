/** damoe models: the shipped models (or --model DIR) and their contract metadata, checked without running them. */
import * as path from 'path';
import { checkModelDirectory, listShippedModels, resolveModelDir, shippedModelsDir } from '../../core';
import type { Command } from '../context';
import { parse } from '../options';

const HELP = `Usage: damoe models [--json] [--model DIR]

Lists the shipped models (models/ in the package) with their contract metadata, or describes one model directory.
Only the metadata and files are checked here; 'damoe analyze --model DIR' also checks the outputs.

Options:
  --json          print JSON: [{ name, path, ok, metadata, problems }]
  --model DIR     describe this model directory instead
  -h, --help      show this help`;

export interface ModelListing {
  name: string;
  path: string;
  ok: boolean;
  /** The moe.contract metadata as stored in the model; null when missing or unreadable. */
  metadata: Record<string, unknown> | null;
  problems: string[];
}

export async function describeModel(dir: string): Promise<ModelListing> {
  const check = await checkModelDirectory(dir);
  return {
    name: path.basename(dir),
    path: dir,
    ok: check.violations.length === 0,
    metadata: check.metadata?.raw ?? null,
    problems: check.violations,
  };
}

function text(m: ModelListing): string {
  const lines = [`${m.name}  ${m.path}`];
  const md = m.metadata;
  if (md) {
    const k = md.router_kind === 'top-k' ? `k ${String(md.k)}` : `k_max ${String(md.k_max)}`;
    lines.push(
      `  router ${String(md.router_kind)}, ${String(md.num_layers)} layers x ${String(md.num_experts)} experts, ${k}`,
      `  labels ${JSON.stringify(md.labels)}, max sequence length ${String(md.max_sequence_length)}, ` +
        `expert FLOPs/token ${md.expert_flops_per_token === undefined ? 'not given' : String(md.expert_flops_per_token)}, ` +
        `gates ${md.gates === undefined ? 'not given' : String(md.gates)}`,
    );
  }
  for (const p of m.problems) lines.push(`  problem: ${p}`);
  return lines.join('\n');
}

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list the shipped models and their contract metadata',
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
    if (positionals.length > 0) {
      io.stderr.write(`damoe: models takes no arguments, got '${positionals[0]}'\nRun 'damoe --help' for usage.\n`);
      return 2;
    }
    const dirs = values.model !== undefined ? [resolveModelDir(values.model)] : listShippedModels();
    const listings = await Promise.all(dirs.map(describeModel));
    if (values.json) io.stdout.write(`${JSON.stringify(listings, null, 2)}\n`);
    else if (listings.length === 0) io.stdout.write(`No shipped models found in ${shippedModelsDir() ?? 'models/'}.\n`);
    else io.stdout.write(`${listings.map(text).join('\n\n')}\n`);
    return listings.every((l) => l.ok) ? 0 : 1;
  },
};
