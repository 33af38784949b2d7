/**
 * Spot-check throughput and memory (issue 6), see bench/README.md:
 *
 * 1. throughput: the shipped DA-MoE model over ../shared/data/sst2/dev.tsv through the spot-check path
 *    (runSpotCheck -> engine.routeBatch with length bucketing over --workers single-threaded model workers ->
 *    contract checks -> report statistics), in examples/s, against PyTorch eager batch inference of the same weights
 *    (bench/spotcheck_torch.py, spawned with /usr/bin/python3, same texts, length-bucketed batches) in the same run,
 *    at the engine's thread count and at 1 thread, batch --batch-size and 128: the fastest is the peer;
 * 2. memory: a generated 2,000,000-row TSV through the real CLI with --sample 1000; peak RSS of the CLI process
 *    (process.resourceUsage().maxRSS inside it) and of the CLI with its model workers (/proc, sampled every 50 ms).
 *
 * Targets (reported, not asserted): >= 1,500 examples/s and >= 2x the fairest PyTorch peer, which on N cores is N
 * single-threaded PyTorch processes at once, one per core, each on 1/N of the examples, at the batch size that gives
 * them the best total (--threads > 1); CLI peak RSS < 300 MB.
 *
 * Usage: npm run bench:spotcheck [-- --threads N --workers N --batch-size N --chunk-size N --depth N --sample N|all
 *        --data FILE --model DIR --checkpoint-run DIR --memory-rows N --skip-torch --skip-memory --smoke]
 * --threads is the CPU budget: --workers defaults to it (defaultSpotCheckWorkers).
 */
import { forwardFlops, GEMM_N, GEMM_REPS, modelSizes, onnxruntimeGemmRate, type GemmRate, type ModelSizes } from './compute-limit';
import { describeTorchSource, torchRequest, torchSourceFor } from './shipped-weights';
import { TorchPeer } from './torch-peer';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { openDataset } from '../src/core/datasets/reader';
import { createEngine } from '../src/core/engine';
import { packageRoot } from '../src/core/model-dirs';
import { SpotCheckReportBuilder } from '../src/core/spotcheck/report';
import { defaultChunkSize, DEFAULT_PIPELINE_DEPTH, defaultSpotCheckWorkers, runSpotCheck } from '../src/core/spotcheck/run';
import { sampleRecords } from '../src/core/spotcheck/sample';

const ROOT = packageRoot(__dirname) ?? process.cwd();
const MB = 1024 * 1024;

interface TorchResult {
  ok: true;
  seconds: number;
  tokenize_seconds: number;
  forward_seconds: number;
  examples: number;
  examples_per_second: number;
  predictions: number[];
  torch: string;
  threads: number;
}

type TorchReply = TorchResult | { ok: false; reason: string };

const TORCH_SCRIPT = (): string => path.join(ROOT, 'bench', 'spotcheck_torch.py');

/** The environment of a PyTorch peer on `threads` threads: OpenBLAS's own pool held to the same number. */
function torchEnv(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
}

function parseTorchReply(stdout: string, stderr: string): TorchReply {
  try {
    return JSON.parse(stdout.trim().split('\n').pop() ?? '') as TorchReply;
  } catch {
    return { ok: false, reason: `the PyTorch script failed: ${stderr.trim().split('\n').slice(-3).join(' | ')}` };
  }
}

function torchThroughput(req: Record<string, unknown> & { threads: number }): TorchReply {
  const r = spawnSync('/usr/bin/python3', [TORCH_SCRIPT()], {
    input: `${JSON.stringify(req)}\n`,
    encoding: 'utf8',
    maxBuffer: 256 * MB,
    env: torchEnv(req.threads),
  });
  if (r.error) return { ok: false, reason: `cannot run /usr/bin/python3: ${r.error.message}` };
  return parseTorchReply(r.stdout, r.stderr);
}

/**
 * `shares.length` single-threaded PyTorch processes at once, each on its share of the examples: each loads and warms
 * up, says it is ready, and all start their timed part together. The peer's throughput is all examples over the
 * slowest process's time.
 */
async function concurrentTorch(
  base: Record<string, unknown>,
  shares: [text: string, pair: string | null][][],
): Promise<{ ok: true; eps: number; seconds: number; parts: TorchResult[] } | { ok: false; reason: string }> {
  const children = shares.map((examples) => {
    const child = spawn('/usr/bin/python3', [TORCH_SCRIPT()], { env: torchEnv(1) });
    let stdout = '';
    let stderr = '';
    let onReady: (() => void) | null = null;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (onReady && stdout.includes('"ready"')) onReady();
    });
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const closed = new Promise<TorchReply>((resolve) => {
      child.on('error', (e) => resolve({ ok: false, reason: `cannot run /usr/bin/python3: ${e.message}` }));
      child.on('close', () => resolve(parseTorchReply(stdout, stderr)));
    });
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    child.stdin.write(`${JSON.stringify({ ...base, threads: 1, wait_for_go: true, examples })}\n`);
    return { child, closed, ready };
  });
  // A process that fails before it is ready ends the wait too.
  const early = await Promise.race([
    Promise.all(children.map((c) => c.ready)).then(() => null),
    Promise.race(children.map((c) => c.closed)),
  ]);
  if (early && !early.ok) {
    for (const c of children) c.child.kill();
    return early;
  }
  for (const c of children) c.child.stdin.end('go\n');
  const parts = await Promise.all(children.map((c) => c.closed));
  const failed = parts.find((p): p is { ok: false; reason: string } => !p.ok);
  if (failed) return failed;
  const done = parts as TorchResult[];
  const seconds = Math.max(...done.map((p) => p.seconds));
  const examples = done.reduce((n, p) => n + p.examples, 0);
  return { ok: true, eps: examples / seconds, seconds, parts: done };
}

/** Writes `rows` GLUE-style rows (two labels) without holding them in memory. */
async function writeBigTsv(file: string, rows: number): Promise<void> {
  const out = fs.createWriteStream(file);
  const words = ['a', 'quiet', 'moving', 'film', 'dull', 'witty', 'story', 'that', 'never', 'quite', 'works', 'gorgeous'];
  out.write('sentence\tlabel\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const n = 4 + (i % 13);
    let s = '';
    for (let j = 0; j < n; j++) s += `${words[(i * 7 + j * 3) % words.length]} `;
    chunk += `${s}${i}\t${i % 3 === 0 ? 0 : 1}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** CPU time (user + system) of a process so far, in ms, from /proc; NaN when it cannot be read. */
function processCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

/** Summed VmRSS of a process and all its descendants (Linux /proc), in kB; 0 when it cannot be read. */
function treeRssKb(root: number): number {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]);
    } catch {
      // ended
    }
    todo.push(...(children.get(pid) ?? []));
  }
  return total;
}

async function memoryCheck(rows: number, modelDir: string, threads: number, notes: string[]): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-spotcheck-mem-'));
  try {
    const file = path.join(dir, 'big.tsv');
    const t0 = performance.now();
    await writeBigTsv(file, rows);
    console.log(
      `\nmemory: generated ${rows.toLocaleString('en-US')} rows (${(fs.statSync(file).size / MB).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const main = path.join(ROOT, 'out', 'src', 'cli', 'main.js');
    const args = [
      'spot-check',
      file,
      '--sample',
      '1000',
      '--seed',
      '1',
      '--model',
      modelDir,
      '--provider',
      'cpu',
      '--threads',
      String(threads),
      '--json',
      path.join(dir, 'r.json'),
    ];
    // Runs the CLI in a node process that reports its own peak RSS (the model worker is a separate process).
    const wrapper =
      `require(${JSON.stringify(main)}).run(${JSON.stringify(args)}).then((c) => {` +
      `process.stderr.write('MAXRSS_KB=' + process.resourceUsage().maxRSS + '\\n'); process.exitCode = c; });`;
    const t1 = performance.now();
    const child = spawn(process.execPath, ['-e', wrapper], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The model workers are child processes: the tree's RSS is sampled every 50 ms and its peak kept.
    let treePeakKb = 0;
    const sampler = setInterval(() => (treePeakKb = Math.max(treePeakKb, treeRssKb(child.pid!))), 50);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearInterval(sampler);
    const seconds = (performance.now() - t1) / 1000;
    if (code !== 0) {
      notes.push(`MEMORY CHECK FAILED: exit ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
      return;
    }
    const own = /MAXRSS_KB=(\d+)/.exec(stderr);
    const ownMb = own ? Number(own[1]) / 1024 : NaN;
    console.log(`memory: damoe spot-check --sample 1000 --threads ${threads} took ${seconds.toFixed(1)} s`);
    console.log(`memory: peak RSS of the CLI process ${ownMb.toFixed(0)} MB (target < 300 MB): ${ownMb < 300 ? 'OK' : 'ABOVE TARGET'}`);
    console.log(`memory: peak RSS of the CLI and its model workers together (sampled every 50 ms) ${(treePeakKb / 1024).toFixed(0)} MB`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: String(os.availableParallelism()) },
      'batch-size': { type: 'string', default: '32' },
      workers: { type: 'string' },
      'chunk-size': { type: 'string' },
      depth: { type: 'string' },
      sample: { type: 'string', default: 'all' },
      data: { type: 'string' },
      model: { type: 'string' },
      'checkpoint-run': { type: 'string' },
      'memory-rows': { type: 'string', default: '2000000' },
      'skip-torch': { type: 'boolean' },
      'skip-memory': { type: 'boolean' },
      smoke: { type: 'boolean' },
    },
  });
  const threads = Number(values.threads);
  const batchSize = Number(values['batch-size']);
  const chunkSize = values['chunk-size'] !== undefined ? Number(values['chunk-size']) : undefined;
  const pipelineDepth = values.depth !== undefined ? Number(values.depth) : undefined;
  const workers = values.workers !== undefined ? Number(values.workers) : defaultSpotCheckWorkers(threads);
  const smoke = values.smoke === true;
  const sample = smoke ? 200 : values.sample === 'all' ? 'all' : Number(values.sample);
  const memoryRows = smoke ? 100_000 : Number(values['memory-rows']);
  const notes: string[] = [];

  let modelDir = values.model ?? path.join(ROOT, 'models', 'damoe-sst2');
  if (!fs.existsSync(path.join(modelDir, 'model.onnx'))) {
    notes.push(`MODEL MISSING: ${modelDir}/model.onnx does not exist; the tiny test fixture is timed instead (not comparable).`);
    modelDir = path.join(ROOT, 'test', 'fixtures', 'models', 'tiny-damoe');
  }
  let data = values.data ?? path.join(ROOT, '..', 'shared', 'data', 'sst2', 'dev.tsv');
  if (!fs.existsSync(data)) {
    notes.push(
      `DATA MISSING: ${data} does not exist (../shared/data is not part of the repository); the 31-row test fixture is used instead.`,
    );
    data = path.join(ROOT, 'test', 'fixtures', 'datasets', 'sst2-sample.tsv');
  }
  let recordedOverrides: Record<string, unknown> = {};
  try {
    recordedOverrides = JSON.parse(fs.readFileSync(path.join(modelDir, 'metrics.json'), 'utf8')).router_overrides ?? {};
  } catch {
    // a model of the user's own: no recorded router settings
  }
  const torchSource = torchSourceFor(modelDir, values['checkpoint-run'], recordedOverrides);

  const loadAtStart = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
  const dataset = await openDataset(data);
  const drawn = await sampleRecords(dataset.records(), { size: sample, seed: 0 });
  const records = drawn.records;
  // As `damoe spot-check` does: with several workers each is single-threaded, the interactive one included.
  const engine = await createEngine({ modelDir, executionProvider: 'cpu', threads: workers > 1 ? 1 : threads });
  let engineEps = 0;
  let engineSeconds = 0;
  let mainCpuSeconds = 0;
  let workerCpuSeconds: number[] = [];
  let poolStartMs = 0;
  let gemm: { ort: GemmRate; torch: GemmRate | null } | null = null;
  let accuracy: number | null = null;
  let onnxPredictions: string[] = [];
  const sizes = modelSizes(path.join(modelDir, 'model.onnx'), engine.model);
  let sampleFlops = 0;
  try {
    // The worker pool's start-up is a fixed cost (a model load per worker), timed apart, like PyTorch's model load.
    const poolT0 = performance.now();
    const pooled = await engine.startBatchWorkers(workers);
    poolStartMs = performance.now() - poolT0;
    if (workers > 1 && pooled < workers) notes.push(`POOL: only ${pooled} of ${workers} workers started`);
    // Warm-up (not timed).
    await runSpotCheck(engine, records.slice(0, Math.min(64, records.length)), new SpotCheckReportBuilder(engine.model), {
      batchSize,
      workers,
      chunkSize,
      pipelineDepth,
    });
    const builder = new SpotCheckReportBuilder(engine.model);
    const workerPids = [engine.workerPid, ...engine.batchWorkerPids].filter((p): p is number => p !== undefined);
    const workerCpu0 = workerPids.map(processCpuMs);
    const cpu0 = process.cpuUsage();
    const run = await runSpotCheck(engine, records, builder, { batchSize, workers, chunkSize, pipelineDepth });
    const cpu = process.cpuUsage(cpu0);
    workerCpuSeconds = workerPids.map((p, i) => (processCpuMs(p) - workerCpu0[i]) / 1000);
    mainCpuSeconds = (cpu.user + cpu.system) / 1e6;
    engineSeconds = run.elapsedMs / 1000;
    engineEps = run.examplesPerSecond;
    const report = builder.build({
      dataset: {
        path: dataset.path,
        format: dataset.format,
        columns: dataset.columns,
        text_column: dataset.resolved.text,
        pair_column: dataset.resolved.pair,
        label_column: dataset.resolved.label,
        rows: dataset.report.rows,
        records: dataset.report.records,
      },
      sample: { requested: sample, seed: 0, size: records.length, stratified: drawn.stratified, strata: drawn.strata, note: drawn.note },
      provider: engine.provider,
      threads,
      cancelled: false,
      elapsedMs: run.elapsedMs,
      readerSkipped: dataset.report.skipped,
    });
    accuracy = report.accuracy;
    onnxPredictions = report.examples.map((x) => x.predicted ?? '');
    // The sample's matrix-product FLOPs (bench/compute-limit.ts), from the report: each example's length and its sum
    // of K over tokens and layers (mean K x layers x tokens), so the timed run carries no extra work.
    if (typeof sizes !== 'string')
      for (const x of report.examples) sampleFlops += forwardFlops(sizes, x.tokens, [x.mean_k * sizes.layers * x.tokens]).total;
    // The matrix-product rate for the compute limit, measured on this machine now, like the latency bench's.
    const ort = await import('onnxruntime-node');
    gemm = { ort: await onnxruntimeGemmRate(ort, GEMM_N, GEMM_REPS), torch: null };
    if (!values['skip-torch']) {
      const peer = await TorchPeer.start(ROOT, torchSource, 1);
      if (peer instanceof TorchPeer) {
        gemm.torch = await peer.gemm(GEMM_N, GEMM_REPS);
        peer.close();
      }
    }
  } finally {
    await engine.dispose();
  }

  console.log(`Spot-check throughput: ${records.length} examples from ${data}`);
  console.log(
    `model: ${modelDir} (onnxruntime-node, cpu, ${threads} thread(s), batch ${batchSize}, length-bucketed chunks of ${chunkSize ?? defaultChunkSize(records.length)}, ${pipelineDepth ?? DEFAULT_PIPELINE_DEPTH} in flight, ${workers} worker(s))`,
  );
  console.log(
    `engine (tokenize + IPC + onnxruntime + contract checks + report stats): ${engineEps.toFixed(1)} examples/s (${engineSeconds.toFixed(2)} s)` +
      `${accuracy !== null ? `, accuracy ${(100 * accuracy).toFixed(2)}%` : ''}`,
  );
  console.log(
    `  main process CPU during the run: ${mainCpuSeconds.toFixed(2)} s (tokenizing, reading results, statistics); model workers: ${workers}${workers > 1 ? ` (pool started in ${poolStartMs.toFixed(0)} ms, not timed)` : ''}`,
  );
  console.log(`  model workers' CPU during the run: ${workerCpuSeconds.map((x) => `${x.toFixed(2)} s`).join(', ')}`);

  let peerRatio: string | null = null;
  let fairestEps: number | null = null;
  if (values['skip-torch']) notes.push('PYTORCH SKIPPED (--skip-torch)');
  else {
    console.log(`pytorch peer: ${describeTorchSource(torchSource)}`);
    // The peer is PyTorch at its best on this machine: with the engine's thread count and with 1 thread (eager
    // PyTorch's intra-op threads often slow these small batches down), at the engine's batch size and at 128.
    const configs: { threads: number; batch: number }[] = [];
    for (const t of [...new Set([threads, 1])]) for (const b of [...new Set([batchSize, 128])]) configs.push({ threads: t, batch: b });
    const labels = engine.model.labels;
    let best: { eps: number; threads: number; batch: number } | null = null;
    let sameThreads: number | null = null;
    for (const c of configs) {
      const torch = torchThroughput({
        ...torchRequest(torchSource),
        tokenizer: path.join(modelDir, 'tokenizer.json'),
        threads: c.threads,
        batch_size: c.batch,
        max_len: engine.maxTokens,
        examples: records.map((r) => [r.text, r.pair ?? null]),
      });
      if (!torch.ok) {
        notes.push(`PYTORCH N/A (${c.threads} thread(s), batch ${c.batch}): ${torch.reason}`);
        continue;
      }
      const agree = torch.predictions.filter((p, i) => labels[p] === onnxPredictions[i]).length;
      console.log(
        `pytorch eager (torch ${torch.torch}, ${torch.threads} thread(s), tokenize + bucketed batches of ${c.batch} + forward): ` +
          `${torch.examples_per_second.toFixed(1)} examples/s (${torch.seconds.toFixed(2)} s; tokenize ${torch.tokenize_seconds.toFixed(2)} s); ` +
          `predictions agree with the engine on ${agree}/${records.length}`,
      );
      if (!best || torch.examples_per_second > best.eps) best = { eps: torch.examples_per_second, threads: c.threads, batch: c.batch };
      if (c.threads === threads) sameThreads = Math.max(sameThreads ?? 0, torch.examples_per_second);
    }
    if (best) {
      console.log(
        `ratio engine / best single pytorch process (${best.threads} thread(s), batch ${best.batch}): ${(engineEps / best.eps).toFixed(2)}x`,
      );
      if (sameThreads !== null && threads !== best.threads) {
        console.log(`ratio engine / pytorch with the same ${threads} threads: ${(engineEps / sameThreads).toFixed(2)}x`);
      }
    }
    // The fairest peer on `threads` cores: as many single-threaded PyTorch processes as the engine has workers'
    // cores, one per core, each on an equal share of the examples (every n-th), all at once, at the batch size
    // that gives that pair its best total.
    if (threads > 1 && best) {
      const shares = Array.from({ length: threads }, (_, k) =>
        records.filter((_, i) => i % threads === k).map((r): [string, string | null] => [r.text, r.pair ?? null]),
      );
      let fairest: { eps: number; batch: number } | null = null;
      for (const batch of [...new Set([batchSize, 64, 128])]) {
        const base = {
          ...torchRequest(torchSource),
          tokenizer: path.join(modelDir, 'tokenizer.json'),
          batch_size: batch,
          max_len: engine.maxTokens,
        };
        const pair = await concurrentTorch(base, shares);
        if (!pair.ok) {
          notes.push(`PYTORCH N/A (${threads} processes x 1 thread, batch ${batch}): ${pair.reason}`);
          continue;
        }
        console.log(
          `pytorch eager, ${threads} single-threaded processes at once (one per core, example i to process i mod ${threads}, batch ${batch}): ` +
            `${pair.eps.toFixed(1)} examples/s in all (${pair.seconds.toFixed(2)} s for the slowest; ` +
            `${pair.parts.map((p) => `${p.examples_per_second.toFixed(0)}`).join(' + ')} ex/s each)`,
        );
        if (!fairest || pair.eps > fairest.eps) fairest = { eps: pair.eps, batch };
      }
      if (fairest) {
        fairestEps = fairest.eps;
        const ratio = engineEps / fairest.eps;
        peerRatio = `${ratio.toFixed(2)}x`;
        console.log(
          `ratio engine / ${threads} single-threaded pytorch processes (batch ${fairest.batch}, the fairest peer): ${ratio.toFixed(2)}x ` +
            `(target >= 2x: ${ratio >= 2 ? 'met' : 'NOT met'})`,
        );
      }
    }
  }
  console.log(
    `target >= 1,500 examples/s: ${engineEps >= 1500 ? 'met' : 'NOT met'} on this machine (${os.cpus().length} CPUs, load average ${loadAtStart} at the start, ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')} now)`,
  );
  if (peerRatio) console.log(`engine / fairest pytorch peer: ${peerRatio}`);
  printCeilings(records.length, engineEps, workerCpuSeconds, sizes, sampleFlops, gemm, fairestEps, notes);

  if (values['skip-memory']) notes.push('MEMORY CHECK SKIPPED (--skip-memory)');
  else await memoryCheck(memoryRows, modelDir, threads, notes);
  for (const n of notes) console.log(n);
}

/**
 * How far the 2x target is from what this machine and this engine can do at all: the ceiling of the engine's own
 * model runs (the workers' CPU per example, with every worker busy all the time and no host work: what better
 * scheduling or a free host could reach at most), and the compute limit (the sample's matrix-product FLOPs, at each
 * example's real length and sum K, over the faster library's per-core rate times the workers' cores).
 */
function printCeilings(
  examples: number,
  engineEps: number,
  workerCpuSeconds: readonly number[],
  sizes: ModelSizes | string,
  sampleFlops: number,
  gemm: { ort: GemmRate; torch: GemmRate | null } | null,
  fairestEps: number | null,
  notes: string[],
): void {
  const cores = workerCpuSeconds.length;
  const workerCpu = workerCpuSeconds.reduce((a, b) => a + b, 0);
  if (cores === 0 || workerCpu <= 0) return;
  const ceiling = (examples * cores) / workerCpu;
  const vs = (label: string, eps: number): string => `${label} ${eps.toFixed(0)} ex/s = ${(eps / ceiling).toFixed(2)}x that ceiling`;
  console.log('\nceilings (what the target is measured against):');
  console.log(
    `  the engine's model runs: ${((workerCpu * 1000) / examples).toFixed(3)} ms of worker CPU per example; ${cores} worker(s) busy all the time ` +
      `with no host work would give ${ceiling.toFixed(0)} ex/s`,
  );
  const sides = [vs('engine', engineEps)];
  if (fairestEps !== null) sides.push(vs('2x the fairest peer', 2 * fairestEps));
  console.log(`  ${sides.join('; ')}`);
  if (typeof sizes === 'string') return void notes.push(`COMPUTE LIMIT N/A: ${sizes}`);
  if (!gemm || sampleFlops <= 0) return;
  const perCore = Math.max(gemm.ort.gflopsPerCore, gemm.torch?.gflopsPerCore ?? 0);
  const limit = examples / (sampleFlops / (perCore * 1e9 * cores));
  console.log(
    `  compute limit: ${(sampleFlops / 1e9).toFixed(2)} GFLOP of matrix products for the sample (each example at its own length and sum K), ` +
      `at ${perCore.toFixed(1)} GFLOP/s per core (onnxruntime MatMul ${gemm.ort.gflopsPerCore.toFixed(1)}` +
      `${gemm.torch ? `, torch.mm ${gemm.torch.gflopsPerCore.toFixed(1)}` : ''}; ${GEMM_N}^3, per CPU-second) on ${cores} core(s): ${limit.toFixed(0)} ex/s`,
  );
  const shares = [`engine ${((100 * engineEps) / limit).toFixed(0)}%`];
  if (fairestEps !== null)
    shares.push(
      `fairest peer ${((100 * fairestEps) / limit).toFixed(0)}%`,
      `2x the fairest peer ${((200 * fairestEps) / limit).toFixed(0)}%`,
    );
  console.log(`  of the compute limit: ${shares.join(', ')}`);
}

main().catch((e: Error) => {
  console.error(`bench failed: ${e.message}`);
  process.exitCode = 1;
});
