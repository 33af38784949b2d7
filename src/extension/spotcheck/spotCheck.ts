/**
 * `damoe.spotCheck`: spot-check a dataset file with the cached engine (same model and settings as Analyze Routing),
 * in a cancellable progress notification, and show the report in the spot-check panel. Clicking an example opens
 * the dataset at its line and analyses it in the routing panel; the report exports as JSON or HTML.
 *
 * The rules (settings, options argument, quick-pick items, cell location, export names) are in spotCheckLogic.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  DatasetError,
  defaultSpotCheckWorkers,
  openDataset,
  RoutingTableWriter,
  runDatasetSample,
  sampleDataset,
  workerMemoryFor,
  type Dataset,
  type DatasetOptions,
  type DatasetRecord,
  type Engine,
} from '../../core';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { headlineText } from '../../shared/lm-report-text';
import { importanceCheckUnavailable } from '../../shared/importance-check';
import { renderSpotCheckHtml } from '../../report/html';
import type { SpotCheckExportFormat, SpotCheckLinking } from '../../shared/protocol/spotcheck';
import type { ErrorReporter } from '../errors';
import { describeDatasetError, describeError, isCancellation, type UserError } from '../errorsLogic';
import type { AnalyzeResult } from '../routing/analyzer';
import { exportFigure } from '../panels/exportFigure';
import { SpotCheckPanel } from './spotCheckPanel';
import { SpotCheckStatusBar } from './spotCheckStatusBar';
import {
  DATASET_FILE_EXTENSIONS,
  columnChoices,
  groupColumnChoices,
  exportFileName,
  isCommandOptions,
  isDatasetFileName,
  isSameFile,
  linkingNote,
  locateTextCell,
  mergeCommandOptions,
  parseSampleSize,
  parseSeed,
  pickItems,
  progressMessage,
  sampleOption,
  sanitizeSpotCheckSettings,
  type PickItem,
  type SpotCheckCommandOptions,
  type SpotCheckSettings,
  vscodeDatasetMessage,
} from './spotCheckLogic';

/** What `damoe.spotCheck` resolves to (host tests use it). */
export type SpotCheckResult =
  | { status: 'ok'; report: SpotCheckReport; cancelled: boolean }
  | { status: 'cancelled'; message: string }
  | { status: 'no-file' | 'busy'; message: string }
  | { status: 'error'; code: string; message: string };

/** What the spot-check needs from the Inspector (the engine cache, error reporting, the analyze path). */
export interface SpotCheckHost {
  log: vscode.LogOutputChannel;
  engine(): Promise<Engine>;
  /** The configured model folder (for error messages before the engine exists). */
  modelDir(): string;
  threads(): number;
  /** Errors: once, in the panel's banner while it is in view, else as a notification (showOnce). */
  errors: Pick<ErrorReporter, 'showOnce' | 'showInPanel' | 'runAction'>;
  dropEngine(): void;
  analyzeText(
    request: { text: string; textPair?: string },
    link: { editor: vscode.TextEditor; range: vscode.Range } | null,
    column?: vscode.ViewColumn,
  ): Promise<AnalyzeResult>;
}

const PANEL_PROGRESS_MS = 250;

export function readSpotCheckSettings(): SpotCheckSettings {
  const cfg = vscode.workspace.getConfiguration('damoe.spotCheck');
  return sanitizeSpotCheckSettings({
    sampleSize: cfg.get('sampleSize'),
    seed: cfg.get('seed'),
    textColumn: cfg.get('textColumn'),
    pairColumn: cfg.get('pairColumn'),
    labelColumn: cfg.get('labelColumn'),
    importanceCheck: cfg.get('importanceCheck'),
  });
}

function datasetOptions(s: SpotCheckSettings): DatasetOptions {
  return { textColumn: s.textColumn, pairColumn: s.pairColumn, labelColumn: s.labelColumn, groupColumn: s.groupColumn };
}

/** Runs whose routing table is kept for export (the latest; a table of 500 SST-2 examples is about 0.6 MB). */
const ROUTING_TABLES_KEPT = 5;

/** The status bar summary's click: shows the spot-check report (internal; not in the command palette). */
const SHOW_REPORT_COMMAND = 'damoe.spotCheck.showReport';

export class SpotChecker implements vscode.Disposable {
  readonly panel: SpotCheckPanel;
  readonly status: SpotCheckStatusBar;
  private running: AbortController | null = null;
  private readonly disposables: vscode.Disposable[] = [];
  /**
   * Each run's routing table (Parquet, one row per example × token × layer), written to a temporary file as the run
   * goes so that "Export routing" needs no second run; keyed by the report's created_at. Only the latest
   * ROUTING_TABLES_KEPT are kept; all are deleted when the extension stops.
   */
  private readonly routingTables = new Map<string, string>();
  private routingDir: string | null = null;

  constructor(
    extensionUri: vscode.Uri,
    private readonly host: SpotCheckHost,
  ) {
    this.panel = new SpotCheckPanel(extensionUri, {
      log: (level, message) => host.log[level](message),
      openExample: async (report, line) => {
        await this.openExample(report, line);
      },
      errorAction: (action, settingsQuery) => host.errors.runAction(action, settingsQuery),
      exportReport: (report, format) => this.exportReport(report, format),
      saveFigure: (figure, report) =>
        exportFigure(
          figure,
          { prefix: `${report.model.name}-spotcheck`, folder: vscode.Uri.file(path.dirname(report.dataset.path)) },
          host.log,
        ),
      closed: () => this.status.hide(),
    });
    this.status = new SpotCheckStatusBar(SHOW_REPORT_COMMAND);
    this.disposables.push(
      this.panel,
      this.panel.registerSerializer(),
      this.status,
      vscode.commands.registerCommand(SHOW_REPORT_COMMAND, () => {
        if (this.panel.exists) this.panel.show(false);
      }),
    );
  }

  get isRunning(): boolean {
    return this.running !== null;
  }

  /**
   * The command. Arguments: none (active dataset editor, else an open dialog), a resource URI (explorer / editor
   * menus), and/or an options object `{ file?, sampleSize?, seed?, textColumn?, pairColumn?, labelColumn?, groupColumn? }`, which
   * skips the quick pick.
   */
  async run(...args: unknown[]): Promise<SpotCheckResult> {
    if (this.running) {
      const message = 'DA-MoE: a spot-check is already running; cancel it in its notification first.';
      void vscode.window.showInformationMessage(message);
      return { status: 'busy', message };
    }
    const explicit = args.find(isCommandOptions);
    let settings = readSpotCheckSettings();
    if (explicit) {
      const merged = mergeCommandOptions(settings, explicit);
      if (typeof merged === 'string') return { status: 'error', code: 'invalid-option', message: `DA-MoE spot-check: ${merged}` };
      settings = merged;
    }
    const file = await this.targetFile(args, explicit);
    if (typeof file !== 'string') return file;

    let dataset: Dataset;
    try {
      dataset = await openDataset(file, datasetOptions(settings));
    } catch (e) {
      return this.datasetFailure(e);
    }
    if (!explicit) {
      const confirmed = await this.confirm(file, settings, dataset);
      if (!confirmed) return { status: 'cancelled', message: 'DA-MoE: spot-check not started.' };
      ({ settings, dataset } = confirmed);
    }
    return this.execute(dataset, settings);
  }

  private async targetFile(args: unknown[], explicit: SpotCheckCommandOptions | undefined): Promise<string | SpotCheckResult> {
    const notLocal = (uri: vscode.Uri): SpotCheckResult => {
      const message = `DA-MoE: spot-checks read files on this machine; ${uri.toString(true)} is not a local file.`;
      void vscode.window.showWarningMessage(message);
      return { status: 'no-file', message };
    };
    if (explicit?.file !== undefined) {
      if (typeof explicit.file !== 'string' || explicit.file.trim() === '')
        return { status: 'error', code: 'invalid-option', message: 'DA-MoE spot-check: file must be a path' };
      return path.resolve(explicit.file);
    }
    const resource = args.find((a): a is vscode.Uri => a instanceof vscode.Uri);
    if (resource) return resource.scheme === 'file' ? resource.fsPath : notLocal(resource);
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active && active.scheme === 'file' && isDatasetFileName(active.fsPath)) return active.fsPath;
    const picked = await vscode.window.showOpenDialog({
      title: 'Spot-check a dataset',
      openLabel: 'Spot-Check',
      canSelectMany: false,
      canSelectFolders: false,
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      filters: { Datasets: [...DATASET_FILE_EXTENSIONS], 'All files': ['*'] },
    });
    if (!picked || picked.length === 0) return { status: 'cancelled', message: 'DA-MoE: no dataset chosen.' };
    return picked[0].scheme === 'file' ? picked[0].fsPath : notLocal(picked[0]);
  }

  /** The quick pick: Run (Enter) or change the sample size, seed and columns; the detected columns are shown. */
  private async confirm(
    file: string,
    initial: SpotCheckSettings,
    initialDataset: Dataset,
  ): Promise<{ settings: SpotCheckSettings; dataset: Dataset } | undefined> {
    let settings = initial;
    let dataset = initialDataset;
    const name = path.basename(file);
    for (;;) {
      const items = pickItems(settings, dataset, name).map((i) => ({ ...i, alwaysShow: true }));
      const choice = await vscode.window.showQuickPick<PickItem & vscode.QuickPickItem>(items, {
        title: `DA-MoE: Spot-Check ${name}`,
        placeHolder: 'Enter runs the spot-check; pick an item to change it',
        ignoreFocusOut: true,
        matchOnDescription: true,
      });
      if (!choice) return undefined;
      if (choice.action === 'run') return { settings, dataset };
      if (choice.action === 'sampleSize') {
        const v = await vscode.window.showInputBox({
          title: 'Sample size',
          prompt: 'Examples to analyse (0 or "all" = every example); the sample is stratified by label',
          value: String(settings.sampleSize),
          validateInput: (t) => {
            const r = parseSampleSize(t);
            return typeof r === 'string' ? `Enter ${r}` : undefined;
          },
        });
        const n = v === undefined ? undefined : parseSampleSize(v);
        if (typeof n === 'number') settings = { ...settings, sampleSize: n };
        continue;
      }
      if (choice.action === 'seed') {
        const v = await vscode.window.showInputBox({
          title: 'Seed',
          prompt: 'Seed of the sample: the same file, sample size and seed always give the same sample',
          value: String(settings.seed),
          validateInput: (t) => (parseSeed(t) === undefined ? 'Enter a number or any text' : undefined),
        });
        const seed = v === undefined ? undefined : parseSeed(v);
        if (seed !== undefined) settings = { ...settings, seed };
        continue;
      }
      const key = choice.action;
      const columns = dataset.columns ?? [];
      const what = dataset.format === 'jsonl' ? 'key' : 'column';
      const picked = await vscode.window.showQuickPick(
        key === 'groupColumn' ? groupColumnChoices(dataset, settings.groupColumn) : columnChoices(columns, settings[key]),
        {
          title: choice.label,
          placeHolder:
            key === 'groupColumn'
              ? `Routing statistics per value of which ${what}? (None: no grouping)`
              : `Which ${what} holds the ${key.replace('Column', '')}?`,
        },
      );
      if (!picked) continue;
      const next = { ...settings, [key]: picked.value };
      try {
        dataset = await openDataset(file, datasetOptions(next));
        settings = next;
      } catch (e) {
        void vscode.window.showWarningMessage(`DA-MoE: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private async execute(dataset: Dataset, settings: SpotCheckSettings): Promise<SpotCheckResult> {
    const controller = new AbortController();
    this.running = controller;
    this.status.hide();
    const name = path.basename(dataset.path);
    let modelDir = this.host.modelDir();
    let lastPanel = 0;
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `DA-MoE spot-check: ${name}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          progress.report({ message: 'reading the dataset…' });
          const sample = await sampleDataset(dataset, {
            sample: sampleOption(settings.sampleSize),
            seed: settings.seed,
            signal: controller.signal,
            onRead: (rows) => progress.report({ message: `reading the dataset… ${rows.toLocaleString('en')} rows` }),
          });
          if (controller.signal.aborted)
            return { status: 'cancelled', message: 'DA-MoE: spot-check cancelled while reading the dataset.' } as const;
          progress.report({ message: `${sample.records.length} examples sampled; loading the model…` });
          const engine = await this.host.engine();
          modelDir = engine.model.path;
          let pct = 0;
          const total = sample.records.length;
          const threads = this.host.threads();
          const workers = defaultSpotCheckWorkers(threads, undefined, workerMemoryFor(engine.model.path));
          if (workers > 1) progress.report({ message: `starting ${workers} model workers…` });
          const table = this.startRoutingTable(engine, dataset.path, settings.seed);
          // Only where it applies: a causal LM's or a trace's spot-check runs without it instead of failing.
          const importanceCheck = importanceCheckUnavailable(engine.model) === null ? (settings.importanceCheck ?? 0) : 0;
          const report = await runDatasetSample(engine, dataset, sample, {
            threads,
            workers,
            signal: controller.signal,
            importanceCheck,
            onImportanceProgress: (p) => {
              progress.report({ message: `importance check (occlusion): ${p.textsDone} of ${p.texts} examples…` });
              const t = Date.now();
              if (this.panel.controller && (t - lastPanel >= PANEL_PROGRESS_MS || p.textsDone === p.texts)) {
                lastPanel = t;
                this.panel.controller.setProgress({
                  running: true,
                  done: p.textsDone,
                  total: p.texts,
                  examplesPerSecond: 0,
                  message: `Importance check (occlusion) on ${p.texts} examples of ${name}…`,
                });
              }
            },
            onExample: table ? (record, routed) => table.add(record, routed) : undefined,
            onProgress: (p) => {
              const now = total > 0 ? (100 * p.done) / total : 100;
              progress.report({ message: progressMessage(p.done, p.total, p.examplesPerSecond), increment: Math.max(0, now - pct) });
              pct = Math.max(pct, now);
              const t = Date.now();
              if (this.panel.controller && (t - lastPanel >= PANEL_PROGRESS_MS || p.done === p.total)) {
                lastPanel = t;
                this.panel.controller.setProgress({
                  running: true,
                  done: p.done,
                  total: p.total,
                  examplesPerSecond: p.examplesPerSecond,
                  message: `Spot-checking ${name}…`,
                });
              }
            },
          })
            .catch((e: unknown) => {
              table?.abort();
              throw e;
            })
            .finally(() => void engine.releaseBatchWorkers());
          if (table) this.keepRoutingTable(report, table);
          this.showReport(report);
          return { status: 'ok', report, cancelled: report.cancelled } as const;
        },
      );
    } catch (e) {
      this.panel.controller?.setProgress({ running: false, done: 0, total: 0, examplesPerSecond: 0 });
      if (e instanceof DatasetError) return this.datasetFailure(e);
      if (isCancellation(e)) return { status: 'cancelled', message: 'DA-MoE: spot-check cancelled.' };
      const ue = describeError(e, modelDir);
      const message = ue.message.replace(/^DA-MoE: /, 'DA-MoE spot-check: ');
      const actions = ue.actions.includes('Show Output') ? ue.actions : [...ue.actions, 'Show Output' as const];
      this.host.errors.showOnce({ ...ue, message, actions }, this.panel);
      if (ue.dropEngine) this.host.dropEngine();
      return { status: 'error', code: ue.code, message };
    } finally {
      if (this.running === controller) this.running = null;
    }
  }

  private showReport(report: SpotCheckReport): void {
    const linking: SpotCheckLinking = { canOpen: true, note: linkingNote(report.dataset.format, report.dataset.pair_column) };
    this.panel.show(true).showReport(report, linking);
    const acc = headlineText(report);
    const what = `${report.n} examples of ${path.basename(report.dataset.path)}: ${acc}, mean K ${report.mean_k.overall.toFixed(2)}, ${report.examples_per_second.toFixed(1)} examples/s`;
    this.host.log.info(`Spot-check${report.cancelled ? ' (cancelled)' : ''}: ${what}.`);
    if (report.label_mapping.note) this.host.log.info(`  labels: ${report.label_mapping.note}`);
    if (report.skipped.count > 0)
      this.host.log.info(
        `  skipped ${report.skipped.count} rows: ${report.skipped.first.map((s) => `line ${s.line}: ${s.reason}`).join('; ')}`,
      );
    this.status.show(report);
  }

  /** Spot-check statistics over a JSONL of routing traces (Open Routing Trace): no examples to open, no routing table. */
  showTraceReport(report: SpotCheckReport): void {
    const note = 'These are routing traces: open one of them with “DA-MoE: Open Routing Trace” to see its tokens.';
    this.panel.show(true).showReport(report, { canOpen: false, note });
  }

  /** An error about a report shown here (a JSONL of traces that was refused): in the panel's banner, once. */
  showPanelError(ue: UserError): void {
    this.host.errors.showInPanel(ue, this.panel.show(true));
  }

  /** A dataset that cannot be opened: once, like every error of the spot-check (Open Settings for an unknown column). */
  private datasetFailure(e: unknown): SpotCheckResult {
    const ue =
      e instanceof DatasetError
        ? describeDatasetError(e.code, `DA-MoE spot-check: ${vscodeDatasetMessage(e.message)}`)
        : describeError(e, this.host.modelDir());
    this.host.errors.showOnce(ue, this.panel);
    return { status: 'error', code: ue.code, message: ue.message };
  }

  // ---- panel requests ------------------------------------------------------------------------------------------

  /** Opens the dataset at the example's line, selects its text cell when it can, and analyses the example. */
  async openExample(report: SpotCheckReport, line: number): Promise<AnalyzeResult | undefined> {
    const ds = report.dataset;
    let record: DatasetRecord | undefined;
    try {
      record = await findRecord(ds, line);
    } catch (e) {
      void vscode.window.showWarningMessage(`DA-MoE: cannot read ${path.basename(ds.path)}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    if (!record) {
      void vscode.window.showWarningMessage(
        `DA-MoE: line ${line} of ${path.basename(ds.path)} no longer holds an example (has the file changed?).`,
      );
      return undefined;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(ds.path));
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    if (line > doc.lineCount) return undefined;
    const lineText = doc.lineAt(line - 1).text;
    const cell = locateTextCell(lineText, ds.format, ds.columns, ds.text_column, record.text);
    const range = cell ? new vscode.Range(line - 1, cell.start, line - 1, cell.end) : doc.lineAt(line - 1).range;
    editor.selection = cell ? new vscode.Selection(range.start, range.end) : new vscode.Selection(range.start, range.start);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    const request = record.pair === undefined ? { text: record.text } : { text: record.text, textPair: record.pair };
    if (!cell) {
      vscode.window.setStatusBarMessage(
        `DA-MoE: line ${line}'s text is written with escapes here, so it is analysed without editor linking`,
        6000,
      );
    }
    // The routing panel goes to the column after the report's, beside it rather than as a tab over it.
    const reportColumn = this.panel.viewColumn;
    const column = reportColumn !== undefined && reportColumn > editor.viewColumn! ? ((reportColumn + 1) as vscode.ViewColumn) : undefined;
    return this.host.analyzeText(request, cell ? { editor, range } : null, column);
  }

  /** A writer for this run's routing table in the session's temporary folder; null (and logged) if it cannot be made. */
  private startRoutingTable(engine: Engine, datasetPath: string, seed: number | string): RoutingTableWriter | null {
    try {
      this.routingDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-routing-'));
      const file = path.join(this.routingDir, `run-${Date.now()}-${this.routingTables.size}.parquet`);
      return new RoutingTableWriter(file, engine.model, { 'damoe.dataset': datasetPath, 'damoe.seed': String(seed) });
    } catch (e) {
      this.host.log.warn(`Spot-check: the routing table will not be kept for export (${e instanceof Error ? e.message : String(e)}).`);
      return null;
    }
  }

  private keepRoutingTable(report: SpotCheckReport, table: RoutingTableWriter): void {
    try {
      const s = table.finish();
      this.routingTables.set(report.created_at, s.file);
      this.host.log.info(`  routing table: ${s.rows} rows (${(s.bytes / 2 ** 20).toFixed(1)} MiB), kept for Export routing.`);
    } catch (e) {
      this.host.log.warn(`Spot-check: the routing table could not be written (${e instanceof Error ? e.message : String(e)}).`);
      return;
    }
    for (const [key, file] of [...this.routingTables].slice(0, Math.max(0, this.routingTables.size - ROUTING_TABLES_KEPT))) {
      fs.rmSync(file, { force: true });
      this.routingTables.delete(key);
    }
  }

  async exportReport(report: SpotCheckReport, format: SpotCheckExportFormat): Promise<string | null> {
    const routing = format === 'parquet' ? this.routingTables.get(report.created_at) : undefined;
    if (format === 'parquet' && (!routing || !fs.existsSync(routing))) {
      void vscode.window.showWarningMessage(
        'DA-MoE: the routing of this report is not kept any more (only the latest runs of this window keep it); run the spot-check again to export its routing.',
      );
      return null;
    }
    const dir = vscode.Uri.file(path.dirname(report.dataset.path));
    for (;;) {
      // The save dialog asks before replacing an existing file; nothing is written unless the user chooses a path.
      const target = await vscode.window.showSaveDialog({
        title: format === 'parquet' ? 'Export the routing table (Parquet)' : `Export the spot-check report as ${format.toUpperCase()}`,
        saveLabel: 'Export',
        defaultUri: vscode.Uri.joinPath(dir, exportFileName(report, format)),
        filters: format === 'json' ? { JSON: ['json'] } : format === 'html' ? { HTML: ['html', 'htm'] } : { Parquet: ['parquet'] },
      });
      if (!target) return null;
      if (target.scheme === 'file' && isSameFile(target.fsPath, report.dataset.path)) {
        await vscode.window.showErrorMessage('DA-MoE: that is the dataset file itself; choose another file for the report.', {
          modal: true,
        });
        continue;
      }
      if (routing) {
        await vscode.workspace.fs.copy(vscode.Uri.file(routing), target, { overwrite: true });
      } else {
        const body = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderSpotCheckHtml(report);
        await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(body));
      }
      const shown = target.scheme === 'file' ? target.fsPath : target.toString(true);
      this.host.log.info(`Exported the spot-check report to ${shown}.`);
      vscode.window.setStatusBarMessage(`DA-MoE: spot-check report saved to ${shown}`, 5000);
      return shown;
    }
  }

  dispose(): void {
    this.running?.abort();
    if (this.routingDir) fs.rmSync(this.routingDir, { recursive: true, force: true });
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}

/** The record that starts on `line` (full text and pair, not the report's snippet); undefined when there is none. */
async function findRecord(ds: SpotCheckReport['dataset'], line: number): Promise<DatasetRecord | undefined> {
  const options: DatasetOptions =
    ds.format === 'text'
      ? { format: 'text' }
      : {
          format: ds.format,
          textColumn: ds.text_column,
          pairColumn: ds.pair_column ?? undefined,
          labelColumn: ds.label_column ?? undefined,
        };
  const dataset = await openDataset(ds.path, options);
  for await (const r of dataset.records()) {
    if (r.line === line) return r;
    if (r.line > line) return undefined;
  }
  return undefined;
}
