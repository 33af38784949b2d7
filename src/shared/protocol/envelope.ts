/**
 * The envelope every host <-> webview message travels in, shared by both panels (one file per panel beside this one:
 * routing.ts, spotcheck.ts).
 *
 * Three shapes travel: notifications (fire and forget), requests (carry an id and get exactly one response) and
 * responses. The webview posts `ready` first; the host posts nothing before it has seen `ready` (a message posted
 * to a webview that is still loading is lost) and answers every `ready` with the panel's full current state. Every
 * message from the webview is validated (validation.ts and the panel's parser) before the host acts on it: the
 * webview renders untrusted text and is treated as untrusted.
 *
 * Messages are made by the typed builders below, never by casting object literals.
 */
export const PROTOCOL_VERSION = 1;

export interface Envelope {
  protocol: typeof PROTOCOL_VERSION;
}

/**
 * A notification of the method map N (method -> params). With M a single method, `params` is that method's; with
 * the default (every method) it is the union, which is what a port that posts any of them takes.
 */
export interface NotificationMessage<N, M extends keyof N = keyof N> extends Envelope {
  kind: 'notification';
  method: M;
  params: N[M];
}

/** The answer to request `id`: `result` when ok, else `error`. */
export interface ResponseMessage extends Envelope {
  kind: 'response';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** What a host posts to a panel whose notifications are N. */
export type HostMessageOf<N> = NotificationMessage<N> | ResponseMessage;

/** One member per method, so a `switch (msg.method)` narrows `params` (what the host gets after validation). */
export type NotificationUnion<N> = { [M in keyof N]: Envelope & { kind: 'notification'; method: M; params: N[M] } }[keyof N];
export type RequestUnion<R> = { [M in keyof R]: Envelope & { kind: 'request'; id: number; method: M; params: R[M] } }[keyof R];

/** What a panel's webview posts: its notifications (N) and requests (R). */
export type WebviewMessageOf<N, R> = NotificationUnion<N> | RequestUnion<R>;

/** Every panel's webview announces itself with this notification first. */
export interface ReadyParams {
  protocolVersion: number;
}

/**
 * An error for a panel's banner, the same for every panel. The host shows it there instead of a notification while
 * the panel is in view (once, not twice: ErrorReporter.showOnce); `actions` are the buttons the notification would
 * have had (Show Output, Select Model, Open Settings), which the webview sends back as `error/action`.
 */
export interface ErrorBannerParams {
  message: string;
  actions?: string[];
}

/** A button of a panel's error banner was pressed: one of the actions its ErrorBannerParams gave. */
export interface ErrorActionParams {
  action: string;
}

// ---- builders ----------------------------------------------------------------------------------------------------

/** A typed notification builder for the method map N: `notificationBuilder<HostNotifications>()('host/error', {…})`. */
export function notificationBuilder<N>() {
  return <M extends keyof N>(method: M, params: N[M]): NotificationMessage<N, M> => ({
    protocol: PROTOCOL_VERSION,
    kind: 'notification',
    method,
    params,
  });
}

/**
 * Builders for what a webview posts, typed by its method maps. The result is the per-method union member the host
 * narrows on; TypeScript cannot prove a generic M picks that member, so this is the one place that asserts it.
 */
export function webviewBuilders<N, R>() {
  return {
    notification: <M extends keyof N>(method: M, params: N[M]): WebviewMessageOf<N, R> =>
      ({ protocol: PROTOCOL_VERSION, kind: 'notification', method, params }) as NotificationUnion<N>,
    request: <M extends keyof R>(id: number, method: M, params: R[M]): WebviewMessageOf<N, R> =>
      ({ protocol: PROTOCOL_VERSION, kind: 'request', id, method, params }) as RequestUnion<R>,
  };
}

/** The successful response to webview request `id`. */
export function hostResponse(id: number, result: unknown): ResponseMessage {
  return { protocol: PROTOCOL_VERSION, kind: 'response', id, ok: true, result };
}

/** The failed response to webview request `id`. */
export function hostErrorResponse(id: number, error: string): ResponseMessage {
  return { protocol: PROTOCOL_VERSION, kind: 'response', id, ok: false, error };
}
