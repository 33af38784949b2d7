/**
 * Spot-check statistics over many routing traces (a JSONL, one saved response per line): the same report builder
 * and report as a dataset spot-check (src/core/spotcheck/report.ts), so expert load, co-activation and dead experts
 * per layer are computed by the same code. There is no prediction, so no accuracy; a line that is not a usable
 * trace, or whose model shape differs from the first trace's, is skipped with its reason.
 */
import { routingFromLayers } from '../analysis/routed';
import { EngineError } from '../errors';
import { SpotCheckReportBuilder } from '../spotcheck/report';
import type { Analysis } from '../../shared/analysis';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { analyseTrace, unwrapTraceLine, type TraceReader } from './open';

export interface TraceSpotCheckOptions {
  file: string;
  lines: readonly { line: number; text: string }[];
  /** One parsed line -> its Analysis (and label); default: a saved vLLM / SGLang response, optionally wrapped. */
  analyseLine?: (value: unknown, source: string) => { analysis: Analysis; label?: string };
  createdAt?: Date;
  signal?: AbortSignal;
}

export function traceSpotCheck(reader: TraceReader, o: TraceSpotCheckOptions): SpotCheckReport {
  const engineLine = (value: unknown, source: string): { analysis: Analysis; label?: string } => {
    const w = unwrapTraceLine(value);
    return { analysis: analyseTrace(reader, w.response, source, w.prompt), ...(w.label !== undefined ? { label: w.label } : {}) };
  };
  const t0 = performance.now();
  let builder: SpotCheckReportBuilder | null = null;
  const skipped: { line: number; reason: string }[] = [];
  let cancelled = false;
  let first: Analysis | null = null;
  for (const { line, text } of o.lines) {
    if (o.signal?.aborted) {
      cancelled = true;
      break;
    }
    let a: Analysis;
    let label: string | undefined;
    try {
      ({ analysis: a, label } = (o.analyseLine ?? engineLine)(JSON.parse(text), `${o.file}:${line}`));
    } catch (e) {
      if (e instanceof SyntaxError) skipped.push({ line, reason: `not JSON: ${e.message}` });
      else if (e instanceof EngineError) skipped.push({ line, reason: e.message });
      else throw e;
      continue;
    }
    first ??= a;
    const m = first.model;
    if (a.model.numLayers !== m.numLayers || a.model.numExperts !== m.numExperts || a.model.kMax !== m.kMax) {
      skipped.push({
        line,
        reason: `a trace of another shape: ${a.model.numLayers} layers x top-${a.model.kMax} of ${a.model.numExperts} experts, the first trace has ${m.numLayers} x top-${m.kMax} of ${m.numExperts}`,
      });
      continue;
    }
    builder ??= new SpotCheckReportBuilder(m);
    const record = { line, text: a.text, ...(label !== undefined ? { label } : {}) };
    builder.addRouted(record, {
      tokens: a.tokens,
      routing: routingFromLayers(a.layers, m.numExperts),
      prediction: null,
      windows: 1,
    });
  }
  if (!builder || !first) {
    const why = skipped.length ? `; line ${skipped[0].line}: ${skipped[0].reason}` : '';
    throw new EngineError('bad-trace', `${o.file} has no usable routing trace (${o.lines.length} non-empty lines${why})`);
  }
  for (const s of skipped) builder.skip(s.line, s.reason);
  const n = builder.count;
  return builder.build({
    dataset: {
      path: o.file,
      format: 'jsonl',
      columns: null,
      text_column: 'response',
      pair_column: null,
      label_column: null,
      rows: o.lines.length,
      records: n,
    },
    sample: { requested: 'all', seed: 0, size: n, stratified: false, strata: [], note: 'every trace in the file is taken' },
    provider: null,
    cancelled,
    elapsedMs: performance.now() - t0,
    readerSkipped: { count: 0, first: [] },
    createdAt: o.createdAt,
  });
}
