/**
 * The Compare Models panel's messages (`damoe.compare`): the same envelope, handshake and rules as the other panels
 * (envelope.ts). It shows either one text through 2-3 models (their Analyses side by side) or a dataset comparison
 * (a CompareReport); a click on a disagreement asks the host to compare that example's text. Every message from the
 * webview is validated (`parseCompareMessage`): a disagreement line must be one of the current report's.
 */
import type { Analysis } from '../analysis';
import type { CompareReport } from '../compare-report';
import {
  notificationBuilder,
  webviewBuilders,
  type HostMessageOf,
  type NotificationMessage,
  type ReadyParams,
  type WebviewMessageOf,
} from './envelope';
import {
  expectInt,
  expectKeys,
  fail,
  looksLikeHostMessage,
  parseEnvelope,
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
  /** An error (the host also shows a notification); the views shown before are dimmed. */
  'compare/error': { message: string };
}

export type CompareHostMessage = HostMessageOf<CompareHostNotifications>;
export const compareHostNotification = notificationBuilder<CompareHostNotifications>();

// ---- webview -> host -------------------------------------------------------------------------------------------

export interface CompareWebviewNotifications {
  ready: ReadyParams;
  /** Compare the models on this disagreement's text. `line` must be a disagreement of the current report. */
  'disagreement/open': { line: number };
}

// The panel makes no requests; the map is kept for the envelope's types.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no requests yet
export interface CompareWebviewRequests {}

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
};

const requestValidators: ParamsValidators<CompareWebviewRequests, CompareParseContext> = {};

/** Validates one message posted by the compare webview. Never throws. */
export function parseCompareMessage(raw: unknown, ctx: CompareParseContext = {}): CompareParseResult {
  return parseEnvelope<CompareWebviewMessage, CompareParseContext>(raw, ctx, notificationValidators, requestValidators);
}

const HOST_METHODS: readonly (keyof CompareHostNotifications)[] = ['compare/text', 'compare/dataset', 'compare/progress', 'compare/error'];

export function isCompareHostMessage(raw: unknown): raw is CompareHostMessage {
  return looksLikeHostMessage(raw, HOST_METHODS);
}

export type CompareNotification = NotificationMessage<CompareHostNotifications>;
