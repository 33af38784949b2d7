/**
 * Pure settings resolution (no `vscode` import, so unit tests run in plain Node).
 *
 * Why trust-aware: `damoe.modelPath` names a directory whose model.onnx we load into a native runtime. A repository
 * can ship `.vscode/settings.json`; in an untrusted workspace such a value must never decide which model loads.
 * VS Code already drops `restrictedConfigurations` values in Restricted Mode, but we do not rely on that alone:
 * we read `inspect()` and, when untrusted, take only the user (global) value or the default.
 */
import * as os from 'os';
import * as path from 'path';
import type { ExecutionProviderChoice } from '../../shared/analysis';
import {
  DEFAULT_EXECUTION_PROVIDER,
  DEFAULT_MAX_TOKENS,
  DEFAULT_MODEL_NAME,
  DEFAULT_THREADS,
  DEFAULT_WORKER_TIMEOUT_SECONDS,
  EXECUTION_PROVIDER_CHOICES,
  MAX_WORKER_TIMEOUT_SECONDS,
  MIN_MAX_TOKENS,
} from '../../shared/defaults';

/** The subset of `WorkspaceConfiguration.inspect()` we use. */
export interface InspectedValue<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/** Where the value that counts comes from. */
export type SettingSource = 'default' | 'user' | 'workspace' | 'workspace-folder';

/** The value that counts and where it comes from (trusted: folder > workspace > user > default; untrusted: user > default). */
export function trustAwareSetting<T>(
  inspected: InspectedValue<T> | undefined,
  trusted: boolean,
): { value: T | undefined; source: SettingSource } {
  if (!inspected) return { value: undefined, source: 'default' };
  if (trusted && inspected.workspaceFolderValue !== undefined) return { value: inspected.workspaceFolderValue, source: 'workspace-folder' };
  if (trusted && inspected.workspaceValue !== undefined) return { value: inspected.workspaceValue, source: 'workspace' };
  if (inspected.globalValue !== undefined) return { value: inspected.globalValue, source: 'user' };
  return { value: inspected.defaultValue, source: 'default' };
}

export function resolveTrustAware<T>(inspected: InspectedValue<T> | undefined, trusted: boolean): T | undefined {
  if (!inspected) return undefined;
  if (trusted) {
    return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue ?? inspected.defaultValue;
  }
  return inspected.globalValue ?? inspected.defaultValue;
}

/** A bare directory name (no separators, not `.`/`..`): names a model shipped in `<extension>/models/`. */
export function isShippedModelName(value: string): boolean {
  return value.length > 0 && !/[\\/]/.test(value) && value !== '.' && value !== '..' && !value.startsWith('~');
}

export interface ModelPathContext {
  extensionPath: string;
  /** Resolves relative paths of a trusted workspace's value; undefined: none open. */
  workspaceFolder?: string;
  homeDir?: string;
  /**
   * Where the value comes from (default 'user'). Only a trusted workspace's settings ('workspace',
   * 'workspace-folder') may give a relative path; trustAwareSetting never reports those sources when untrusted.
   */
  source?: SettingSource;
}

/** A `damoe.modelPath` value that cannot be used as given (a relative path outside a trusted workspace's settings). */
export class ModelPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelPathError';
  }
}

/**
 * Turns the `damoe.modelPath` value into an absolute model directory:
 * empty → the shipped default; a bare name → `<extension>/models/<name>`; `~/x` → home; relative → the workspace
 * folder, but only for a value from a trusted workspace's settings. A relative value from the user settings (or with
 * no workspace open) throws ModelPathError: resolved against whatever folder is open, it would let that workspace
 * decide which model the worker loads.
 */
export function resolveModelDir(raw: string | undefined, ctx: ModelPathContext): string {
  const value = (raw ?? '').trim();
  const shipped = path.join(ctx.extensionPath, 'models');
  if (value === '') return path.join(shipped, DEFAULT_MODEL_NAME);
  if (isShippedModelName(value)) return path.join(shipped, value);
  const home = ctx.homeDir ?? os.homedir();
  if (value === '~') return home;
  if (value.startsWith('~/') || value.startsWith('~\\')) return path.join(home, value.slice(2));
  if (path.isAbsolute(value)) return path.normalize(value);
  const source = ctx.source ?? 'user';
  if (source === 'workspace' || source === 'workspace-folder') {
    if (ctx.workspaceFolder) return path.resolve(ctx.workspaceFolder, value);
    throw new ModelPathError(
      `damoe.modelPath "${value}" is a relative path, but no folder is open to resolve it against: use an absolute path.`,
    );
  }
  throw new ModelPathError(
    `damoe.modelPath "${value}" in your ${source === 'user' ? 'user' : 'default'} settings is a relative path: use an absolute path ` +
      `(or ~/…, or the name of a shipped model). A relative path is read only from a trusted workspace's settings, against its folder.`,
  );
}

export interface EngineSettings {
  modelDir: string;
  executionProvider: ExecutionProviderChoice;
  threads: number;
  maxTokens: number;
  workerTimeoutSeconds: number;
  /** Why damoe.modelPath cannot be used as given (then modelDir is the raw value); the engine is not created. */
  modelPathProblem?: string | null;
}

/** Clamps what a hand-edited settings.json may contain to values the engine accepts. */
export function sanitizeEngineSettings(raw: {
  modelDir: string;
  executionProvider: unknown;
  threads: unknown;
  maxTokens: unknown;
  workerTimeoutSeconds?: unknown;
  modelPathProblem?: string | null;
}): EngineSettings {
  const ep = EXECUTION_PROVIDER_CHOICES.includes(raw.executionProvider as ExecutionProviderChoice)
    ? (raw.executionProvider as ExecutionProviderChoice)
    : DEFAULT_EXECUTION_PROVIDER;
  const threads = Number.isInteger(raw.threads) && (raw.threads as number) >= 0 ? (raw.threads as number) : DEFAULT_THREADS;
  const maxTokens =
    Number.isInteger(raw.maxTokens) && (raw.maxTokens as number) >= MIN_MAX_TOKENS ? (raw.maxTokens as number) : DEFAULT_MAX_TOKENS;
  const wt = raw.workerTimeoutSeconds;
  const workerTimeoutSeconds =
    typeof wt === 'number' && Number.isFinite(wt) && wt >= 0 && wt <= MAX_WORKER_TIMEOUT_SECONDS ? wt : DEFAULT_WORKER_TIMEOUT_SECONDS;
  return {
    modelDir: raw.modelDir,
    executionProvider: ep,
    threads,
    maxTokens,
    workerTimeoutSeconds,
    modelPathProblem: raw.modelPathProblem ?? null,
  };
}

/** Engines are cached per this key; any change means dispose + re-create. */
export function engineKey(s: EngineSettings): string {
  return JSON.stringify([s.modelDir, s.executionProvider, s.threads, s.maxTokens, s.workerTimeoutSeconds, s.modelPathProblem ?? null]);
}
