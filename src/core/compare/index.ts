/**
 * Compares two or three models on one dataset sample: the sample is drawn once (sampleDataset), each model runs it
 * through the spot-check's batch path in turn (runDatasetSample: one model's workers at a time, so the machine is
 * never asked to hold three pools), and buildCompareReport pairs the reports by line.
 */
import type { CompareReport } from '../../shared/compare-report';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import type { Dataset } from '../datasets/reader';
import { EngineError } from '../errors';
import { runDatasetSample, type BatchEngine, type DatasetSample, type SpotCheckOptions } from '../spotcheck';
import { buildCompareReport, type CompareBuildOptions, type FullText } from './report';

export * from './report';

/** One model of a comparison: its name and how to get (and afterwards let go of) its engine. */
export interface CompareModelSource {
  name: string;
  open(): Promise<{ engine: BatchEngine; release(): Promise<void> }>;
}

export interface CompareOptions extends SpotCheckOptions, Pick<CompareBuildOptions, 'resamples' | 'maxDisagreements'> {
  /** Called before each model's run (index into the models). */
  onModel?: (index: number, name: string) => void;
}

/** Runs `sample` through each model in turn and compares them. Cancelling keeps what was done (cancelled: true). */
export async function compareOnSample(
  models: readonly CompareModelSource[],
  dataset: Dataset,
  sample: DatasetSample,
  options: CompareOptions = {},
): Promise<CompareReport> {
  const t0 = performance.now();
  const reports: SpotCheckReport[] = [];
  for (let i = 0; i < models.length; i++) {
    options.onModel?.(i, models[i].name);
    const { engine, release } = await models[i].open();
    try {
      reports.push(await runDatasetSample(engine, dataset, sample, options));
    } finally {
      await engine.releaseBatchWorkers?.();
      await release();
    }
    if (options.signal?.aborted) break;
  }
  // Cancelled before the last model: the models that ran are compared, and the report says it is cancelled.
  const names = models.slice(0, reports.length).map((m) => m.name);
  if (reports.length < 2) {
    throw new EngineError('cancelled', 'The comparison was cancelled before two models had run.');
  }
  const fullText = new Map<number, FullText>(sample.records.map((r) => [r.line, { text: r.text, pair: r.pair ?? null }]));
  const report = buildCompareReport(names, reports, fullText, {
    seed: sample.seed,
    resamples: options.resamples,
    maxDisagreements: options.maxDisagreements,
    elapsedMs: performance.now() - t0,
    readerSkipped: dataset.report.skipped,
  });
  if (reports.length < models.length) {
    report.cancelled = true;
    report.partial = true;
    report.partial_reason = `cancelled after ${reports.length} of ${models.length} models`;
  }
  return report;
}
