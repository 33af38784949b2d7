/**
 * Editor decorations: the token highlights and the single-token highlight that follows the pointer in the routing
 * panel. The highlights show the panel's measure in the panel's selected layer: importance (five strengths), K
 * (four levels) or the top-1 expert (eight colours, the Mixtral paper's per-token expert colouring), chosen by
 * `damoe.highlights.colorBy` or the panel's Editor toggle. Colours are theme colours contributed in package.json
 * (`damoe.importance1..5`, `damoe.k1..4`, `damoe.expert1..8`, `damoe.tokenHighlight`), so themes and high-contrast
 * modes can restyle them.
 */
import * as vscode from 'vscode';
import { EXPERT_COLOURS, IMPORTANCE_BUCKETS, K_LEVELS, highlightClasses, type HighlightMode } from './importance';
import type { AnalysisSession } from './session';

function decorationTypes(prefix: string, n: number): vscode.TextEditorDecorationType[] {
  return Array.from({ length: n }, (_, b) =>
    vscode.window.createTextEditorDecorationType({
      backgroundColor: new vscode.ThemeColor(`damoe.${prefix}${b + 1}`),
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    }),
  );
}

export class Highlights implements vscode.Disposable {
  private readonly types: Record<HighlightMode, vscode.TextEditorDecorationType[]>;
  private readonly tokenType: vscode.TextEditorDecorationType;
  private enabled: boolean;
  private mode: HighlightMode;
  private layer = 0;

  constructor(
    private readonly session: AnalysisSession,
    enabled: boolean,
    mode: HighlightMode = 'importance',
  ) {
    this.enabled = enabled;
    this.mode = mode;
    this.types = {
      importance: decorationTypes('importance', IMPORTANCE_BUCKETS),
      k: decorationTypes('k', K_LEVELS),
      expert: decorationTypes('expert', EXPERT_COLOURS),
    };
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

  get colorBy(): HighlightMode {
    return this.mode;
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.refresh();
  }

  /** What the highlights show (the setting, or the panel's Editor toggle). */
  setMode(mode: HighlightMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.refresh();
  }

  /** The panel's selected layer: the highlights show that layer. */
  setLayer(layer: number): void {
    if (layer === this.layer) return;
    this.layer = layer;
    this.refresh();
  }

  /** Re-applies importance highlights to every visible editor (call after analysis/stale/visible-editor changes). */
  refresh(): void {
    const anchor = this.session.anchor;
    const analysis = this.session.analysis;
    const live = this.enabled && !!analysis && !!anchor && !this.session.stale;
    const shown = live ? highlightClasses(analysis, this.mode, this.layer) : null;
    for (const editor of vscode.window.visibleTextEditors) {
      const mine = live && editor.document.uri.toString() === anchor.uri;
      for (const [mode, types] of Object.entries(this.types) as [HighlightMode, vscode.TextEditorDecorationType[]][]) {
        const perClass: vscode.Range[][] = types.map(() => []);
        if (mine && shown && shown.effective === mode) {
          for (let i = 0; i < shown.classes.length; i++) {
            if (shown.classes[i] < 0) continue;
            const r = this.session.documentRangeOf(i);
            if (r) perClass[shown.classes[i]].push(toRange(editor.document, r));
          }
        }
        types.forEach((type, b) => editor.setDecorations(type, perClass[b]));
      }
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
      for (const types of Object.values(this.types)) for (const t of types) editor.setDecorations(t, []);
      editor.setDecorations(this.tokenType, []);
    }
  }

  dispose(): void {
    for (const types of Object.values(this.types)) for (const t of types) t.dispose();
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
