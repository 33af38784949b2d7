/**
 * Strict validation of messages from the webview, and typed builders for messages to it.
 *
 * The webview renders untrusted text (the document, token strings), so the host treats everything it posts as
 * untrusted: `parseWebviewMessage` accepts exactly the shapes of `WebviewMessage` (protocol version, kind, known
 * method, params with exactly the documented fields, integers in range) and rejects everything else with a short
 * reason, never throwing. Pure: no `vscode`, no DOM; usable from the host, the webview and tests.
 */
import {
  PROTOCOL_VERSION,
  type HostMessage,
  type SpotCheckExampleFilter,
  type SpotCheckHostMessage,
  type SpotCheckHostNotificationMessage,
  type SpotCheckHostNotificationMethod,
  type SpotCheckHostNotifications,
  type SpotCheckLinking,
  type SpotCheckPanelState,
  type SpotCheckSortKey,
  type SpotCheckWebviewMessage,
  type SpotCheckWebviewNotificationMethod,
  type SpotCheckWebviewNotifications,
  type SpotCheckWebviewRequestMethod,
  type SpotCheckWebviewRequests,
  type HostNotificationMessage,
  type HostNotificationMethod,
  type HostNotifications,
  type PanelState,
  type ResponseMessage,
  type WebviewMessage,
  type WebviewNotificationMethod,
  type WebviewNotifications,
  type WebviewRequestMethod,
  type WebviewRequests,
} from './protocol';

/** Upper bound for token indices when the caller gives no token count (far beyond any model's context). */
export const MAX_TOKEN_INDEX = 1_000_000;
/** Upper bound for layer indices when the caller gives no layer count. */
export const MAX_LAYER_INDEX = 1_024;
/** Request ids are positive safe integers. */
export const MAX_REQUEST_ID = Number.MAX_SAFE_INTEGER;

export type ParseResult = { ok: true; message: WebviewMessage } | { ok: false; error: string };

/** Optional bounds from the current panel: indices must then be < tokenCount / < layerCount. */
export interface ParseContext {
  tokenCount?: number;
  layerCount?: number;
}

class Invalid extends Error {}

function fail(message: string): never {
  throw new Invalid(message);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a string of length ${v.length}` : JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : String(v);
  if (typeof v === 'object') return 'an object';
  return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** A plain data object: not null, not an array, prototype Object.prototype or null (what structured clone yields). */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function expectObject(v: unknown, where: string): Record<string, unknown> {
  if (!isPlainObject(v)) fail(`${where}: expected an object, got ${describe(v)}`);
  return v;
}

/** Exactly these keys: missing ones and extra ones are errors. */
function expectKeys(o: Record<string, unknown>, where: string, required: readonly string[]): void {
  for (const k of required) if (!hasOwn(o, k)) fail(`${where}: missing field "${k}"`);
  for (const k of Object.keys(o)) if (!required.includes(k)) fail(`${where}: unexpected field ${JSON.stringify(k.slice(0, 40))}`);
}

function expectInt(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${where}: expected an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

type ParamsValidator<P> = (params: Record<string, unknown>, ctx: Required<ParseContext>) => P;

const notificationValidators: { [M in WebviewNotificationMethod]: ParamsValidator<WebviewNotifications[M]> } = {
  ready: (p) => {
    expectKeys(p, 'params', ['protocolVersion']);
    const v = expectInt(p.protocolVersion, 'params.protocolVersion', 0, 1_000_000);
    if (v !== PROTOCOL_VERSION) fail(`params.protocolVersion: webview speaks protocol ${v}, host speaks ${PROTOCOL_VERSION}`);
    return { protocolVersion: v };
  },
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
};

const requestValidators: { [M in WebviewRequestMethod]: ParamsValidator<WebviewRequests[M]> } = {
  'analysis/export': (p) => {
    expectKeys(p, 'params', ['format']);
    if (p.format !== 'json') fail(`params.format: expected "json", got ${describe(p.format)}`);
    return { format: 'json' };
  },
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
  try {
    return { ok: true, message: parseOrThrow(raw, resolveContext(ctx)) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    return { ok: false, error: `invalid message: ${(e as Error)?.message ?? String(e)}` };
  }
}

function parseOrThrow(raw: unknown, ctx: Required<ParseContext>): WebviewMessage {
  return parseEnvelope(raw, ctx, notificationValidators, requestValidators) as WebviewMessage;
}

/** Envelope, kind, method and params (through the method's validator): shared by the routing and spot-check panels. */
function parseEnvelope<C>(
  raw: unknown,
  ctx: C,
  notifications: Record<string, (params: Record<string, unknown>, ctx: C) => unknown>,
  requests: Record<string, (params: Record<string, unknown>, ctx: C) => unknown>,
): unknown {
  const m = expectObject(raw, 'message');
  if (!hasOwn(m, 'protocol')) fail('message: missing field "protocol"');
  if (m.protocol !== PROTOCOL_VERSION) fail(`message.protocol: unsupported protocol version ${describe(m.protocol)} (expected ${PROTOCOL_VERSION})`);
  const kind = m.kind;
  if (kind === 'notification') {
    expectKeys(m, 'message', ['protocol', 'kind', 'method', 'params']);
    const method = m.method;
    if (typeof method !== 'string' || !hasOwn(notifications, method)) {
      fail(`message.method: unknown notification ${describe(method)}`);
    }
    const params = expectObject(m.params, 'params');
    return { protocol: PROTOCOL_VERSION, kind, method, params: notifications[method](params, ctx) };
  }
  if (kind === 'request') {
    expectKeys(m, 'message', ['protocol', 'kind', 'id', 'method', 'params']);
    const id = expectInt(m.id, 'message.id', 1, MAX_REQUEST_ID);
    const method = m.method;
    if (typeof method !== 'string' || !hasOwn(requests, method)) {
      fail(`message.method: unknown request ${describe(method)}`);
    }
    const params = expectObject(m.params, 'params');
    return { protocol: PROTOCOL_VERSION, kind, id, method, params: requests[method](params, ctx) };
  }
  fail(`message.kind: expected "notification" or "request", got ${describe(kind)}`);
}

// ---- builders ----------------------------------------------------------------------------------------------------

/** A typed host → webview notification: `hostNotification('editor/cursorToken', { tokenIndex: 3 })`. */
export function hostNotification<M extends HostNotificationMethod>(method: M, params: HostNotifications[M]): HostNotificationMessage<M> {
  return { protocol: PROTOCOL_VERSION, kind: 'notification', method, params };
}

/** The successful response to webview request `id`. */
export function hostResponse(id: number, result: unknown): ResponseMessage {
  return { protocol: PROTOCOL_VERSION, kind: 'response', id, ok: true, result };
}

/** The failed response to webview request `id`. */
export function hostErrorResponse(id: number, error: string): ResponseMessage {
  return { protocol: PROTOCOL_VERSION, kind: 'response', id, ok: false, error };
}

/** A typed webview → host notification (used by the webview's message client). */
export function webviewNotification<M extends WebviewNotificationMethod>(method: M, params: WebviewNotifications[M]): WebviewMessage {
  return { protocol: PROTOCOL_VERSION, kind: 'notification', method, params } as WebviewMessage;
}

/** A typed webview → host request. */
export function webviewRequest<M extends WebviewRequestMethod>(id: number, method: M, params: WebviewRequests[M]): WebviewMessage {
  return { protocol: PROTOCOL_VERSION, kind: 'request', id, method, params } as WebviewMessage;
}

// ---- host -> webview (light checks: the host is trusted, this only guards against foreign postMessage) --------------

const HOST_METHODS: readonly HostNotificationMethod[] = [
  'analysis/show',
  'analysis/stale',
  'analysis/progress',
  'editor/cursorToken',
  'host/error',
];

/** Whether `raw` looks like a HostMessage of this protocol version (envelope and method only, params unchecked). */
export function isHostMessage(raw: unknown): raw is HostMessage {
  if (!isPlainObject(raw) || raw.protocol !== PROTOCOL_VERSION) return false;
  if (raw.kind === 'notification') {
    return typeof raw.method === 'string' && (HOST_METHODS as readonly string[]).includes(raw.method) && isPlainObject(raw.params);
  }
  if (raw.kind === 'response') {
    return typeof raw.id === 'number' && Number.isInteger(raw.id) && typeof raw.ok === 'boolean';
  }
  return false;
}

// ---- panel state ---------------------------------------------------------------------------------------------------

/**
 * Checks a PanelState read back from `getState()` or handed to a WebviewPanelSerializer. Returns null when the state
 * is missing, from another protocol version or malformed; the analysis is checked structurally (top-level fields and
 * array shapes), not value by value. The layer is clamped into the analysis.
 */
export function parsePanelState(raw: unknown): PanelState | null {
  if (!isPlainObject(raw) || raw.protocol !== PROTOCOL_VERSION) return null;
  const heatmapValue = raw.heatmapValue === 'routerProbs' ? 'routerProbs' : 'gates';
  const view = raw.view === 'table' ? 'table' : 'chart';
  let analysis: PanelState['analysis'] = null;
  if (raw.analysis !== null && raw.analysis !== undefined) {
    if (!looksLikeAnalysis(raw.analysis)) return null;
    analysis = raw.analysis as PanelState['analysis'];
  }
  const layers = analysis ? analysis.layers.length : 0;
  const layerRaw = typeof raw.layer === 'number' && Number.isInteger(raw.layer) ? raw.layer : 0;
  const layer = layers === 0 ? 0 : Math.min(Math.max(layerRaw, 0), layers - 1);
  return { protocol: PROTOCOL_VERSION, analysis, layer, heatmapValue, view };
}

/** Structural check of an Analysis: enough that the views can index it without throwing. */
export function looksLikeAnalysis(a: unknown): boolean {
  if (!isPlainObject(a)) return false;
  const model = a.model;
  if (!isPlainObject(model) || typeof model.name !== 'string' || !Array.isArray(model.labels)) return false;
  if (!Number.isInteger(model.numExperts) || !Number.isInteger(model.numLayers) || !Number.isInteger(model.kMax)) return false;
  if (!Array.isArray(a.tokens) || !Array.isArray(a.layers) || !isPlainObject(a.stats) || !isPlainObject(a.prediction)) return false;
  if (!isPlainObject(a.provider) || !isPlainObject(a.timings)) return false;
  const n = a.tokens.length;
  for (const t of a.tokens) if (!isPlainObject(t) || typeof t.text !== 'string') return false;
  for (const l of a.layers) {
    if (!isPlainObject(l)) return false;
    for (const key of ['importance', 'k', 'experts', 'gates', 'routerProbs'] as const) {
      const arr = l[key];
      if (!Array.isArray(arr) || arr.length !== n) return false;
    }
  }
  const stats = a.stats;
  return isPlainObject(stats.kHistogram) && Array.isArray(stats.expertLoad) && isPlainObject(stats.meanK);
}

// ---- the spot-check panel ------------------------------------------------------------------------------------------

/** Dataset line numbers are 1-based; anything beyond this is not a line of a real file. */
export const MAX_LINE = 2 ** 31 - 1;

export type SpotCheckParseResult = { ok: true; message: SpotCheckWebviewMessage } | { ok: false; error: string };

/** Optional bounds from the current report: `example/open` must then name one of its examples' lines. */
export interface SpotCheckParseContext {
  exampleLines?: ReadonlySet<number>;
}

const spotCheckNotificationValidators: {
  [M in SpotCheckWebviewNotificationMethod]: (p: Record<string, unknown>, ctx: SpotCheckParseContext) => SpotCheckWebviewNotifications[M];
} = {
  ready: (p) => notificationValidators.ready(p, resolveContext(undefined)),
  'example/open': (p, ctx) => {
    expectKeys(p, 'params', ['line']);
    const line = expectInt(p.line, 'params.line', 1, MAX_LINE);
    if (ctx.exampleLines && !ctx.exampleLines.has(line)) fail(`params.line: ${line} is not the line of an example in the current report`);
    return { line };
  },
};

const spotCheckRequestValidators: {
  [M in SpotCheckWebviewRequestMethod]: (p: Record<string, unknown>, ctx: SpotCheckParseContext) => SpotCheckWebviewRequests[M];
} = {
  'spotcheck/export': (p) => {
    expectKeys(p, 'params', ['format']);
    if (p.format !== 'json' && p.format !== 'html') fail(`params.format: expected "json" or "html", got ${describe(p.format)}`);
    return { format: p.format };
  },
};

/** Validates one message posted by the spot-check webview. Never throws. */
export function parseSpotCheckMessage(raw: unknown, ctx: SpotCheckParseContext = {}): SpotCheckParseResult {
  try {
    const message = parseEnvelope(raw, ctx, spotCheckNotificationValidators, spotCheckRequestValidators) as SpotCheckWebviewMessage;
    return { ok: true, message };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    return { ok: false, error: `invalid message: ${(e as Error)?.message ?? String(e)}` };
  }
}

export function spotCheckHostNotification<M extends SpotCheckHostNotificationMethod>(
  method: M,
  params: SpotCheckHostNotifications[M],
): SpotCheckHostNotificationMessage<M> {
  return { protocol: PROTOCOL_VERSION, kind: 'notification', method, params };
}

export function spotCheckWebviewNotification<M extends SpotCheckWebviewNotificationMethod>(method: M, params: SpotCheckWebviewNotifications[M]): SpotCheckWebviewMessage {
  return { protocol: PROTOCOL_VERSION, kind: 'notification', method, params } as SpotCheckWebviewMessage;
}

export function spotCheckWebviewRequest<M extends SpotCheckWebviewRequestMethod>(id: number, method: M, params: SpotCheckWebviewRequests[M]): SpotCheckWebviewMessage {
  return { protocol: PROTOCOL_VERSION, kind: 'request', id, method, params } as SpotCheckWebviewMessage;
}

const SPOTCHECK_HOST_METHODS: readonly SpotCheckHostNotificationMethod[] = ['spotcheck/show', 'spotcheck/progress', 'spotcheck/error'];

/** Whether `raw` looks like a spot-check host message of this protocol version (envelope and method only). */
export function isSpotCheckHostMessage(raw: unknown): raw is SpotCheckHostMessage {
  if (!isPlainObject(raw) || raw.protocol !== PROTOCOL_VERSION) return false;
  if (raw.kind === 'notification') {
    return typeof raw.method === 'string' && (SPOTCHECK_HOST_METHODS as readonly string[]).includes(raw.method) && isPlainObject(raw.params);
  }
  if (raw.kind === 'response') {
    return typeof raw.id === 'number' && Number.isInteger(raw.id) && typeof raw.ok === 'boolean';
  }
  return false;
}

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
  if (!Array.isArray(r.expert_load) || !r.expert_load.every((l) => isPlainObject(l) && isNumArray(l.tokens) && isNumArray(l.utilisation) && isNumArray(l.dead))) return false;
  if (!Array.isArray(r.co_activation) || !r.co_activation.every(isNumMatrix)) return false;
  if (r.confusion !== null && !(isPlainObject(r.confusion) && Array.isArray(r.confusion.rows) && Array.isArray(r.confusion.columns) && isNumMatrix(r.confusion.matrix))) return false;
  if (!Array.isArray(r.routing_by_label) || !Array.isArray(r.routing_by_prediction)) return false;
  if (!Array.isArray(ti.most) || !Array.isArray(ti.least)) return false;
  if (!Array.isArray(r.examples)) return false;
  for (const e of r.examples) {
    if (!isPlainObject(e) || !Number.isInteger(e.line) || typeof e.text !== 'string' || typeof e.predicted !== 'string') return false;
  }
  return true;
}

const FILTERS: readonly SpotCheckExampleFilter[] = ['all', 'correct', 'wrong'];
const SORT_KEYS: readonly SpotCheckSortKey[] = ['line', 'confidence', 'mean_k', 'importance_entropy', 'correct'];
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
