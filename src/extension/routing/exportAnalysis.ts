/** Export of the current analysis as JSON (the routing panel's `analysis/export` request), through a save dialog. */
import * as vscode from 'vscode';
import type { Analysis } from '../../shared/analysis';
import type { Anchor } from './session';

/** Resolves to the saved path, or null when the user cancelled. Nothing is written without the user choosing a path. */
export async function exportAnalysis(analysis: Analysis, anchor: Anchor | null, log: vscode.LogOutputChannel): Promise<string | null> {
  const anchorUri = anchor ? vscode.Uri.parse(anchor.uri) : undefined;
  const base = anchorUri?.scheme === 'file' ? vscode.Uri.joinPath(anchorUri, '..') : vscode.workspace.workspaceFolders?.[0]?.uri;
  const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 19);
  const fileName = `routing-${analysis.model.name}-${stamp}.json`.replace(/[^A-Za-z0-9._-]/g, '_');
  // The save dialog asks before replacing an existing file.
  const target = await vscode.window.showSaveDialog({
    title: 'Export DA-MoE analysis',
    saveLabel: 'Export',
    defaultUri: base ? vscode.Uri.joinPath(base, fileName) : undefined,
    filters: { JSON: ['json'] },
  });
  if (!target) return null;
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(`${JSON.stringify(analysis, null, 2)}\n`));
  log.info(`Exported the analysis to ${target.toString(true)}.`);
  vscode.window.setStatusBarMessage(
    `DA-MoE: analysis exported to ${target.scheme === 'file' ? target.fsPath : target.toString(true)}`,
    5000,
  );
  return target.scheme === 'file' ? target.fsPath : target.toString();
}
