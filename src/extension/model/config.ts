/** Reads the extension's settings from vscode (the rules themselves are in settings.ts, unit-tested). */
import * as path from 'path';
import * as vscode from 'vscode';
import { DEFAULT_HIGHLIGHTS_ENABLED } from '../../shared/defaults';
import { resolveModelDir, resolveTrustAware, sanitizeEngineSettings, type EngineSettings } from './configLogic';

export const SECTION = 'damoe';
/** Settings whose change means a different engine. */
export const ENGINE_SETTINGS = ['damoe.modelPath', 'damoe.executionProvider', 'damoe.threads', 'damoe.maxTokens'];

/**
 * The raw `damoe.modelPath` value that may decide what loads. In an untrusted workspace only the user's own value
 * (or the default) counts, whatever the workspace's settings say.
 */
export function readModelPathSetting(): { value: string; fromWorkspace: boolean } {
  const inspected = vscode.workspace.getConfiguration(SECTION).inspect<string>('modelPath');
  const trusted = vscode.workspace.isTrusted;
  const value = resolveTrustAware(inspected, trusted) ?? '';
  const fromWorkspace = trusted && (inspected?.workspaceFolderValue !== undefined || inspected?.workspaceValue !== undefined);
  return { value: typeof value === 'string' ? value : '', fromWorkspace };
}

export function readEngineSettings(extensionPath: string): EngineSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const { value } = readModelPathSetting();
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  const modelDir = resolveModelDir(value, { extensionPath, workspaceFolder: folder?.uri.fsPath });
  return sanitizeEngineSettings({
    modelDir,
    executionProvider: cfg.get('executionProvider'),
    threads: cfg.get('threads'),
    maxTokens: cfg.get('maxTokens'),
  });
}

export function highlightsEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('highlights.enabled', DEFAULT_HIGHLIGHTS_ENABLED) !== false;
}

export function modelDisplayName(modelDir: string): string {
  return path.basename(modelDir) || modelDir;
}
