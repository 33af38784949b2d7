/**
 * `damoe.compareModels` (the selection through 2-3 models, side by side) and `damoe.compareModelsOnDataset` (a
 * dataset sample through each, with paired statistics: src/core/compare). The models come from a multi-select quick
 * pick of the shipped models and the configured one (or a command argument `{ models: [...] }`). Each model gets
 * its own engine, kept while the panel lives (a text comparison after a click must not reload three models); the
 * engine settings (provider, threads, max tokens) are the user's, as for Analyze Routing. The dataset comparison
 * exports as JSON or HTML (the files `damoe compare --json / --html` write), and the panel survives a reload.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { compareOnSample, createEngine, DatasetError, modelDirByName, openDataset, sampleDataset, type Engine } from '../../core';
import type { CompareReport } from '../../shared/compare-report';
import { renderCompareHtml } from '../../report/compare-html';
import type { CompareExportFormat } from '../../shared/protocol/compare';
import { DEFAULT_COMPARE_MODELS, MAX_COMPARE_MODELS, MIN_COMPARE_MODELS } from '../../shared/defaults';
import type { CompareTextModel } from '../../shared/protocol/compare';
import type { ErrorReporter } from '../errors';
import { describeDatasetError, describeError, isCancellation } from '../errorsLogic';
import { readEngineSettings } from '../model/config';
import { listShippedModels } from '../model/modelPicker';
import { readSpotCheckSettings } from '../spotcheck/spotCheck';
import { DATASET_FILE_EXTENSIONS, isDatasetFileName, isSameFile, sampleOption, vscodeDatasetMessage } from '../spotcheck/spotCheckLogic';
import { ComparePanel } from './comparePanel';
import { checkModelChoice, compareExportFileName } from './comparePanelLogic';

export type CompareResult =
  | { status: 'ok'; models: string[]; predictions: string[] }
  | { status: 'ok-dataset'; report: CompareReport }
  | { status: 'cancelled' | 'no-text' | 'no-file' | 'busy'; message: string }
  | { status: 'error'; code: string; message: string };

export interface CompareHost {
  log: vscode.LogOutputChannel;
  extensionPath: string;
  workerPath: string;
  /** Errors: once, in the panel's banner while it is in view, else as a notification (showOnce). */
  errors: Pick<ErrorReporter, 'showOnce' | 'runAction'>;
}

interface ModelRef {
  name: string;
  dir: string;
}

/** `{ models?, text?, file?, sampleSize?, seed? }` passed to the commands (tests, keybindings) skips the pickers. */
interface CompareArgs {
  models?: unknown;
  text?: unknown;
  file?: unknown;
  sampleSize?: unknown;
  seed?: unknown;
}

const isArgs = (a: unknown): a is CompareArgs => typeof a === 'object' && a !== null && !(a instanceof vscode.Uri) && !Array.isArray(a);

export class ModelComparer implements vscode.Disposable {
  readonly panel: ComparePanel;
  private readonly engines = new Map<string, Promise<Engine>>();
  private engineKey = '';
  private running: AbortController | null = null;
  private readonly disposables: vscode.Disposable[] = [];
  private lastModels: ModelRef[] = [];

  constructor(
    extensionUri: vscode.Uri,
    private readonly host: CompareHost,
  ) {
    this.panel = new ComparePanel(extensionUri, {
      log: (level, message) => host.log[level](message),
      openDisagreement: async (report, line) => {
        const d = report.disagreements.find((x) => x.line === line);
        if (!d) return;
        const models = this.lastModels.length === report.models.length ? this.lastModels : this.refs(report.models.map((m) => m.path));
        await this.compareText(
          models,
          { text: d.text, textPair: d.pair ?? undefined },
          `line ${d.line} of ${path.basename(report.dataset.path)}`,
        );
      },
      exportReport: (report, format) => this.exportReport(report, format),
      errorAction: (action, settingsQuery) => host.errors.runAction(action, settingsQuery),
    });
    this.disposables.push(this.panel, this.panel.registerSerializer());
  }

  /** Saves the dataset comparison where the user chooses (never over the dataset itself); the path, or null. */
  async exportReport(report: CompareReport, format: CompareExportFormat): Promise<string | null> {
    const dir = vscode.Uri.file(path.dirname(report.dataset.path));
    for (;;) {
      // The save dialog asks before replacing an existing file; nothing is written unless the user chooses a path.
      const target = await vscode.window.showSaveDialog({
        title: `Export the model comparison as ${format.toUpperCase()}`,
        saveLabel: 'Export',
        defaultUri: vscode.Uri.joinPath(dir, compareExportFileName(report, format)),
        filters: format === 'json' ? { JSON: ['json'] } : { HTML: ['html', 'htm'] },
      });
      if (!target) return null;
      if (target.scheme === 'file' && isSameFile(target.fsPath, report.dataset.path)) {
        await vscode.window.showErrorMessage('DA-MoE: that is the dataset file itself; choose another file for the comparison.', {
          modal: true,
        });
        continue;
      }
      const body = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderCompareHtml(report);
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(body));
      const shown = target.scheme === 'file' ? target.fsPath : target.toString(true);
      this.host.log.info(`Exported the model comparison to ${shown}.`);
      vscode.window.setStatusBarMessage(`DA-MoE: comparison saved to ${shown}`, 5000);
      return shown;
    }
  }

  /** damoe.compareModels: the selection (or the current line) through the picked models. */
  async compareSelection(...args: unknown[]): Promise<CompareResult> {
    const opts = args.find(isArgs);
    let text = typeof opts?.text === 'string' ? opts.text : undefined;
    let source = 'the argument';
    if (text === undefined) {
      const editor = vscode.window.activeTextEditor;
      if (!editor) {
        const message = 'DA-MoE: open a file and select the text to compare the models on.';
        void vscode.window.showInformationMessage(message);
        return { status: 'no-text', message };
      }
      const sel = editor.selection;
      text = sel.isEmpty ? editor.document.lineAt(sel.active.line).text : editor.document.getText(sel);
      source = `${path.basename(editor.document.fileName)}${sel.isEmpty ? `, line ${sel.active.line + 1}` : ', selection'}`;
    }
    if (text.trim() === '') {
      const message = 'DA-MoE: the text to compare is empty; select some text first.';
      void vscode.window.showInformationMessage(message);
      return { status: 'no-text', message };
    }
    const models = await this.chooseModels(opts?.models);
    if (typeof models === 'string') return { status: 'cancelled', message: models };
    return this.compareText(models, { text }, source);
  }

  /** damoe.compareModelsOnDataset: a dataset sample through each picked model, with paired statistics. */
  async compareDataset(...args: unknown[]): Promise<CompareResult> {
    if (this.running) {
      const message = 'DA-MoE: a comparison is already running; cancel it in its notification first.';
      void vscode.window.showInformationMessage(message);
      return { status: 'busy', message };
    }
    const opts = args.find(isArgs);
    const file = await this.datasetFile(args, opts);
    if (typeof file !== 'string') return file;
    const models = await this.chooseModels(opts?.models);
    if (typeof models === 'string') return { status: 'cancelled', message: models };
    const settings = readSpotCheckSettings();
    const sampleSize = typeof opts?.sampleSize === 'number' && opts.sampleSize >= 0 ? Math.floor(opts.sampleSize) : settings.sampleSize;
    const seed = typeof opts?.seed === 'number' || typeof opts?.seed === 'string' ? opts.seed : settings.seed;
    const controller = new AbortController();
    this.running = controller;
    const name = path.basename(file);
    this.panel.show(true);
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `DA-MoE compare: ${name}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          const dataset = await openDataset(file, {
            textColumn: settings.textColumn,
            pairColumn: settings.pairColumn,
            labelColumn: settings.labelColumn,
          });
          progress.report({ message: 'reading the dataset…' });
          const sample = await sampleDataset(dataset, { sample: sampleOption(sampleSize), seed, signal: controller.signal });
          let current = '';
          const report = await compareOnSample(
            models.map((m) => ({ name: m.name, open: async () => ({ engine: await this.engine(m), release: async () => {} }) })),
            dataset,
            sample,
            {
              signal: controller.signal,
              threads: readEngineSettings(this.host.extensionPath).threads,
              workers: 1,
              onModel: (i, modelName) => {
                current = modelName;
                progress.report({ message: `${modelName} (${i + 1} of ${models.length})…` });
              },
              onProgress: (p) =>
                this.panel.controller?.setProgress({ running: true, message: `Comparing on ${name}: ${current} ${p.done}/${p.total}` }),
            },
          );
          this.lastModels = models;
          this.panel.show(true).showReport(report);
          return { status: 'ok-dataset', report } as const;
        },
      );
    } catch (e) {
      return this.failure(e, models[0]?.dir ?? '');
    } finally {
      this.running = null;
    }
  }

  /** Runs `request` through each model (their engines side by side) and shows the analyses. */
  private async compareText(models: ModelRef[], request: { text: string; textPair?: string }, source: string): Promise<CompareResult> {
    const panel = this.panel.show(true);
    panel.setProgress({ running: true, message: `Running the text through ${models.map((m) => m.name).join(', ')}…` });
    try {
      const analyses = await Promise.all(models.map(async (m) => (await this.engine(m)).analyze(request)));
      const view: CompareTextModel[] = models.map((m, i) => ({ name: m.name, analysis: analyses[i] }));
      this.lastModels = models;
      panel.showText({ models: view, source });
      return { status: 'ok', models: models.map((m) => m.name), predictions: analyses.map((a) => a.prediction?.label ?? '') };
    } catch (e) {
      return this.failure(e, models[0]?.dir ?? '');
    }
  }

  private failure(e: unknown, modelDir: string): CompareResult {
    this.panel.controller?.setProgress({ running: false, message: '' });
    if (isCancellation(e)) return { status: 'cancelled', message: 'DA-MoE: comparison cancelled.' };
    // A dataset that cannot be read says so in VS Code's words (with Open Settings for an unknown column).
    const ue =
      e instanceof DatasetError
        ? describeDatasetError(e.code, `DA-MoE compare: ${vscodeDatasetMessage(e.message)}`)
        : describeError(e, modelDir);
    const message = ue.message.replace(/^DA-MoE: /, 'DA-MoE compare: ');
    // Once: the panel's banner while it is in view (it is revealed when a comparison starts), else a notification.
    this.host.errors.showOnce({ ...ue, message }, this.panel);
    return { status: 'error', code: ue.code, message };
  }

  /** The engine of one model, made on first use with the user's engine settings; all are dropped when those change. */
  private engine(m: ModelRef): Promise<Engine> {
    const s = readEngineSettings(this.host.extensionPath);
    const key = JSON.stringify([s.executionProvider, s.threads, s.maxTokens, s.workerTimeoutSeconds]);
    if (key !== this.engineKey) {
      this.disposeEngines();
      this.engineKey = key;
    }
    let e = this.engines.get(m.dir);
    if (!e) {
      e = createEngine({
        modelDir: m.dir,
        executionProvider: s.executionProvider,
        threads: s.threads,
        maxTokens: s.maxTokens,
        workerTimeoutSeconds: s.workerTimeoutSeconds,
        workerPath: this.host.workerPath,
        log: (level, message) => this.host.log[level](`[${m.name}] ${message}`),
      });
      // A model that fails to load is not cached: the next comparison tries again.
      e.catch(() => this.engines.delete(m.dir));
      this.engines.set(m.dir, e);
    }
    return e;
  }

  private refs(dirs: readonly string[]): ModelRef[] {
    return dirs.map((dir) => ({ name: path.basename(dir), dir }));
  }

  /** The models: a command argument (names or folders), else a multi-select quick pick. A string: why none. */
  private async chooseModels(preset: unknown): Promise<ModelRef[] | string> {
    if (Array.isArray(preset)) {
      const names = preset.filter((x): x is string => typeof x === 'string');
      const problem = checkModelChoice(names, MIN_COMPARE_MODELS, MAX_COMPARE_MODELS);
      if (problem) return `DA-MoE compare: ${problem}`;
      try {
        return names.map((n) => ({ name: path.basename(n), dir: modelDirByName(n, this.host.extensionPath) }));
      } catch (e) {
        return `DA-MoE compare: ${(e as Error).message}`;
      }
    }
    const shipped = listShippedModels(this.host.extensionPath);
    const configured = readEngineSettings(this.host.extensionPath).modelDir;
    const defaults = DEFAULT_COMPARE_MODELS.every((n) => shipped.some((m) => m.name === n));
    const items: (vscode.QuickPickItem & { dir: string })[] = shipped.map((m, i) => ({
      label: m.name,
      description: 'shipped',
      dir: m.dir,
      picked:
        this.lastModels.length > 0
          ? this.lastModels.some((x) => x.dir === m.dir)
          : defaults
            ? DEFAULT_COMPARE_MODELS.includes(m.name)
            : i < 2,
    }));
    if (configured && !shipped.some((m) => path.resolve(m.dir) === path.resolve(configured))) {
      items.push({ label: path.basename(configured), description: `configured: ${configured}`, dir: configured, picked: false });
    }
    const picked = await vscode.window.showQuickPick(items, {
      title: 'DA-MoE: Compare Models',
      placeHolder: `Pick ${MIN_COMPARE_MODELS} or ${MAX_COMPARE_MODELS} models (the first is the one the others are compared with), then Enter`,
      canPickMany: true,
      ignoreFocusOut: true,
    });
    if (!picked || picked.length === 0) return 'DA-MoE: no models picked.';
    const problem = checkModelChoice(
      picked.map((p) => p.dir),
      MIN_COMPARE_MODELS,
      MAX_COMPARE_MODELS,
    );
    if (problem) {
      void vscode.window.showWarningMessage(`DA-MoE: ${problem}.`);
      return `DA-MoE compare: ${problem}`;
    }
    return picked.map((p) => ({ name: p.label, dir: p.dir }));
  }

  private async datasetFile(args: unknown[], opts: CompareArgs | undefined): Promise<string | CompareResult> {
    if (typeof opts?.file === 'string' && opts.file.trim() !== '') return path.resolve(opts.file);
    const resource = args.find((a): a is vscode.Uri => a instanceof vscode.Uri);
    if (resource?.scheme === 'file') return resource.fsPath;
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active && active.scheme === 'file' && isDatasetFileName(active.fsPath)) return active.fsPath;
    const picked = await vscode.window.showOpenDialog({
      title: 'Compare models on a dataset',
      openLabel: 'Compare',
      canSelectMany: false,
      filters: { Datasets: [...DATASET_FILE_EXTENSIONS], 'All files': ['*'] },
    });
    if (!picked || picked.length === 0 || picked[0].scheme !== 'file')
      return { status: 'no-file', message: 'DA-MoE: no local dataset chosen.' };
    return picked[0].fsPath;
  }

  private disposeEngines(): void {
    for (const e of this.engines.values()) void e.then((x) => x.dispose()).catch(() => undefined);
    this.engines.clear();
  }

  dispose(): void {
    this.running?.abort();
    this.disposeEngines();
    for (const d of this.disposables) d.dispose();
  }
}
