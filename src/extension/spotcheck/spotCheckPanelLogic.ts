/**
 * The spot-check panel's logic without the vscode API (unit-tested with a fake port): the report it shows and what
 * each message from the webview does. Messaging (ready gate, full state on every `ready`, validation, request and
 * response) is PanelChannel's (panels/panelChannel.ts), as for the routing panel. An example line must be one of the
 * current report's examples (the webview is untrusted).
 */
import type { NotificationMessage } from '../../shared/protocol/envelope';
import type { FigureSaveParams } from '../../shared/protocol/figure';
import type {
  SpotCheckExportFormat,
  SpotCheckHostNotifications,
  SpotCheckLinking,
  SpotCheckParseContext,
  SpotCheckParseResult,
  SpotCheckWebviewMessage,
} from '../../shared/protocol/spotcheck';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { PanelChannel, type PanelLog, type PanelPort } from '../panels/panelChannel';
import { PanelError } from '../panels/panelError';

export type SpotCheckPanelPort = PanelPort<SpotCheckHostNotifications>;

export interface SpotCheckPanelHandlers {
  /** Open the dataset at this example's line and analyse it (`line` already checked against the report). */
  openExample(report: SpotCheckReport, line: number): void | PromiseLike<void>;
  /** Save the report; resolves to the saved path, or null when the user cancelled. */
  exportReport(report: SpotCheckReport, format: SpotCheckExportFormat): PromiseLike<string | null>;
  /** Save one of the report's charts (validated by the protocol); resolves to the path, or null when cancelled. */
  saveFigure?(figure: FigureSaveParams, report: SpotCheckReport): PromiseLike<string | null>;
  /** A button of the panel's error banner; `action` is one the host offered with the error (ErrorReporter.runAction). */
  errorAction?(action: string, settingsQuery?: string): void;
  log: PanelLog;
  /** The panel was closed (the status bar summary goes with it). */
  closed?(): void;
}

type Progress = SpotCheckHostNotifications['spotcheck/progress'];

export class SpotCheckPanelLogic {
  private readonly channel: PanelChannel<SpotCheckHostNotifications, SpotCheckWebviewMessage>;
  private report: SpotCheckReport | null = null;
  private linking: SpotCheckLinking = { canOpen: false, note: null };
  private lines: Set<number> = new Set();
  private progress: Progress | null = null;
  private readonly error: PanelError;

  constructor(
    port: SpotCheckPanelPort,
    private readonly handlers: SpotCheckPanelHandlers,
    /** `parseSpotCheckMessage` from src/shared/protocol/spotcheck.ts. */
    parse: (raw: unknown, ctx?: SpotCheckParseContext) => SpotCheckParseResult,
  ) {
    this.error = new PanelError('Spot-check panel', handlers.log);
    this.channel = new PanelChannel<SpotCheckHostNotifications, SpotCheckWebviewMessage>({
      what: 'spot-check panel',
      port,
      log: handlers.log,
      parse: (raw) => parse(raw, { exampleLines: this.lines }),
      snapshot: () => this.snapshot(),
      onNotification: async (m) => {
        // Only a button the host offered with the error: the webview cannot make up commands.
        if (m.method === 'error/action') this.error.act(m.params.action, this.handlers.errorAction);
        else if (m.method === 'example/open' && this.report) await this.handlers.openExample(this.report, m.params.line);
      },
      onRequest: (m) => {
        if (!this.report) throw new Error('There is no report to export.');
        if (m.method === 'figure/save') {
          if (!this.handlers.saveFigure) throw new Error('Saving figures is not available here.');
          return this.handlers.saveFigure(m.params, this.report);
        }
        return this.handlers.exportReport(this.report, m.params.format);
      },
    });
  }

  get isReady(): boolean {
    return this.channel.isReady;
  }
  get currentReport(): SpotCheckReport | null {
    return this.report;
  }

  // ---- host side -----------------------------------------------------------------------------------------------

  showReport(report: SpotCheckReport, linking: SpotCheckLinking): void {
    this.report = report;
    this.linking = linking;
    this.lines = new Set(report.examples.map((e) => e.line));
    this.error.clear();
    this.progress = null;
    this.channel.notify('spotcheck/show', { report, linking });
  }

  setProgress(progress: Progress): void {
    this.progress = progress.running ? progress : null;
    if (progress.running) this.error.clear();
    this.channel.notify('spotcheck/progress', progress);
  }

  /** Shows an error in the banner, with the buttons the notification would have had; the report stays, dimmed. */
  showError(message: string, actions: readonly string[] = [], settingsQuery?: string): void {
    this.progress = null;
    this.channel.notify('spotcheck/error', this.error.set(message, actions, settingsQuery));
  }

  notReady(): void {
    this.channel.notReady();
  }

  // ---- webview side --------------------------------------------------------------------------------------------

  receive(raw: unknown): Promise<void> {
    return this.channel.receive(raw);
  }

  private snapshot(): NotificationMessage<SpotCheckHostNotifications>[] {
    const n = this.channel.notification;
    const out: NotificationMessage<SpotCheckHostNotifications>[] = [];
    if (this.report) out.push(n('spotcheck/show', { report: this.report, linking: this.linking }));
    if (this.progress) out.push(n('spotcheck/progress', this.progress));
    const error = this.error.params();
    if (error) out.push(n('spotcheck/error', error));
    return out;
  }
}
