/**
 * The spot-check panel's logic without the vscode API (unit-tested with a fake port), on the same rules as the
 * routing panel's core: nothing is posted before `ready`; until then only the latest state is kept and it is flushed
 * on every `ready` (a hidden webview reloads and says `ready` again); every incoming message is validated, and an
 * example line must be one of the current report's examples (the webview is untrusted).
 */
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { PROTOCOL_VERSION, type ResponseMessage } from '../../shared/protocol/envelope';
import type {
  SpotCheckHostMessage,
  SpotCheckHostNotificationMethod,
  SpotCheckHostNotifications,
  SpotCheckLinking,
  SpotCheckParseContext,
  SpotCheckParseResult,
} from '../../shared/protocol/spotcheck';

export interface SpotCheckPanelPort {
  postMessage(message: SpotCheckHostMessage): PromiseLike<boolean> | boolean;
}

export interface SpotCheckPanelHandlers {
  /** Open the dataset at this example's line and analyse it (`line` already checked against the report). */
  openExample(report: SpotCheckReport, line: number): void | PromiseLike<void>;
  /** Save the report; resolves to the saved path, or null when the user cancelled. */
  exportReport(report: SpotCheckReport, format: 'json' | 'html'): PromiseLike<string | null>;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
}

type Progress = SpotCheckHostNotifications['spotcheck/progress'];

export class SpotCheckPanelCore {
  private ready = false;
  private report: SpotCheckReport | null = null;
  private linking: SpotCheckLinking = { canOpen: false, note: null };
  private lines: Set<number> = new Set();
  private progress: Progress | null = null;
  private error: string | null = null;

  constructor(
    private readonly port: SpotCheckPanelPort,
    private readonly handlers: SpotCheckPanelHandlers,
    /** `parseSpotCheckMessage` from src/shared/validate.ts. */
    private readonly parse: (raw: unknown, ctx?: SpotCheckParseContext) => SpotCheckParseResult,
  ) {}

  get isReady(): boolean {
    return this.ready;
  }
  get currentReport(): SpotCheckReport | null {
    return this.report;
  }

  // ---- host side -----------------------------------------------------------------------------------------------

  showReport(report: SpotCheckReport, linking: SpotCheckLinking): void {
    this.report = report;
    this.linking = linking;
    this.lines = new Set(report.examples.map((e) => e.line));
    this.error = null;
    this.progress = null;
    this.post('spotcheck/show', { report, linking });
  }

  setProgress(progress: Progress): void {
    this.progress = progress.running ? progress : null;
    if (progress.running) this.error = null;
    this.post('spotcheck/progress', progress);
  }

  showError(message: string): void {
    this.error = message;
    this.progress = null;
    this.post('spotcheck/error', { message });
  }

  notReady(): void {
    this.ready = false;
  }

  // ---- webview side --------------------------------------------------------------------------------------------

  async receive(raw: unknown): Promise<void> {
    const parsed = this.parse(raw, { exampleLines: this.lines });
    if (!parsed.ok) {
      this.handlers.log('warn', `Dropped an invalid message from the spot-check panel: ${parsed.error}`);
      return;
    }
    const msg = parsed.message;
    try {
      if (msg.kind === 'notification') {
        if (msg.method === 'ready') {
          this.ready = true;
          this.flush();
        } else if (msg.method === 'example/open' && this.report) {
          await this.handlers.openExample(this.report, msg.params.line);
        }
        return;
      }
      if (msg.method === 'spotcheck/export') {
        if (!this.report) {
          this.respond(msg.id, false, undefined, 'There is no report to export.');
          return;
        }
        try {
          const saved = await this.handlers.exportReport(this.report, msg.params.format);
          this.respond(msg.id, true, saved);
        } catch (e) {
          this.respond(msg.id, false, undefined, e instanceof Error ? e.message : String(e));
        }
      }
    } catch (e) {
      this.handlers.log(
        'error',
        `Spot-check panel message ${msg.method} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
    }
  }

  private flush(): void {
    if (this.report) this.send('spotcheck/show', { report: this.report, linking: this.linking });
    if (this.progress) this.send('spotcheck/progress', this.progress);
    if (this.error !== null) this.send('spotcheck/error', { message: this.error });
  }

  private post<M extends SpotCheckHostNotificationMethod>(method: M, params: SpotCheckHostNotifications[M]): void {
    if (this.ready) this.send(method, params);
  }

  private send<M extends SpotCheckHostNotificationMethod>(method: M, params: SpotCheckHostNotifications[M]): void {
    this.deliver({ protocol: PROTOCOL_VERSION, kind: 'notification', method, params } as SpotCheckHostMessage);
  }

  private respond(id: number, ok: boolean, result?: unknown, error?: string): void {
    const message: ResponseMessage = { protocol: PROTOCOL_VERSION, kind: 'response', id, ok };
    if (result !== undefined) message.result = result;
    if (error !== undefined) message.error = error;
    this.deliver(message);
  }

  private deliver(message: SpotCheckHostMessage): void {
    const what = message.kind === 'notification' ? message.method : `response #${message.id}`;
    try {
      const r = this.port.postMessage(message);
      if (r && typeof (r as PromiseLike<boolean>).then === 'function') {
        (r as PromiseLike<boolean>).then(
          (delivered) => {
            if (!delivered) this.handlers.log('debug', `Spot-check panel did not take ${what} (not live).`);
          },
          (e: unknown) => this.handlers.log('warn', `Posting ${what} failed: ${String(e)}`),
        );
      }
    } catch (e) {
      this.handlers.log('warn', `Posting ${what} failed: ${String(e)}`);
    }
  }
}
