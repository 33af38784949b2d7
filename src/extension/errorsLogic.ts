/**
 * Turns engine errors into short, actionable user messages (pure). Details (one line per contract violation, stack
 * traces) go to the log; the notification says what happened and what to do, with buttons for it. Where one error
 * is shown (a panel's banner or a notification, never both at once) is decided here too (showErrorOnce).
 */
import type { DatasetErrorCode, EngineErrorCode } from '../core';

export type ErrorAction = 'Select Model' | 'Show Output' | 'Open Settings';

export interface UserError {
  severity: 'error' | 'warning' | 'info';
  message: string;
  actions: ErrorAction[];
  /** Lines for the log channel (violations, stack). */
  details: string[];
  /** The cached engine is unusable (crashed worker): drop it so the next run starts a fresh one. */
  dropEngine: boolean;
  code: EngineErrorCode | DatasetErrorCode | 'unexpected';
  /** Search for the Settings editor when the action is Open Settings. */
  settingsQuery?: string;
}

/** A panel whose banner can show an error: SingletonWebviewPanel (routing, spot-check, compare) is one. */
export interface ErrorBannerPanel {
  /** The panel is open and in view (its tab is the active one of a visible editor group). */
  readonly visible: boolean;
  /** The panel's logic, null while the panel is not open. */
  readonly controller: { showError(message: string, actions: readonly string[], settingsQuery?: string): void } | null;
}

export interface ErrorOutlets {
  /** The error and its details to the log. */
  log(ue: UserError): void;
  /** A notification with the error's buttons (not logged again). */
  notify(ue: UserError): void;
}

/**
 * Shows one error once. It always goes to the log. While its panel is in view, its banner (with the notification's
 * buttons) is the only place it is shown; otherwise it is a notification. A panel that is open but hidden gets the
 * banner too, so that when it is brought back its dimmed result says why; it is not on screen at the same time as the
 * notification. Returns where the user sees it now.
 */
export function showErrorOnce(ue: UserError, panel: ErrorBannerPanel | null, out: ErrorOutlets): 'banner' | 'notification' {
  out.log(ue);
  const banner = panel?.controller ?? null;
  const inView = banner !== null && panel!.visible;
  banner?.showError(ue.message, ue.actions, ue.settingsQuery);
  if (inView) return 'banner';
  out.notify(ue);
  return 'notification';
}

/**
 * A dataset that cannot be read (DatasetError: its code and the reader's message) as a UserError: the reader speaks
 * the CLI's flags, `message` is already in VS Code's words (spotCheckLogic's vscodeDatasetMessage). An unknown column
 * offers Open Settings at the spot-check's column settings.
 */
export function describeDatasetError(code: DatasetErrorCode, message: string): UserError {
  const unknownColumn = code === 'unknown-column';
  return {
    severity: 'error',
    message,
    actions: unknownColumn ? ['Open Settings', 'Show Output'] : ['Show Output'],
    details: [],
    dropEngine: false,
    code,
    ...(unknownColumn ? { settingsQuery: 'damoe.spotCheck' } : {}),
  };
}

interface EngineErrorLike {
  name: string;
  code: EngineErrorCode;
  message: string;
  details?: string[];
}

/** Duck-typed: the error may have crossed a process or bundle boundary, so `instanceof` is not reliable. */
export function isEngineError(e: unknown): e is EngineErrorLike {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { name?: unknown }).name === 'EngineError' &&
    typeof (e as { code?: unknown }).code === 'string'
  );
}

export function isCancellation(e: unknown): boolean {
  return (isEngineError(e) && e.code === 'cancelled') || (e instanceof Error && e.name === 'AbortError');
}

function oneLine(s: string, max = 240): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function describeError(e: unknown, modelDir: string): UserError {
  if (!isEngineError(e)) {
    const err = e instanceof Error ? e : new Error(String(e));
    return {
      severity: 'error',
      message: `DA-MoE: unexpected error: ${oneLine(err.message)}. See the output for details.`,
      actions: ['Show Output'],
      details: [err.stack ?? err.message],
      dropEngine: false,
      code: 'unexpected',
    };
  }
  const details = [...(e.details ?? [])];
  const base = { details, dropEngine: false, code: e.code };
  switch (e.code) {
    case 'model-not-found':
      return {
        ...base,
        severity: 'error',
        message: `DA-MoE: no usable model at ${modelDir}: ${oneLine(e.message)} Pick a model with “Select Model”.`,
        actions: ['Select Model', 'Show Output'],
      };
    case 'contract-violation': {
      const n = details.length;
      const first = n > 0 ? ` ${oneLine(details[0], 400)}${n > 1 ? ` (+${n - 1} more in the output)` : ''}` : ` ${oneLine(e.message)}`;
      return {
        ...base,
        severity: 'error',
        message: `DA-MoE: the model at ${modelDir} does not follow the model contract:${first} Pick another model.`,
        actions: ['Select Model', 'Show Output'],
      };
    }
    case 'tokenizer':
      return {
        ...base,
        severity: 'error',
        message: `DA-MoE: the model's tokenizer could not be used: ${oneLine(e.message)} Pick another model.`,
        actions: ['Select Model', 'Show Output'],
      };
    case 'empty-text':
      return { ...base, severity: 'info', message: 'DA-MoE: nothing to analyse — select some text first.', actions: [] };
    case 'worker-crashed':
      return {
        ...base,
        dropEngine: true,
        severity: 'error',
        message: `DA-MoE: the model runtime stopped unexpectedly (${oneLine(e.message, 120)}). Run “Analyze Routing” again to restart it.`,
        actions: ['Show Output'],
      };
    case 'worker-unresponsive':
      return {
        ...base,
        severity: 'error',
        message: `DA-MoE: the model worker stopped responding and was restarted (${oneLine(e.message, 160)}) Run “Analyze Routing” again.`,
        actions: ['Show Output', 'Open Settings'],
        settingsQuery: 'damoe.workerTimeoutSeconds',
      };
    case 'provider-unavailable':
      return {
        ...base,
        dropEngine: true,
        severity: 'error',
        message: `DA-MoE: ${oneLine(e.message)} Set “damoe.executionProvider” to auto or cpu.`,
        actions: ['Open Settings', 'Show Output'],
        settingsQuery: 'damoe.executionProvider',
      };
    case 'invalid-option':
      return {
        ...base,
        severity: 'error',
        message: `DA-MoE: ${oneLine(e.message)} Fix it in the DA-MoE settings.`,
        actions: ['Open Settings', 'Show Output'],
        settingsQuery: 'damoe.',
      };
    case 'input-too-long':
      return { ...base, severity: 'warning', message: `DA-MoE: ${oneLine(e.message)} Select less text.`, actions: [] };
    case 'model-load-failed':
      return {
        ...base,
        dropEngine: true,
        severity: 'error',
        message: `DA-MoE: the model at ${modelDir} could not be loaded: ${oneLine(e.message)} Pick another model, or check that it runs in onnxruntime.`,
        actions: ['Select Model', 'Show Output'],
      };
    case 'inference-failed':
      return {
        ...base,
        severity: 'error',
        message: `DA-MoE: the model failed on this text: ${oneLine(e.message)}`,
        actions: ['Show Output'],
      };
    case 'cancelled':
      return { ...base, severity: 'info', message: 'DA-MoE: analysis cancelled.', actions: [] };
    case 'importance-unavailable':
      return { ...base, severity: 'info', message: `DA-MoE: ${oneLine(e.message)}`, actions: [] };
    case 'bad-trace':
      // The message names the field, the expected shape and the one found: shown whole.
      return {
        ...base,
        severity: 'error',
        message: `DA-MoE: the routing trace was refused: ${oneLine(e.message, 800)}`,
        actions: ['Show Output'],
      };
    case 'trace-no-routing':
      return { ...base, severity: 'error', message: `DA-MoE: ${oneLine(e.message, 600)}`, actions: ['Show Output'] };
    case 'remote-failed':
      return {
        ...base,
        severity: 'error',
        message: `DA-MoE: ${oneLine(e.message, 600)}`,
        actions: ['Open Settings', 'Show Output'],
        settingsQuery: 'damoe.remote',
      };
    default:
      return { ...base, severity: 'error', message: `DA-MoE: ${oneLine(e.message)}`, actions: ['Show Output'] };
  }
}
