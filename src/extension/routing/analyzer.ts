/**
 * Analyze Routing: the command (the selection, or the current line), and analyses asked for by other features (a
 * spot-check example). Owns the routing panel and the one latest-wins policy of the extension: a new request
 * cancels the one still running (through the engine request's signal) and a superseded result is never shown.
 * The editor side is EditorSync (editorSync.ts), re-linking after a reload is Relinker (relink.ts).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { checkTextImportance, EngineError } from '../../core';
import type { Analysis } from '../../shared/analysis';
import { importanceCheckUnavailable, type ImportanceCheck } from '../../shared/importance-check';
import type { ErrorReporter } from '../errors';
import { describeError, isCancellation } from '../errorsLogic';
import { readEngineSettings } from '../model/config';
import type { EngineManager } from '../model/engineManager';
import type { RoutingStatusBar } from '../model/statusBar';
import { EditorSync } from './editorSync';
import { exportAnalysis } from './exportAnalysis';
import { exportFigure } from '../panels/exportFigure';
import type { UserError } from '../errorsLogic';
import type { Highlights } from './highlights';
import { RoutingHoverProvider } from './hover';
import { LatestWins } from './latestWins';
import { Relinker, textStillThere } from './relink';
import { RoutingPanel } from './routingPanel';
import type { AnalysisSession, Anchor } from './session';
import type { RemoteSource } from '../traces/remoteSource';

/**
 * Longer selections are refused up front, at once: the engine would analyse them without blocking the extension
 * host (it works in slices), but the panel cannot draw hundreds of thousands of tokens usefully. Use the CLI
 * (`damoe analyze -`, which streams its JSON) for longer texts.
 */
export const MAX_SELECTION_CHARS = 100_000;

/** Texts from this length on show a progress notification with Cancel while they are analysed. */
export const LONG_TEXT_CHARS = 20_000;

/** What `damoe.analyzeRouting` resolves to (host tests and other extensions can use it). */
export type AnalyzeResult =
  | { status: 'ok'; analysis: Analysis; uri: string; baseOffset: number; usedCurrentLine: boolean; windowed: boolean; linked: boolean }
  | { status: 'cancelled' }
  | { status: 'no-editor' | 'empty' | 'too-long'; message: string }
  | { status: 'error'; code: string; message: string };

/** What the routing feature is given by activate(). */
export interface RoutingDeps {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  engines: EngineManager;
  status: RoutingStatusBar;
  errors: ErrorReporter;
  session: AnalysisSession;
  highlights: Highlights;
  /** The live source: with damoe.remote.url set, the text goes to that server instead of the local model. */
  remote: RemoteSource;
}

export class RoutingAnalyzer implements vscode.Disposable {
  readonly panel: RoutingPanel;
  private readonly latest = new LatestWins();
  private readonly editors: EditorSync;
  private readonly relinker: Relinker;
  private readonly extensionPath: string;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly deps: RoutingDeps) {
    const { context, log, session, highlights } = deps;
    this.extensionPath = context.extensionPath;
    this.panel = new RoutingPanel(context.extensionUri, {
      log: (level, message) => log[level](message),
      hoverToken: (i) => highlights.showToken(i),
      revealToken: (i) => this.editors.revealToken(i),
      exportAnalysis: (a) => exportAnalysis(a, session.anchor, log),
      restored: (a) => {
        this.relinker.restored(a);
        this.showHighlightMode();
      },
      disposed: () => highlights.showToken(null),
      layerChanged: (l) => highlights.setLayer(l),
      highlightModeChanged: (mode) => highlights.setMode(mode),
      errorAction: (action, settingsQuery) => deps.errors.runAction(action, settingsQuery),
      saveFigure: (figure, analysis) => {
        const anchor = session.anchor ? vscode.Uri.parse(session.anchor.uri) : undefined;
        const folder = anchor?.scheme === 'file' ? vscode.Uri.joinPath(anchor, '..') : undefined;
        return exportFigure(figure, { prefix: analysis.model.name, folder }, log);
      },
      checkImportance: (analysis, signal, onProgress) => this.checkImportance(analysis, signal, onProgress),
    });
    this.editors = new EditorSync(session, highlights, () => this.panel.controller);
    this.relinker = new Relinker(context.workspaceState, {
      session,
      highlights,
      log,
      setStale: (stale) => this.panel.controller?.setStale(stale),
    });
    this.disposables = [
      this.panel,
      this.panel.registerSerializer(),
      vscode.languages.registerHoverProvider({ pattern: '**' }, new RoutingHoverProvider(session)),
      this.editors,
      this.relinker,
    ];
  }

  // ---- commands ------------------------------------------------------------------------------------------------

  async analyzeRouting(): Promise<AnalyzeResult> {
    // With the routing panel focused there is no active text editor; the one the user last worked in is meant.
    const editor = this.editors.targetEditor();
    if (!editor) {
      const message = 'DA-MoE: open a file and select the text to analyse.';
      void vscode.window.showInformationMessage(message);
      return { status: 'no-editor', message };
    }
    const document = editor.document;
    let range: vscode.Range = editor.selection;
    const usedCurrentLine = editor.selection.isEmpty;
    if (usedCurrentLine) {
      range = document.lineAt(editor.selection.active.line).range;
      vscode.window.setStatusBarMessage('DA-MoE: no selection — analysing the current line', 4000);
    } else if (editor.selections.length > 1) {
      vscode.window.setStatusBarMessage('DA-MoE: several selections — analysing the primary one', 4000);
    }
    const text = document.getText(range);
    if (text.trim() === '') {
      const message = usedCurrentLine
        ? 'DA-MoE: the current line is empty. Select the text to analyse, then run Analyze Routing.'
        : 'DA-MoE: the selection is only whitespace. Select some text to analyse.';
      void vscode.window.showInformationMessage(message);
      return { status: 'empty', message };
    }
    if (text.length > MAX_SELECTION_CHARS) {
      const message = `DA-MoE: the selection has ${text.length.toLocaleString('en')} characters; select at most ${MAX_SELECTION_CHARS.toLocaleString('en')}, or analyse the whole text with the command line (damoe analyze --json - < file).`;
      void vscode.window.showWarningMessage(message);
      return { status: 'too-long', message };
    }
    const anchor: Anchor = { uri: document.uri.toString(), version: document.version, baseOffset: document.offsetAt(range.start) };
    return this.runAnalysis({ text }, { editor, anchor }, usedCurrentLine);
  }

  /**
   * Analyses a text (and pair) given by another feature, e.g. a spot-check example. With `link`, the text is the
   * document range `link.range` of `link.editor` (linked like a selection: highlights, hover, cursor); without, the
   * analysis is shown in the panel but has no place in the editor.
   */
  async analyzeText(
    request: { text: string; textPair?: string },
    link: { editor: vscode.TextEditor; range: vscode.Range } | null,
    /** The panel opens in this editor column (the spot-check opens it beside its report, not over it). */
    column?: vscode.ViewColumn,
  ): Promise<AnalyzeResult> {
    if (request.text.trim() === '') return { status: 'empty', message: 'DA-MoE: the text to analyse is empty.' };
    if (request.text.length + (request.textPair?.length ?? 0) > MAX_SELECTION_CHARS) {
      return { status: 'too-long', message: `DA-MoE: the text has more than ${MAX_SELECTION_CHARS.toLocaleString('en')} characters.` };
    }
    let target: { editor: vscode.TextEditor; anchor: Anchor } | null = null;
    if (link) {
      const doc = link.editor.document;
      if (doc.getText(link.range) !== request.text) throw new Error('analyzeText: the linked range does not hold the text');
      target = {
        editor: link.editor,
        anchor: { uri: doc.uri.toString(), version: doc.version, baseOffset: doc.offsetAt(link.range.start) },
      };
    }
    return this.runAnalysis(request, target, false, column);
  }

  /** Tells the panel how the editor highlights are coloured now (after a setting change or a restore). */
  showHighlightMode(): void {
    this.panel.controller?.setHighlightMode(this.deps.highlights.colorBy, this.deps.highlights.isEnabled);
  }

  private async runAnalysis(
    request: { text: string; textPair?: string },
    target: { editor: vscode.TextEditor; anchor: Anchor } | null,
    usedCurrentLine: boolean,
    column?: vscode.ViewColumn,
  ): Promise<AnalyzeResult> {
    const { text, textPair } = request;
    const editor = target?.editor;
    const document = editor?.document;
    const anchor = target?.anchor ?? null;
    const ticket = this.latest.begin();
    this.deps.status.setRunning(true);
    const remote = this.deps.remote.settings();
    let modelDir = remote ? remote.url : readEngineSettings(this.extensionPath).modelDir;
    try {
      // Open (or reveal) the panel at once so the run is visible there too; it keeps the editor focused.
      const opened = !this.panel.exists;
      this.panel.show(true, column).setProgress(true, remote ? `Asking ${remoteOrigin(remote.url)}…` : 'Analysing…');
      if (opened) this.showHighlightMode();
      const withCancel = (title: string, run: () => Promise<Analysis>): Thenable<Analysis> =>
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (_progress, token) => {
          // Cancel aborts the ticket's signal: the engine request stops, or the HTTP request's connection closes.
          const sub = token.onCancellationRequested(() => {
            if (ticket.isCurrent()) this.latest.cancel();
          });
          return run().finally(() => sub.dispose());
        });
      let analysis: Analysis;
      if (remote) {
        if (textPair !== undefined) {
          throw new EngineError('invalid-option', 'a text pair cannot be sent to a remote server (damoe.remote.url): it takes one prompt.');
        }
        // A network request always gets the notification with Cancel: a server may take long to answer.
        analysis = await withCancel(`DA-MoE: asking ${remoteOrigin(remote.url)} (${remote.kind}) for the routing…`, () =>
          this.deps.remote.analyze(text, remote, ticket.signal),
        );
        if (!ticket.isCurrent()) return { status: 'cancelled' };
        this.deps.status.setModel(analysis.model.name, remote.kind);
      } else {
        const engine = await this.deps.engines.get();
        modelDir = engine.model.path;
        if (!ticket.isCurrent()) return { status: 'cancelled' };
        this.deps.status.setModel(engine.model.name, engine.provider.used);
        const run = (): Promise<Analysis> =>
          engine.analyze(textPair === undefined ? { text, signal: ticket.signal } : { text, textPair, signal: ticket.signal });
        const chars = text.length + (textPair?.length ?? 0);
        // The engine works in slices, so the extension host stays responsive; a long text also gets a notification
        // with its progress and a Cancel button.
        analysis =
          chars < LONG_TEXT_CHARS ? await run() : await withCancel(`DA-MoE: analysing ${chars.toLocaleString('en')} characters…`, run);
      }
      if (!ticket.isCurrent()) return { status: 'cancelled' };

      const stale = document && anchor ? !textStillThere(document, anchor, text) : false;
      this.deps.session.set(analysis, document && anchor ? { ...anchor, version: document.version } : null, stale);
      this.relinker.remember(anchor, text);
      this.panel.show(true, column).showAnalysis(analysis, stale);
      this.deps.highlights.showToken(null);
      this.deps.highlights.refresh();
      this.deps.status.setLatency(analysis.timings.totalMs);
      if (analysis.windowing) {
        vscode.window.setStatusBarMessage(
          `DA-MoE: long text analysed in ${analysis.windowing.windows} overlapping windows of ${analysis.windowing.windowTokens} tokens`,
          6000,
        );
      }
      this.deps.log.info(
        `Analysed ${analysis.tokens.length} tokens of ${document ? document.uri.toString(true) : 'a text without editor link'} in ${Math.round(analysis.timings.totalMs)} ms` +
          (analysis.windowing ? ` (${analysis.windowing.windows} windows)` : '') +
          (analysis.prediction
            ? `: ${analysis.prediction.label}.`
            : analysis.languageModel
              ? `: perplexity ${analysis.languageModel.perplexity.toFixed(2)}.`
              : '.'),
      );
      if (editor) this.editors.updateCursorToken(editor);
      return {
        status: 'ok',
        analysis,
        uri: anchor?.uri ?? '',
        baseOffset: anchor?.baseOffset ?? 0,
        usedCurrentLine,
        windowed: analysis.windowing !== null,
        linked: anchor !== null,
      };
    } catch (e) {
      if (isCancellation(e) || !ticket.isCurrent()) return { status: 'cancelled' };
      const ue = describeError(e, modelDir);
      // Once: in the panel's banner (with the notification's buttons) while it is in view, else as a notification.
      this.deps.errors.showOnce(ue, this.panel);
      if (ue.dropEngine) this.deps.engines.invalidate();
      return { status: 'error', code: ue.code, message: ue.message };
    } finally {
      if (this.latest.finish(ticket)) {
        this.deps.status.setRunning(false);
        this.panel.controller?.setProgress(false);
      }
    }
  }

  /**
   * The panel's "Check importance (occlusion)": the shown analysis's text and its one-token-deleted variants
   * through the engine that made it (docs/importance-check.md). Rejects with a message for the panel's banner.
   */
  private async checkImportance(
    analysis: Analysis,
    signal: AbortSignal,
    onProgress: (done: number, total: number) => void,
  ): Promise<ImportanceCheck> {
    const unavailable = importanceCheckUnavailable(analysis.model);
    if (unavailable) throw new Error(unavailable);
    let modelDir = readEngineSettings(this.extensionPath).modelDir;
    try {
      const engine = await this.deps.engines.get();
      modelDir = engine.model.path;
      if (path.resolve(engine.model.path) !== path.resolve(analysis.model.path)) {
        throw new Error(
          `This analysis was made with ${analysis.model.name}, and the selected model is now ${engine.model.name}: run Analyze Routing again, then check its importance.`,
        );
      }
      const request =
        analysis.textPair === undefined ? { text: analysis.text, signal } : { text: analysis.text, textPair: analysis.textPair, signal };
      const check = await checkTextImportance(engine, request, { onProgress: (p) => onProgress(p.sequencesDone, p.sequences) });
      this.deps.log.info(
        `Importance check of ${analysis.tokens.length} tokens: ${check.sequences} model inputs; Spearman per layer ${check.layers.map((l) => (l.spearman === null ? 'n/a' : l.spearman.toFixed(3))).join(' ')}.`,
      );
      return check;
    } catch (e) {
      if (signal.aborted || isCancellation(e)) throw e;
      if (!(e instanceof Error) || e.name === 'EngineError') {
        const ue = describeError(e, modelDir);
        this.deps.errors.logOnly(ue);
        if (ue.dropEngine) this.deps.engines.invalidate();
        throw new Error(ue.message.replace(/^DA-MoE: /, ''));
      }
      throw e;
    }
  }

  /**
   * Shows an analysis that has no text in an editor (a routing trace opened from a file): it replaces the current
   * one and ends any run in flight.
   */
  showDetachedAnalysis(analysis: Analysis): void {
    this.latest.cancel();
    this.deps.session.set(analysis, null);
    this.relinker.remember(null, analysis.text);
    const opened = !this.panel.exists;
    this.panel.show(true).showAnalysis(analysis, false);
    if (opened) this.showHighlightMode();
    this.deps.highlights.showToken(null);
    this.deps.highlights.refresh();
  }

  /** An error about something shown in the routing panel (a refused trace): in its banner, once. */
  showPanelError(ue: UserError): void {
    this.deps.errors.showInPanel(ue, this.panel.show(true));
  }

  /** Ends the run in flight as cancelled (the engine it runs on is about to go). */
  cancel(): void {
    this.latest.cancel();
    this.panel.controller?.cancelImportanceCheck();
  }

  dispose(): void {
    this.latest.cancel();
    for (const d of this.disposables.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        /* keep disposing the rest */
      }
    }
  }
}

function remoteOrigin(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
