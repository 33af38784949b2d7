/**
 * Host side of the model runtime: starts the worker process, sends it tensors, and supervises it.
 *
 * The worker owns onnxruntime; this class owns the worker. A worker that dies is restarted (with the provider
 * that worked before, so no fallback is re-tried) and the request in flight fails with EngineError
 * 'worker-crashed'. Cancellation rejects at once and tells the worker to drop the queued request.
 */
import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { ExecutionProviderChoice, ProviderReport } from '../../shared/analysis';
import { EngineError } from '../errors';
import type { HostToWorker, LoadedMessage, WorkerToHost } from './protocol';
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
  /** Restarts allowed in a row without a successful run in between; then requests fail. */
  maxConsecutiveRestarts?: number;
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

export class ModelRuntime {
  private child: ChildProcess | null = null;
  private ready: Promise<void>;
  private loaded!: LoadedMessage;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposed = false;
  private restartsInARow = 0;
  private stderrTail: string[] = [];
  private readonly log: LogFn;

  private constructor(private readonly options: Required<Omit<RuntimeOptions, 'log'>> & { log?: LogFn }) {
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
      log: options.log,
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

  /** One model run on the given feeds. */
  async run(feeds: TensorMap, options: RunOptions = {}): Promise<TensorMap> {
    const { signal } = options;
    throwIfAborted(signal);
    if (this.disposed) throw new EngineError('cancelled', 'The model runtime has been disposed.');
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
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T): void => {
          signal?.removeEventListener('abort', onAbort);
          fn(v);
        };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.post({ type: 'run', id, feeds });
    });
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
    const { workerPath, modelPath, threads, warmupLength } = this.options;
    this.stderrTail = [];
    const child = fork(workerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
    });
    this.child = child;
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.stderrTail.push(line);
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        this.log('debug', `[model worker] ${line}`);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);

    return new Promise<void>((resolve, reject) => {
      let loading = true;
      child.on('message', (msg: WorkerToHost) => {
        if (msg.type === 'loaded') {
          loading = false;
          this.loaded = msg;
          this.log('info', `model loaded on ${msg.provider.used} in ${msg.warmupMs} ms (warm-up included)`);
          resolve();
        } else if (msg.type === 'load-failed') {
          loading = false;
          reject(new EngineError(msg.code, msg.message, msg.details));
          child.kill('SIGKILL');
        } else if (msg.type === 'result' || msg.type === 'run-error') {
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
          reject(new EngineError('inference-failed', `Cannot start the model worker (${workerPath}): ${err.message}`));
        }
      });
      child.on('exit', (code, signal) => {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        if (loading) {
          // Settle even when this worker was already replaced or disposed: a run may be waiting on `ready`.
          loading = false;
          if (this.child === child) this.child = null;
          reject(
            this.disposed
              ? new EngineError('cancelled', 'The model runtime was disposed while the model was loading.')
              : new EngineError(
                  'worker-crashed',
                  `The model worker ${how} while loading ${modelPath}. The model file may be corrupt or use operators ` +
                    `onnxruntime does not support.`,
                  [...this.stderrTail],
                ),
          );
          return;
        }
        if (this.child !== child) return; // an old worker we replaced or disposed
        if (this.disposed) return;
        this.child = null;
        this.log('warn', `model worker ${how}; restarting it`);
        this.failPending(
          new EngineError('worker-crashed', `The model worker ${how} during the request; it is being restarted. Try again.`, [
            ...this.stderrTail,
          ]),
        );
        this.restart();
      });
      child.send({ type: 'load', modelPath, provider, threads, warmupLength } satisfies HostToWorker);
    });
  }

  private restart(): void {
    this.restartsInARow++;
    if (this.restartsInARow > this.options.maxConsecutiveRestarts) {
      const error = new EngineError(
        'worker-crashed',
        `The model worker crashed ${this.restartsInARow} times in a row; giving up. Reload the model to try again.`,
      );
      this.ready = Promise.reject(error);
      this.ready.catch(() => undefined);
      return;
    }
    // The provider that worked before: a restart must not re-run (and re-log) the whole fallback chain, and the
    // report keeps saying what was requested and skipped the first time.
    const report = this.loaded.provider;
    this.ready = this.spawnAndLoad(report.used).then(() => {
      this.loaded = { ...this.loaded, provider: report };
    });
    this.ready.catch((e: Error) => this.log('error', `model worker restart failed: ${e.message}`));
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
