/**
 * The editor side of the current analysis: edits and closed documents make it stale, the cursor's token is sent to
 * the routing panel (debounced), a token clicked in the panel is selected in the editor, and decorations follow the
 * visible editors. Remembers the text editor last used, for commands run while the panel has focus.
 */
import * as vscode from 'vscode';
import type { Highlights } from './highlights';
import { toRange } from './highlights';
import type { RoutingPanelLogic } from './routingPanelLogic';
import type { AnalysisSession } from './session';

const CURSOR_DEBOUNCE_MS = 50;

export class EditorSync implements vscode.Disposable {
  private cursorTimer: NodeJS.Timeout | undefined;
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly session: AnalysisSession,
    private readonly highlights: Highlights,
    /** The routing panel's logic while the panel exists. */
    private readonly panel: () => RoutingPanelLogic | null,
  ) {
    this.disposables = [
      session.onStaleChange((stale) => this.onStale(stale)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length === 0) return;
        session.applyChange(e.document.uri.toString(), e.document.version, e.contentChanges);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        // A reopened document restarts its version count, so the anchor can't be trusted any more.
        if (session.anchor?.uri === doc.uri.toString()) session.markStale();
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => highlights.refresh()),
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (ed) this.lastEditor = ed;
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelectionChanged(e)),
    ];
  }

  /** The editor a command means: the active one, or (with the routing panel focused) the one last worked in. */
  targetEditor(): vscode.TextEditor | undefined {
    return (
      vscode.window.activeTextEditor ??
      (this.lastEditor && vscode.window.visibleTextEditors.includes(this.lastEditor) ? this.lastEditor : undefined)
    );
  }

  /** Sends the token under `editor`'s cursor to the panel (none when the analysis is not live for it). */
  updateCursorToken(editor: vscode.TextEditor): void {
    const core = this.panel();
    if (!core) return;
    const doc = editor.document;
    if (!this.session.isLiveFor(doc.uri.toString(), doc.version)) {
      core.setCursorToken(null);
      return;
    }
    core.setCursorToken(this.session.tokenAtDocumentOffset(doc.offsetAt(editor.selection.active), true));
  }

  /** The panel asked for a token: select its range in the editor that holds the analysed text. */
  async revealToken(tokenIndex: number): Promise<void> {
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

  private onStale(stale: boolean): void {
    if (!stale) return;
    this.panel()?.setStale(true);
    this.panel()?.setCursorToken(null);
    this.highlights.showToken(null);
    this.highlights.refresh();
  }

  private onSelectionChanged(e: vscode.TextEditorSelectionChangeEvent): void {
    if (!this.panel() || !this.session.covers(e.textEditor.document.uri.toString())) return;
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    const editor = e.textEditor;
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = undefined;
      this.updateCursorToken(editor);
    }, CURSOR_DEBOUNCE_MS);
  }

  dispose(): void {
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
