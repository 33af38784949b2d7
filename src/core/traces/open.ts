/**
 * Opening routing traces from disk: the tokenizer and config.json of --tokenizer, the file (one saved response,
 * or a JSONL of many), each trace's Analysis. The CLI (`damoe trace`) and VS Code (Open Routing Trace) both call this.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Analysis } from '../../shared/analysis';
import { MAX_TRACE_FILE_BYTES } from '../../shared/defaults';
import { EngineError } from '../errors';
import { checkRegularFile, readRegularTextFile } from '../model-files';
import { Tokenizer, TokenizerConfigError } from '../tokenizer';
import { readTraceModelConfig, withOverrides, type TraceModelConfig } from './model-config';
import { traceAnalysis } from './trace-analysis';
import { HF_HOOKS_FORMAT, isHfHooksHeader, parseHfHooksHeader, type HfHooksHeader } from './hf-hooks';

export interface TraceReaderOptions {
  /** A directory with tokenizer.json (and config.json), or a tokenizer.json file. */
  tokenizer: string;
  numExperts?: number;
  topK?: number;
  numLayers?: number;
}

/** The tokenizer and the model facts every trace of one model shares. */
export interface TraceReader {
  tokenizer: Tokenizer;
  tokenizerPath: string;
  config: TraceModelConfig;
}

export async function openTraceReader(o: TraceReaderOptions): Promise<TraceReader> {
  const given = path.resolve(o.tokenizer);
  const isDir = fs.existsSync(given) && fs.statSync(given).isDirectory();
  const file = isDir ? path.join(given, 'tokenizer.json') : given;
  const check = await checkRegularFile(file, isDir ? `${file} (the tokenizer of --tokenizer ${o.tokenizer})` : file);
  if (check.problem)
    throw new EngineError(
      'model-not-found',
      `${check.problem}: --tokenizer names the served model's directory with tokenizer.json and config.json, or its tokenizer.json`,
    );
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromJSON(JSON.parse(await readRegularTextFile(file)), file);
  } catch (e) {
    if (e instanceof TokenizerConfigError || e instanceof SyntaxError)
      throw new EngineError('tokenizer', `${file}: ${(e as Error).message}`);
    throw e;
  }
  const config = withOverrides(readTraceModelConfig(isDir ? given : path.dirname(file)), o);
  return { tokenizer, tokenizerPath: isDir ? given : file, config };
}

/**
 * What a trace file holds: one response, one per line (JSONL), or a Hugging Face hooks trace (a header line, then
 * one sequence per line: hf-hooks.ts).
 */
export type TraceFile =
  | { kind: 'single'; response: unknown }
  | { kind: 'lines'; lines: { line: number; text: string }[] }
  | { kind: 'hf-hooks'; header: HfHooksHeader; lines: { line: number; text: string }[] };

export async function readTraceFile(file: string): Promise<TraceFile> {
  const check = await checkRegularFile(file);
  if (check.problem) throw new EngineError('bad-trace', check.problem);
  if (check.size > MAX_TRACE_FILE_BYTES) {
    throw new EngineError(
      'bad-trace',
      `${file} is ${check.size} bytes; a trace file may have at most ${MAX_TRACE_FILE_BYTES} (split a JSONL into several files)`,
    );
  }
  const text = (await readRegularTextFile(file)).replace(/^\uFEFF/, '');
  const hf = hfHooksFile(text, file);
  if (hf) return hf;
  const jsonl = /\.(jsonl|ndjson)$/i.test(file);
  if (!jsonl) {
    try {
      return { kind: 'single', response: JSON.parse(text) };
    } catch (e) {
      // A file of one object per line that is not named .jsonl is still a JSONL when every line parses.
      const lines = nonEmptyLines(text);
      if (lines.length < 2 || !lines.every((l) => parses(l.text)))
        throw new EngineError('bad-trace', `${file} is not valid JSON: ${(e as Error).message}`);
      return { kind: 'lines', lines };
    }
  }
  return { kind: 'lines', lines: nonEmptyLines(text) };
}

/** A file whose first line is a Hugging Face hooks header; null for any other file. */
function hfHooksFile(text: string, file: string): TraceFile | null {
  const nl = text.indexOf('\n');
  const first = (nl < 0 ? text : text.slice(0, nl)).trim();
  if (!first.startsWith('{') || !first.includes(HF_HOOKS_FORMAT)) return null;
  let head: unknown;
  try {
    head = JSON.parse(first);
  } catch {
    return null;
  }
  if (!isHfHooksHeader(head)) return null;
  const header = parseHfHooksHeader(head, `${path.basename(file)}:1`);
  const lines = nonEmptyLines(text).filter((l) => l.line > 1);
  if (lines.length === 0)
    throw new EngineError('bad-trace', `${file}: a Hugging Face hooks header and no sequence after it (expected one line per sequence)`);
  return { kind: 'hf-hooks', header, lines };
}

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function nonEmptyLines(text: string): { line: number; text: string }[] {
  return text
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t }))
    .filter((l) => l.text.trim() !== '');
}

/** A JSONL line may wrap the response with its prompt: {"prompt": "...", "response": {...}} (docs/routing-traces.md). */
export function unwrapTraceLine(value: unknown): { response: unknown; prompt?: string; label?: string } {
  if (value && typeof value === 'object' && !Array.isArray(value) && 'response' in value) {
    const v = value as Record<string, unknown>;
    return {
      response: v.response,
      ...(typeof v.prompt === 'string' ? { prompt: v.prompt } : {}),
      ...(typeof v.label === 'string' || typeof v.label === 'number' ? { label: String(v.label) } : {}),
    };
  }
  return { response: value };
}

/** The Analysis of one saved response. */
export function analyseTrace(reader: TraceReader, response: unknown, source: string, prompt?: string): Analysis {
  return traceAnalysis(response, { ...reader, source, ...(prompt !== undefined ? { prompt } : {}) });
}
