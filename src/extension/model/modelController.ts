/**
 * The model and its settings: DA-MoE: Select Model, and what a change of the settings that shape the engine
 * (model path, execution provider, threads, max tokens; workspace trust) does: the running analysis ends as
 * cancelled, the old engine is disposed, and the status bar forgets it. The next command loads the new one.
 */
import * as vscode from 'vscode';
import type { ErrorReporter } from '../errors';
import { describeError } from '../errorsLogic';
import { ENGINE_SETTINGS, modelDisplayName, readEngineSettings } from './config';
import type { EngineManager } from './engineManager';
import { pickModel } from './modelPicker';
import type { RoutingStatusBar } from './statusBar';

export interface ModelControllerDeps {
  extensionPath: string;
  engines: EngineManager;
  status: RoutingStatusBar;
  errors: ErrorReporter;
  /** Ends the analysis in flight (it would fail when its engine is disposed). */
  cancelRuns(): void;
}

export class ModelController implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly deps: ModelControllerDeps) {
    this.disposables = [
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (ENGINE_SETTINGS.some((s) => e.affectsConfiguration(s))) this.onEngineSettingsChanged();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.onEngineSettingsChanged()),
    ];
  }

  async selectModel(): Promise<string | undefined> {
    const { extensionPath, engines, status, errors } = this.deps;
    const value = await pickModel(extensionPath);
    if (value === undefined) return undefined;
    // Config change listeners dropped the old engine; load the new one now so a broken model is reported at once
    // (and a good one makes the first analysis fast).
    this.onEngineSettingsChanged();
    const modelDir = readEngineSettings(extensionPath).modelDir;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `DA-MoE: loading ${modelDisplayName(modelDir)}…` },
      async () => {
        try {
          const engine = await engines.get();
          status.setModel(engine.model.name, engine.provider.used);
          vscode.window.setStatusBarMessage(`DA-MoE: ${engine.model.name} ready (${engine.provider.used})`, 4000);
        } catch (e) {
          errors.report(describeError(e, modelDir));
        }
      },
    );
    return value;
  }

  private onEngineSettingsChanged(): void {
    const { extensionPath, engines, status } = this.deps;
    // A workspace value that is ignored (an untrusted workspace's modelPath) leaves the effective settings as they
    // were: keep the engine and any run in flight.
    if (engines.matches(readEngineSettings(extensionPath))) return;
    // A run on the old engine would fail when it is disposed; end it as cancelled instead of reporting a crash.
    this.deps.cancelRuns();
    // Dispose the old engine now (frees the worker and its memory); the next command loads the new settings.
    engines.invalidate();
    status.resetModel(modelDisplayName(readEngineSettings(extensionPath).modelDir));
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
