/**
 * What a trace file opens as, for the CLI (`damoe trace`) and VS Code (Open Routing Trace) alike: one saved
 * response is one Analysis; a JSONL of many is the spot-check report over all of them.
 */
import type { Analysis } from '../../shared/analysis';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { EngineError } from '../errors';
import { analyseTrace, type TraceFile, type TraceReader } from './open';
import { traceSpotCheck } from './spotcheck';

export type OpenedTrace = { kind: 'analysis'; analysis: Analysis } | { kind: 'report'; report: SpotCheckReport };

export interface OpenTraceOptions {
  /** The prompt as text (one trace only: a JSONL line carries its own). */
  prompt?: string;
  signal?: AbortSignal;
  createdAt?: Date;
}

export function openedTrace(reader: TraceReader, content: TraceFile, file: string, o: OpenTraceOptions = {}): OpenedTrace {
  if (content.kind === 'single') return { kind: 'analysis', analysis: analyseTrace(reader, content.response, file, o.prompt) };
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
