/**
 * Editor decorations: importance highlights (five strengths) and the single-token highlight that follows the
 * pointer in the routing panel. Colours are theme colours contributed in package.json (`damoe.importance1..5`,
 * `damoe.tokenHighlight`), so themes and high-contrast modes can restyle them.
 */
import * as vscode from 'vscode';
import { IMPORTANCE_BUCKETS, importanceBuckets } from './importance';
import type { AnalysisSession } from './session';

export class Highlights implements vscode.Disposable {
  private readonly importanceTypes: vscode.TextEditorDecorationType[];
  private readonly tokenType: vscode.TextEditorDecorationType;
  private enabled: boolean;

  constructor(
    private readonly session: AnalysisSession,
    enabled: boolean,
  ) {
    this.enabled = enabled;
    this.importanceTypes = Array.from({ length: IMPORTANCE_BUCKETS }, (_, b) =>
      vscode.window.createTextEditorDecorationType({
        backgroundColor: new vscode.ThemeColor(`damoe.importance${b + 1}`),
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      }),
    );
    this.tokenType = vscode.window.createTextEditorDecorationType({
      backgroundColor: new vscode.ThemeColor('damoe.tokenHighlight'),
      borderColor: new vscode.ThemeColor('damoe.tokenHighlightBorder'),
      borderStyle: 'solid',
      borderWidth: '1px',
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.refresh();
  }

  /** Re-applies importance highlights to every visible editor (call after analysis/stale/visible-editor changes). */
  refresh(): void {
    const anchor = this.session.anchor;
    const analysis = this.session.analysis;
    const live = this.enabled && !!analysis && !!anchor && !this.session.stale;
    const buckets = live ? importanceBuckets(analysis) : null;
    for (const editor of vscode.window.visibleTextEditors) {
      const mine = live && editor.document.uri.toString() === anchor.uri;
      const perBucket: vscode.Range[][] = this.importanceTypes.map(() => []);
      if (mine && buckets) {
        for (let i = 0; i < buckets.length; i++) {
          if (buckets[i] < 0) continue;
          const r = this.session.documentRangeOf(i);
          if (r) perBucket[buckets[i]].push(toRange(editor.document, r));
        }
      }
      this.importanceTypes.forEach((type, b) => editor.setDecorations(type, perBucket[b]));
    }
  }

  /** Outlines one token (from the panel's pointer); null clears it. */
  showToken(tokenIndex: number | null): void {
    const anchor = this.session.anchor;
    const r = tokenIndex === null || this.session.stale ? null : this.session.documentRangeOf(tokenIndex);
    for (const editor of vscode.window.visibleTextEditors) {
      const mine = !!anchor && editor.document.uri.toString() === anchor.uri;
      editor.setDecorations(this.tokenType, mine && r ? [toRange(editor.document, r)] : []);
    }
  }

  clearAll(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      for (const t of this.importanceTypes) editor.setDecorations(t, []);
      editor.setDecorations(this.tokenType, []);
    }
  }

  dispose(): void {
    for (const t of this.importanceTypes) t.dispose();
    this.tokenType.dispose();
  }
}

export function toRange(document: vscode.TextDocument, r: { start: number; end: number }): vscode.Range {
  return new vscode.Range(document.positionAt(r.start), document.positionAt(r.end));
}

/** DA-MoE: Toggle Importance Highlights: flips them and saves the setting where its effective value comes from. */
export async function toggleHighlights(highlights: Highlights, log: vscode.LogOutputChannel): Promise<boolean> {
  const enabled = !highlights.isEnabled;
  const cfg = vscode.workspace.getConfiguration('damoe');
  const inspected = cfg.inspect<boolean>('highlights.enabled');
  // Write where the effective value comes from, so the toggle always takes effect.
  const target =
    inspected?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  highlights.setEnabled(enabled);
  try {
    await cfg.update('highlights.enabled', enabled, target);
  } catch (e) {
    log.warn(`Could not save damoe.highlights.enabled: ${String(e)}`);
  }
  vscode.window.setStatusBarMessage(`DA-MoE: importance highlights ${enabled ? 'on' : 'off'}`, 3000);
  return enabled;
}
