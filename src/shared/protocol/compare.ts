/**
 * The Compare Models panel's messages (`damoe.compare`): the same envelope, handshake and rules as the other panels
 * (envelope.ts). It shows either one text through 2-3 models (their Analyses side by side) or a dataset comparison
 * (a CompareReport); a click on a disagreement asks the host to compare that example's text, and the report exports
 * as JSON or HTML. Every message from the webview is validated (`parseCompareMessage`): a disagreement line must be
 * one of the current report's. The webview saves what it shows (ComparePanelState) so the serializer restores it
 * after a reload, checked by parseComparePanelState.
 */
import type { Analysis } from '../analysis';
import { COMPARE_REPORT_VERSION, type CompareReport } from '../compare-report';
import {
  PROTOCOL_VERSION,
  notificationBuilder,
  webviewBuilders,
  type ErrorActionParams,
  type ErrorBannerParams,
  type HostMessageOf,
  type NotificationMessage,
  type ReadyParams,
  type WebviewMessageOf,
} from './envelope';
import { looksLikeAnalysis } from './routing';
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

/** One model's analysis of the compared text. */
export interface CompareTextModel {
  /** The model's name as picked (a shipped model's name, or a folder's name). */
  name: string;
  analysis: Analysis;
}

export interface CompareTextView {
  models: CompareTextModel[];
  /** Where the text came from: a selection, or a dataset line (after a click on a disagreement). */
  source: string;
}

// ---- host -> webview -------------------------------------------------------------------------------------------

export interface CompareHostNotifications {
  /** One text through every model; replaces the text view (the dataset view, if any, stays below). */
  'compare/text': CompareTextView;
  /** A dataset comparison; replaces the dataset view. */
  'compare/dataset': { report: CompareReport };
  'compare/progress': { running: boolean; message: string };
  /**
   * An error for the panel's banner, with the notification's buttons (envelope.ts: ErrorBannerParams). While the
   * panel is in view it is the only place the error is shown; the views shown before are dimmed under it.
   */
  'compare/error': ErrorBannerParams;
}

export type CompareHostMessage = HostMessageOf<CompareHostNotifications>;
export const compareHostNotification = notificationBuilder<CompareHostNotifications>();

// ---- webview -> host -------------------------------------------------------------------------------------------

export interface CompareWebviewNotifications {
  ready: ReadyParams;
  /** Compare the models on this disagreement's text. `line` must be a disagreement of the current report. */
  'disagreement/open': { line: number };
  /** A button of the error banner (one of the actions `compare/error` gave). */
  'error/action': ErrorActionParams;
}

/** What the panel exports: the dataset comparison, as `damoe compare --json` or `--html` writes it. */
export const COMPARE_EXPORT_FORMATS = ['json', 'html'] as const;
export type CompareExportFormat = (typeof COMPARE_EXPORT_FORMATS)[number];

export interface CompareWebviewRequests {
  /** Save the current dataset comparison through a save dialog. Result: the saved path, or null when cancelled. */
  'compare/export': { format: CompareExportFormat };
}

export type CompareWebviewMessage = WebviewMessageOf<CompareWebviewNotifications, CompareWebviewRequests>;
const webview = webviewBuilders<CompareWebviewNotifications, CompareWebviewRequests>();
export const compareWebviewNotification = webview.notification;
export const compareWebviewRequest = webview.request;

export interface CompareParseContext {
  disagreementLines?: ReadonlySet<number>;
}

export type CompareParseResult = ParseResultOf<CompareWebviewMessage>;

const MAX_LINE = 2 ** 31 - 1;

const notificationValidators: ParamsValidators<CompareWebviewNotifications, CompareParseContext> = {
  ready: (p) => validateReady(p),
  'disagreement/open': (p, ctx) => {
    expectKeys(p, 'params', ['line']);
    const line = expectInt(p.line, 'params.line', 1, MAX_LINE);
    if (ctx.disagreementLines && !ctx.disagreementLines.has(line))
      fail(`params.line: ${line} is not a disagreement of the current comparison`);
    return { line };
  },
  'error/action': (p) => validateErrorAction(p),
};

const requestValidators: ParamsValidators<CompareWebviewRequests, CompareParseContext> = {
  'compare/export': (p) => {
    expectKeys(p, 'params', ['format']);
    if (!(COMPARE_EXPORT_FORMATS as readonly unknown[]).includes(p.format)) {
      fail(`params.format: expected one of ${COMPARE_EXPORT_FORMATS.map((f) => `"${f}"`).join(', ')}, got ${describe(p.format)}`);
    }
    return { format: p.format as CompareExportFormat };
  },
};

/** Validates one message posted by the compare webview. Never throws. */
export function parseCompareMessage(raw: unknown, ctx: CompareParseContext = {}): CompareParseResult {
  return parseEnvelope<CompareWebviewMessage, CompareParseContext>(raw, ctx, notificationValidators, requestValidators);
}

const HOST_METHODS: readonly (keyof CompareHostNotifications)[] = ['compare/text', 'compare/dataset', 'compare/progress', 'compare/error'];

export function isCompareHostMessage(raw: unknown): raw is CompareHostMessage {
  return looksLikeHostMessage(raw, HOST_METHODS);
}

export type CompareNotification = NotificationMessage<CompareHostNotifications>;

// ---- saved state -----------------------------------------------------------------------------------------------

/** What the compare webview keeps in vscode.setState, so the serializer can bring the panel back after a reload. */
export interface ComparePanelState {
  protocol: typeof PROTOCOL_VERSION;
  report: CompareReport | null;
  text: CompareTextView | null;
}

const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

/** Structural check of a CompareReport: enough that the dataset view can index it without throwing. */
export function looksLikeCompareReport(r: unknown): r is CompareReport {
  if (!isPlainObject(r) || r.kind !== 'damoe-compare' || r.version !== COMPARE_REPORT_VERSION) return false;
  if (!isPlainObject(r.dataset) || typeof r.dataset.path !== 'string' || !isPlainObject(r.sample)) return false;
  if (!Array.isArray(r.models) || r.models.length < 2) return false;
  for (const m of r.models) {
    if (!isPlainObject(m) || typeof m.name !== 'string' || typeof m.path !== 'string' || typeof m.mean_k !== 'number') return false;
    if ((m.accuracy !== null && typeof m.accuracy !== 'number') || (m.ci95 !== null && !isNumArray(m.ci95))) return false;
  }
  if (r.paired !== null && !isPlainObject(r.paired)) return false;
  if (!Array.isArray(r.paired_with_first) || !r.paired_with_first.every((p) => isPlainObject(p) && isNumArray(p.ci95))) return false;
  if (!Array.isArray(r.disagreements)) return false;
  for (const d of r.disagreements) {
    if (!isPlainObject(d) || !Number.isInteger(d.line) || typeof d.text !== 'string' || !Array.isArray(d.predictions)) return false;
  }
  return isPlainObject(r.skipped);
}

function looksLikeTextView(v: unknown): v is CompareTextView {
  if (!isPlainObject(v) || typeof v.source !== 'string' || !Array.isArray(v.models) || v.models.length < 2) return false;
  return v.models.every((m) => isPlainObject(m) && typeof m.name === 'string' && looksLikeAnalysis(m.analysis));
}

/**
 * Checks a ComparePanelState from getState() or a serializer: null when missing, from another protocol version or
 * malformed; a part that does not look right is dropped (the other is kept).
 */
export function parseComparePanelState(raw: unknown): ComparePanelState | null {
  if (!isPlainObject(raw) || raw.protocol !== PROTOCOL_VERSION) return null;
  const report = looksLikeCompareReport(raw.report) ? raw.report : null;
  const text = looksLikeTextView(raw.text) ? raw.text : null;
  if (!report && !text) return null;
  return { protocol: PROTOCOL_VERSION, report, text };
}
