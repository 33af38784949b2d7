/**
 * Latency of the engine (tokenize + onnxruntime in the worker + analysis) for batch 1 at T = 16, 64, 128, 512
 * on the shipped DA-MoE model, against PyTorch eager on the same weights, same token ids and the same number of
 * threads, measured in the same run. See bench/README.md.
 *
 * The two sides are interleaved: each length is timed in `--rounds` blocks, engine then PyTorch, so that a load
 * spike on a shared machine hits both. At `--breakdown` tokens (default 128) the bench also times, in the same
 * blocks, onnxruntime alone in this process (the worker's session options) and the worker round trip alone, and
 * prints where the engine's time goes; then the compute limit (bench/compute-limit.ts).
 *
 * The PyTorch peer is rebuilt from the model's own model.onnx (bench/onnx_peer.py), or loaded from a training run's
 * best.pt with --checkpoint-run DIR.
 *
 * Usage: npm run bench [-- --threads N --iters N --rounds N --model DIR --checkpoint-run DIR --lengths 16,64
 *        --breakdown T]
 */
import { describeTorchSource, torchSourceFor } from './shipped-weights';
import { forwardFlops, GEMM_N, GEMM_REPS, modelSizes, onnxruntimeGemmRate, type GemmRate } from './compute-limit';
import { TorchPeer } from './torch-peer';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import type * as Ort from 'onnxruntime-node';
import { createEngine } from '../src/core/engine';
import { packageRoot } from '../src/core/model-dirs';
import { int64Tensor, type RawTensor } from '../src/core/runtime/tensors';

const DEFAULT_LENGTHS = [16, 64, 128, 512];
const ROOT = packageRoot(__dirname) ?? process.cwd();

interface Row {
  T: number;
  ids: number[];
  text: string;
  endToEnd: number[];
  inference: number[];
  tokenize: number[];
  torch: number[];
  windowed: boolean;
  probabilities: number[];
  k: number[][];
  torchProbabilities?: number[];
  torchK?: number[][];
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const median = (xs: number[]): number => quantile(xs, 0.5);
const load = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');

/** A text of exactly T tokens (specials included), cut from a long sentence at a token boundary. */
function textOfLength(tokenize: (s: string) => { end: number | null }[], specials: number, T: number): string {
  const source = Array.from({ length: 400 }, (_, i) => `the film number ${i} was a quiet, moving and rather good story.`).join(' ');
  const content = tokenize(source);
  const need = T - specials;
  if (content.length < need) throw new Error(`benchmark text too short for T=${T}`);
  return source.slice(0, content[need - 1].end!);
}

function feedsOf(ids: readonly number[]): Record<string, RawTensor> {
  return { input_ids: int64Tensor(ids, [1, ids.length]), attention_mask: int64Tensor(new Array(ids.length).fill(1), [1, ids.length]) };
}

/** Times `fn` `n` times into `into`. */
async function timeInto(into: number[], n: number, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    into.push(performance.now() - t0);
  }
}

/** onnxruntime alone, in this process, at one length, for the breakdown. */
interface Parts {
  T: number;
  ort: number[];
  session: Ort.InferenceSession;
  ortFeeds: Record<string, Ort.Tensor>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: '1' },
      iters: { type: 'string', default: '40' },
      rounds: { type: 'string', default: '4' },
      model: { type: 'string' },
      'checkpoint-run': { type: 'string' },
      lengths: { type: 'string' },
      breakdown: { type: 'string', default: '128' },
    },
  });
  const threads = Number(values.threads);
  const lengths = values.lengths ? values.lengths.split(',').map(Number) : DEFAULT_LENGTHS;
  const iters = Number(values.iters);
  const rounds = Math.max(1, Math.min(iters, Number(values.rounds)));
  const perRound = Math.ceil(iters / rounds);
  const breakdownT = Number(values.breakdown);
  const shipped = path.join(ROOT, 'models', 'damoe-sst2');
  let modelDir = values.model ?? shipped;
  const notes: string[] = [];
  if (!fs.existsSync(path.join(modelDir, 'model.onnx'))) {
    const tiny = path.join(ROOT, 'test', 'fixtures', 'models', 'tiny-damoe');
    notes.push(`MODEL MISSING: ${modelDir}/model.onnx does not exist; timing the tiny test fixture instead (not comparable to PyTorch).`);
    modelDir = tiny;
  }
  const modelFile = path.join(modelDir, 'model.onnx');
  const source = torchSourceFor(modelDir, values['checkpoint-run'], recordedRouterOverrides(modelDir));
  const loadAtStart = load();

  const ort = await import('onnxruntime-node');
  const engine = await createEngine({ modelDir, executionProvider: 'cpu', threads });
  const started = await TorchPeer.start(ROOT, source, threads);
  const torch = started instanceof TorchPeer ? started : null;
  if (!torch) notes.push(`PYTORCH N/A: ${(started as { reason: string }).reason}`);
  const rows: Row[] = [];
  let parts: Parts | null = null;
  let gemm: { ort: GemmRate; torch: GemmRate | null } | null = null;
  try {
    const tok = engine.tokenizer;
    const specials = tok.numSpecialTokensToAdd(false);
    for (const T of lengths) {
      const text = textOfLength((s) => tok.tokenize(s), specials, T);
      const ids = tok.encode(text).ids;
      if (ids.length !== T) throw new Error(`T=${T}: made ${ids.length} tokens`);
      for (let i = 0; i < 3; i++) await engine.analyze({ text });
      rows.push({ T, ids, text, endToEnd: [], inference: [], tokenize: [], torch: [], windowed: false, probabilities: [], k: [] });
    }
    const breakdownRow = rows.find((r) => r.T === breakdownT);
    if (breakdownRow) {
      // The worker's session options (src/core/runtime/worker.ts), in this process: onnxruntime and nothing else.
      const session = await ort.InferenceSession.create(modelFile, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        logSeverityLevel: 3,
      });
      const f = feedsOf(breakdownRow.ids);
      const ortFeeds = Object.fromEntries(
        Object.entries(f).map(([name, t]) => [name, new ort.Tensor('int64', t.data as BigInt64Array, t.dims)]),
      );
      parts = { T: breakdownT, ort: [], session, ortFeeds };
      for (let i = 0; i < 3; i++) await session.run(ortFeeds);
    }
    for (let round = 0; round < rounds; round++) {
      for (const r of rows) {
        const n = Math.min(perRound, iters - round * perRound);
        if (n <= 0) continue;
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          const a = await engine.analyze({ text: r.text });
          r.endToEnd.push(performance.now() - t0);
          r.inference.push(a.timings.inferenceMs);
          r.tokenize.push(a.timings.tokenizeMs);
          r.windowed = a.windowing !== null;
          r.probabilities = a.prediction?.probabilities ?? [];
          r.k = a.layers.map((l) => l.k);
        }
        if (torch) {
          const t = await torch.time(r.ids, n, round === 0 ? 3 : 1);
          r.torch.push(...t.ms);
          r.torchProbabilities = t.probabilities;
          r.torchK = t.expert_count;
        }
        if (parts && r.T === parts.T) {
          const p = parts;
          await timeInto(p.ort, n, () => p.session.run(p.ortFeeds));
        }
      }
    }
    gemm = { ort: await onnxruntimeGemmRate(ort, GEMM_N, GEMM_REPS), torch: torch ? await torch.gemm(GEMM_N, GEMM_REPS) : null };
  } finally {
    torch?.close();
    await engine.dispose();
    await parts?.session.release();
  }

  console.log(`Engine latency, batch 1, ${threads} thread(s), ${iters} iterations per length in ${rounds} interleaved rounds`);
  console.log(`model: ${modelDir} (onnxruntime-node, cpu, in the worker process)`);
  console.log(
    `pytorch: ${torch ? `${describeTorchSource(source)} (torch ${torch.torch}, ${torch.threads} threads, OpenBLAS ${threads}, eager, inference_mode)` : 'n/a'}`,
  );
  console.log(`load average (1, 5, 15 min): ${loadAtStart} at the start, ${load()} at the end (${os.cpus().length} CPUs)`);
  const header = ['T', 'engine median ms', 'engine p90 ms', 'model run median ms', 'PyTorch median ms', 'PyTorch / engine'];
  const body = rows.map((r) => {
    const e = median(r.endToEnd);
    const p = r.torch.length > 0 ? median(r.torch) : undefined;
    return [
      `${r.T}${r.windowed ? ' (windowed)' : ''}`,
      e.toFixed(2),
      quantile(r.endToEnd, 0.9).toFixed(2),
      median(r.inference).toFixed(2),
      p === undefined ? 'n/a' : p.toFixed(2),
      p === undefined ? 'n/a' : `${(p / e).toFixed(2)}x`,
    ];
  });
  printTable(header, body);
  console.log(
    'engine = tokenize + IPC + onnxruntime + analysis; model run = worker round trip (IPC + onnxruntime); ratio > 1: engine faster',
  );
  if (torch) {
    // The peer must be the same model: its outputs on the same token ids, next to the engine's (ONNX) outputs.
    let maxProb = 0;
    let kDiff = 0;
    let kTotal = 0;
    for (const r of rows) {
      if (!r.torchProbabilities || !r.torchK || r.windowed) continue;
      const [probs, ks] = [r.torchProbabilities, r.torchK];
      r.probabilities.forEach((p, i) => (maxProb = Math.max(maxProb, Math.abs(p - probs[i]))));
      r.k.forEach((layer, l) => layer.forEach((k, t) => ((kTotal += 1), (kDiff += k === ks[l][t] ? 0 : 1))));
    }
    console.log(
      `same model: max |probability difference| PyTorch vs engine ${maxProb.toExponential(2)}, K differs on ${kDiff} of ${kTotal} (layer, token) pairs`,
    );
    if (maxProb > 1e-4 || kDiff > 0)
      notes.push('PYTORCH MISMATCH: the PyTorch peer does not reproduce the engine outputs (see the line above).');
  }
  const row = parts ? rows.find((r) => r.T === parts!.T) : undefined;
  if (parts && row) printBreakdown(parts, row);
  if (gemm && row) {
    const sizes = modelSizes(modelFile, engine.model);
    if (typeof sizes === 'string') notes.push(`COMPUTE LIMIT N/A: ${sizes}`);
    else {
      const kSum = row.k.map((layer) => layer.reduce((a, b) => a + b, 0));
      const flops = forwardFlops(sizes, row.T, kSum);
      // One core's rate, the better library's, times the cores the run may use.
      const perCore = Math.max(gemm.ort.gflopsPerCore, gemm.torch?.gflopsPerCore ?? 0);
      const limitMs = flops.total / (perCore * threads * 1e6);
      console.log(
        `\ncompute limit at T=${row.T}: ${(flops.total / 1e6).toFixed(1)} MFLOP of matrix products (d=${sizes.d}, expert hidden ${sizes.hidden}, ` +
          `${sizes.layers} layers, ${sizes.experts} experts, sum K ${kSum.join('+')}: experts ${(flops.experts / 1e6).toFixed(1)} MFLOP)`,
      );
      const rate = (r: GemmRate): string => `${r.gflopsPerCore.toFixed(1)} GFLOP per CPU-second (${r.gflopsWall.toFixed(1)} per second)`;
      console.log(
        `  float32 ${GEMM_N}x${GEMM_N}x${GEMM_N} matrix product, best of ${GEMM_REPS}: onnxruntime MatMul (1 thread) ${rate(gemm.ort)}` +
          `${gemm.torch ? `; torch.mm (${threads} thread(s)) ${rate(gemm.torch)}` : ''}`,
      );
      console.log(`  at the faster ${perCore.toFixed(1)} GFLOP/s per core on ${threads} core(s) the FLOPs take ${limitMs.toFixed(2)} ms`);
      const vs = (label: string, ms: number): string => `${label} ${ms.toFixed(2)} ms = ${(ms / limitMs).toFixed(2)}x the limit`;
      const sides = [vs('engine', median(row.endToEnd)), vs('onnxruntime alone', median(parts!.ort))];
      if (row.torch.length > 0) sides.push(vs('PyTorch', median(row.torch)));
      console.log(`  ${sides.join('; ')}`);
      console.log(
        `  engine >= 2x PyTorch needs the engine within ${row.torch.length > 0 ? (median(row.torch) / 2 / limitMs).toFixed(2) : '?'}x the limit`,
      );
    }
  }
  for (const n of notes) console.log(n);
}

function printTable(header: string[], body: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  // Labels left, figures right.
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  body.forEach((b) => console.log(line(b)));
}

/** Where the engine's median time goes at the breakdown length (medians of blocks timed in the same rounds). */
function printBreakdown(parts: Parts, row: Row): void {
  const total = median(row.endToEnd);
  const tokenize = median(row.tokenize);
  const ortMs = median(parts.ort);
  const roundTrip = median(row.inference);
  const rows: [string, number][] = [
    ['tokenisation', tokenize],
    ['onnxruntime run (same session options, in this process)', ortMs],
    ["IPC and the worker (the engine's model run - onnxruntime run)", roundTrip - ortMs],
    ['host after the run (routing extraction, invariant checks, analysis)', total - tokenize - roundTrip],
  ];
  console.log(
    `\nwhere the engine's ${total.toFixed(2)} ms go at T=${parts.T} (medians; onnxruntime alone is timed apart, in the same rounds):`,
  );
  printTable(
    ['part', 'ms', 'share'],
    rows.map(([name, ms]) => [name, ms.toFixed(2), `${((100 * ms) / total).toFixed(0)}%`]),
  );
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
