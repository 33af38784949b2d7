/**
 * Entry point (bundled to dist/extension.js) and composition root: activate() builds the features and registers the
 * commands; nothing else creates long-lived objects. Activation happens on the contributed commands (implicit
 * onCommand) and on `onWebviewPanel:damoe.routing` / `damoe.spotCheck`, so the serializers can restore the panels
 * after a reload. Costly things are lazy: the engine loads on the first analysis, a panel opens on first use.
 *
 *   model/      the engine cache and its settings, Select Model, the status bar
 *   routing/    Analyze Routing: the routing panel, hover, highlights, editor sync, re-linking, export
 *   spotcheck/  Spot-Check Dataset and its panel
 *   compare/    Compare Models (a selection, or a dataset) and its panel
 *   traces/     Open Routing Trace (vLLM / SGLang / Hugging Face hooks traces) and the live source (damoe.remote.*)
 *   panels/     what both panels share: the webview panel, its HTML, the message channel
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { createEngine } from '../core';
import { ErrorReporter } from './errors';
import { highlightColorBy, highlightsEnabled, modelDisplayName, readEngineSettings } from './model/config';
import { EngineManager } from './model/engineManager';
import { ModelController } from './model/modelController';
import { RoutingStatusBar } from './model/statusBar';
import { RoutingAnalyzer } from './routing/analyzer';
import { Highlights, toggleHighlights } from './routing/highlights';
import { AnalysisSession } from './routing/session';
import { SpotChecker } from './spotcheck/spotCheck';
import { ModelComparer } from './compare/compare';
import { openRoutingTrace } from './traces/openTrace';
import { RemoteSource } from './traces/remoteSource';

/** What activate() exports: observation points for extension-host tests, nothing that changes state. */
export interface InspectorTestApi {
  panelExists(): boolean;
  /** The routing webview has loaded its script and said `ready`. */
  panelReady(): boolean;
  /** The token index last sent to the panel for the editor cursor. */
  cursorToken(): number | null;
  stale(): boolean;
  /** The spot-check panel exists / has said `ready`. */
  spotCheckPanelExists(): boolean;
  spotCheckPanelReady(): boolean;
  /** The compare panel has said `ready`. */
  comparePanelReady(): boolean;
}

let engines: EngineManager | undefined;

export function activate(context: vscode.ExtensionContext): InspectorTestApi {
  const extensionPath = context.extensionPath;
  const log = vscode.window.createOutputChannel('DA-MoE Inspector', { log: true });
  const logFn = (level: 'debug' | 'info' | 'warn' | 'error', message: string): void => log[level](message);
  const errors = new ErrorReporter(log);
  // The worker is bundled next to the extension (dist/worker.js); say so explicitly rather than rely on __dirname.
  const workerPath = path.join(extensionPath, 'dist', 'worker.js');
  const engineManager = new EngineManager(
    (options) => createEngine({ ...options, workerPath }),
    () => readEngineSettings(extensionPath),
    logFn,
  );
  engines = engineManager;
  const status = new RoutingStatusBar();
  status.resetModel(modelDisplayName(readEngineSettings(extensionPath).modelDir));
  const session = new AnalysisSession();
  const highlights = new Highlights(session, highlightsEnabled(), highlightColorBy());
  const remote = new RemoteSource(context.secrets, extensionPath);
  const routing = new RoutingAnalyzer({ context, log, engines: engineManager, status, errors, session, highlights, remote });
  const spotChecker = new SpotChecker(context.extensionUri, {
    log,
    engine: () => engineManager.get(),
    modelDir: () => readEngineSettings(extensionPath).modelDir,
    threads: () => readEngineSettings(extensionPath).threads,
    errors,
    dropEngine: () => engineManager.invalidate(),
    analyzeText: (request, link, column) => routing.analyzeText(request, link, column),
  });
  const comparer = new ModelComparer(context.extensionUri, { log, extensionPath, workerPath, errors });
  const models = new ModelController({ extensionPath, engines: engineManager, status, errors, cancelRuns: () => routing.cancel() });

  // Disposed in reverse: commands and listeners first, the log last.
  const owned: vscode.Disposable[] = [
    log,
    status,
    spotChecker,
    comparer,
    highlights,
    routing,
    models,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('damoe.highlights.enabled')) highlights.setEnabled(highlightsEnabled());
      if (e.affectsConfiguration('damoe.highlights.colorBy')) highlights.setMode(highlightColorBy());
      if (e.affectsConfiguration('damoe.highlights')) routing.showHighlightMode();
    }),
    vscode.commands.registerCommand('damoe.analyzeRouting', () => routing.analyzeRouting()),
    vscode.commands.registerCommand('damoe.selectModel', () => models.selectModel()),
    vscode.commands.registerCommand('damoe.toggleHighlights', () => toggleHighlights(highlights, log)),
    vscode.commands.registerCommand('damoe.showOutput', () => errors.showOutput()),
    vscode.commands.registerCommand('damoe.spotCheck', (...args: unknown[]) => spotChecker.run(...args)),
    vscode.commands.registerCommand('damoe.compareModels', (...args: unknown[]) => comparer.compareSelection(...args)),
    vscode.commands.registerCommand('damoe.compareModelsOnDataset', (...args: unknown[]) => comparer.compareDataset(...args)),
    vscode.commands.registerCommand('damoe.openRoutingTrace', (...args: unknown[]) =>
      openRoutingTrace(
        {
          extensionPath,
          log,
          showAnalysis: (a) => routing.showDetachedAnalysis(a),
          showReport: (r) => spotChecker.showTraceReport(r),
          showError: (ue, where) => {
            if (where === 'routing') routing.showPanelError(ue);
            else spotChecker.showPanelError(ue);
          },
        },
        ...args,
      ),
    ),
    vscode.commands.registerCommand('damoe.setRemoteApiKey', () => remote.setApiKey()),
    vscode.commands.registerCommand('damoe.clearRemoteApiKey', () => remote.clearApiKey()),
  ];
  context.subscriptions.push({
    dispose: () => {
      for (const d of owned.splice(0).reverse()) {
        try {
          d.dispose();
        } catch {
          /* keep disposing the rest */
        }
      }
    },
  });
  log.info(
    `DA-MoE Inspector ${context.extension.packageJSON.version ?? ''} activated (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'restricted'}).`,
  );
  return {
    panelExists: () => routing.panel.exists,
    panelReady: () => routing.panel.controller?.isReady ?? false,
    cursorToken: () => routing.panel.controller?.cursor ?? null,
    stale: () => session.stale,
    spotCheckPanelExists: () => spotChecker.panel.exists,
    spotCheckPanelReady: () => spotChecker.panel.controller?.isReady ?? false,
    comparePanelReady: () => comparer.panel.controller?.isReady ?? false,
  };
}

export async function deactivate(): Promise<void> {
  const e = engines;
  engines = undefined;
  // Stop the engine's worker process; VS Code waits for this promise (briefly) on shutdown.
  await e?.dispose();
}
