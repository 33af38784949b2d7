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
  EXECUTION_PROVIDER_CHOICES,
  MIN_MAX_TOKENS,
} from '../../shared/defaults';

/** The subset of `WorkspaceConfiguration.inspect()` we use. */
export interface InspectedValue<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
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
  /** Resolves relative paths (only meaningful for trusted workspace values); undefined: none open. */
  workspaceFolder?: string;
  homeDir?: string;
}

/**
 * Turns the `damoe.modelPath` value into an absolute model directory:
 * empty → the shipped default; a bare name → `<extension>/models/<name>`; `~/x` → home; relative → workspace folder.
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
  return path.resolve(ctx.workspaceFolder ?? home, value);
}

export interface EngineSettings {
  modelDir: string;
  executionProvider: ExecutionProviderChoice;
  threads: number;
  maxTokens: number;
}

/** Clamps what a hand-edited settings.json may contain to values the engine accepts. */
export function sanitizeEngineSettings(raw: {
  modelDir: string;
  executionProvider: unknown;
  threads: unknown;
  maxTokens: unknown;
}): EngineSettings {
  const ep = EXECUTION_PROVIDER_CHOICES.includes(raw.executionProvider as ExecutionProviderChoice)
    ? (raw.executionProvider as ExecutionProviderChoice)
    : DEFAULT_EXECUTION_PROVIDER;
  const threads = Number.isInteger(raw.threads) && (raw.threads as number) >= 0 ? (raw.threads as number) : DEFAULT_THREADS;
  const maxTokens =
    Number.isInteger(raw.maxTokens) && (raw.maxTokens as number) >= MIN_MAX_TOKENS ? (raw.maxTokens as number) : DEFAULT_MAX_TOKENS;
  return { modelDir: raw.modelDir, executionProvider: ep, threads, maxTokens };
}

/** Engines are cached per this key; any change means dispose + re-create. */
export function engineKey(s: EngineSettings): string {
  return JSON.stringify([s.modelDir, s.executionProvider, s.threads, s.maxTokens]);
}
