/**
 * Entry point (bundled to dist/extension.js). Activation happens on the contributed commands (implicit
 * onCommand) and on `onWebviewPanel:damoe.routing`, so the serializer can restore the panel after a reload.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { createEngine } from '../core';
import { Inspector, type InspectorTestApi } from './routing/analyzer';

let inspector: Inspector | undefined;

export function activate(context: vscode.ExtensionContext): InspectorTestApi {
  // The worker is bundled next to the extension (dist/worker.js); say so explicitly rather than rely on __dirname.
  const workerPath = path.join(context.extensionPath, 'dist', 'worker.js');
  const ins = new Inspector(context, (options) => createEngine({ ...options, workerPath }));
  inspector = ins;
  context.subscriptions.push(
    ins,
    vscode.commands.registerCommand('damoe.analyzeRouting', () => ins.analyzeRouting()),
    vscode.commands.registerCommand('damoe.selectModel', () => ins.selectModel()),
    vscode.commands.registerCommand('damoe.toggleHighlights', () => ins.toggleHighlights()),
    vscode.commands.registerCommand('damoe.showOutput', () => ins.showOutput()),
    vscode.commands.registerCommand('damoe.spotCheck', (...args: unknown[]) => ins.spotCheck(...args)),
  );
  ins.log.info(
    `DA-MoE Inspector ${context.extension.packageJSON.version ?? ''} activated (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'restricted'}).`,
  );
  return ins.testApi();
}

export async function deactivate(): Promise<void> {
  const ins = inspector;
  inspector = undefined;
  // Stop the engine's worker process; VS Code waits for this promise (briefly) on shutdown.
  await ins?.disposeEngine();
}
