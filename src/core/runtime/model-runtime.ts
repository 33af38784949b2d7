/**
 * Host side of the model runtime: starts the worker process, sends it tensors, and supervises it.
 *
 * The worker owns onnxruntime; this class owns the worker. A worker that dies is restarted (with the provider
 * that worked before, so no fallback is re-tried) and the requests in flight fail with EngineError
 * 'worker-crashed'. A worker that stops sending heartbeats for `workerTimeoutMs` (stopped, wedged, swapped out) is
 * killed and restarted the same way, and its requests fail with 'worker-unresponsive'. Cancellation rejects at
 * once and tells the worker to drop the queued request.
 */
import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Readable } from 'stream';
import type { ExecutionProviderChoice, ProviderReport } from '../../shared/analysis';
import { EngineError } from '../errors';
import { DEFAULT_WORKER_TIMEOUT_SECONDS } from '../../shared/defaults';
import { HEARTBEAT_FD, type GpuGraphLoad, type HostToWorker, type LoadedMessage, type WorkerToHost } from './protocol';
import { BatchItemResult, BatchOptions, runBuckets, TokenSequence } from './batch-dispatch';
import type { ModelIO, TensorMap } from './tensors';

export type { BatchItemResult, BatchOptions, TokenSequence } from './batch-dispatch';

export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface RuntimeOptions {
  modelPath: string;
  provider?: ExecutionProviderChoice;
  /** Intra-op threads; 0 lets onnxruntime choose. */
  threads?: number;
  /**
   * Compiled worker script. Default: worker.js next to this file, which is out/src/core/runtime/worker.js under
   * tsc and dist/worker.js when the host side is bundled into dist/ (bundle the worker to dist/worker.js).
   */
  workerPath?: string;
  /** Sequence length of the warm-up run on load. */
  warmupLength?: number;
  /** The graph GPU providers run instead of modelPath (a checked model.gpu.onnx). */
  gpuGraph?: GpuGraphLoad;
  /** Why the folder's model.gpu.onnx is not used (reported when a GPU provider runs). */
  gpuGraphProblem?: string;
  /**
   * Restarts allowed in a row without a successful run in between; then requests fail, and each later request
   * makes one fresh attempt (a success resets the count).
   */
  maxConsecutiveRestarts?: number;
  /**
   * A worker that sends no heartbeat for this long is killed and restarted (its requests fail with
   * 'worker-unresponsive'). 0 turns the watchdog off. Default DEFAULT_WORKER_TIMEOUT_SECONDS.
   */
  workerTimeoutMs?: number;
  /** Heartbeat period of the worker; default a quarter of the timeout, at most a second. */
  heartbeatMs?: number;
  log?: LogFn;
}

export interface RunOptions {
  signal?: AbortSignal;
}

export function defaultWorkerPath(): string {
  return path.join(__dirname, 'worker.js');
}

interface Pending {
  resolve: (outputs: TensorMap) => void;
  reject: (error: Error) => void;
}

const STDERR_TAIL_LINES = 20;

/** Colour and cursor escape sequences (onnxruntime, CUDA and Vulkan loaders write some to stderr). */
// eslint-disable-next-line no-control-regex -- the escape character is what this matches
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-_]/g;

/** A stderr line as plain text: no ANSI escapes, no other control characters. */
export function plainLine(line: string): string {
  return (
    line
      .replace(ANSI, '')
      // eslint-disable-next-line no-control-regex -- control characters are what this removes
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
      .trimEnd()
  );
}

/** Time a new worker process has to send its first heartbeat, when that is longer than the timeout. */
const STARTUP_GRACE_MS = 30_000;

/** Per-process state of one worker. */
interface WorkerState {
  child: ChildProcess;
  /** performance.now() of its last message (heartbeats included). */
  lastSign: number;
  /** A first message has arrived: the process is up. */
  beating: boolean;
  /** The model is still loading (a silent worker then fails the load, not requests). */
  loading: boolean;
  /** The watchdog killed it: its exit is reported as 'worker-unresponsive', not as a crash. */
  unresponsive: EngineError | null;
  watchdog: NodeJS.Timeout | null;
}

export class ModelRuntime {
  private child: ChildProcess | null = null;
  private ready: Promise<void>;
  private loaded!: LoadedMessage;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposed = false;
  private restartsInARow = 0;
  /** Worker processes started after the first (crashes and watchdog kills). */
  private restartCount = 0;
  private heartbeatCount = 0;
  /** Set when a restart failed or the restart budget ran out: the next run() makes one fresh attempt. */
  private broken: EngineError | null = null;
  /** stderr lines since the last finished request (or the load): what a crash report shows. */
  private stderrTail: string[] = [];
  private readonly log: LogFn;
  /** One abort listener per signal, whatever the number of requests that share it (no listener leak). */
  private readonly abortWaiters = new Map<AbortSignal, { fns: Set<() => void>; listener: () => void }>();
  private current: WorkerState | null = null;

  private constructor(
    private readonly options: Required<Omit<RuntimeOptions, 'log' | 'gpuGraph' | 'gpuGraphProblem'>> &
      Pick<RuntimeOptions, 'log' | 'gpuGraph' | 'gpuGraphProblem'>,
  ) {
    this.log = options.log ?? (() => undefined);
    this.ready = this.spawnAndLoad(options.provider);
  }

  /** Starts the worker, loads the model with the provider policy and warms it up. */
  static async start(options: RuntimeOptions): Promise<ModelRuntime> {
    const workerPath = options.workerPath ?? defaultWorkerPath();
    if (!fs.existsSync(workerPath)) {
      throw new EngineError(
        'inference-failed',
        `The model worker script is missing: ${workerPath}. Build the project (npm run build) or pass workerPath.`,
      );
    }
    const runtime = new ModelRuntime({
      modelPath: options.modelPath,
      provider: options.provider ?? 'auto',
      threads: options.threads ?? 0,
      workerPath,
      warmupLength: options.warmupLength ?? 16,
      maxConsecutiveRestarts: options.maxConsecutiveRestarts ?? 3,
      workerTimeoutMs: options.workerTimeoutMs ?? DEFAULT_WORKER_TIMEOUT_SECONDS * 1000,
      heartbeatMs: options.heartbeatMs ?? 0,
      log: options.log,
      gpuGraph: options.gpuGraph,
      gpuGraphProblem: options.gpuGraphProblem,
    });
    try {
      await runtime.ready;
    } catch (e) {
      await runtime.dispose();
      throw e;
    }
    return runtime;
  }

  get provider(): ProviderReport {
    return this.loaded.provider;
  }

  get io(): ModelIO {
    return this.loaded.io;
  }

  /** Process id of the current worker (changes after a restart); undefined once disposed. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Heartbeats received from the workers (diagnostics and tests: they keep coming during a model run). */
  get heartbeats(): number {
    return this.heartbeatCount;
  }

  /** Worker processes started to replace one that crashed or went silent, since this runtime started. */
  get restarts(): number {
    return this.restartCount;
  }

  /** One model run on the given feeds. */
  async run(feeds: TensorMap, options: RunOptions = {}): Promise<TensorMap> {
    const { signal } = options;
    throwIfAborted(signal);
    if (this.disposed) throw new EngineError('cancelled', 'The model runtime has been disposed.');
    if (this.broken && !this.child) {
      // The last restart failed or the budget ran out: this request makes one fresh attempt.
      this.log('info', `starting the model worker again after: ${this.broken.message}`);
      this.broken = null;
      this.respawn();
    }
    await this.ready;
    throwIfAborted(signal);
    if (this.disposed) throw new EngineError('cancelled', 'The model runtime has been disposed.');
    const child = this.child;
    if (!child?.connected) throw new EngineError('worker-crashed', 'The model worker is not running.');
    const id = this.nextId++;
    return new Promise<TensorMap>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.delete(id)) return;
        this.post({ type: 'cancel', id });
        reject(cancelledError());
      };
      const unsubscribe = signal ? this.onAbort(signal, onAbort) : () => undefined;
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T): void => {
          unsubscribe();
          fn(v);
        };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.post({ type: 'run', id, feeds });
    });
  }

  /** Calls `fn` when `signal` aborts, through one listener per signal; returns the unsubscribe. */
  private onAbort(signal: AbortSignal, fn: () => void): () => void {
    let entry = this.abortWaiters.get(signal);
    if (!entry) {
      const fns = new Set<() => void>();
      const listener = (): void => {
        this.abortWaiters.delete(signal);
        for (const f of [...fns]) f();
      };
      entry = { fns, listener };
      this.abortWaiters.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    const mine = entry;
    const { fns, listener } = mine;
    fns.add(fn);
    return () => {
      if (!fns.delete(fn) || fns.size > 0 || this.abortWaiters.get(signal) !== mine) return;
      this.abortWaiters.delete(signal);
      signal.removeEventListener('abort', listener);
    };
  }

  /** Runs many sequences for throughput (see runBuckets): results in input order. */
  runBatch(items: readonly TokenSequence[], options: BatchOptions = {}): Promise<BatchItemResult[]> {
    return runBuckets([this], items, options);
  }

  /** Stops the worker and waits for it to exit (killing it if it does not within a second). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.failPending(new EngineError('cancelled', 'The model runtime was disposed while a request was running.'));
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (child.connected) child.send({ type: 'dispose' } satisfies HostToWorker, () => undefined);
      else child.kill('SIGKILL');
    });
  }

  private post(message: HostToWorker): void {
    this.child?.send(message, (err) => {
      if (err) this.log('debug', `could not send ${message.type} to the model worker: ${err.message}`);
    });
  }

  private spawnAndLoad(provider: ExecutionProviderChoice): Promise<void> {
    const { workerPath, modelPath, threads, warmupLength, workerTimeoutMs, gpuGraph, gpuGraphProblem } = this.options;
    this.stderrTail = [];
    const heartbeatMs = this.options.heartbeatMs || Math.max(50, Math.min(1000, Math.floor(workerTimeoutMs / 4) || 1000));
    const child = fork(workerPath, ['--heartbeat-ms', String(heartbeatMs), '--heartbeat-fd', String(HEARTBEAT_FD)], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      execArgv: [],
    });
    this.child = child;
    const state: WorkerState = { child, lastSign: performance.now(), beating: false, loading: true, unresponsive: null, watchdog: null };
    this.current = state;
    const collect = (chunk: Buffer): void => {
      for (const raw of chunk.toString('utf8').split('\n')) {
        const line = plainLine(raw);
        if (!line.trim()) continue;
        this.stderrTail.push(line);
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        this.log('debug', `[model worker] ${line}`);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    // The heartbeat pipe: one byte per beat from the worker's heartbeat thread (worker.ts).
    const heartbeats = child.stdio[HEARTBEAT_FD] as Readable | null;
    heartbeats?.on('data', (beats: Buffer) => {
      state.lastSign = performance.now();
      state.beating = true;
      this.heartbeatCount += beats.length;
    });
    heartbeats?.on('error', () => undefined);
    if (workerTimeoutMs > 0) state.watchdog = this.watch(state, workerTimeoutMs, heartbeatMs);

    return new Promise<void>((resolve, reject) => {
      let loading = true;
      child.on('message', (msg: WorkerToHost) => {
        state.lastSign = performance.now();
        state.beating = true;
        if (msg.type === 'heartbeat') {
          this.heartbeatCount++;
          return;
        }
        if (msg.type === 'loaded') {
          loading = false;
          state.loading = false;
          this.loaded = msg;
          // What the provider probes wrote belongs to the load, not to a later crash.
          this.stderrTail = [];
          this.log('info', `model loaded on ${msg.provider.used} in ${msg.warmupMs} ms (warm-up included)`);
          resolve();
        } else if (msg.type === 'load-failed') {
          loading = false;
          reject(new EngineError(msg.code, msg.message, msg.details));
          child.kill('SIGKILL');
        } else if (msg.type === 'result' || msg.type === 'run-error') {
          // Lines written so far belong to this run or earlier ones: a later crash shows only its own.
          this.stderrTail = [];
          const p = this.pending.get(msg.id);
          if (!p) return; // cancelled: nobody waits for it
          this.pending.delete(msg.id);
          if (msg.type === 'result') {
            this.restartsInARow = 0;
            p.resolve(msg.outputs);
          } else p.reject(new EngineError('inference-failed', `Model run failed: ${msg.message}`));
        }
      });
      child.on('error', (err) => {
        this.log('warn', `model worker error: ${err.message}`);
        if (loading) {
          // The process could not be started at all: no 'exit' follows.
          loading = false;
          this.stopWatch(state);
          reject(new EngineError('inference-failed', `Cannot start the model worker (${workerPath}): ${err.message}`));
        }
      });
      child.on('exit', (code, signal) => {
        this.stopWatch(state);
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const stderr = [...this.stderrTail];
        if (loading) {
          // Settle even when this worker was already replaced or disposed: a run may be waiting on `ready`.
          loading = false;
          if (this.child === child) this.child = null;
          reject(
            this.disposed
              ? new EngineError('cancelled', 'The model runtime was disposed while the model was loading.')
              : (state.unresponsive ??
                  new EngineError(
                    'worker-crashed',
                    `The model worker ${how} while loading ${modelPath}. The model file may be corrupt or use operators ` +
                      `onnxruntime does not support.`,
                    stderr,
                  )),
          );
          return;
        }
        if (this.child !== child) return; // an old worker we replaced or disposed
        if (this.disposed) return;
        this.child = null;
        if (!state.unresponsive) {
          this.log('warn', `model worker ${how}; restarting it`);
          this.failPending(
            new EngineError(
              'worker-crashed',
              `The model worker ${how} during the request, so the request failed. Run it again; if it fails each time, ` +
                `this text or model makes onnxruntime crash (the worker's last output is in the details).`,
              stderr,
            ),
          );
        }
        this.restart();
      });
      child.send({ type: 'load', modelPath, provider, threads, warmupLength, gpuGraph, gpuGraphProblem } satisfies HostToWorker);
    });
  }

  /**
   * The watchdog of one worker: checks every `periodMs` that a message came within `timeoutMs`. Time when this
   * process itself was not running (a tick that comes late: the machine slept, or this thread was busy) does not
   * count as the worker's silence.
   */
  private watch(state: WorkerState, timeoutMs: number, heartbeatMs: number): NodeJS.Timeout {
    const periodMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4), heartbeatMs));
    let lastTick = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const late = now - lastTick - periodMs;
      lastTick = now;
      if (late > periodMs) state.lastSign += late;
      const silentMs = now - state.lastSign;
      // Until its first heartbeat, a new process is still starting Node (slow on a loaded machine).
      const limitMs = state.beating ? timeoutMs : Math.max(timeoutMs, STARTUP_GRACE_MS);
      if (silentMs < limitMs || state.unresponsive) return;
      this.stopWatch(state);
      const seconds = (timeoutMs / 1000).toLocaleString('en', { maximumFractionDigits: 1 });
      const running = this.pending.size;
      const error = new EngineError(
        'worker-unresponsive',
        `The model worker (pid ${state.child.pid}) sent no sign of life for ${seconds} s` +
          `${running > 0 ? ` while running ${running === 1 ? 'a request' : `${running} requests`}` : ''}, so it was stopped and is being ` +
          `restarted. Run the request again. If it happens again, the machine may be out of memory or the process was ` +
          `paused (e.g. kill -STOP); for a very slow model, raise damoe.workerTimeoutSeconds (CLI: --worker-timeout).`,
        [...this.stderrTail],
      );
      state.unresponsive = error;
      this.log('warn', `model worker pid ${state.child.pid} silent for ${Math.round(silentMs)} ms; killing it`);
      if (this.child === state.child && !state.loading && !this.disposed) {
        // Replace it now, not when its exit is seen: a request made meanwhile must not be sent to it.
        this.child = null;
        this.failPending(error);
        this.restart();
      }
      state.child.kill('SIGKILL');
    }, periodMs);
    timer.unref();
    return timer;
  }

  private stopWatch(state: WorkerState): void {
    if (state.watchdog) clearInterval(state.watchdog);
    state.watchdog = null;
  }

  private restart(): void {
    this.restartsInARow++;
    if (this.restartsInARow > this.options.maxConsecutiveRestarts) {
      const error = new EngineError(
        'worker-crashed',
        `The model worker failed ${this.restartsInARow} times in a row without a successful run. The next request ` +
          `starts it once more; if that fails too, reload the model or pick another one.`,
      );
      this.broken = error;
      this.ready = Promise.reject(error);
      this.ready.catch(() => undefined);
      return;
    }
    this.respawn();
  }

  /** Starts a replacement worker with the provider that worked before. */
  private respawn(): void {
    this.restartCount++;
    // The provider that worked before: a restart must not re-run (and re-log) the whole fallback chain, and the
    // report keeps saying what was requested and skipped the first time.
    const report = this.loaded.provider;
    this.ready = this.spawnAndLoad(report.used).then(() => {
      this.loaded = { ...this.loaded, provider: report };
    });
    this.ready.catch((e: Error) => {
      this.log('error', `model worker restart failed: ${e.message}`);
      if (!this.disposed) this.broken = e instanceof EngineError ? e : new EngineError('worker-crashed', e.message);
    });
  }

  private failPending(error: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(error);
  }
}

function cancelledError(): EngineError {
  return new EngineError('cancelled', 'The request was cancelled.');
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}
