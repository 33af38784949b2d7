/**
 * The routing panel's messages (`damoe.routing`): what the host and the webview say to each other, how the host
 * validates what the webview says, and the state the webview keeps for restore. The envelope and the handshake are
 * envelope.ts.
 */
import type { Analysis } from '../analysis';
import type { PackedAnalysis } from './packed-analysis';
import { type FigureSaveParams, validateFigureSave } from './figure';
import {
  notificationBuilder,
  PROTOCOL_VERSION,
  webviewBuilders,
  type ErrorActionParams,
  type ErrorBannerParams,
  type HostMessageOf,
  type NotificationMessage,
  type ReadyParams,
  type WebviewMessageOf,
} from './envelope';
import {
  describe,
  expectInt,
  expectKeys,
  fail,
  isPlainObject,
  looksLikeHostMessage,
  parseEnvelope,
  validateErrorAction,
  validateReady,
  type ParamsValidators,
  type ParseResultOf,
} from './validation';

// ---- host -> webview -------------------------------------------------------------------------------------------

export interface HostNotifications {
  /**
   * A new analysis to show; replaces the current one. The host sends it packed (packed-analysis.ts: typed arrays,
   * cheap to post); a plain Analysis is accepted too.
   */
  'analysis/show': { analysis: Analysis | PackedAnalysis; stale: boolean };
  /** The document changed under the analysis: offsets may no longer match the text. */
  'analysis/stale': { stale: boolean };
  /** A run started or ended; shown in the header. */
  'analysis/progress': { running: boolean; message?: string };
  /** The editor cursor is on this token (null: on none). */
  'editor/cursorToken': { tokenIndex: number | null };
  /** An error for the panel's banner (envelope.ts: ErrorBannerParams); the analysis shown before is dimmed under it. */
  'host/error': ErrorBannerParams;
  /** How the editor highlights are coloured now (the setting, or the panel's last choice). */
  'highlights/mode': { colorBy: HighlightColorBy; enabled: boolean };
  /** The importance check (`importance/check`) is running: model inputs done of total. */
  'importance/progress': { done: number; total: number };
}

/** What the editor's token highlights show: the selected layer's importance, its K, or its top-1 expert. */
export type HighlightColorBy = 'importance' | 'k' | 'expert';
export const HIGHLIGHT_COLOR_BY: readonly HighlightColorBy[] = ['importance', 'k', 'expert'];
/** The heatmap's measure: gate × K / k_max (compute share, the default), the gate, or the router probability. */
export type HeatmapValue = 'gateK' | 'gates' | 'routerProbs';
export const HEATMAP_VALUES: readonly HeatmapValue[] = ['gateK', 'gates', 'routerProbs'];

export type HostNotificationMethod = keyof HostNotifications;
export type HostNotificationMessage<M extends HostNotificationMethod = HostNotificationMethod> = NotificationMessage<HostNotifications, M>;
export type HostMessage = HostMessageOf<HostNotifications>;

/** A typed host -> webview notification: `hostNotification('editor/cursorToken', { tokenIndex: 3 })`. */
export const hostNotification = notificationBuilder<HostNotifications>();

// ---- webview -> host -------------------------------------------------------------------------------------------

export interface WebviewNotifications {
  /** The handshake: the webview's script has run and its listener is installed. */
  ready: ReadyParams;
  /** The pointer is over this token in the webview (null: left the tokens); the host highlights its range. */
  'token/hover': { tokenIndex: number | null };
  /** The user clicked a token: select its range in the editor. */
  'token/reveal': { tokenIndex: number };
  /** The selected layer changed (kept for restore; the editor highlights follow it). */
  'view/layer': { layer: number };
  /** The user chose how the editor highlights are coloured. */
  'view/highlights': { colorBy: HighlightColorBy };
  /** A button of the error banner (one of the actions `host/error` gave). */
  'error/action': ErrorActionParams;
  /** Stop the importance check that is running (its request then resolves with null). */
  'importance/cancel': Record<string, never>;
}

export interface WebviewRequests {
  /** Save the current analysis as JSON through a save dialog. Result: the saved path or null when cancelled. */
  'analysis/export': { format: 'json' };
  /** Save a chart the webview rendered, through a save dialog. Result: the saved path or null when cancelled. */
  'figure/save': FigureSaveParams;
  /**
   * Importance against occlusion for the analysis the panel shows (docs/importance-check.md). Result: the
   * ImportanceCheck (src/shared/importance-check.ts), also kept on the host's analysis as `importance_check`; null
   * when it was cancelled (importance/cancel, or a new analysis replaced the one being checked).
   */
  'importance/check': Record<string, never>;
}

export type WebviewNotificationMethod = keyof WebviewNotifications;
export type WebviewRequestMethod = keyof WebviewRequests;
export type WebviewMessage = WebviewMessageOf<WebviewNotifications, WebviewRequests>;

const webview = webviewBuilders<WebviewNotifications, WebviewRequests>();
/** A typed webview -> host notification (used by the webview's message client). */
export const webviewNotification = webview.notification;
/** A typed webview -> host request. */
export const webviewRequest = webview.request;

/** What the webview keeps in vscode.setState so the serializer can restore the panel after a reload. */
export interface PanelState {
  protocol: typeof PROTOCOL_VERSION;
  analysis: Analysis | null;
  layer: number;
  heatmapValue: HeatmapValue;
  view: 'chart' | 'table';
  /** The user picked the layer (a new analysis keeps it); otherwise each analysis opens on its most dynamic layer. */
  layerPinned?: boolean;
  /** What colours the token strip: importance (default) or, for causal LMs, each token's loss. */
  stripColorBy?: 'importance' | 'loss';
}

// ---- validation of what the webview posts ----------------------------------------------------------------------

/** Upper bound for token indices when the caller gives no token count (far beyond any model's context). */
export const MAX_TOKEN_INDEX = 1_000_000;
/** Upper bound for layer indices when the caller gives no layer count. */
export const MAX_LAYER_INDEX = 1_024;

export type ParseResult = ParseResultOf<WebviewMessage>;

/** Optional bounds from the current panel: indices must then be < tokenCount / < layerCount. */
export interface ParseContext {
  tokenCount?: number;
  layerCount?: number;
}

const notificationValidators: ParamsValidators<WebviewNotifications, Required<ParseContext>> = {
  ready: (p) => validateReady(p),
  'token/hover': (p, ctx) => {
    expectKeys(p, 'params', ['tokenIndex']);
    if (p.tokenIndex === null) return { tokenIndex: null };
    return { tokenIndex: expectInt(p.tokenIndex, 'params.tokenIndex', 0, ctx.tokenCount - 1) };
  },
  'token/reveal': (p, ctx) => {
    expectKeys(p, 'params', ['tokenIndex']);
    return { tokenIndex: expectInt(p.tokenIndex, 'params.tokenIndex', 0, ctx.tokenCount - 1) };
  },
  'view/layer': (p, ctx) => {
    expectKeys(p, 'params', ['layer']);
    return { layer: expectInt(p.layer, 'params.layer', 0, ctx.layerCount - 1) };
  },
  'view/highlights': (p) => {
    expectKeys(p, 'params', ['colorBy']);
    if (!HIGHLIGHT_COLOR_BY.includes(p.colorBy as HighlightColorBy))
      fail(`params.colorBy: expected one of ${HIGHLIGHT_COLOR_BY.join(', ')}, got ${describe(p.colorBy)}`);
    return { colorBy: p.colorBy as HighlightColorBy };
  },
  'importance/cancel': (p) => (expectKeys(p, 'params', []), {}),
  'error/action': (p) => validateErrorAction(p),
};

const requestValidators: ParamsValidators<WebviewRequests, Required<ParseContext>> = {
  'analysis/export': (p) => {
    expectKeys(p, 'params', ['format']);
    if (p.format !== 'json') fail(`params.format: expected "json", got ${describe(p.format)}`);
    return { format: 'json' };
  },
  'figure/save': (p) => validateFigureSave(p),
  'importance/check': (p) => (expectKeys(p, 'params', []), {}),
};

function resolveContext(ctx: ParseContext | undefined): Required<ParseContext> {
  const bound = (n: number | undefined, fallback: number): number =>
    typeof n === 'number' && Number.isInteger(n) && n >= 0 ? Math.min(n, fallback + 1) : fallback + 1;
  return { tokenCount: bound(ctx?.tokenCount, MAX_TOKEN_INDEX), layerCount: bound(ctx?.layerCount, MAX_LAYER_INDEX) };
}

/**
 * Validates one message posted by the webview. Never throws. With `ctx`, token and layer indices must also be
 * within the current analysis (tokenCount 0 rejects every token index).
 */
export function parseWebviewMessage(raw: unknown, ctx?: ParseContext): ParseResult {
  return parseEnvelope<WebviewMessage, Required<ParseContext>>(raw, resolveContext(ctx), notificationValidators, requestValidators);
}

// ---- host -> webview (light checks) --------------------------------------------------------------------------------

const HOST_METHODS: readonly HostNotificationMethod[] = [
  'analysis/show',
  'analysis/stale',
  'analysis/progress',
  'editor/cursorToken',
  'host/error',
  'highlights/mode',
  'importance/progress',
];

/** Whether `raw` looks like a HostMessage of this protocol version (envelope and method only, params unchecked). */
export function isHostMessage(raw: unknown): raw is HostMessage {
  return looksLikeHostMessage(raw, HOST_METHODS);
}

// ---- panel state ---------------------------------------------------------------------------------------------------

/**
 * Checks a PanelState read back from `getState()` or handed to a WebviewPanelSerializer. Returns null when the state
 * is missing, from another protocol version or malformed; the analysis is checked structurally (top-level fields and
 * array shapes), not value by value. The layer is clamped into the analysis.
 */
export function parsePanelState(raw: unknown): PanelState | null {
  if (!isPlainObject(raw) || raw.protocol !== PROTOCOL_VERSION) return null;
  const heatmapValue = HEATMAP_VALUES.includes(raw.heatmapValue as HeatmapValue) ? (raw.heatmapValue as HeatmapValue) : 'gateK';
  const view = raw.view === 'table' ? 'table' : 'chart';
  let analysis: PanelState['analysis'] = null;
  if (raw.analysis !== null && raw.analysis !== undefined) {
    if (!looksLikeAnalysis(raw.analysis)) return null;
    analysis = raw.analysis as PanelState['analysis'];
  }
  const layers = analysis ? analysis.layers.length : 0;
  const layerRaw = typeof raw.layer === 'number' && Number.isInteger(raw.layer) ? raw.layer : 0;
  const layer = layers === 0 ? 0 : Math.min(Math.max(layerRaw, 0), layers - 1);
  const stripColorBy = raw.stripColorBy === 'loss' ? 'loss' : 'importance';
  return { protocol: PROTOCOL_VERSION, analysis, layer, heatmapValue, view, layerPinned: raw.layerPinned === true, stripColorBy };
}

/**
 * Structural check of an Analysis: enough that the views can index it without throwing. `unpacked`: it comes from
 * unpackAnalysis, which checked the packed sizes; the layers' experts, gates and routerProbs are not read (reading
 * builds them, packed-analysis.ts), only importance and k.
 */
export function looksLikeAnalysis(a: unknown, unpacked = false): boolean {
  if (!isPlainObject(a)) return false;
  const model = a.model;
  if (!isPlainObject(model) || typeof model.name !== 'string' || !Array.isArray(model.labels)) return false;
  if (!Number.isInteger(model.numExperts) || !Number.isInteger(model.numLayers) || !Number.isInteger(model.kMax)) return false;
  if (!Array.isArray(a.tokens) || !Array.isArray(a.layers) || !isPlainObject(a.stats)) return false;
  if (a.prediction !== null && !isPlainObject(a.prediction)) return false;
  if ((a.provider !== null && !isPlainObject(a.provider)) || !isPlainObject(a.timings)) return false;
  const n = a.tokens.length;
  for (const t of a.tokens) if (!isPlainObject(t) || typeof t.text !== 'string') return false;
  for (const l of a.layers) {
    if (!isPlainObject(l)) return false;
    for (const key of unpacked ? (['importance', 'k'] as const) : (['importance', 'k', 'experts', 'gates', 'routerProbs'] as const)) {
      const arr = l[key];
      if (!Array.isArray(arr) || arr.length !== n) return false;
    }
  }
  const stats = a.stats;
  return isPlainObject(stats.kHistogram) && Array.isArray(stats.expertLoad) && isPlainObject(stats.meanK);
}
