/**
 * The model worker: a child process that owns the onnxruntime session, so that an ORT abort on a bad model
 * kills this process and never the caller (the VS Code extension host or the CLI).
 *
 * The session runs on the process's main thread, which reads the host's requests from the IPC channel and answers
 * on it: a request costs two process wake-ups, host to worker and back. (It used to run in a worker thread behind
 * a relay on the main thread: four wake-ups, which on a loaded 2-core machine cost more than a millisecond per
 * request; bench/README.md.) onnxruntime-node runs a model synchronously on the thread that calls it, so the main
 * thread cannot beat while a model runs: a small heartbeat thread (this same file, started with worker_threads)
 * writes one byte per period to its own pipe (`--heartbeat-fd N`, which ModelRuntime opens) with a plain write
 * system call, whatever the main thread is doing. A long, honest model run keeps beating; a process that is stopped
 * (SIGSTOP), swapped out for good or wedged stops beating, and the host's watchdog (ModelRuntime) replaces it.
 *
 * Entry point only: started by ModelRuntime with child_process.fork (from out/src/core/runtime/worker.js, or
 * from dist/worker.js in the bundled extension). It serves one request at a time, in order.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isMainThread, Worker, workerData } from 'worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { ExecutionProviderName, NodePlacement, ProviderReport } from '../../shared/analysis';
import { reduceCausalLogits } from './next-token';
import { placementFromProfile } from './placement';
import type { HostToWorker, LoadMessage, RunMessage, WorkerToHost } from './protocol';
import { PROVIDER_HINTS, providerOrder, summarizeOrtError } from './providers';
import { softwareAdapterReason } from './software-adapter';
import type { RawTensor, TensorInfo, TensorMap } from './tensors';

/** Heartbeat period when the host does not pass one (`--heartbeat-ms N` on the command line). */
const DEFAULT_HEARTBEAT_MS = 1000;

interface HeartbeatConfig {
  /** The heartbeat pipe's descriptor in this process, or null to beat over IPC (only between model runs). */
  fd: number | null;
  ms: number;
}

if (isMainThread) void serve(heartbeatConfig(process.argv));
else heartbeatThread(workerData as HeartbeatConfig);

function heartbeatConfig(argv: readonly string[]): HeartbeatConfig {
  const arg = (name: string): number | null => {
    const i = argv.indexOf(name);
    const v = i >= 0 ? Number(argv[i + 1]) : NaN;
    return Number.isInteger(v) ? v : null;
  };
  return { fd: arg('--heartbeat-fd'), ms: Math.max(10, arg('--heartbeat-ms') || DEFAULT_HEARTBEAT_MS) };
}

// ---- the heartbeat thread -------------------------------------------------------------------------------------

function heartbeatThread(config: HeartbeatConfig): void {
  const write = (): void => {
    try {
      fs.writeSync(config.fd!, '.');
    } catch {
      // The host is gone (the main thread exits on disconnect) or has not read for a while (pipe full): a missed
      // beat is what the watchdog is for.
    }
  };
  write();
  setInterval(write, config.ms);
}

/** The placement in the one profile file onnxruntime wrote into `dir`, or why it cannot be read. */
function readPlacement(dir: string): { placement?: NodePlacement; placementProblem?: string } {
  try {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) return { placementProblem: `onnxruntime wrote ${files.length} profile files, expected 1` };
    return { placement: placementFromProfile(JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'))) };
  } catch (e) {
    return { placementProblem: `cannot read onnxruntime's profile: ${(e as Error).message}` };
  }
}

// ---- the main thread: IPC and the onnxruntime session --------------------------------------------------------

async function serve(heartbeat: HeartbeatConfig): Promise<void> {
  const send = (message: WorkerToHost): void => {
    if (process.connected) process.send?.(message);
  };
  if (heartbeat.fd !== null) {
    const thread = new Worker(__filename, { workerData: heartbeat });
    thread.on('error', (e) => {
      process.stderr.write(`model worker heartbeat thread failed: ${e.stack ?? e.message}\n`);
      process.exit(1);
    });
    thread.unref();
  } else {
    // No heartbeat pipe (a host that does not open one): beat over IPC, which stops while a model runs.
    setInterval(() => send({ type: 'heartbeat' }), heartbeat.ms).unref();
    send({ type: 'heartbeat' });
  }
  // The host went away (crashed, or was killed): never linger as an orphan.
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C in a terminal reaches the whole process group; the parent decides what a cancel means and disposes us.
  process.on('SIGINT', () => {});
  // Listen before onnxruntime is imported (the host sends 'load' at once, and a message with no listener is lost);
  // what comes meanwhile waits in `early`.
  const early: HostToWorker[] = [];
  let receive = (message: HostToWorker): void => void early.push(message);
  process.on('message', (message: HostToWorker) => receive(message));

  const ort = await import('onnxruntime-node');
  let session: Ort.InferenceSession | null = null;
  const queue: RunMessage[] = [];
  let busy = false;

  const tensorInfo = (m: Ort.InferenceSession.ValueMetadata): TensorInfo =>
    m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };

  /** Feeds for the warm-up run, when the inputs look like the contract's; otherwise the contract check reports them. */
  const warmupFeeds = (s: Ort.InferenceSession, length: number): Record<string, Ort.Tensor> | null => {
    const feeds: Record<string, Ort.Tensor> = {};
    for (const m of s.inputMetadata) {
      if (!m.isTensor || m.type !== 'int64') return null;
      const fill = m.name === 'attention_mask' ? 1n : 0n;
      feeds[m.name] = new ort.Tensor('int64', new BigInt64Array(length).fill(fill), [1, length]);
    }
    return feeds;
  };

  /** A session and, on a GPU provider, where its nodes ran (from the profile of the warm-up run). */
  interface Loaded {
    session: Ort.InferenceSession;
    placement?: NodePlacement;
    placementProblem?: string;
  }

  const tryProvider = async (msg: LoadMessage, provider: ExecutionProviderName, file: string): Promise<Loaded> => {
    const options: Ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    };
    if (msg.threads > 0) options.intraOpNumThreads = msg.threads;
    // On a GPU provider the warm-up run is profiled, once, to learn which nodes fell back to CPU; endProfiling
    // switches the profiler off again, so later runs pay nothing for it.
    const profileDir = provider === 'cpu' ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-placement-'));
    if (profileDir) {
      options.enableProfiling = true;
      options.profileFilePrefix = path.join(profileDir, 'ort');
    }
    try {
      const s = await ort.InferenceSession.create(file, options);
      try {
        // A provider can create a session and still fail on the first real run (missing kernels, driver errors).
        const feeds = warmupFeeds(s, msg.warmupLength);
        if (feeds) await s.run(feeds);
        if (!profileDir) return { session: s };
        s.endProfiling();
        if (!feeds) return { session: s, placementProblem: 'the model has no int64 contract inputs to profile a warm-up run with' };
        return { session: s, ...readPlacement(profileDir) };
      } catch (e) {
        await s.release().catch(() => undefined);
        throw e;
      }
    } finally {
      if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    }
  };

  const load = async (msg: LoadMessage): Promise<void> => {
    const skipped: ProviderReport['skipped'] = [];
    const started = Date.now();
    for (const provider of providerOrder(msg.provider)) {
      const software = msg.provider === 'auto' && provider === 'webgpu' ? softwareAdapterReason() : null;
      if (software) {
        skipped.push({ provider, reason: software });
        continue;
      }
      try {
        // A GPU provider runs the folder's GPU graph when the host found a good one; should that graph fail on this
        // provider, model.onnx is tried on it next, and the report says why.
        const gpu = provider === 'cpu' ? undefined : msg.gpuGraph;
        let gpuGraphProblem = provider === 'cpu' ? undefined : msg.gpuGraphProblem;
        let loaded: Loaded | null = null;
        if (gpu) {
          try {
            loaded = await tryProvider(msg, provider, gpu.path);
          } catch (e) {
            const reason = summarizeOrtError(e instanceof Error ? e.message : String(e));
            gpuGraphProblem = `${path.basename(gpu.path)} failed on ${provider} (${reason}); ${path.basename(msg.modelPath)} ran instead`;
          }
        }
        const ranGpuGraph = loaded !== null;
        loaded ??= await tryProvider(msg, provider, msg.modelPath);
        session = loaded.session;
        const report: ProviderReport = {
          requested: msg.provider,
          used: provider,
          skipped,
          modelFile: path.basename(ranGpuGraph ? gpu!.path : msg.modelPath),
          expertCompute: ranGpuGraph ? gpu!.expertCompute : 'routed',
        };
        if (loaded.placement) report.placement = loaded.placement;
        if (loaded.placementProblem) report.placementProblem = loaded.placementProblem;
        if (gpuGraphProblem) report.gpuGraphProblem = gpuGraphProblem;
        send({
          type: 'loaded',
          provider: report,
          io: { inputs: session.inputMetadata.map(tensorInfo), outputs: session.outputMetadata.map(tensorInfo) },
          warmupMs: Date.now() - started,
        });
        return;
      } catch (e) {
        skipped.push({ provider, reason: summarizeOrtError(e instanceof Error ? e.message : String(e)) });
      }
    }
    const details = skipped.map((s) => `${s.provider}: ${s.reason}`);
    if (msg.provider !== 'auto' && msg.provider !== 'cpu') {
      send({
        type: 'load-failed',
        code: 'provider-unavailable',
        message:
          `Execution provider '${msg.provider}' is not available: ${skipped[0]?.reason}. ${PROVIDER_HINTS[msg.provider]}. ` +
          `Choose provider 'auto' (falls back to cpu) or 'cpu'.`,
        details,
      });
    } else {
      send({
        type: 'load-failed',
        code: 'model-load-failed',
        message: `onnxruntime could not load ${msg.modelPath}: ${skipped[skipped.length - 1]?.reason}`,
        details,
      });
    }
  };

  const toRaw = (t: Ort.Tensor): RawTensor => ({ type: t.type, dims: [...t.dims], data: t.data as RawTensor['data'] });

  const run = async (msg: RunMessage): Promise<void> => {
    if (!session) return send({ type: 'run-error', id: msg.id, message: 'no model is loaded in the worker' });
    const started = performance.now();
    try {
      // The IPC deserializer hands out views into its read buffer, which later messages share: each feed is
      // copied into memory of its own (only its bytes) before onnxruntime reads it.
      const feeds: Record<string, Ort.Tensor> = {};
      for (const [name, t] of Object.entries(msg.feeds)) {
        feeds[name] = new ort.Tensor(t.type as 'int64', (t.data as BigInt64Array).slice(), t.dims);
      }
      const result = await session.run(feeds);
      const raw: TensorMap = {};
      for (const [name, t] of Object.entries(result)) raw[name] = toRaw(t);
      // A causal LM's [B, T, V] logits are reduced here, so only [B, T, k] tensors go back over IPC.
      const outputs = msg.feeds.input_ids ? reduceCausalLogits(raw, msg.feeds.input_ids) : raw;
      send({ type: 'result', id: msg.id, outputs, ms: performance.now() - started });
    } catch (e) {
      send({ type: 'run-error', id: msg.id, message: summarizeOrtError(e instanceof Error ? e.message : String(e)) });
    }
  };

  const drain = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) await run(next);
    } finally {
      busy = false;
    }
  };

  receive = (raw: HostToWorker): void => {
    switch (raw.type) {
      case 'load':
        void load(raw);
        break;
      case 'run':
        queue.push(raw);
        void drain();
        break;
      case 'cancel': {
        // A request already running cannot be interrupted; the host ignores its result.
        const i = queue.findIndex((m) => m.id === raw.id);
        if (i >= 0) queue.splice(i, 1);
        break;
      }
      case 'dispose':
        void (session?.release() ?? Promise.resolve()).finally(() => process.exit(0));
        break;
    }
  };
  for (const message of early.splice(0)) receive(message);
}
