/**
 * The comparison of two or three models from their spot-check reports on one sample (its shape:
 * src/shared/compare-report.ts). Each model's figures are its own report's; the paired statistics use only the
 * examples every model analysed with a mapped label, matched by line.
 */
import {
  COMPARE_REPORT_VERSION,
  type CompareDisagreement,
  type CompareModel,
  type ComparePaired,
  type CompareReport,
} from '../../shared/compare-report';
import { DEFAULT_BOOTSTRAP_RESAMPLES, DEFAULT_SPOTCHECK_SEED, MAX_DISAGREEMENTS_LISTED } from '../../shared/defaults';
import type { SkippedRow } from '../../shared/dataset';
import type { SpotCheckExample, SpotCheckReport } from '../../shared/spotcheck-report';
import { mcnemarExactP, pairedBootstrapDifference, wilsonInterval } from '../../shared/stats';
import { createRng } from '../spotcheck/rng';
import { MAX_SKIPPED_LISTED } from '../spotcheck/report';

export interface CompareBuildOptions {
  /** Seeds the bootstrap (default DEFAULT_SPOTCHECK_SEED: the sample's seed, so one seed makes the whole run). */
  seed?: number | string;
  resamples?: number;
  /** Disagreements listed (default MAX_DISAGREEMENTS_LISTED). */
  maxDisagreements?: number;
  elapsedMs?: number;
  createdAt?: Date;
  /** The reader's skipped rows (the spot-check reports list them mixed with the rows a model could not run). */
  readerSkipped?: { count: number; first: readonly SkippedRow[] };
}

/** The whole text of an example, by line: the report's examples hold snippets. */
export interface FullText {
  text: string;
  pair: string | null;
}

function modelEntry(name: string, r: SpotCheckReport): CompareModel {
  return {
    name,
    path: r.model.path,
    router_kind: r.model.router_kind,
    accuracy: r.accuracy,
    ci95: r.accuracy === null || r.correct === null ? null : wilsonInterval(r.correct, r.labelled),
    correct: r.correct,
    labelled: r.labelled,
    n: r.n,
    mean_k: r.mean_k.overall,
    mean_k_per_layer: [...r.mean_k.per_layer],
    expert_flops: r.flops.spent,
    expert_flops_fixed_top_2: r.flops.fixed_top_2,
    flops_unit: r.flops.unit,
    tokens: r.tokens,
    skipped_run: r.skipped.run,
  };
}

/** Paired statistics of models[0] against models[j] on `lines` (each line analysed by both with a mapped label). */
function pairedStats(
  names: readonly string[],
  byLine: readonly Map<number, SpotCheckExample>[],
  j: number,
  seed: number | string,
  resamples: number,
): ComparePaired | null {
  const a: boolean[] = [];
  const b: boolean[] = [];
  let firstOnly = 0;
  let secondOnly = 0;
  // In line order, so the bootstrap's draws do not depend on the order the reports listed their examples.
  const lines = [...byLine[0].keys()].sort((x, y) => x - y);
  for (const line of lines) {
    const x = byLine[0].get(line)!.correct;
    const y = byLine[j].get(line)?.correct;
    if (x === null || y === null || y === undefined) continue;
    a.push(x);
    b.push(y);
    if (x && !y) firstOnly++;
    if (y && !x) secondOnly++;
  }
  // One generator per pair, seeded with the run's seed and the pair: adding a third model leaves the first pair's interval as it was.
  const boot = pairedBootstrapDifference(a, b, { resamples, rng: createRng(`${seed}:${names[0]}:${names[j]}`) });
  if (!boot) return null;
  return {
    first: names[0],
    second: names[j],
    n: boot.n,
    difference: boot.difference,
    ci95: boot.ci95,
    mcnemar_p: mcnemarExactP(firstOnly, secondOnly),
    first_only_correct: firstOnly,
    second_only_correct: secondOnly,
    bootstrap: { resamples: boot.resamples, seed },
  };
}

/**
 * reports[i] is model names[i]'s spot-check of the same sample; fullText gives each line's whole text (the
 * disagreements carry it, so a click can open the compare view on it).
 */
export function buildCompareReport(
  names: readonly string[],
  reports: readonly SpotCheckReport[],
  fullText: ReadonlyMap<number, FullText>,
  options: CompareBuildOptions = {},
): CompareReport {
  if (names.length !== reports.length || reports.length < 2) {
    throw new RangeError(
      `a comparison needs one report per model and at least two models, got ${names.length} names and ${reports.length} reports`,
    );
  }
  const seed = options.seed ?? DEFAULT_SPOTCHECK_SEED;
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const byLine = reports.map((r) => new Map(r.examples.map((x) => [x.line, x])));
  const pairs: ComparePaired[] = [];
  for (let j = 1; j < reports.length; j++) {
    const p = pairedStats(names, byLine, j, seed, resamples);
    if (p) pairs.push(p);
  }
  const common = [...byLine[0].keys()].filter((line) => byLine.every((m) => m.has(line))).sort((x, y) => x - y);
  const disagreeing = common.filter((line) => new Set(byLine.map((m) => m.get(line)!.predicted)).size > 1);
  const max = options.maxDisagreements ?? MAX_DISAGREEMENTS_LISTED;
  const disagreements: CompareDisagreement[] = disagreeing.slice(0, max).map((line) => {
    const first = byLine[0].get(line)!;
    const full = fullText.get(line);
    return {
      line,
      text: full?.text ?? first.text,
      pair: full ? full.pair : first.pair,
      label: first.label,
      // A comparison runs classifiers: `predicted` is null only in routing-trace reports, which are never compared.
      predictions: byLine.map((m) => m.get(line)!.predicted ?? ''),
      correct: byLine.map((m) => m.get(line)!.correct),
    };
  });
  const partialModels = reports
    .map((r, i) => (r.partial ? `${names[i]}: ${r.partial_reason ?? 'partial'}` : null))
    .filter((x) => x !== null);
  const r0 = reports[0];
  return {
    version: COMPARE_REPORT_VERSION,
    kind: 'damoe-compare',
    created_at: (options.createdAt ?? new Date()).toISOString(),
    dataset: r0.dataset,
    sample: r0.sample,
    models: reports.map((r, i) => modelEntry(names[i], r)),
    paired: pairs.find((p) => p.second === names[1]) ?? null,
    paired_with_first: pairs,
    common: common.length,
    disagreements_total: disagreeing.length,
    disagreements,
    cancelled: reports.some((r) => r.cancelled),
    partial: partialModels.length > 0,
    partial_reason: partialModels.length > 0 ? partialModels.join('; ') : null,
    skipped: options.readerSkipped
      ? { reader: options.readerSkipped.count, first: options.readerSkipped.first.slice(0, MAX_SKIPPED_LISTED) }
      : { reader: r0.skipped.reader, first: r0.skipped.first },
    elapsed_ms: options.elapsedMs ?? reports.reduce((t, r) => t + r.elapsed_ms, 0),
  };
}
