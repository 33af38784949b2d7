/**
 * The GPU benchmark's driver (bench/gpu/run.sh runs it on a lent GPU machine): the shipped DA-MoE through the
 * engine on `cpu` and on `webgpu` (a real GPU's Vulkan driver there), on the same inputs:
 * - parity: the 30 parity sentences, WebGPU against CPU (max |probability difference|, K differences);
 * - latency: engine.analyze at T = 128, 512 and 4,096 tokens (4,096 is windowed into the model's 512), median of --iters;
 * - spot-check throughput: engine.routeBatch over a 640-text sample at batch 64 (examples/s);
 * then one table, and --json FILE with every figure. It fails (exit 1) if the webgpu engine did not run on WebGPU.
 * On each GPU provider it also prints the node placement (analysis.provider.placement, from onnxruntime's profile)
 * of the folder's sparse model.onnx and of its GPU graph model.gpu.onnx: the "before" and "after" of the GPU graph.
 * `--placement-only` prints just that, for every model folder in `--models` (default: every shipped model).
 *
 * Usage: node out/bench/gpu/gpu-bench.js [--iters N] [--json FILE] [--model DIR] [--providers cpu,webgpu]
 *        node out/bench/gpu/gpu-bench.js --placement-only [--models DIR,DIR] [--providers webgpu]
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../../src/core/engine';
import { packageRoot } from '../../src/core/model-dirs';
import type { ExecutionProviderName, NodePlacement, ProviderReport } from '../../src/shared/analysis';

const ROOT = packageRoot(__dirname) ?? process.cwd();
const LENGTHS = [128, 512, 4096];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Where one graph's nodes ran on one provider, as the engine reported it after its warm-up run. */
interface GraphPlacement {
  modelFile: string;
  placement: NodePlacement | null;
  problem: string | null;
}

/** The placement of model.onnx (sparse dispatch) and of the engine's choice (model.gpu.onnx when present). */
async function placements(provider: ExecutionProviderName, modelDir: string): Promise<GraphPlacement[]> {
  const out: GraphPlacement[] = [];
  for (const gpuGraph of [false, true]) {
    const engine = await createEngine({ modelDir, executionProvider: provider, threads: 0, gpuGraph });
    try {
      const p: ProviderReport = engine.provider;
      if (gpuGraph && p.modelFile === out[0]?.modelFile) break; // no GPU graph here: the same graph twice
      out.push({
        modelFile: p.modelFile ?? 'model.onnx',
        placement: p.placement ?? null,
        problem: p.placementProblem ?? p.gpuGraphProblem ?? null,
      });
    } finally {
      await engine.dispose();
    }
  }
  return out;
}

function describePlacement(g: GraphPlacement): string {
  const p = g.placement;
  if (!p) return `${g.modelFile}: no placement (${g.problem ?? 'not reported'})`;
  const ops = p.cpu_ops.map((op) => `${op} x${p.cpu_op_counts[op]}`).join(', ');
  return `${g.modelFile}: ${p.gpu_nodes} nodes on GPU, ${p.cpu_nodes} on CPU (${ops || 'none'}), ${p.memcpy_nodes} GPU<->CPU copies`;
}

interface ProviderFigures {
  provider: ExecutionProviderName;
  used: string;
  placements: GraphPlacement[];
  skipped: { provider: string; reason: string }[];
  loadSeconds: number;
  latencyMs: Record<string, number>;
  spotCheckExamplesPerSecond: number;
  parity: { probabilities: number[][]; k: number[][][] };
}

async function measure(provider: ExecutionProviderName, modelDir: string, iters: number, texts: string[], sample: string[]) {
  const graphs = provider === 'cpu' ? [] : await placements(provider, modelDir);
  const t0 = performance.now();
  const engine = await createEngine({ modelDir, executionProvider: provider, threads: 0 });
  const loadSeconds = (performance.now() - t0) / 1000;
  try {
    const tok = engine.tokenizer;
    const specials = tok.numSpecialTokensToAdd(false);
    const source = Array.from({ length: 800 }, (_, i) => `the film number ${i} was a quiet, moving and rather good story.`).join(' ');
    const content = tok.tokenize(source);
    const latencyMs: Record<string, number> = {};
    for (const T of LENGTHS) {
      const text = source.slice(0, content[T - specials - 1].end!);
      for (let i = 0; i < 3; i++) await engine.analyze({ text });
      const times: number[] = [];
      for (let i = 0; i < iters; i++) {
        const s = performance.now();
        await engine.analyze({ text });
        times.push(performance.now() - s);
      }
      latencyMs[T] = median(times);
    }
    const parity = { probabilities: [] as number[][], k: [] as number[][][] };
    for (const text of texts) {
      const a = await engine.analyze({ text });
      parity.probabilities.push(a.prediction?.probabilities ?? []);
      parity.k.push(a.layers.map((l) => l.k));
    }
    await engine.routeBatch(
      sample.slice(0, 64).map((text) => ({ text })),
      { batchSize: 64 },
    );
    const s = performance.now();
    await engine.routeBatch(
      sample.map((text) => ({ text })),
      { batchSize: 64 },
    );
    const spotCheckExamplesPerSecond = sample.length / ((performance.now() - s) / 1000);
    const figures: ProviderFigures = {
      provider,
      used: engine.provider.used,
      placements: graphs,
      skipped: engine.provider.skipped,
      loadSeconds,
      latencyMs,
      spotCheckExamplesPerSecond,
      parity,
    };
    return figures;
  } finally {
    await engine.dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      iters: { type: 'string', default: '20' },
      json: { type: 'string' },
      model: { type: 'string' },
      providers: { type: 'string' },
      'placement-only': { type: 'boolean' },
      models: { type: 'string' },
    },
  });
  if (values['placement-only']) return placementOnly(values.models, values.providers ?? 'webgpu');
  const modelDir = values.model ?? join(ROOT, 'models', 'damoe-sst2');
  const name = modelDir.split('/').filter(Boolean).pop()!;
  const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'parity', `${name}.json`), 'utf8')) as {
    cases: { text: string }[];
  };
  const texts = fixture.cases.map((c) => c.text);
  const rows = readFileSync(join(ROOT, 'test', 'fixtures', 'datasets', 'sst2-sample.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t')[0])
    .filter((t) => t.trim() !== '');
  const sample = Array.from({ length: 640 }, (_, i) => `${rows[i % rows.length]} ${texts[i % texts.length]}`);
  const results: ProviderFigures[] = [];
  for (const p of (values.providers ?? 'cpu,webgpu').split(',') as ExecutionProviderName[]) {
    results.push(await measure(p, modelDir, Number(values.iters), texts, sample));
    const r = results[results.length - 1];
    console.log(
      `${p}: ran on ${r.used} (load ${r.loadSeconds.toFixed(1)} s)${r.skipped.length ? `; skipped ${JSON.stringify(r.skipped)}` : ''}`,
    );
    for (const g of r.placements) console.log(`  placement, ${describePlacement(g)}`);
  }
  const cpu = results.find((r) => r.provider === 'cpu');
  const parity: Record<string, { maxProbabilityDiff: number; kDiffs: number; kTotal: number }> = {};
  for (const r of results) {
    if (!cpu || r === cpu) continue;
    let maxProbabilityDiff = 0;
    let kDiffs = 0;
    let kTotal = 0;
    r.parity.probabilities.forEach((ps, i) =>
      ps.forEach((p, j) => (maxProbabilityDiff = Math.max(maxProbabilityDiff, Math.abs(p - cpu.parity.probabilities[i][j])))),
    );
    r.parity.k.forEach((layers, i) =>
      layers.forEach((ks, l) => ks.forEach((k, t) => ((kTotal += 1), (kDiffs += k === cpu.parity.k[i][l][t] ? 0 : 1)))),
    );
    parity[r.provider] = { maxProbabilityDiff, kDiffs, kTotal };
  }
  const header = ['provider (ran on)', ...LENGTHS.map((T) => `T=${T} ms`), 'spot-check ex/s (batch 64)', 'parity vs cpu'];
  const body = results.map((r) => [
    `${r.provider} (${r.used})`,
    ...LENGTHS.map((T) => r.latencyMs[T].toFixed(2)),
    r.spotCheckExamplesPerSecond.toFixed(0),
    parity[r.provider]
      ? `max |dp| ${parity[r.provider].maxProbabilityDiff.toExponential(1)}, K differs ${parity[r.provider].kDiffs}/${parity[r.provider].kTotal}`
      : '-',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  body.forEach((b) => console.log(line(b)));
  if (values.json) writeFileSync(values.json, JSON.stringify({ model: modelDir, results, parity }, null, 1));
  const wrong = results.filter((r) => r.provider !== r.used);
  if (wrong.length > 0) {
    console.error(`not on the requested provider: ${wrong.map((r) => `${r.provider} ran on ${r.used}`).join(', ')}`);
    process.exitCode = 1;
  }
}

/** The placement of each model folder's graphs on each GPU provider; exit 1 if a provider did not run. */
async function placementOnly(models: string | undefined, providers: string): Promise<void> {
  const shipped = join(ROOT, 'models');
  const dirs = models
    ? models.split(',')
    : readdirSync(shipped)
        .map((d) => join(shipped, d))
        .filter((d) => existsSync(join(d, 'model.onnx')));
  for (const provider of providers.split(',') as ExecutionProviderName[]) {
    for (const dir of dirs) {
      const graphs = await placements(provider, dir);
      console.log(`${dir.split('/').filter(Boolean).pop()} on ${provider}:`);
      for (const g of graphs) console.log(`  ${describePlacement(g)}`);
      if (graphs.some((g) => !g.placement)) process.exitCode = 1;
    }
  }
}

main().catch((e: Error) => {
  console.error(`gpu bench failed: ${e.message}`);
  process.exitCode = 1;
});
