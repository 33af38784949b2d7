/**
 * The Compare Models panel's logic without the vscode API (unit-tested with a fake port): what it shows (a text
 * through 2-3 models, a dataset comparison, or both) and what a click on a disagreement does. Messaging is
 * PanelChannel's, as for the other panels; a disagreement line must be one of the current report's. The dataset
 * comparison exports as JSON or HTML (`compare/export`).
 */
import type { CompareReport } from '../../shared/compare-report';
import type {
  CompareExportFormat,
  CompareHostNotifications,
  CompareNotification,
  CompareParseContext,
  CompareParseResult,
  CompareTextView,
  CompareWebviewMessage,
} from '../../shared/protocol/compare';
import { PanelChannel, type PanelLog, type PanelPort } from '../panels/panelChannel';
import { PanelError } from '../panels/panelError';
import { datedExportName } from '../spotcheck/spotCheckLogic';

export interface ComparePanelHandlers {
  /** Compare the models on this disagreement (`line` already checked against the report). */
  openDisagreement(report: CompareReport, line: number): void | PromiseLike<void>;
  /** Save the dataset comparison; resolves to the saved path, or null when the user cancelled. */
  exportReport(report: CompareReport, format: CompareExportFormat): PromiseLike<string | null>;
  /** A button of the panel's error banner; `action` is one the host offered with the error (ErrorReporter.runAction). */
  errorAction?(action: string, settingsQuery?: string): void;
  log: PanelLog;
}

export class ComparePanelLogic {
  private readonly channel: PanelChannel<CompareHostNotifications, CompareWebviewMessage>;
  private text: CompareTextView | null = null;
  private report: CompareReport | null = null;
  private lines: Set<number> = new Set();
  private progress: CompareHostNotifications['compare/progress'] | null = null;
  private readonly error: PanelError;

  constructor(
    port: PanelPort<CompareHostNotifications>,
    private readonly handlers: ComparePanelHandlers,
    parse: (raw: unknown, ctx?: CompareParseContext) => CompareParseResult,
  ) {
    this.error = new PanelError('Compare panel', handlers.log);
    this.channel = new PanelChannel<CompareHostNotifications, CompareWebviewMessage>({
      what: 'compare panel',
      port,
      log: handlers.log,
      parse: (raw) => parse(raw, { disagreementLines: this.lines }),
      snapshot: () => this.snapshot(),
      onNotification: async (m) => {
        // Only a button the host offered with the error: the webview cannot make up commands.
        if (m.method === 'error/action') this.error.act(m.params.action, this.handlers.errorAction);
        else if (m.method === 'disagreement/open' && this.report) await this.handlers.openDisagreement(this.report, m.params.line);
      },
      onRequest: (m) => {
        if (!this.report) throw new Error('There is no dataset comparison to export; run Compare Models on Dataset first.');
        return this.handlers.exportReport(this.report, m.params.format);
      },
    });
  }

  get isReady(): boolean {
    return this.channel.isReady;
  }
  get currentText(): CompareTextView | null {
    return this.text;
  }
  get currentReport(): CompareReport | null {
    return this.report;
  }

  showText(view: CompareTextView): void {
    this.text = view;
    this.error.clear();
    this.progress = null;
    this.channel.notify('compare/text', view);
  }

  showReport(report: CompareReport): void {
    this.report = report;
    this.lines = new Set(report.disagreements.map((d) => d.line));
    this.error.clear();
    this.progress = null;
    this.channel.notify('compare/dataset', { report });
  }

  setProgress(progress: CompareHostNotifications['compare/progress']): void {
    this.progress = progress.running ? progress : null;
    if (progress.running) this.error.clear();
    this.channel.notify('compare/progress', progress);
  }

  /** Shows an error in the banner, with the buttons the notification would have had; the views stay, dimmed. */
  showError(message: string, actions: readonly string[] = [], settingsQuery?: string): void {
    this.progress = null;
    this.channel.notify('compare/error', this.error.set(message, actions, settingsQuery));
  }

  notReady(): void {
    this.channel.notReady();
  }

  receive(raw: unknown): Promise<void> {
    return this.channel.receive(raw);
  }

  private snapshot(): CompareNotification[] {
    const n = this.channel.notification;
    const out: CompareNotification[] = [];
    if (this.report) out.push(n('compare/dataset', { report: this.report }));
    if (this.text) out.push(n('compare/text', this.text));
    if (this.progress) out.push(n('compare/progress', this.progress));
    const error = this.error.params();
    if (error) out.push(n('compare/error', error));
    return out;
  }
}

/**
 * The models a comparison takes from a quick pick (or a command argument): 2 or 3 distinct ones. Returns the error
 * to show instead when the choice is not usable.
 */
export function checkModelChoice(names: readonly string[], min: number, max: number): string | null {
  if (new Set(names).size !== names.length) return 'pick each model once';
  if (names.length < min || names.length > max) return `pick ${min} or ${max} models to compare (${names.length} picked)`;
  return null;
}

/** The export's default file name: `compare-<dataset>-<model>-vs-<model>-<UTC date and time>.<format>`. */
export function compareExportFileName(
  report: Pick<CompareReport, 'dataset' | 'models'>,
  format: CompareExportFormat,
  now = new Date(),
): string {
  return datedExportName('compare', report.dataset.path, report.models.map((m) => m.name).join('-vs-'), format, now);
}
