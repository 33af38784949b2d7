/**
 * DA-MoE: Open Routing Trace: a saved vLLM / SGLang response (or a JSONL of many, or a Hugging Face hooks trace)
 * opens in the routing panel like any analysis, with no link to an editor; a JSONL of many traces opens as
 * spot-check statistics in the spot-check panel. The reading is src/core/traces, the same as `damoe trace`.
 *
 * Arguments: none (the .json / .jsonl file in the active editor, else an open dialog; then the tokenizer quick pick
 * unless damoe.trace.tokenizer is set), a file URI (explorer), and/or an options object
 * `{ file?, tokenizer?, numExperts?, prompt? }` that skips the dialogs (tests, other extensions).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { listShippedModels, openedTrace, openTraceReader, readTraceFile, type OpenedTrace } from '../../core';
import type { Analysis } from '../../shared/analysis';
import { DEFAULT_MODEL_NAME } from '../../shared/defaults';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { describeError, type UserError } from '../errorsLogic';
import { resolveModelDir } from '../model/configLogic';
import { readTraceTokenizerSetting } from './traceSettings';
import { isTraceFileName, numExpertsProblem, TRACE_EXTENSIONS, tokenizerChoices, type TokenizerChoice } from './traceSettingsLogic';

export interface OpenTraceOptions {
  file?: string;
  tokenizer?: string;
  numExperts?: number;
  prompt?: string;
}

export type OpenTraceResult =
  | { status: 'ok'; kind: 'analysis'; analysis: Analysis }
  | { status: 'ok'; kind: 'report'; report: SpotCheckReport }
  | { status: 'cancelled' }
  | { status: 'error'; code: string; message: string };

export interface OpenTraceHost {
  extensionPath: string;
  log: vscode.LogOutputChannel;
  showAnalysis(analysis: Analysis): void;
  showReport(report: SpotCheckReport): void;
  /** The error in the routing panel's banner (one trace) or the spot-check panel's (a JSONL). */
  showError(ue: UserError, where: 'routing' | 'spotcheck'): void;
}

function isOptions(v: unknown): v is OpenTraceOptions {
  return typeof v === 'object' && v !== null && !(v instanceof vscode.Uri) && !Array.isArray(v);
}

export async function openRoutingTrace(host: OpenTraceHost, ...args: unknown[]): Promise<OpenTraceResult> {
  const o = args.find(isOptions) ?? {};
  const interactive = !isOptions(args.find(isOptions));
  const file = await traceFile(args, o);
  if (!file) return { status: 'cancelled' };
  let where: 'routing' | 'spotcheck' = 'routing';
  try {
    const tokenizer = o.tokenizer ?? readTraceTokenizerSetting(host.extensionPath) ?? (await pickTokenizer(host, interactive));
    if (!tokenizer) return { status: 'cancelled' };
    const content = await readTraceFile(file);
    if (content.kind === 'lines' || (content.kind === 'hf-hooks' && content.lines.length > 1)) where = 'spotcheck';
    let reader = await openTraceReader({ tokenizer, ...(o.numExperts !== undefined ? { numExperts: o.numExperts } : {}) });
    if (reader.config.numExperts === undefined && interactive && content.kind !== 'hf-hooks') {
      // The engines record expert ids only; without config.json the ids cannot be checked against a count.
      const n = await vscode.window.showInputBox({
        title: 'DA-MoE: number of experts',
        prompt: `${tokenizer} has no config.json: how many experts does each MoE layer of the served model have?`,
        ignoreFocusOut: true,
        validateInput: (t) => numExpertsProblem(t) ?? undefined,
      });
      if (n === undefined) return { status: 'cancelled' };
      reader = await openTraceReader({ tokenizer, numExperts: Number(n.trim()) });
    }
    const opened: OpenedTrace = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `DA-MoE: reading ${path.basename(file)}` },
      async () => openedTrace(reader, content, file, o.prompt !== undefined ? { prompt: o.prompt } : {}),
    );
    if (opened.kind === 'analysis') {
      host.showAnalysis(opened.analysis);
      const t = opened.analysis.model.trace;
      host.log.info(
        `Opened the routing trace ${file}: ${t?.promptTokens ?? 0} prompt + ${t?.generatedTokens ?? 0} generated tokens, ` +
          `${opened.analysis.model.numLayers} layers, top_k ${opened.analysis.model.kMax} of ${opened.analysis.model.numExperts} experts.`,
      );
      return { status: 'ok', kind: 'analysis', analysis: opened.analysis };
    }
    host.showReport(opened.report);
    host.log.info(`Opened ${opened.report.n} routing traces of ${file} as spot-check statistics (${opened.report.skipped.count} skipped).`);
    return { status: 'ok', kind: 'report', report: opened.report };
  } catch (e) {
    const ue = describeError(e, file);
    host.showError(ue, where);
    return { status: 'error', code: ue.code, message: ue.message };
  }
}

async function traceFile(args: unknown[], o: OpenTraceOptions): Promise<string | undefined> {
  if (o.file !== undefined) return path.resolve(o.file);
  const resource = args.find((a): a is vscode.Uri => a instanceof vscode.Uri);
  if (resource?.scheme === 'file') return resource.fsPath;
  // A trace open in the editor is the one meant (as Spot-Check takes the dataset open in the editor).
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file' && isTraceFileName(active.fsPath)) return active.fsPath;
  const picked = await vscode.window.showOpenDialog({
    title: 'Open a routing trace (a saved vLLM or SGLang response, a JSONL of traces, or a Hugging Face hooks trace)',
    openLabel: 'Open Trace',
    canSelectMany: false,
    canSelectFolders: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { 'Routing traces': [...TRACE_EXTENSIONS], 'All files': ['*'] },
  });
  const uri = picked?.[0];
  if (!uri) return undefined;
  if (uri.scheme !== 'file') {
    void vscode.window.showWarningMessage(`DA-MoE: routing traces are read from this machine; ${uri.toString(true)} is not a local file.`);
    return undefined;
  }
  return uri.fsPath;
}

/** damoe.trace.tokenizer is empty: ask (the served model's folder, or a shipped model's tokenizer). */
async function pickTokenizer(host: OpenTraceHost, interactive: boolean): Promise<string | undefined> {
  const fallback = resolveModelDir('', { extensionPath: host.extensionPath });
  if (!interactive) return fallback;
  const shipped = listShippedModels(host.extensionPath).map((dir) => ({ name: path.basename(dir), dir }));
  const choice = await vscode.window.showQuickPick<TokenizerChoice & vscode.QuickPickItem>(
    tokenizerChoices(shipped, DEFAULT_MODEL_NAME).map((c) => ({ ...c })),
    {
      title: 'DA-MoE: whose tokenizer names the trace’s token ids?',
      placeHolder: 'The served model’s tokenizer.json (set damoe.trace.tokenizer to skip this question)',
      ignoreFocusOut: true,
    },
  );
  if (!choice) return undefined;
  if (choice.path) return choice.path;
  const picked = await vscode.window.showOpenDialog({
    title: "The served model's folder (tokenizer.json, config.json)",
    openLabel: 'Use This Tokenizer',
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
  });
  const uri = picked?.[0];
  return uri?.scheme === 'file' ? uri.fsPath : undefined;
}
