/**
 * The model worker: a child process that owns the onnxruntime session, so that an ORT abort on a bad model
 * kills this process and never the caller (the VS Code extension host or the CLI).
 *
 * Entry point only: started by ModelRuntime with child_process.fork (from out/src/core/runtime/worker.js, or
 * from dist/worker.js in the bundled extension). It serves one request at a time, in order.
 */
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName, ProviderReport } from '../../shared/analysis';
import type { HostToWorker, LoadMessage, RunMessage, WorkerToHost } from './protocol';
import { PROVIDER_HINTS, providerOrder, summarizeOrtError } from './providers';
import { softwareAdapterReason } from './software-adapter';
import type { RawTensor, TensorInfo, TensorMap } from './tensors';

let session: ort.InferenceSession | null = null;
const queue: RunMessage[] = [];
let busy = false;

function send(message: WorkerToHost): void {
  process.send?.(message);
}

function tensorInfo(m: ort.InferenceSession.ValueMetadata): TensorInfo {
  return m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };
}

/** Feeds for the warm-up run, when the inputs look like the contract's; otherwise the contract check reports them. */
function warmupFeeds(s: ort.InferenceSession, length: number): Record<string, ort.Tensor> | null {
  const feeds: Record<string, ort.Tensor> = {};
  for (const m of s.inputMetadata) {
    if (!m.isTensor || m.type !== 'int64') return null;
    const fill = m.name === 'attention_mask' ? 1n : 0n;
    feeds[m.name] = new ort.Tensor('int64', new BigInt64Array(length).fill(fill), [1, length]);
  }
  return feeds;
}

async function tryProvider(msg: LoadMessage, provider: ExecutionProviderName): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  if (msg.threads > 0) options.intraOpNumThreads = msg.threads;
  const s = await ort.InferenceSession.create(msg.modelPath, options);
  try {
    // A provider can create a session and still fail on the first real run (missing kernels, driver errors).
    const feeds = warmupFeeds(s, msg.warmupLength);
    if (feeds) await s.run(feeds);
    return s;
  } catch (e) {
    await s.release().catch(() => undefined);
    throw e;
  }
}

async function load(msg: LoadMessage): Promise<void> {
  const skipped: ProviderReport['skipped'] = [];
  const started = Date.now();
  for (const provider of providerOrder(msg.provider)) {
    const software = msg.provider === 'auto' && provider === 'webgpu' ? softwareAdapterReason() : null;
    if (software) {
      skipped.push({ provider, reason: software });
      continue;
    }
    try {
      session = await tryProvider(msg, provider);
      send({
        type: 'loaded',
        provider: { requested: msg.provider, used: provider, skipped },
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
}

function toRaw(t: ort.Tensor): RawTensor {
  return { type: t.type, dims: [...t.dims], data: t.data as RawTensor['data'] };
}

async function run(msg: RunMessage): Promise<void> {
  if (!session) return send({ type: 'run-error', id: msg.id, message: 'no model is loaded in the worker' });
  const started = Date.now();
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(msg.feeds)) {
      feeds[name] = new ort.Tensor(t.type as 'int64', t.data as BigInt64Array, t.dims);
    }
    const result = await session.run(feeds);
    const outputs: TensorMap = {};
    for (const [name, t] of Object.entries(result)) outputs[name] = toRaw(t);
    send({ type: 'result', id: msg.id, outputs, ms: Date.now() - started });
  } catch (e) {
    send({ type: 'run-error', id: msg.id, message: summarizeOrtError(e instanceof Error ? e.message : String(e)) });
  }
}

async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    for (let next = queue.shift(); next; next = queue.shift()) await run(next);
  } finally {
    busy = false;
  }
}

process.on('message', (raw: HostToWorker) => {
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
});

// The host went away (crashed, or was killed): never linger as an orphan.
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group; the parent decides what a cancel means and disposes us.
process.on('SIGINT', () => {});
