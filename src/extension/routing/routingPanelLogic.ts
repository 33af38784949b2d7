/**
 * The routing panel's logic without the vscode API (unit-tested with a fake port): the state the panel shows and
 * what each message from the webview does. How messages travel (the ready gate, the full state on every `ready`,
 * validation, request and response) is PanelChannel's (panels/panelChannel.ts), shared with the spot-check panel.
 *
 * Token indexes are checked against the analysis the host holds: the webview is untrusted.
 */
import type { Analysis } from '../../shared/analysis';
import type { NotificationMessage } from '../../shared/protocol/envelope';
import type { FigureSaveParams } from '../../shared/protocol/figure';
import { packAnalysis, type PackedAnalysis } from '../../shared/protocol/packed-analysis';
import type { ImportanceCheck } from '../../shared/importance-check';
import type { HighlightColorBy, HostNotifications, ParseContext, ParseResult, WebviewMessage } from '../../shared/protocol/routing';
import { PanelChannel, type PanelLog, type PanelPort } from '../panels/panelChannel';
import { PanelError } from '../panels/panelError';

export type RoutingPanelPort = PanelPort<HostNotifications>;

export interface PanelHandlers {
  /** Pointer over a token in the webview (null: none); `tokenIndex` already bounds-checked. */
  hoverToken(tokenIndex: number | null): void;
  revealToken(tokenIndex: number): void | PromiseLike<void>;
  /** Save the analysis; resolves to the saved path, or null when the user cancelled. */
  exportAnalysis(analysis: Analysis, format: 'json'): PromiseLike<string | null>;
  layerChanged?(layer: number): void;
  /** The user switched the editor highlights in the panel. */
  highlightModeChanged?(colorBy: HighlightColorBy): void;
  /** A button of the panel's error banner; `action` is one the host offered with the error (ErrorReporter.runAction). */
  errorAction?(action: string, settingsQuery?: string): void;
  /** Save a figure the webview rendered (already validated); resolves to the saved path, or null when cancelled. */
  saveFigure?(figure: FigureSaveParams, analysis: Analysis): PromiseLike<string | null>;
  /**
   * Importance against occlusion for `analysis` (the one shown when the button was pressed); rejects with the
   * reason when it cannot run. `signal` aborts it (importance/cancel, or a new analysis).
   */
  checkImportance?(
    analysis: Analysis,
    signal: AbortSignal,
    onProgress: (done: number, total: number) => void,
  ): PromiseLike<ImportanceCheck>;
  log: PanelLog;
}

export class RoutingPanelLogic {
  private readonly channel: PanelChannel<HostNotifications, WebviewMessage>;
  private analysis: Analysis | null = null;
  /** The analysis as posted (packed once, re-sent as is when the webview is rebuilt). */
  private wire: PackedAnalysis | null = null;
  private stale = false;
  private progress: HostNotifications['analysis/progress'] | null = null;
  private readonly error: PanelError;
  private highlightMode: HostNotifications['highlights/mode'] | null = null;
  private cursorToken: number | null = null;
  /** The cursor moved while the webview was not ready (the next `ready` sends it). */
  private cursorDirty = false;
  private layer = 0;
  /** The importance check in flight (one at a time: a new press or a new analysis stops the old one). */
  private importanceRun: AbortController | null = null;

  constructor(
    port: RoutingPanelPort,
    private readonly handlers: PanelHandlers,
    /** `parseWebviewMessage` from src/shared/protocol/routing.ts (injected so tests can count calls). */
    parse: (raw: unknown, ctx?: ParseContext) => ParseResult,
  ) {
    this.error = new PanelError('Routing panel', handlers.log);
    this.channel = new PanelChannel<HostNotifications, WebviewMessage>({
      what: 'routing panel',
      port,
      log: handlers.log,
      // Bounds from the analysis this host holds, so an index the webview makes up is refused at the door.
      parse: (raw) =>
        parse(
          raw,
          this.analysis
            ? { tokenCount: this.analysis.tokens.length, layerCount: this.analysis.layers.length }
            : { tokenCount: 0, layerCount: 0 },
        ),
      snapshot: () => this.snapshot(),
      onNotification: (m) => this.onNotification(m),
      onRequest: (m) => this.onRequest(m),
    });
  }

  /** The last token index sent (or queued) for the editor cursor. */
  get cursor(): number | null {
    return this.cursorToken;
  }
  get isReady(): boolean {
    return this.channel.isReady;
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
    this.cancelImportanceCheck();
    this.analysis = analysis;
    this.wire = packAnalysis(analysis);
    this.stale = stale;
    this.error.clear();
    this.cursorToken = null;
    this.cursorDirty = false;
    this.channel.notify('analysis/show', { analysis: this.wire, stale });
  }

  setStale(stale: boolean): void {
    if (!this.analysis || this.stale === stale) return;
    this.stale = stale;
    // Before `ready` the snapshot sends analysis/show with the current `stale`; nothing extra to keep.
    this.channel.notify('analysis/stale', { stale });
  }

  setProgress(running: boolean, message?: string): void {
    this.progress = message === undefined ? { running } : { running, message };
    if (running) this.error.clear();
    this.channel.notify('analysis/progress', this.progress);
  }

  /** Shows an error in the panel, with the buttons the notification would have had. */
  showError(message: string, actions: readonly string[] = [], settingsQuery?: string): void {
    this.channel.notify('host/error', this.error.set(message, actions, settingsQuery));
  }

  setHighlightMode(colorBy: HighlightColorBy, enabled: boolean): void {
    this.highlightMode = { colorBy, enabled };
    this.channel.notify('highlights/mode', this.highlightMode);
  }

  setCursorToken(tokenIndex: number | null): void {
    if (this.cursorToken === tokenIndex && !this.cursorDirty) return;
    this.cursorToken = tokenIndex;
    this.cursorDirty = !this.channel.isReady;
    this.channel.notify('editor/cursorToken', { tokenIndex });
  }

  /** Stops the importance check in flight, if any (its request resolves with null). */
  cancelImportanceCheck(): void {
    this.importanceRun?.abort();
    this.importanceRun = null;
  }

  /** The webview's document is being replaced (HTML set): queue until it says `ready`. */
  notReady(): void {
    this.channel.notReady();
  }

  // ---- webview side --------------------------------------------------------------------------------------------

  receive(raw: unknown): Promise<void> {
    return this.channel.receive(raw);
  }

  /** The latest state only, in an order that makes sense to the view: the analysis first, then what decorates it. */
  private snapshot(): NotificationMessage<HostNotifications>[] {
    const n = this.channel.notification;
    const out: NotificationMessage<HostNotifications>[] = [];
    if (this.wire) out.push(n('analysis/show', { analysis: this.wire, stale: this.stale }));
    if (this.progress) out.push(n('analysis/progress', this.progress));
    if (this.highlightMode) out.push(n('highlights/mode', this.highlightMode));
    const error = this.error.params();
    if (error) out.push(n('host/error', error));
    if (this.analysis && this.cursorToken !== null) out.push(n('editor/cursorToken', { tokenIndex: this.cursorToken }));
    this.cursorDirty = false;
    return out;
  }

  private async onNotification(msg: Extract<WebviewMessage, { kind: 'notification' }>): Promise<void> {
    switch (msg.method) {
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
      case 'view/highlights':
        this.handlers.highlightModeChanged?.(msg.params.colorBy);
        return;
      case 'importance/cancel':
        this.cancelImportanceCheck();
        return;
      case 'error/action':
        // Only a button the host offered with the error on show: the webview cannot make up commands.
        this.error.act(msg.params.action, this.handlers.errorAction);
        return;
    }
  }

  private onRequest(msg: Extract<WebviewMessage, { kind: 'request' }>): PromiseLike<string | ImportanceCheck | null> {
    switch (msg.method) {
      case 'analysis/export':
        if (!this.analysis) throw new Error('There is no analysis to export.');
        return this.handlers.exportAnalysis(this.analysis, msg.params.format);
      case 'figure/save':
        if (!this.analysis) throw new Error('There is no analysis to save a figure of.');
        if (!this.handlers.saveFigure) throw new Error('Saving figures is not available here.');
        return this.handlers.saveFigure(msg.params, this.analysis);
      case 'importance/check':
        return this.checkImportance();
    }
  }

  private async checkImportance(): Promise<ImportanceCheck | null> {
    const analysis = this.analysis;
    if (!analysis) throw new Error('There is no analysis to check.');
    if (!this.handlers.checkImportance) throw new Error('The importance check is not available here.');
    this.cancelImportanceCheck();
    const run = new AbortController();
    this.importanceRun = run;
    try {
      const check = await this.handlers.checkImportance(analysis, run.signal, (done, total) => {
        if (!run.signal.aborted) this.channel.notify('importance/progress', { done, total });
      });
      if (run.signal.aborted) return null;
      // Kept with the analysis (and its wire copy, which a re-ready webview is sent): a reloaded panel and Export
      // Analysis have it too.
      analysis.importance_check = check;
      if (this.analysis === analysis && this.wire) this.wire.importance_check = check;
      return check;
    } catch (e) {
      if (run.signal.aborted) return null;
      throw e;
    } finally {
      if (this.importanceRun === run) this.importanceRun = null;
    }
  }

  private checkIndex(i: number): number | null {
    if (!this.analysis || !Number.isInteger(i) || i < 0 || i >= this.analysis.tokens.length) {
      this.handlers.log('debug', `Routing panel referred to token ${i}, which the current analysis does not have.`);
      return null;
    }
    return i;
  }
}
