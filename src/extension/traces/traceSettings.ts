/** Reads the trace and live-source settings from vscode (the rules are in traceSettingsLogic.ts, unit-tested). */
import * as vscode from 'vscode';
import { ModelPathError, resolveModelDir, trustAwareSetting } from '../model/configLogic';
import { SECTION } from '../model/config';
import { sanitizeRemoteSettings, type RemoteSettings } from './traceSettingsLogic';

/** `damoe.remote.*`, null when no URL is set. The URL counts only from the user's settings in an untrusted workspace. */
export function readRemoteSettings(): RemoteSettings | null {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const { value: url } = trustAwareSetting(cfg.inspect<string>('remote.url'), vscode.workspace.isTrusted);
  return sanitizeRemoteSettings({
    url,
    kind: cfg.get('remote.kind'),
    model: cfg.get('remote.model'),
    timeoutSeconds: cfg.get('remote.timeoutSeconds'),
  });
}

/**
 * `damoe.trace.tokenizer` resolved as `damoe.modelPath` is (a bare name is a shipped model, `~/` is home, a relative
 * path only from a trusted workspace's settings); undefined when it is empty. Throws ModelPathError.
 */
export function readTraceTokenizerSetting(extensionPath: string): string | undefined {
  const inspected = vscode.workspace.getConfiguration(SECTION).inspect<string>('trace.tokenizer');
  const { value, source } = trustAwareSetting(inspected, vscode.workspace.isTrusted);
  const raw = typeof value === 'string' ? value.trim() : '';
  if (raw === '') return undefined;
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  try {
    return resolveModelDir(raw, { extensionPath, workspaceFolder: folder?.uri.fsPath, source });
  } catch (e) {
    if (e instanceof ModelPathError) throw new ModelPathError(e.message.replace(/damoe\.modelPath/g, 'damoe.trace.tokenizer'));
    throw e;
  }
}
