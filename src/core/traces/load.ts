/**
 * What a trace file opens as, for the CLI (`damoe trace`) and VS Code (Open Routing Trace) alike: one saved
 * response is one Analysis; a JSONL of many is the spot-check report over all of them.
 */
import type { Analysis } from '../../shared/analysis';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { EngineError } from '../errors';
import { analyseTrace, type TraceFile, type TraceReader } from './open';
import { traceSpotCheck } from './spotcheck';
import { hfHooksAnalysis } from './hf-hooks';

export type OpenedTrace = { kind: 'analysis'; analysis: Analysis } | { kind: 'report'; report: SpotCheckReport };

export interface OpenTraceOptions {
  /** The prompt as text (one trace only: a JSONL line carries its own). */
  prompt?: string;
  signal?: AbortSignal;
  createdAt?: Date;
}

export function openedTrace(reader: TraceReader, content: TraceFile, file: string, o: OpenTraceOptions = {}): OpenedTrace {
  if (content.kind === 'single') return { kind: 'analysis', analysis: analyseTrace(reader, content.response, file, o.prompt) };
  if (content.kind === 'hf-hooks') {
    const { header, lines } = content;
    const analyseLine = (value: unknown, source: string): { analysis: Analysis; label?: string } => {
      const label = value && typeof value === 'object' ? (value as Record<string, unknown>).label : undefined;
      const analysis = hfHooksAnalysis(header, value, { ...reader, source, ...(o.prompt !== undefined ? { prompt: o.prompt } : {}) });
      return { analysis, ...(typeof label === 'string' || typeof label === 'number' ? { label: String(label) } : {}) };
    };
    // One sequence is one Analysis; more are the spot-check statistics over all of them.
    if (lines.length === 1) {
      let value: unknown;
      try {
        value = JSON.parse(lines[0].text);
      } catch (e) {
        throw new EngineError('bad-trace', `${file}:${lines[0].line}: not JSON (${(e as Error).message})`);
      }
      return { kind: 'analysis', analysis: analyseLine(value, `${file}:${lines[0].line}`).analysis };
    }
    if (o.prompt !== undefined)
      throw new EngineError('bad-trace', `${file} holds ${lines.length} sequences: a prompt is for one; give each line its "prompt"`);
    return { kind: 'report', report: traceSpotCheck(reader, { file, lines, analyseLine, ...(o.signal ? { signal: o.signal } : {}) }) };
  }
  if (o.prompt !== undefined) {
    throw new EngineError(
      'bad-trace',
      `${file} holds ${content.lines.length} traces: a prompt is for one trace; in a JSONL, give each line as {"prompt": ..., "response": ...}`,
    );
  }
  return {
    kind: 'report',
    report: traceSpotCheck(reader, {
      file,
      lines: content.lines,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.createdAt ? { createdAt: o.createdAt } : {}),
    }),
  };
}
