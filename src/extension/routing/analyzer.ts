/**
 * The extension's controller: owns the engine, the current analysis, the routing panel, decorations, hover and
 * status bar, and implements the commands. Everything long-lived is created in `activate` (lazily where it costs:
 * the engine loads on the first analysis, the panel opens on the first analysis or on restore).
 */
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import type { Analysis } from '../../shared/analysis';
import type { Engine, EngineOptions } from '../../core';
import { ENGINE_SETTINGS, highlightsEnabled, modelDisplayName, readEngineSettings } from '../model/config';
import { EngineManager } from '../model/engineManager';
import { describeError, isCancellation, type UserError } from '../errorsLogic';
import { Highlights, toRange } from './highlights';
import { RoutingHoverProvider } from './hover';
import { LatestWins } from './latestWins';
import { pickModel } from '../model/modelPicker';
import { RoutingPanel } from './routingPanel';
import { AnalysisSession, type Anchor } from './session';
import { SpotChecker, type SpotCheckResult } from '../spotcheck/spotCheck';
import { RoutingStatusBar } from '../model/statusBar';

/** Longer selections are refused up front: tokenizing and rendering megabytes would freeze the views. */
export const MAX_SELECTION_CHARS = 100_000;
const CURSOR_DEBOUNCE_MS = 50;
const ANCHOR_KEY = 'damoe.lastAnchor';

/** What `damoe.analyzeRouting` resolves to (host tests and other extensions can use it). */
export type AnalyzeResult =
  | { status: 'ok'; analysis: Analysis; uri: string; baseOffset: number; usedCurrentLine: boolean; windowed: boolean; linked: boolean }
  | { status: 'cancelled' }
  | { status: 'no-editor' | 'empty' | 'too-long'; message: string }
  | { status: 'error'; code: string; message: string };

/** What activate() exports: observation points for extension-host tests, nothing that changes state. */
export interface InspectorTestApi {
  panelExists(): boolean;
  /** The routing webview has loaded its script and said `ready`. */
  panelReady(): boolean;
  /** The token index last sent to the panel for the editor cursor. */
  cursorToken(): number | null;
  stale(): boolean;
  /** The spot-check panel exists / has said `ready`. */
  spotCheckPanelExists(): boolean;
  spotCheckPanelReady(): boolean;
}

interface SavedAnchor {
  uri: string;
  baseOffset: number;
  textSha1: string;
}

export class Inspector implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly session = new AnalysisSession();
  private readonly engines: EngineManager;
  private readonly panel: RoutingPanel;
  private readonly highlights: Highlights;
  private readonly status: RoutingStatusBar;
  private readonly spotChecker: SpotChecker;
  private readonly latest = new LatestWins();
  private readonly disposables: vscode.Disposable[] = [];
  private cursorTimer: NodeJS.Timeout | undefined;
  private pendingRelink: Analysis | null = null;
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;

  constructor(
    private readonly context: vscode.ExtensionContext,
    createEngine: (options: EngineOptions) => Promise<Engine>,
  ) {
    this.log = vscode.window.createOutputChannel('DA-MoE Inspector', { log: true });
    const logFn = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => this.log[level](message);
    const extensionPath = context.extensionPath;
    this.engines = new EngineManager(createEngine, () => readEngineSettings(extensionPath), logFn);
    this.status = new RoutingStatusBar();
    this.status.resetModel(modelDisplayName(readEngineSettings(extensionPath).modelDir));
    this.highlights = new Highlights(this.session, highlightsEnabled());
    this.panel = new RoutingPanel(context.extensionUri, {
      log: logFn,
      hoverToken: (i) => this.highlights.showToken(i),
      revealToken: (i) => this.revealToken(i),
      exportAnalysis: (a) => this.exportAnalysis(a),
      restored: (a) => this.onPanelRestored(a),
      disposed: () => this.highlights.showToken(null),
    });
    this.spotChecker = new SpotChecker(context.extensionUri, {
      log: this.log,
      engine: () => this.engines.get(),
      modelDir: () => readEngineSettings(extensionPath).modelDir,
      threads: () => readEngineSettings(extensionPath).threads,
      report: (ue) => this.report(ue),
      dropEngine: () => this.engines.invalidate(),
      analyzeText: (request, link) => this.analyzeText(request, link),
    });
    this.disposables.push(
      this.log,
      this.status,
      this.spotChecker,
      this.highlights,
      this.panel,
      this.panel.registerSerializer(),
      vscode.languages.registerHoverProvider({ pattern: '**' }, new RoutingHoverProvider(this.session)),
      this.session.onStaleChange((stale) => this.onStale(stale)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length === 0) return;
        this.session.applyChange(e.document.uri.toString(), e.document.version, e.contentChanges);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        // A reopened document restarts its version count, so the anchor can't be trusted any more.
        if (this.session.anchor?.uri === doc.uri.toString()) this.session.markStale();
      }),
      vscode.workspace.onDidOpenTextDocument((doc) => {
        if (this.pendingRelink) this.tryRelink(this.pendingRelink, doc);
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.highlights.refresh()),
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (ed) this.lastEditor = ed;
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelectionChanged(e)),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigurationChanged(e)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.onEngineSettingsChanged()),
    );
  }

  /** A read-only view for extension-host tests (returned from activate). */
  testApi(): InspectorTestApi {
    return {
      panelExists: () => this.panel.exists,
      panelReady: () => this.panel.controller?.isReady ?? false,
      cursorToken: () => this.panel.controller?.cursor ?? null,
      stale: () => this.session.stale,
      spotCheckPanelExists: () => this.spotChecker.panel.exists,
      spotCheckPanelReady: () => this.spotChecker.panel.controller?.isReady ?? false,
    };
  }

  // ---- commands ------------------------------------------------------------------------------------------------

  async analyzeRouting(): Promise<AnalyzeResult> {
    // With the routing panel focused there is no active text editor; the one the user last worked in is meant.
    const editor =
      vscode.window.activeTextEditor ??
      (this.lastEditor && vscode.window.visibleTextEditors.includes(this.lastEditor) ? this.lastEditor : undefined);
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
      const message = `DA-MoE: the selection has ${text.length.toLocaleString('en')} characters; select at most ${MAX_SELECTION_CHARS.toLocaleString('en')}.`;
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
    return this.runAnalysis(request, target, false);
  }

  private async runAnalysis(
    request: { text: string; textPair?: string },
    target: { editor: vscode.TextEditor; anchor: Anchor } | null,
    usedCurrentLine: boolean,
  ): Promise<AnalyzeResult> {
    const { text, textPair } = request;
    const editor = target?.editor;
    const document = editor?.document;
    const anchor = target?.anchor ?? null;
    const ticket = this.latest.begin();
    this.status.setRunning(true);
    let modelDir = readEngineSettings(this.context.extensionPath).modelDir;
    try {
      // Open (or reveal) the panel at once so the run is visible there too; it keeps the editor focused.
      this.panel.show().setProgress(true, 'Analysing…');
      const engine = await this.engines.get();
      modelDir = engine.model.path;
      if (!ticket.isCurrent()) return { status: 'cancelled' };
      this.status.setModel(engine.model.name, engine.provider.used);
      const analysis = await engine.analyze(
        textPair === undefined ? { text, signal: ticket.signal } : { text, textPair, signal: ticket.signal },
      );
      if (!ticket.isCurrent()) return { status: 'cancelled' };

      const stale = document && anchor ? !this.textStillThere(document, anchor, text) : false;
      this.session.set(analysis, document && anchor ? { ...anchor, version: document.version } : null, stale);
      this.pendingRelink = null;
      if (anchor) {
        void this.context.workspaceState.update(ANCHOR_KEY, {
          uri: anchor.uri,
          baseOffset: anchor.baseOffset,
          textSha1: sha1(text),
        } satisfies SavedAnchor);
      }
      this.panel.show().showAnalysis(analysis, stale);
      this.highlights.showToken(null);
      this.highlights.refresh();
      this.status.setLatency(analysis.timings.totalMs);
      if (analysis.windowing) {
        vscode.window.setStatusBarMessage(
          `DA-MoE: long text analysed in ${analysis.windowing.windows} overlapping windows of ${analysis.windowing.windowTokens} tokens`,
          6000,
        );
      }
      this.log.info(
        `Analysed ${analysis.tokens.length} tokens of ${document ? document.uri.toString(true) : 'a text without editor link'} in ${Math.round(analysis.timings.totalMs)} ms` +
          (analysis.windowing ? ` (${analysis.windowing.windows} windows)` : '') +
          `: ${analysis.prediction.label}.`,
      );
      if (editor) this.updateCursorToken(editor);
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
      this.report(ue);
      this.panel.controller?.showError(ue.message);
      if (ue.dropEngine) this.engines.invalidate();
      return { status: 'error', code: ue.code, message: ue.message };
    } finally {
      if (this.latest.finish(ticket)) {
        this.status.setRunning(false);
        this.panel.controller?.setProgress(false);
      }
    }
  }

  /** `damoe.spotCheck` (see spotCheck.ts for the arguments). */
  spotCheck(...args: unknown[]): Promise<SpotCheckResult> {
    return this.spotChecker.run(...args);
  }

  async selectModel(): Promise<string | undefined> {
    const value = await pickModel(this.context.extensionPath);
    if (value === undefined) return undefined;
    // Config change listeners dropped the old engine; load the new one now so a broken model is reported at once
    // (and a good one makes the first analysis fast).
    this.onEngineSettingsChanged();
    const modelDir = readEngineSettings(this.context.extensionPath).modelDir;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `DA-MoE: loading ${modelDisplayName(modelDir)}…` },
      async () => {
        try {
          const engine = await this.engines.get();
          this.status.setModel(engine.model.name, engine.provider.used);
          vscode.window.setStatusBarMessage(`DA-MoE: ${engine.model.name} ready (${engine.provider.used})`, 4000);
        } catch (e) {
          this.report(describeError(e, modelDir));
        }
      },
    );
    return value;
  }

  async toggleHighlights(): Promise<boolean> {
    const enabled = !this.highlights.isEnabled;
    const cfg = vscode.workspace.getConfiguration('damoe');
    const inspected = cfg.inspect<boolean>('highlights.enabled');
    // Write where the effective value comes from, so the toggle always takes effect.
    const target =
      inspected?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : inspected?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
    this.highlights.setEnabled(enabled);
    try {
      await cfg.update('highlights.enabled', enabled, target);
    } catch (e) {
      this.log.warn(`Could not save damoe.highlights.enabled: ${String(e)}`);
    }
    vscode.window.setStatusBarMessage(`DA-MoE: importance highlights ${enabled ? 'on' : 'off'}`, 3000);
    return enabled;
  }

  showOutput(): void {
    this.log.show(true);
  }

  // ---- events --------------------------------------------------------------------------------------------------

  private onConfigurationChanged(e: vscode.ConfigurationChangeEvent): void {
    if (ENGINE_SETTINGS.some((s) => e.affectsConfiguration(s))) this.onEngineSettingsChanged();
    if (e.affectsConfiguration('damoe.highlights.enabled')) this.highlights.setEnabled(highlightsEnabled());
  }

  private onEngineSettingsChanged(): void {
    // A workspace value that is ignored (an untrusted workspace's modelPath) leaves the effective settings as they
    // were: keep the engine and any run in flight.
    if (this.engines.matches(readEngineSettings(this.context.extensionPath))) return;
    // A run on the old engine would fail when it is disposed; end it as cancelled instead of reporting a crash.
    this.latest.cancel();
    // Dispose the old engine now (frees the worker and its memory); the next command loads the new settings.
    this.engines.invalidate();
    this.status.resetModel(modelDisplayName(readEngineSettings(this.context.extensionPath).modelDir));
  }

  private onStale(stale: boolean): void {
    if (!stale) return;
    this.panel.controller?.setStale(true);
    this.panel.controller?.setCursorToken(null);
    this.highlights.showToken(null);
    this.highlights.refresh();
  }

  private onSelectionChanged(e: vscode.TextEditorSelectionChangeEvent): void {
    if (!this.panel.controller || !this.session.covers(e.textEditor.document.uri.toString())) return;
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    const editor = e.textEditor;
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = undefined;
      this.updateCursorToken(editor);
    }, CURSOR_DEBOUNCE_MS);
  }

  private updateCursorToken(editor: vscode.TextEditor): void {
    const core = this.panel.controller;
    if (!core) return;
    const doc = editor.document;
    if (!this.session.isLiveFor(doc.uri.toString(), doc.version)) {
      core.setCursorToken(null);
      return;
    }
    core.setCursorToken(this.session.tokenAtDocumentOffset(doc.offsetAt(editor.selection.active), true));
  }

  // ---- panel requests ------------------------------------------------------------------------------------------

  private async revealToken(tokenIndex: number): Promise<void> {
    const anchor = this.session.anchor;
    const range = this.session.documentRangeOf(tokenIndex);
    if (!anchor || !range) return;
    if (this.session.stale) {
      void vscode.window.showInformationMessage(
        'DA-MoE: the text changed since the analysis — re-run Analyze Routing to link tokens again.',
      );
      return;
    }
    const uri = vscode.Uri.parse(anchor.uri);
    let editor = vscode.window.visibleTextEditors.find((ed) => ed.document.uri.toString() === anchor.uri);
    if (!editor) {
      const doc = await vscode.workspace.openTextDocument(uri);
      editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    } else {
      editor = await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false });
    }
    if (!this.session.isLiveFor(editor.document.uri.toString(), editor.document.version)) return;
    const r = toRange(editor.document, range);
    editor.selection = new vscode.Selection(r.start, r.end);
    editor.revealRange(r, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private async exportAnalysis(analysis: Analysis): Promise<string | null> {
    const anchorUri = this.session.anchor ? vscode.Uri.parse(this.session.anchor.uri) : undefined;
    const base = anchorUri?.scheme === 'file' ? vscode.Uri.joinPath(anchorUri, '..') : vscode.workspace.workspaceFolders?.[0]?.uri;
    const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 19);
    const fileName = `routing-${analysis.model.name}-${stamp}.json`.replace(/[^A-Za-z0-9._-]/g, '_');
    // The save dialog asks before replacing an existing file; nothing is written without the user choosing a path.
    const target = await vscode.window.showSaveDialog({
      title: 'Export DA-MoE analysis',
      saveLabel: 'Export',
      defaultUri: base ? vscode.Uri.joinPath(base, fileName) : undefined,
      filters: { JSON: ['json'] },
    });
    if (!target) return null;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(`${JSON.stringify(analysis, null, 2)}\n`));
    this.log.info(`Exported the analysis to ${target.toString(true)}.`);
    vscode.window.setStatusBarMessage(
      `DA-MoE: analysis exported to ${target.scheme === 'file' ? target.fsPath : target.toString(true)}`,
      5000,
    );
    return target.scheme === 'file' ? target.fsPath : target.toString();
  }

  /** After a reload the panel brings its analysis back; re-link it to the editor if the text is still there. */
  private onPanelRestored(analysis: Analysis): void {
    if (this.session.analysis) return; // a fresh analysis already exists
    this.session.set(analysis, null);
    this.pendingRelink = analysis;
    for (const doc of vscode.workspace.textDocuments) if (this.tryRelink(analysis, doc)) return;
  }

  private tryRelink(analysis: Analysis, doc: vscode.TextDocument): boolean {
    const saved = this.context.workspaceState.get<SavedAnchor>(ANCHOR_KEY);
    if (!saved || saved.uri !== doc.uri.toString() || saved.textSha1 !== sha1(analysis.text)) return false;
    if (this.session.analysis !== analysis) {
      this.pendingRelink = null;
      return false;
    }
    this.pendingRelink = null;
    const anchor: Anchor = { uri: saved.uri, version: doc.version, baseOffset: saved.baseOffset };
    const same = this.textStillThere(doc, anchor, analysis.text);
    this.session.set(analysis, anchor, !same);
    this.panel.controller?.setStale(!same);
    this.highlights.refresh();
    this.log.info(`Re-linked the restored analysis to ${doc.uri.toString(true)}${same ? '' : ' (the text has changed: stale)'}.`);
    return true;
  }

  private textStillThere(doc: vscode.TextDocument, anchor: Anchor, text: string): boolean {
    if (doc.isClosed) return false;
    const start = doc.positionAt(anchor.baseOffset);
    const end = doc.positionAt(anchor.baseOffset + text.length);
    return doc.offsetAt(start) === anchor.baseOffset && doc.getText(new vscode.Range(start, end)) === text;
  }

  // ---- errors --------------------------------------------------------------------------------------------------

  private report(ue: UserError): void {
    this.log.error(ue.message);
    for (const d of ue.details) this.log.error(`  ${d}`);
    const show =
      ue.severity === 'error'
        ? vscode.window.showErrorMessage
        : ue.severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    void Promise.resolve(show(ue.message, ...ue.actions)).then((choice) => {
      if (choice === 'Show Output') this.showOutput();
      else if (choice === 'Select Model') void vscode.commands.executeCommand('damoe.selectModel');
      else if (choice === 'Open Settings')
        void vscode.commands.executeCommand('workbench.action.openSettings', ue.settingsQuery ?? 'damoe.');
    });
  }

  dispose(): void {
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.latest.cancel();
    for (const d of this.disposables.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        /* keep disposing the rest */
      }
    }
  }

  /** Called from deactivate: stops the engine's worker process. */
  disposeEngine(): Promise<void> {
    return this.engines.dispose();
  }
}

function sha1(text: string): string {
  return crypto.createHash('sha1').update(text).digest('hex');
}
