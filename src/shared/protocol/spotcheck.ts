/**
 * The spot-check report panel's messages (`damoe.spotCheck`): same envelope, handshake and rules as the routing panel
 * (envelope.ts). Every message from the webview is validated (`parseSpotCheckMessage`) before the host acts on it,
 * and an example line must be one of the current report's examples.
 */
import type { SpotCheckReport } from '../spotcheck-report';
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

/** What the panel exports: the report (JSON, HTML), or the run's per-token routing table (Parquet, docs/cli.md). */
export const SPOTCHECK_EXPORT_FORMATS = ['json', 'html', 'parquet'] as const;
export type SpotCheckExportFormat = (typeof SPOTCHECK_EXPORT_FORMATS)[number];

/** How clicking an example is wired up (shown in the report so the user knows what a click does). */
export interface SpotCheckLinking {
  /** The dataset file can be opened at an example's line. */
  canOpen: boolean;
  /** A note about linking (e.g. JSONL text with escapes is analysed without editor linking); null when none. */
  note: string | null;
}

// ---- host -> webview -------------------------------------------------------------------------------------------

export interface SpotCheckHostNotifications {
  /** A report to show; replaces the current one. */
  'spotcheck/show': { report: SpotCheckReport; linking: SpotCheckLinking };
  /** A run started, advanced or ended. */
  'spotcheck/progress': { running: boolean; done: number; total: number; examplesPerSecond: number; message?: string };
  /**
   * An error for the panel's banner, with the notification's buttons (envelope.ts: ErrorBannerParams). While the
   * panel is in view it is the only place the error is shown; the report shown before is dimmed under it.
   */
  'spotcheck/error': ErrorBannerParams;
}

export type SpotCheckHostNotificationMethod = keyof SpotCheckHostNotifications;
export type SpotCheckHostNotificationMessage<M extends SpotCheckHostNotificationMethod = SpotCheckHostNotificationMethod> =
  NotificationMessage<SpotCheckHostNotifications, M>;
export type SpotCheckHostMessage = HostMessageOf<SpotCheckHostNotifications>;

export const spotCheckHostNotification = notificationBuilder<SpotCheckHostNotifications>();

// ---- webview -> host -------------------------------------------------------------------------------------------

export interface SpotCheckWebviewNotifications {
  /** The handshake (same as the routing panel's). */
  ready: ReadyParams;
  /** The user clicked an example: open the dataset at its line and analyse it. `line` must be one of the report's examples. */
  'example/open': { line: number };
  /** A button of the error banner (one of the actions `spotcheck/error` gave). */
  'error/action': ErrorActionParams;
}

export interface SpotCheckWebviewRequests {
  /** Save the report through a save dialog. Result: the saved path, or null when the user cancelled. */
  'spotcheck/export': { format: SpotCheckExportFormat };
  /** Save a chart of the report as PNG or SVG (the routing panel's request, figure.ts). Result: the path, or null. */
  'figure/save': FigureSaveParams;
}

export type SpotCheckWebviewNotificationMethod = keyof SpotCheckWebviewNotifications;
export type SpotCheckWebviewRequestMethod = keyof SpotCheckWebviewRequests;
export type SpotCheckWebviewMessage = WebviewMessageOf<SpotCheckWebviewNotifications, SpotCheckWebviewRequests>;

const webview = webviewBuilders<SpotCheckWebviewNotifications, SpotCheckWebviewRequests>();
export const spotCheckWebviewNotification = webview.notification;
export const spotCheckWebviewRequest = webview.request;

export type SpotCheckExampleFilter = 'all' | 'correct' | 'wrong';
/** `mean_loss`: causal LMs' examples (SpotCheckExample.mean_loss). */
export type SpotCheckSortKey = 'line' | 'confidence' | 'mean_k' | 'importance_entropy' | 'correct' | 'mean_loss';

/** What the spot-check webview keeps in vscode.setState so the serializer can restore it after a reload. */
export interface SpotCheckPanelState {
  protocol: typeof PROTOCOL_VERSION;
  report: SpotCheckReport | null;
  linking: SpotCheckLinking;
  layer: number;
  filter: SpotCheckExampleFilter;
  query: string;
  sort: { key: SpotCheckSortKey; descending: boolean };
}

// ---- validation of what the webview posts ----------------------------------------------------------------------

/** Dataset line numbers are 1-based; anything beyond this is not a line of a real file. */
export const MAX_LINE = 2 ** 31 - 1;

export type SpotCheckParseResult = ParseResultOf<SpotCheckWebviewMessage>;

/** Optional bounds from the current report: `example/open` must then name one of its examples' lines. */
export interface SpotCheckParseContext {
  exampleLines?: ReadonlySet<number>;
}

const notificationValidators: ParamsValidators<SpotCheckWebviewNotifications, SpotCheckParseContext> = {
  ready: (p) => validateReady(p),
  'example/open': (p, ctx) => {
    expectKeys(p, 'params', ['line']);
    const line = expectInt(p.line, 'params.line', 1, MAX_LINE);
    if (ctx.exampleLines && !ctx.exampleLines.has(line)) fail(`params.line: ${line} is not the line of an example in the current report`);
    return { line };
  },
  'error/action': (p) => validateErrorAction(p),
};

const requestValidators: ParamsValidators<SpotCheckWebviewRequests, SpotCheckParseContext> = {
  'spotcheck/export': (p) => {
    expectKeys(p, 'params', ['format']);
    if (!(SPOTCHECK_EXPORT_FORMATS as readonly unknown[]).includes(p.format)) {
      fail(`params.format: expected one of ${SPOTCHECK_EXPORT_FORMATS.map((f) => `"${f}"`).join(', ')}, got ${describe(p.format)}`);
    }
    return { format: p.format as SpotCheckExportFormat };
  },
  'figure/save': (p) => validateFigureSave(p),
};

/** Validates one message posted by the spot-check webview. Never throws. */
export function parseSpotCheckMessage(raw: unknown, ctx: SpotCheckParseContext = {}): SpotCheckParseResult {
  return parseEnvelope<SpotCheckWebviewMessage, SpotCheckParseContext>(raw, ctx, notificationValidators, requestValidators);
}

// ---- host -> webview (light checks) --------------------------------------------------------------------------------

const HOST_METHODS: readonly SpotCheckHostNotificationMethod[] = ['spotcheck/show', 'spotcheck/progress', 'spotcheck/error'];

/** Whether `raw` looks like a spot-check host message of this protocol version (envelope and method only). */
export function isSpotCheckHostMessage(raw: unknown): raw is SpotCheckHostMessage {
  return looksLikeHostMessage(raw, HOST_METHODS);
}

// ---- report and panel state ------------------------------------------------------------------------------------------

const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');
const isNumMatrix = (v: unknown): v is number[][] => Array.isArray(v) && v.every(isNumArray);

/** Structural check of a SpotCheckReport: enough that the views can index it without throwing. */
export function looksLikeSpotCheckReport(r: unknown): boolean {
  if (!isPlainObject(r) || r.kind !== 'damoe-spot-check' || r.version !== 1) return false;
  const { dataset, sample, model, k_histogram: kh, mean_k: mk, token_importance: ti, label_mapping: lm } = r;
  if (!isPlainObject(dataset) || typeof dataset.path !== 'string' || typeof dataset.text_column !== 'string') return false;
  if (!isPlainObject(sample) || !isPlainObject(model) || !isPlainObject(lm) || !isPlainObject(ti)) return false;
  if (typeof model.name !== 'string' || !Array.isArray(model.labels) || !model.labels.every((l) => typeof l === 'string')) return false;
  if (!Number.isInteger(model.num_layers) || !Number.isInteger(model.num_experts) || !Number.isInteger(model.k_max)) return false;
  if (!Number.isInteger(r.n) || typeof r.cancelled !== 'boolean') return false;
  if (r.accuracy !== null && typeof r.accuracy !== 'number') return false;
  if (!isPlainObject(kh) || !isNumMatrix(kh.per_layer) || !isNumArray(kh.overall)) return false;
  if (!isPlainObject(mk) || !isNumArray(mk.per_layer) || typeof mk.overall !== 'number') return false;
  if (
    !Array.isArray(r.expert_load) ||
    !r.expert_load.every((l) => isPlainObject(l) && isNumArray(l.tokens) && isNumArray(l.utilisation) && isNumArray(l.dead))
  )
    return false;
  if (!Array.isArray(r.co_activation) || !r.co_activation.every(isNumMatrix)) return false;
  if (
    r.confusion !== null &&
    !(
      isPlainObject(r.confusion) &&
      Array.isArray(r.confusion.rows) &&
      Array.isArray(r.confusion.columns) &&
      isNumMatrix(r.confusion.matrix)
    )
  )
    return false;
  if (!Array.isArray(r.routing_by_label) || !Array.isArray(r.routing_by_prediction)) return false;
  if (!Array.isArray(ti.most) || !Array.isArray(ti.least)) return false;
  if (!Array.isArray(r.examples)) return false;
  for (const e of r.examples) {
    if (
      !isPlainObject(e) ||
      !Number.isInteger(e.line) ||
      typeof e.text !== 'string' ||
      (typeof e.predicted !== 'string' && e.predicted !== null)
    )
      return false;
  }
  return true;
}

const FILTERS: readonly SpotCheckExampleFilter[] = ['all', 'correct', 'wrong'];
const SORT_KEYS: readonly SpotCheckSortKey[] = ['line', 'confidence', 'mean_k', 'importance_entropy', 'correct', 'mean_loss'];
export const MAX_QUERY_CHARS = 500;

/** Checks a SpotCheckPanelState from getState() or a serializer; null when missing, foreign or malformed. */
export function parseSpotCheckState(raw: unknown): SpotCheckPanelState | null {
  if (!isPlainObject(raw) || raw.protocol !== PROTOCOL_VERSION) return null;
  let report: SpotCheckPanelState['report'] = null;
  if (raw.report !== null && raw.report !== undefined) {
    if (!looksLikeSpotCheckReport(raw.report)) return null;
    report = raw.report as SpotCheckPanelState['report'];
  }
  const lk = isPlainObject(raw.linking) ? raw.linking : {};
  const linking: SpotCheckLinking = {
    canOpen: lk.canOpen === true,
    note: typeof lk.note === 'string' ? lk.note.slice(0, 1000) : null,
  };
  const layers = report ? report.model.num_layers : 0;
  const layerRaw = typeof raw.layer === 'number' && Number.isInteger(raw.layer) ? raw.layer : 0;
  const layer = layers === 0 ? 0 : Math.min(Math.max(layerRaw, 0), layers - 1);
  const filter = FILTERS.includes(raw.filter as SpotCheckExampleFilter) ? (raw.filter as SpotCheckExampleFilter) : 'all';
  const query = typeof raw.query === 'string' ? raw.query.slice(0, MAX_QUERY_CHARS) : '';
  const sortRaw = isPlainObject(raw.sort) ? raw.sort : {};
  const sort = {
    key: SORT_KEYS.includes(sortRaw.key as SpotCheckSortKey) ? (sortRaw.key as SpotCheckSortKey) : 'line',
    descending: sortRaw.descending === true,
  };
  return { protocol: PROTOCOL_VERSION, report, linking, layer, filter, query, sort };
}
