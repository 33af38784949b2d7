/**
 * A chart of a panel (routing or spot-check) saved as PNG or SVG: the `figure/save` request, whose parameters were
 * validated in src/shared/protocol/figure.ts (PNG header and size, inert SVG) before they get here.
 */
import * as vscode from 'vscode';
import type { FigureSaveParams } from '../../shared/protocol/figure';

export interface FigurePlace {
  /** Start of the suggested file name (the model's name, …): `${prefix}-${figure.name}.${format}`. */
  prefix: string;
  /** Folder the save dialog opens in (the analysed file's, the dataset's); else the first workspace folder. */
  folder?: vscode.Uri;
}

/** Resolves to the saved path, or null when the user cancelled. Nothing is written without the user choosing a path. */
export async function exportFigure(figure: FigureSaveParams, place: FigurePlace, log: vscode.LogOutputChannel): Promise<string | null> {
  const base = place.folder ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  const fileName = `${place.prefix}-${figure.name}.${figure.format}`.replace(/[^A-Za-z0-9._-]/g, '_');
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
