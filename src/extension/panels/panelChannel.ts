/**
 * The host's end of one panel's message channel, the same for every panel (pure: no `vscode`, unit-tested with a
 * fake port). A panel's logic (routing/routingPanelLogic.ts, spotcheck/spotCheckPanelLogic.ts) keeps its state and
 * decides what to say; the channel owns how it is said:
 *
 * - The ready gate: nothing is posted before the webview says `ready` (a message posted to a loading webview is lost).
 * - Every `ready` is answered with the panel's full current state (`snapshot()`), so a webview that was hidden (and
 *   so torn down without retainContextWhenHidden) and reloads is made whole. Before `ready` only that latest state
 *   exists, never a backlog. `notReady()` is for a new document that has not said `ready` yet.
 * - Incoming messages are validated by the panel's parser; invalid ones are logged and dropped (the webview is
 *   untrusted). A failing handler is logged and never takes the message loop down.
 * - Requests get exactly one response: the handler's result, or its error's message.
 *
 * Messages are made by the protocol's typed builders (src/shared/protocol/envelope.ts), never cast.
 */
import {
  hostErrorResponse,
  hostResponse,
  notificationBuilder,
  type HostMessageOf,
  type NotificationMessage,
} from '../../shared/protocol/envelope';
import type { ParseResultOf } from '../../shared/protocol/validation';

export type PanelLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

/** Where the channel posts: `webview.postMessage` (resolves false when the webview is not live). */
export interface PanelPort<N> {
  postMessage(message: HostMessageOf<N>): PromiseLike<boolean> | boolean;
}

/** The messages a webview may post, as its parser yields them: its `ready`, other notifications and requests. */
type Incoming = { kind: 'notification'; method: string } | { kind: 'request'; id: number; method: string };

export interface PanelChannelSpec<N, W extends Incoming> {
  /** What the log calls the panel: "routing panel". */
  what: string;
  port: PanelPort<N>;
  log: PanelLog;
  /** Validates a raw message against the panel's current state (indices in range...). */
  parse(raw: unknown): ParseResultOf<W>;
  /** The panel's full current state, in the order the view wants it: posted on every `ready`. */
  snapshot(): NotificationMessage<N>[];
  /** A validated notification other than `ready`. */
  onNotification(message: Extract<W, { kind: 'notification' }>): void | PromiseLike<void>;
  /** A validated request: resolve with its result, or throw (the message becomes the error response). */
  onRequest(message: Extract<W, { kind: 'request' }>): unknown;
}

export class PanelChannel<N, W extends Incoming> {
  private ready = false;
  /** Typed notifications of this panel's protocol. */
  readonly notification = notificationBuilder<N>();

  constructor(private readonly spec: PanelChannelSpec<N, W>) {}

  get isReady(): boolean {
    return this.ready;
  }

  /** Posts a notification now when the webview is ready; otherwise drops it (the next `ready` gets the snapshot). */
  notify<M extends keyof N>(method: M, params: N[M]): void {
    if (this.ready) this.deliver(this.notification(method, params));
  }

  /** The webview's document is being replaced (HTML set): hold everything until it says `ready`. */
  notReady(): void {
    this.ready = false;
  }

  /** A raw message from the webview. Resolves when its handler is done (tests await it). */
  async receive(raw: unknown): Promise<void> {
    const parsed = this.spec.parse(raw);
    if (!parsed.ok) {
      this.spec.log('warn', `Dropped an invalid message from the ${this.spec.what}: ${parsed.error}`);
      return;
    }
    const message = parsed.message;
    try {
      if (message.kind === 'notification') {
        if (message.method === 'ready') {
          this.ready = true;
          for (const m of this.spec.snapshot()) this.deliver(m);
          return;
        }
        await this.spec.onNotification(message as Extract<W, { kind: 'notification' }>);
        return;
      }
      await this.answer(message as Extract<W, { kind: 'request' }>);
    } catch (e) {
      this.spec.log(
        'error',
        `${capitalise(this.spec.what)} message ${message.method} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
    }
  }

  private async answer(request: Extract<W, { kind: 'request' }>): Promise<void> {
    let response: HostMessageOf<N>;
    try {
      response = hostResponse(request.id, await this.spec.onRequest(request));
    } catch (e) {
      response = hostErrorResponse(request.id, e instanceof Error ? e.message : String(e));
    }
    this.deliver(response);
  }

  private deliver(message: HostMessageOf<N>): void {
    const what = message.kind === 'notification' ? String(message.method) : `response #${message.id}`;
    try {
      const r = this.spec.port.postMessage(message);
      if (r && typeof (r as PromiseLike<boolean>).then === 'function') {
        (r as PromiseLike<boolean>).then(
          (delivered) => {
            if (!delivered) this.spec.log('debug', `${capitalise(this.spec.what)} did not take ${what} (not live).`);
          },
          (e: unknown) => this.spec.log('warn', `Posting ${what} failed: ${String(e)}`),
        );
      }
    } catch (e) {
      // Posting to a disposed webview throws; the panel is going away, so a log line is enough.
      this.spec.log('warn', `Posting ${what} failed: ${String(e)}`);
    }
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
