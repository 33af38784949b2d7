/**
 * Lazily creates the engine on first use, caches it, and re-creates it when the settings that shape it change
 * (pure: the factory and the settings reader are injected, so unit tests need neither onnxruntime nor vscode).
 *
 * A failed creation is not cached: after a broken model the user picks another one (or fixes the file) and the
 * next command simply tries again.
 */
import { EngineError, type Engine, type EngineOptions } from '../../core';
import { engineKey, type EngineSettings } from './configLogic';

export type EngineFactory = (options: EngineOptions) => Promise<Engine>;
export type Logger = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export class EngineManager {
  private entry: { key: string; settings: EngineSettings; promise: Promise<Engine> } | null = null;
  private disposed = false;

  constructor(
    private readonly factory: EngineFactory,
    private readonly readSettings: () => EngineSettings,
    private readonly log: Logger,
  ) {}

  /** The engine for the current settings; concurrent callers share one creation. */
  get(): Promise<Engine> {
    if (this.disposed) return Promise.reject(new Error('The DA-MoE extension is shutting down.'));
    const settings = this.readSettings();
    // A setting that cannot be used as given (a relative damoe.modelPath in the user settings): no engine, say why.
    if (settings.modelPathProblem) return Promise.reject(new EngineError('invalid-option', settings.modelPathProblem));
    const key = engineKey(settings);
    if (this.entry && this.entry.key === key) return this.entry.promise;
    this.invalidate();
    this.log(
      'info',
      `Loading model ${settings.modelDir} (execution provider ${settings.executionProvider}, threads ${settings.threads || 'auto'}, max tokens ${settings.maxTokens}).`,
    );
    const started = Date.now();
    const promise = this.factory({
      modelDir: settings.modelDir,
      executionProvider: settings.executionProvider,
      threads: settings.threads,
      maxTokens: settings.maxTokens,
      workerTimeoutSeconds: settings.workerTimeoutSeconds,
      log: this.log,
    });
    const entry = { key, settings, promise };
    this.entry = entry;
    promise.then(
      (engine) => {
        this.log('info', `Model ${engine.model.name} ready on ${engine.provider.used} in ${Date.now() - started} ms.`);
        for (const s of engine.provider.skipped) this.log('info', `Execution provider ${s.provider} skipped: ${s.reason}`);
      },
      () => {
        // Forget a failed creation so the next call retries (the caller reports the error).
        if (this.entry === entry) this.entry = null;
      },
    );
    return promise;
  }

  /** The engine if it is already loaded (for the status bar); never starts a load. */
  async peek(): Promise<Engine | null> {
    const e = this.entry;
    if (!e) return null;
    try {
      return await e.promise;
    } catch {
      return null;
    }
  }

  /** True when the cached engine was made with these settings (so a settings event changed nothing it uses). */
  matches(settings: EngineSettings): boolean {
    return this.entry !== null && this.entry.key === engineKey(settings);
  }

  /** Drops the cached engine (settings changed, or it crashed); disposes it once its creation settles. */
  invalidate(): void {
    const old = this.entry;
    this.entry = null;
    if (!old) return;
    old.promise.then(
      (engine) => engine.dispose().catch((e: unknown) => this.log('warn', `Disposing the previous engine failed: ${String(e)}`)),
      () => undefined,
    );
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const old = this.entry;
    this.entry = null;
    if (!old) return;
    try {
      const engine = await old.promise;
      await engine.dispose();
    } catch {
      /* creation failed or dispose failed: nothing left to release */
    }
  }
}
