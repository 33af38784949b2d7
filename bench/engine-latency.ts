/**
 * Latency of the engine (tokenize + onnxruntime in the worker + analysis) for batch 1 at T = 16, 64, 128, 512
 * on the shipped DA-MoE model, against PyTorch eager on the same weights, same token ids and the same number of
 * threads, measured in the same run. See bench/README.md.
 *
 * The PyTorch peer is rebuilt from the model's own model.onnx (bench/onnx_peer.py), or loaded from a training run's
 * best.pt with --checkpoint-run DIR.
 *
 * Usage: npm run bench [-- --threads N --iters N --model DIR --checkpoint-run DIR --lengths 16,64]
 */
import { describeTorchSource, torchRequest, torchSourceFor, type TorchSource } from './shipped-weights';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { createEngine } from '../src/core/engine';
import { packageRoot } from '../src/core/model-dirs';

const DEFAULT_LENGTHS = [16, 64, 128, 512];
const ROOT = packageRoot(__dirname) ?? process.cwd();

interface Row {
  T: number;
  endToEnd: number[];
  inference: number[];
  windowed: boolean;
  probabilities: number[];
  k: number[][];
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const median = (xs: number[]): number => quantile(xs, 0.5);

/** A text of exactly T tokens (specials included), cut from a long sentence at a token boundary. */
function textOfLength(tokenize: (s: string) => { end: number | null }[], specials: number, T: number): string {
  const source = Array.from({ length: 400 }, (_, i) => `the film number ${i} was a quiet, moving and rather good story.`).join(' ');
  const content = tokenize(source);
  const need = T - specials;
  if (content.length < need) throw new Error(`benchmark text too short for T=${T}`);
  return source.slice(0, content[need - 1].end!);
}

function torchLatency(source: TorchSource, threads: number, iters: number, inputs: Record<string, number[]>) {
  const script = path.join(ROOT, 'bench', 'torch_latency.py');
  const r = spawnSync('/usr/bin/python3', [script], {
    input: JSON.stringify({ ...torchRequest(source), threads, iters, warmup: 3, inputs }),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.error) return { ok: false as const, reason: `cannot run /usr/bin/python3: ${r.error.message}` };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as
      | {
          ok: true;
          ms: Record<string, { median: number; p90: number }>;
          outputs: Record<string, { probabilities: number[]; expert_count: number[][] }>;
          torch: string;
          threads: number;
        }
      | { ok: false; reason: string };
  } catch {
    return { ok: false as const, reason: `the PyTorch script failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: '1' },
      iters: { type: 'string', default: '20' },
      model: { type: 'string' },
      'checkpoint-run': { type: 'string' },
      lengths: { type: 'string' },
    },
  });
  const threads = Number(values.threads);
  const lengths = values.lengths ? values.lengths.split(',').map(Number) : DEFAULT_LENGTHS;
  const iters = Number(values.iters);
  const shipped = path.join(ROOT, 'models', 'damoe-sst2');
  let modelDir = values.model ?? shipped;
  const notes: string[] = [];
  if (!fs.existsSync(path.join(modelDir, 'model.onnx'))) {
    const tiny = path.join(ROOT, 'test', 'fixtures', 'models', 'tiny-damoe');
    notes.push(`MODEL MISSING: ${modelDir}/model.onnx does not exist; timing the tiny test fixture instead (not comparable to PyTorch).`);
    modelDir = tiny;
  }
  const source = torchSourceFor(modelDir, values['checkpoint-run'], recordedRouterOverrides(modelDir));

  const engine = await createEngine({ modelDir, executionProvider: 'cpu', threads });
  const rows: Row[] = [];
  const inputs: Record<string, number[]> = {};
  try {
    const tok = engine.tokenizer;
    const specials = tok.numSpecialTokensToAdd(false);
    for (const T of lengths) {
      const text = textOfLength((s) => tok.tokenize(s), specials, T);
      inputs[T] = tok.encode(text).ids;
      if (inputs[T].length !== T) throw new Error(`T=${T}: made ${inputs[T].length} tokens`);
      for (let i = 0; i < 3; i++) await engine.analyze({ text });
      const row: Row = { T, endToEnd: [], inference: [], windowed: false, probabilities: [], k: [] };
      for (let i = 0; i < iters; i++) {
        const t0 = performance.now();
        const a = await engine.analyze({ text });
        row.endToEnd.push(performance.now() - t0);
        row.inference.push(a.timings.inferenceMs);
        row.windowed = a.windowing !== null;
        row.probabilities = a.prediction?.probabilities ?? [];
        row.k = a.layers.map((l) => l.k);
      }
      rows.push(row);
    }
  } finally {
    await engine.dispose();
  }

  const torch = torchLatency(source, threads, iters, inputs);
  if (!torch.ok) notes.push(`PYTORCH N/A: ${torch.reason}`);

  console.log(`Engine latency, batch 1, ${threads} thread(s), ${iters} iterations after 3 warm-ups`);
  console.log(`model: ${modelDir} (onnxruntime-node, cpu, in the worker process)`);
  console.log(
    `pytorch: ${torch.ok ? `${describeTorchSource(source)} (torch ${torch.torch}, ${torch.threads} threads, eager, inference_mode)` : 'n/a'}`,
  );
  const header = ['T', 'engine median ms', 'engine p90 ms', 'model run median ms', 'PyTorch median ms', 'PyTorch / engine'];
  const body = rows.map((r) => {
    const e = median(r.endToEnd);
    const p = torch.ok ? torch.ms[String(r.T)]?.median : undefined;
    return [
      `${r.T}${r.windowed ? ' (windowed)' : ''}`,
      e.toFixed(2),
      quantile(r.endToEnd, 0.9).toFixed(2),
      median(r.inference).toFixed(2),
      p === undefined ? 'n/a' : p.toFixed(2),
      p === undefined ? 'n/a' : `${(p / e).toFixed(2)}x`,
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  body.forEach((b) => console.log(line(b)));
  console.log(
    'engine = tokenize + IPC + onnxruntime + analysis; model run = worker round trip (IPC + onnxruntime); ratio > 1: engine faster',
  );
  if (torch.ok) {
    // The peer must be the same model: its outputs on the same token ids, next to the engine's (ONNX) outputs.
    let maxProb = 0;
    let kDiff = 0;
    let kTotal = 0;
    for (const r of rows) {
      const o = torch.outputs[String(r.T)];
      if (!o || r.windowed) continue;
      r.probabilities.forEach((p, i) => (maxProb = Math.max(maxProb, Math.abs(p - o.probabilities[i]))));
      r.k.forEach((layer, l) => layer.forEach((k, t) => ((kTotal += 1), (kDiff += k === o.expert_count[l][t] ? 0 : 1))));
    }
    console.log(
      `same model: max |probability difference| PyTorch vs engine ${maxProb.toExponential(2)}, K differs on ${kDiff} of ${kTotal} (layer, token) pairs`,
    );
    if (maxProb > 1e-4 || kDiff > 0)
      notes.push('PYTORCH MISMATCH: the PyTorch peer does not reproduce the engine outputs (see the line above).');
  }
  for (const n of notes) console.log(n);
}

/** The router settings training/export.py recorded for a --checkpoint-run (models/NAME/metrics.json). */
function recordedRouterOverrides(modelDir: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(path.join(modelDir, 'metrics.json'), 'utf8')).router_overrides ?? {};
  } catch {
    return {};
  }
}

main().catch((e: Error) => {
  console.error(`bench failed: ${e.message}`);
  process.exitCode = 1;
});
