/**
 * The typed, versioned message protocol between the extension host and its webviews.
 *
 * Three shapes travel: notifications (fire and forget), requests (carry an id and get exactly one response) and
 * responses. The webview posts `ready` first; the host posts nothing before it has seen `ready` (a message posted
 * to a webview that is still loading is lost). Every message from the webview is validated by
 * `parseWebviewMessage` before the host acts on it: the webview renders untrusted text and is treated as untrusted.
 */
import type { Analysis } from './analysis';
import type { SpotCheckReport } from '../core/spotcheck/report';

export const PROTOCOL_VERSION = 1;

export interface Envelope {
  protocol: typeof PROTOCOL_VERSION;
}

// ---- host -> webview -------------------------------------------------------------------------------------------

export interface HostNotifications {
  /** A new analysis to show; replaces the current one. */
  'analysis/show': { analysis: Analysis; stale: boolean };
  /** The document changed under the analysis: offsets may no longer match the text. */
  'analysis/stale': { stale: boolean };
  /** A run started or ended; shown in the header. */
  'analysis/progress': { running: boolean; message?: string };
  /** The editor cursor is on this token (null: on none). */
  'editor/cursorToken': { tokenIndex: number | null };
  /** An error to show in the panel (the host also shows a notification). */
  'host/error': { message: string };
}

export type HostNotificationMethod = keyof HostNotifications;

export interface HostNotificationMessage<M extends HostNotificationMethod = HostNotificationMethod> extends Envelope {
  kind: 'notification';
  method: M;
  params: HostNotifications[M];
}

export interface ResponseMessage extends Envelope {
  kind: 'response';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export type HostMessage = HostNotificationMessage | ResponseMessage;

// ---- webview -> host -------------------------------------------------------------------------------------------

export interface WebviewNotifications {
  /** The handshake: the webview's script has run and its listener is installed. */
  ready: { protocolVersion: number };
  /** The pointer is over this token in the webview (null: left the tokens); the host highlights its range. */
  'token/hover': { tokenIndex: number | null };
  /** The user clicked a token: select its range in the editor. */
  'token/reveal': { tokenIndex: number };
  /** The selected layer changed (kept for restore). */
  'view/layer': { layer: number };
}

export interface WebviewRequests {
  /** Save the current analysis as JSON through a save dialog. Result: the saved path or null when cancelled. */
  'analysis/export': { format: 'json' };
}

export type WebviewNotificationMethod = keyof WebviewNotifications;
export type WebviewRequestMethod = keyof WebviewRequests;

export type WebviewMessage =
  | { [M in WebviewNotificationMethod]: Envelope & { kind: 'notification'; method: M; params: WebviewNotifications[M] } }[WebviewNotificationMethod]
  | { [M in WebviewRequestMethod]: Envelope & { kind: 'request'; id: number; method: M; params: WebviewRequests[M] } }[WebviewRequestMethod];

/** What the webview keeps in vscode.setState so the serializer can restore the panel after a reload. */
export interface PanelState {
  protocol: typeof PROTOCOL_VERSION;
  analysis: Analysis | null;
  layer: number;
  heatmapValue: 'gates' | 'routerProbs';
  view: 'chart' | 'table';
}

// ---- the spot-check report panel (`damoe.spotCheck`) -----------------------------------------------------------
//
// Same envelope, handshake and rules as the routing panel: the webview posts `ready` first, the host posts nothing
// before it, and every message from the webview is validated (`parseSpotCheckMessage`) before the host acts on it.

/** How clicking an example is wired up (shown in the report so the user knows what a click does). */
export interface SpotCheckLinking {
  /** The dataset file can be opened at an example's line. */
  canOpen: boolean;
  /** A note about linking (e.g. JSONL text with escapes is analysed without editor linking); null when none. */
  note: string | null;
}

export interface SpotCheckHostNotifications {
  /** A report to show; replaces the current one. */
  'spotcheck/show': { report: SpotCheckReport; linking: SpotCheckLinking };
  /** A run started, advanced or ended. */
  'spotcheck/progress': { running: boolean; done: number; total: number; examplesPerSecond: number; message?: string };
  /** An error to show in the panel (the host also shows a notification). */
  'spotcheck/error': { message: string };
}

export type SpotCheckHostNotificationMethod = keyof SpotCheckHostNotifications;

export interface SpotCheckHostNotificationMessage<M extends SpotCheckHostNotificationMethod = SpotCheckHostNotificationMethod> extends Envelope {
  kind: 'notification';
  method: M;
  params: SpotCheckHostNotifications[M];
}

export type SpotCheckHostMessage = SpotCheckHostNotificationMessage | ResponseMessage;

export interface SpotCheckWebviewNotifications {
  /** The handshake (same as the routing panel's). */
  ready: { protocolVersion: number };
  /** The user clicked an example: open the dataset at its line and analyse it. `line` must be one of the report's examples. */
  'example/open': { line: number };
}

export interface SpotCheckWebviewRequests {
  /** Save the report through a save dialog. Result: the saved path, or null when the user cancelled. */
  'spotcheck/export': { format: 'json' | 'html' };
}

export type SpotCheckWebviewNotificationMethod = keyof SpotCheckWebviewNotifications;
export type SpotCheckWebviewRequestMethod = keyof SpotCheckWebviewRequests;

export type SpotCheckWebviewMessage =
  | { [M in SpotCheckWebviewNotificationMethod]: Envelope & { kind: 'notification'; method: M; params: SpotCheckWebviewNotifications[M] } }[SpotCheckWebviewNotificationMethod]
  | { [M in SpotCheckWebviewRequestMethod]: Envelope & { kind: 'request'; id: number; method: M; params: SpotCheckWebviewRequests[M] } }[SpotCheckWebviewRequestMethod];

export type SpotCheckExampleFilter = 'all' | 'correct' | 'wrong';
export type SpotCheckSortKey = 'line' | 'confidence' | 'mean_k' | 'importance_entropy' | 'correct';

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
