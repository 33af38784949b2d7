/** A chart of the routing panel saved as PNG or SVG (the `figure/save` request, validated in src/shared/protocol/figure.ts). */
import * as vscode from 'vscode';
import type { Analysis } from '../../shared/analysis';
import type { FigureSaveParams } from '../../shared/protocol/figure';
import type { Anchor } from './session';

/** Resolves to the saved path, or null when the user cancelled. Nothing is written without the user choosing a path. */
export async function exportFigure(
  figure: FigureSaveParams,
  analysis: Analysis,
  anchor: Anchor | null,
  log: vscode.LogOutputChannel,
): Promise<string | null> {
  const anchorUri = anchor ? vscode.Uri.parse(anchor.uri) : undefined;
  const base = anchorUri?.scheme === 'file' ? vscode.Uri.joinPath(anchorUri, '..') : vscode.workspace.workspaceFolders?.[0]?.uri;
  const fileName = `${analysis.model.name}-${figure.name}.${figure.format}`.replace(/[^A-Za-z0-9._-]/g, '_');
  const target = await vscode.window.showSaveDialog({
    title: `Save the ${figure.name} chart as ${figure.format.toUpperCase()}`,
    saveLabel: 'Save',
    defaultUri: base ? vscode.Uri.joinPath(base, fileName) : undefined,
    filters: figure.format === 'png' ? { 'PNG image': ['png'] } : { 'SVG image': ['svg'] },
  });
  if (!target) return null;
  const bytes = figure.format === 'png' ? new Uint8Array(Buffer.from(figure.data, 'base64')) : new TextEncoder().encode(figure.data);
  await vscode.workspace.fs.writeFile(target, bytes);
  const shown = target.scheme === 'file' ? target.fsPath : target.toString(true);
  log.info(`Saved the ${figure.name} chart (${figure.width}×${figure.height}) to ${shown}.`);
  vscode.window.setStatusBarMessage(`DA-MoE: chart saved to ${shown}`, 5000);
  return target.scheme === 'file' ? target.fsPath : target.toString();
}
