/**
 * The routing panel's logic without the vscode API (unit-tested with a fake port).
 *
 * - Nothing is posted before the webview says `ready` (a message posted to a loading webview is lost). Until then
 *   only the *latest* state is kept (analysis, progress, error, cursor), not a backlog, and it is flushed on `ready`.
 * - A webview that is hidden without retainContextWhenHidden is torn down and reloads, posting `ready` again; every
 *   `ready` re-sends the full current state, so what was lost while hidden is made good. `notReady()` is for a
 *   reset of the HTML (a new document that has not said `ready` yet).
 * - Every incoming message is validated by the injected parser; invalid ones are logged and dropped. Token indexes
 *   are also checked against the analysis the host holds: the webview is untrusted.
 */
import type { Analysis } from '../../shared/analysis';
import { PROTOCOL_VERSION } from '../../shared/protocol/envelope';
import type { HostMessage, HostNotificationMethod, HostNotifications, ParseContext, ParseResult } from '../../shared/protocol/routing';

export interface PanelPort {
  postMessage(message: HostMessage): PromiseLike<boolean> | boolean;
}

export interface PanelHandlers {
  /** Pointer over a token in the webview (null: none); `tokenIndex` already bounds-checked. */
  hoverToken(tokenIndex: number | null): void;
  revealToken(tokenIndex: number): void | PromiseLike<void>;
  /** Save the analysis; resolves to the saved path, or null when the user cancelled. */
  exportAnalysis(analysis: Analysis, format: 'json'): PromiseLike<string | null>;
  layerChanged?(layer: number): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
}

export class RoutingPanelCore {
  private ready = false;
  private analysis: Analysis | null = null;
  private stale = false;
  private progress: HostNotifications['analysis/progress'] | null = null;
  private error: string | null = null;
  private cursorToken: number | null = null;
  private cursorDirty = false;
  private layer = 0;

  constructor(
    private readonly port: PanelPort,
    private readonly handlers: PanelHandlers,
    /** `parseWebviewMessage` from src/shared/validate.ts (injected so tests can count calls). */
    private readonly parse: (raw: unknown, ctx?: ParseContext) => ParseResult,
  ) {}

  /** The last token index sent (or queued) for the editor cursor. */
  get cursor(): number | null {
    return this.cursorToken;
  }
  get isReady(): boolean {
    return this.ready;
  }
  get currentAnalysis(): Analysis | null {
    return this.analysis;
  }
  get isStale(): boolean {
    return this.stale;
  }
  get currentLayer(): number {
    return this.layer;
  }

  // ---- host side -----------------------------------------------------------------------------------------------

  showAnalysis(analysis: Analysis, stale = false): void {
    this.analysis = analysis;
    this.stale = stale;
    this.error = null;
    this.cursorToken = null;
    this.cursorDirty = false;
    this.post('analysis/show', { analysis, stale });
  }

  setStale(stale: boolean): void {
    if (!this.analysis || this.stale === stale) return;
    this.stale = stale;
    // Before `ready` the flush sends analysis/show with the current `stale`; nothing extra to queue.
    this.post('analysis/stale', { stale });
  }

  setProgress(running: boolean, message?: string): void {
    this.progress = message === undefined ? { running } : { running, message };
    if (running) this.error = null;
    this.post('analysis/progress', this.progress);
  }

  showError(message: string): void {
    this.error = message;
    this.post('host/error', { message });
  }

  setCursorToken(tokenIndex: number | null): void {
    if (this.cursorToken === tokenIndex && !this.cursorDirty) return;
    this.cursorToken = tokenIndex;
    this.cursorDirty = true;
    if (this.ready) {
      this.cursorDirty = false;
      this.post('editor/cursorToken', { tokenIndex });
    }
  }

  /** The webview's document is being replaced (HTML set): queue until it says `ready`. */
  notReady(): void {
    this.ready = false;
  }

  // ---- webview side --------------------------------------------------------------------------------------------

  async receive(raw: unknown): Promise<void> {
    // Bounds from the analysis this host holds, so an index the webview makes up is refused at the door.
    const ctx: ParseContext = this.analysis
      ? { tokenCount: this.analysis.tokens.length, layerCount: this.analysis.layers.length }
      : { tokenCount: 0, layerCount: 0 };
    const parsed = this.parse(raw, ctx);
    if (!parsed.ok) {
      this.handlers.log('warn', `Dropped an invalid message from the routing panel: ${parsed.error}`);
      return;
    }
    const msg = parsed.message;
    try {
      if (msg.kind === 'notification') {
        switch (msg.method) {
          case 'ready':
            if (msg.params.protocolVersion !== PROTOCOL_VERSION) {
              this.handlers.log('warn', `Routing panel speaks protocol ${msg.params.protocolVersion}, host ${PROTOCOL_VERSION}.`);
            }
            this.ready = true;
            this.flush();
            return;
          case 'token/hover': {
            const i = msg.params.tokenIndex;
            this.handlers.hoverToken(i === null ? null : this.checkIndex(i));
            return;
          }
          case 'token/reveal': {
            const i = this.checkIndex(msg.params.tokenIndex);
            if (i !== null) await this.handlers.revealToken(i);
            return;
          }
          case 'view/layer':
            if (
              this.analysis &&
              Number.isInteger(msg.params.layer) &&
              msg.params.layer >= 0 &&
              msg.params.layer < this.analysis.layers.length
            ) {
              this.layer = msg.params.layer;
              this.handlers.layerChanged?.(this.layer);
            }
            return;
        }
        return;
      }
      if (msg.kind === 'request') {
        switch (msg.method) {
          case 'analysis/export': {
            if (!this.analysis) {
              this.respond(msg.id, false, undefined, 'There is no analysis to export.');
              return;
            }
            try {
              const saved = await this.handlers.exportAnalysis(this.analysis, msg.params.format);
              this.respond(msg.id, true, saved);
            } catch (e) {
              this.respond(msg.id, false, undefined, e instanceof Error ? e.message : String(e));
            }
            return;
          }
        }
      }
    } catch (e) {
      // A failing handler must not take the message loop down.
      this.handlers.log('error', `Routing panel message ${msg.method} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }

  private checkIndex(i: number): number | null {
    if (!this.analysis || !Number.isInteger(i) || i < 0 || i >= this.analysis.tokens.length) {
      this.handlers.log('debug', `Routing panel referred to token ${i}, which the current analysis does not have.`);
      return null;
    }
    return i;
  }

  private flush(): void {
    // Latest state only, in an order that makes sense to the view: the analysis first, then what decorates it.
    if (this.analysis) this.send('analysis/show', { analysis: this.analysis, stale: this.stale });
    if (this.progress) this.send('analysis/progress', this.progress);
    if (this.error !== null) this.send('host/error', { message: this.error });
    if (this.analysis && this.cursorToken !== null) this.send('editor/cursorToken', { tokenIndex: this.cursorToken });
    this.cursorDirty = false;
  }

  private post<M extends HostNotificationMethod>(method: M, params: HostNotifications[M]): void {
    if (this.ready) this.send(method, params);
  }

  private send<M extends HostNotificationMethod>(method: M, params: HostNotifications[M]): void {
    const message: HostMessage = { protocol: PROTOCOL_VERSION, kind: 'notification', method, params } as HostMessage;
    this.deliver(message);
  }

  private respond(id: number, ok: boolean, result?: unknown, error?: string): void {
    const message: HostMessage = { protocol: PROTOCOL_VERSION, kind: 'response', id, ok };
    if (result !== undefined) message.result = result;
    if (error !== undefined) message.error = error;
    this.deliver(message);
  }

  private deliver(message: HostMessage): void {
    try {
      const r = this.port.postMessage(message);
      if (r && typeof (r as PromiseLike<boolean>).then === 'function') {
        (r as PromiseLike<boolean>).then(
          (delivered) => {
            if (!delivered) this.handlers.log('debug', `Routing panel did not take ${describe(message)} (not live).`);
          },
          (e: unknown) => this.handlers.log('warn', `Posting ${describe(message)} failed: ${String(e)}`),
        );
      }
    } catch (e) {
      // Posting to a disposed webview throws; the panel is going away, so a log line is enough.
      this.handlers.log('warn', `Posting ${describe(message)} failed: ${String(e)}`);
    }
  }
}

function describe(m: HostMessage): string {
  return m.kind === 'notification' ? m.method : `response #${m.id}`;
}
