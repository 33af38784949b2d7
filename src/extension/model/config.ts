/** Reads the extension's settings from vscode (the rules themselves are in settings.ts, unit-tested). */
import * as path from 'path';
import * as vscode from 'vscode';
import { DEFAULT_HIGHLIGHTS_ENABLED, DEFAULT_HIGHLIGHT_COLOR_BY, HIGHLIGHT_COLOR_BY_CHOICES } from '../../shared/defaults';
import {
  ModelPathError,
  resolveModelDir,
  sanitizeEngineSettings,
  trustAwareSetting,
  type EngineSettings,
  type SettingSource,
} from './configLogic';

export const SECTION = 'damoe';
/** Settings whose change means a different engine. */
export const ENGINE_SETTINGS = [
  'damoe.modelPath',
  'damoe.executionProvider',
  'damoe.threads',
  'damoe.maxTokens',
  'damoe.workerTimeoutSeconds',
];

/**
 * The raw `damoe.modelPath` value that may decide what loads, and where it comes from. In an untrusted workspace
 * only the user's own value (or the default) counts, whatever the workspace's settings say.
 */
export function readModelPathSetting(): { value: string; fromWorkspace: boolean; source: SettingSource } {
  const inspected = vscode.workspace.getConfiguration(SECTION).inspect<string>('modelPath');
  const trusted = vscode.workspace.isTrusted;
  const { value, source } = trustAwareSetting(inspected, trusted);
  const fromWorkspace = trusted && (inspected?.workspaceFolderValue !== undefined || inspected?.workspaceValue !== undefined);
  return { value: typeof value === 'string' ? value : '', fromWorkspace, source };
}

export function readEngineSettings(extensionPath: string): EngineSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const { value, source } = readModelPathSetting();
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  let modelDir: string;
  let modelPathProblem: string | null = null;
  try {
    modelDir = resolveModelDir(value, { extensionPath, workspaceFolder: folder?.uri.fsPath, source });
  } catch (e) {
    if (!(e instanceof ModelPathError)) throw e;
    modelDir = value;
    modelPathProblem = e.message;
  }
  return sanitizeEngineSettings({
    modelDir,
    executionProvider: cfg.get('executionProvider'),
    threads: cfg.get('threads'),
    maxTokens: cfg.get('maxTokens'),
    workerTimeoutSeconds: cfg.get('workerTimeoutSeconds'),
    modelPathProblem,
  });
}

export function highlightsEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('highlights.enabled', DEFAULT_HIGHLIGHTS_ENABLED) !== false;
}

/** `damoe.highlights.colorBy`, the default of the panel's Editor toggle; an unknown value reads as the default. */
export function highlightColorBy(): (typeof HIGHLIGHT_COLOR_BY_CHOICES)[number] {
  const v = vscode.workspace.getConfiguration(SECTION).get<string>('highlights.colorBy', DEFAULT_HIGHLIGHT_COLOR_BY);
  return (HIGHLIGHT_COLOR_BY_CHOICES as readonly string[]).includes(v)
    ? (v as (typeof HIGHLIGHT_COLOR_BY_CHOICES)[number])
    : DEFAULT_HIGHLIGHT_COLOR_BY;
}

export function modelDisplayName(modelDir: string): string {
  return path.basename(modelDir) || modelDir;
}
