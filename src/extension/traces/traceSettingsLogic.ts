/**
 * The settings of routing traces and the live source, resolved without `vscode` (unit-tested in plain Node).
 *
 * Why trust matters here: `damoe.remote.url` decides where the editor's selected text is sent. A repository's
 * `.vscode/settings.json` must never choose that server in an untrusted workspace, so the URL (and the tokenizer
 * folder, which is read from disk) count only from the user's own settings there. package.json also lists them
 * under `restrictedConfigurations`, so VS Code drops them too; we do not rely on that alone.
 */
import {
  DEFAULT_REMOTE_KIND,
  DEFAULT_REMOTE_TIMEOUT_SECONDS,
  MAX_REMOTE_TIMEOUT_SECONDS,
  REMOTE_KINDS,
  type RemoteKind,
} from '../../shared/defaults';
import type { RemoteHints } from '../../core';

export interface RemoteSettings {
  url: string;
  kind: RemoteKind;
  /** The `model` field of a vLLM request; empty: the server's own. */
  model: string;
  timeoutSeconds: number;
}

/** The live source's settings, or null when `damoe.remote.url` is empty (Analyze Routing runs the local model). */
export function sanitizeRemoteSettings(raw: {
  url: unknown;
  kind: unknown;
  model: unknown;
  timeoutSeconds: unknown;
}): RemoteSettings | null {
  const url = typeof raw.url === 'string' ? raw.url.trim() : '';
  if (url === '') return null;
  const kind = (REMOTE_KINDS as readonly unknown[]).includes(raw.kind) ? (raw.kind as RemoteKind) : DEFAULT_REMOTE_KIND;
  const t = raw.timeoutSeconds;
  const timeoutSeconds =
    typeof t === 'number' && Number.isFinite(t) && t > 0 && t <= MAX_REMOTE_TIMEOUT_SECONDS ? t : DEFAULT_REMOTE_TIMEOUT_SECONDS;
  return { url, kind, model: typeof raw.model === 'string' ? raw.model.trim() : '', timeoutSeconds };
}

/** The SecretStorage key of the API key for `url`'s server: one key per origin, never sent to another server. */
export function apiKeySecretName(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return `damoe.remote.apiKey:${u.origin}`;
  } catch {
    return null;
  }
}

/** What the live source's messages name inside VS Code: its settings and commands instead of the CLI's options. */
export const VSCODE_REMOTE_HINTS: RemoteHints = {
  apiKey: 'Set it with “DA-MoE: Set Remote API Key” (kept in VS Code’s secret storage, sent only to this server)',
  timeout: 'damoe.remote.timeoutSeconds',
  kind: 'damoe.remote.kind',
};

/** Where the trace's token ids and the model facts come from, for the Open Routing Trace quick pick. */
export interface TokenizerChoice {
  label: string;
  description: string;
  /** A folder (tokenizer.json + config.json) or a tokenizer.json; null: choose one in a dialog. */
  path: string | null;
}

export function tokenizerChoices(shipped: readonly { name: string; dir: string }[], defaultName: string): TokenizerChoice[] {
  const ordered = [...shipped].sort((a, b) => (a.name === defaultName ? -1 : b.name === defaultName ? 1 : a.name.localeCompare(b.name)));
  return [
    {
      label: "$(folder-opened) Choose the served model's folder…",
      description: 'tokenizer.json and config.json of the model the engine served (or its tokenizer.json)',
      path: null,
    },
    ...ordered.map((m) => ({
      label: `$(package) ${m.name}`,
      description: `the tokenizer of the shipped model ${m.name}${m.name === defaultName ? ' (default)' : ''}`,
      path: m.dir,
    })),
  ];
}

/** Checks the number typed into "Number of experts" (null: fine; else what to fix). */
export function numExpertsProblem(text: string): string | null {
  const n = Number(text.trim());
  return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? null : 'Enter a whole number of experts per MoE layer (1 or more)';
}

/** The file extensions Open Routing Trace offers (package.json's menus list the same). */
export const TRACE_EXTENSIONS = ['json', 'jsonl', 'ndjson'] as const;

export function isTraceFileName(file: string): boolean {
  const m = /\.([^./\\]+)$/.exec(file);
  return m !== null && (TRACE_EXTENSIONS as readonly string[]).includes(m[1].toLowerCase());
}
