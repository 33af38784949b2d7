/**
 * Builds the spot-check report (its shape: src/shared/spotcheck-report.ts). All routing statistics come from
 * RoutingStatsAccumulator (src/core/analysis/stats.ts), the same code as a single Analysis.
 *
 * Conventions (docs/cli.md):
 * - routing statistics (K histogram, mean K, expert load, co-activation, FLOPs, per-label routing) count every
 *   token the model routes, special tokens included, as `damoe analyze` does;
 * - token lists (most/least important tokens) and the importance entropy are about the text: special tokens are
 *   left out.
 */
import { routingFromLayers, RoutedText } from '../analysis/routed';
import { executedExpertFlops, RoutingStatsAccumulator } from '../analysis/stats';
import type { Analysis, ExpertLoad, ModelSummary, ProviderReport, RoutingStats } from '../../shared/analysis';
import type { SkippedRow } from '../../shared/dataset';
import {
  SPOT_CHECK_REPORT_VERSION,
  type LabelMapping,
  type LabelMappingStrategy,
  type SpotCheckConfusion,
  type SpotCheckExample,
  type SpotCheckExpertLoad,
  type SpotCheckLanguageModel,
  type SpotCheckReport,
  type SpotCheckRoutingGroup,
  type SpecialisationExpert,
  type SpecialisationToken,
  type TokenImportanceEntry,
} from '../../shared/spotcheck-report';
import { DEFAULT_SPECIALISATION_MIN_COUNT, DEFAULT_SPECIALISATION_TOP_TOKENS } from '../../shared/defaults';
import type { DatasetRecord } from '../datasets/types';
import { CellCounts } from './cell-counts';
import { lift, totalVariation, wilsonInterval } from '../../shared/stats';

export const DEFAULT_MIN_TOKEN_COUNT = 5;
export const DEFAULT_TOKEN_LIST_LENGTH = 20;
export const DEFAULT_SNIPPET_CHARS = 300;
export const MAX_SKIPPED_LISTED = 20;
/** The routing_by_group entry of examples whose group cell is empty. */
export const EMPTY_GROUP = '(empty)';

/** What the caller knows about the run besides the analyses. */
export interface SpotCheckContext {
  dataset: SpotCheckReport['dataset'];
  sample: Omit<SpotCheckReport['sample'], 'size'> & { size: number };
  /** null for routing traces. */
  provider: ProviderReport | null;
  threads?: number | null;
  /** Model worker processes the run used (default 1). */
  workers?: number;
  cancelled: boolean;
  elapsedMs: number;
  /** Model worker restarts during the run (default 0). */
  workerRestarts?: number;
  /** Why the figures miss examples besides a cancel (worker failures); null or absent when they do not. */
  partialReason?: string | null;
  /** Rows the reader skipped. */
  readerSkipped: { count: number; first: SkippedRow[] };
  createdAt?: Date;
}

export interface ReportBuilderOptions {
  minTokenCount?: number;
  /** Expert specialisation: least times an expert must receive a token to list it (DEFAULT_SPECIALISATION_MIN_COUNT). */
  specialisationMinCount?: number;
  /** Expert specialisation: tokens listed per expert (DEFAULT_SPECIALISATION_TOP_TOKENS). */
  specialisationTopTokens?: number;
  tokenListLength?: number;
  snippetChars?: number;
}

interface Row {
  line: number;
  text: string;
  pair: string | null;
  label: string | null;
  /** null when the example has no prediction (a routing trace). */
  predictedIndex: number | null;
  confidence: number | null;
  meanK: number;
  entropy: number | null;
  tokens: number;
  windows: number;
  /** Causal LMs: mean loss of the example's scored tokens (all but its first); null when none. */
  meanLoss?: number | null;
  /** The example's value of the group column (EMPTY_GROUP when its cell is empty); null without a group column. */
  group: string | null;
}

/** Compare strings with numbers in numeric order ("2" before "10"). */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Dataset label values -> model labels: exact name, else case-insensitive name, else a whole number used as index
 * into the model's labels ("0" -> labels[0]). When any value does not map, accuracy is not computed.
 */
export function mapLabels(datasetLabels: readonly string[], modelLabels: readonly string[]): LabelMapping {
  const values = [...new Set(datasetLabels)].sort(naturalCompare);
  if (values.length === 0) return { strategy: 'no-labels', pairs: [], note: null };
  const pairs = values.map((v) => {
    const exact = modelLabels.find((m) => m === v);
    if (exact !== undefined) return { dataset_label: v, model_label: exact, by: 'exact' as const };
    const ci = modelLabels.filter((m) => m.trim().toLowerCase() === v.trim().toLowerCase());
    if (ci.length === 1) return { dataset_label: v, model_label: ci[0], by: 'case-insensitive' as const };
    if (/^\d+$/.test(v) && Number(v) < modelLabels.length)
      return { dataset_label: v, model_label: modelLabels[Number(v)], by: 'index' as const };
    return { dataset_label: v, model_label: null, by: null };
  });
  const unmapped = pairs.filter((p) => p.model_label === null).map((p) => p.dataset_label);
  const list = (xs: readonly string[]): string => xs.map((x) => JSON.stringify(x)).join(', ');
  if (unmapped.length > 0) {
    return {
      strategy: 'none',
      pairs,
      note:
        `the dataset labels ${list(unmapped)} do not match the model's labels [${list(modelLabels)}] by name (exact or ` +
        `case-insensitive) or as an index 0..${modelLabels.length - 1}: accuracy is not computed. Check --label-column, or use a model trained on these labels.`,
    };
  }
  const kinds = new Set(pairs.map((p) => p.by));
  const strategy: LabelMappingStrategy = kinds.size === 1 ? (pairs[0].by as LabelMappingStrategy) : 'mixed';
  const byIndex = pairs.filter((p) => p.by === 'index');
  const note =
    byIndex.length > 0 ? `dataset labels mapped by index: ${byIndex.map((p) => `${p.dataset_label} → ${p.model_label}`).join(', ')}` : null;
  return { strategy, pairs, note };
}

/** Entropy in bits of non-negative weights normalised to sum to 1; null when the weights are not usable. */
export function entropyBits(weights: readonly number[]): number | null {
  let total = 0;
  for (const w of weights) {
    if (!Number.isFinite(w)) return null;
    total += Math.max(0, w);
  }
  if (weights.length === 0 || total <= 0) return null;
  let h = 0;
  for (const w of weights) {
    const p = Math.max(0, w) / total;
    if (p > 0) h -= p * Math.log2(p);
  }
  return h;
}

function snippet(text: string, max: number): string {
  // UTF-16 length >= code points: a short text needs no split into characters.
  if (text.length <= max) return text;
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function loadOut(l: ExpertLoad): SpotCheckExpertLoad {
  return { layer: l.layer, tokens: l.tokens, gate_mass: l.gateMass, utilisation: l.utilisation, dead: l.dead, cv: l.cv };
}

/** A group's accuracy: its labelled examples and, where labels map, how many were predicted right (with the CI). */
interface GroupAccuracy {
  labelled: number;
  correct: number | null;
}

function group(
  label: string,
  modelLabel: string | null,
  n: number,
  s: RoutingStats,
  acc: GroupAccuracy,
  sample: RoutingStats,
): SpotCheckRoutingGroup {
  return {
    label,
    model_label: modelLabel,
    n,
    tokens: s.tokens,
    mean_k: { per_layer: s.meanK.perLayer, overall: s.meanK.overall },
    k_histogram: { per_layer: s.kHistogram.perLayer, overall: s.kHistogram.overall },
    expert_load: s.expertLoad.map(loadOut),
    labelled: acc.labelled,
    correct: acc.correct,
    accuracy: acc.correct !== null && acc.labelled > 0 ? acc.correct / acc.labelled : null,
    accuracy_ci95: acc.correct !== null && acc.labelled > 0 ? wilsonInterval(acc.correct, acc.labelled) : null,
    expert_load_shift: s.expertLoad.map((l, i) => totalVariation(l.tokens, sample.expertLoad[i]?.tokens ?? [])),
  };
}

/** What the report needs of one example: RoutedText, with tokens reduced to their text and kind. */
export type RoutedExample = Omit<RoutedText, 'tokens'> & {
  /** `recorded: false`: a routing trace has no routing for the token (docs/routing-traces.md); it is not counted. */
  tokens: readonly { text: string; special: boolean; recorded?: false }[];
};

/** Adds analysed examples one by one (memory: one row per example plus fixed-size statistics), then builds the report. */
export class SpotCheckReportBuilder {
  /** Causal LMs: token losses against K. */
  private readonly languageModel = new LossByK();
  private readonly overall: RoutingStatsAccumulator;
  private readonly byLabel = new Map<string, { n: number; acc: RoutingStatsAccumulator }>();
  private readonly byPrediction = new Map<number, { n: number; acc: RoutingStatsAccumulator }>();
  private readonly byGroup = new Map<string, { n: number; acc: RoutingStatsAccumulator }>();
  /** Expert specialisation: per token text, (layer * E + expert) -> times routed there; and its occurrences. */
  private readonly tokenExperts = new Map<string, CellCounts>();
  /** Content tokens routed to each (layer * E + expert), and content tokens seen. */
  private readonly expertAssignments: Float64Array;
  private contentTokens = 0;
  private readonly tokenImportance = new Map<string, { sum: number; count: number }>();
  private readonly rows: Row[] = [];
  private readonly runSkipped: SkippedRow[] = [];
  private runSkippedCount = 0;
  private readonly opts: Required<ReportBuilderOptions>;

  constructor(
    readonly model: ModelSummary,
    options: ReportBuilderOptions = {},
    /** The dataset's group column (records carry its value as `group`); null when none. */
    private readonly groupColumn: string | null = null,
  ) {
    this.overall = this.accumulator(true);
    this.expertAssignments = new Float64Array(model.numLayers * model.numExperts);
    this.opts = {
      minTokenCount: options.minTokenCount ?? DEFAULT_MIN_TOKEN_COUNT,
      specialisationMinCount: options.specialisationMinCount ?? DEFAULT_SPECIALISATION_MIN_COUNT,
      specialisationTopTokens: options.specialisationTopTokens ?? DEFAULT_SPECIALISATION_TOP_TOKENS,
      tokenListLength: options.tokenListLength ?? DEFAULT_TOKEN_LIST_LENGTH,
      snippetChars: options.snippetChars ?? DEFAULT_SNIPPET_CHARS,
    };
  }

  /** Examples added so far. */
  get count(): number {
    return this.rows.length;
  }

  /** The per-label and per-prediction groups report no co-activation, so theirs is not counted. */
  private accumulator(coActivation = false): RoutingStatsAccumulator {
    const m = this.model;
    return new RoutingStatsAccumulator({
      numLayers: m.numLayers,
      numExperts: m.numExperts,
      kMax: m.kMax,
      flopsPerExpertToken: m.expertFlopsPerToken ?? null,
      coActivation,
    });
  }

  /** Adds one example from its Analysis (the same statistics as addRouted). */
  add(record: DatasetRecord, analysis: Analysis): void {
    this.addRouted(record, {
      tokens: analysis.tokens,
      routing: routingFromLayers(analysis.layers, this.model.numExperts),
      prediction: analysis.prediction,
      windows: analysis.windowing?.windows ?? 1,
    });
  }

  /** Adds one example from the engine's flat routing (DamoeEngine.routeBatch): the spot-check's fast path. */
  addRouted(record: DatasetRecord, routed: RoutedExample): void {
    const { routing: r, tokens, prediction } = routed;
    // A causal LM has no class prediction to spot-check; a routing trace has none either, and is read without one.
    if (r.nextToken) this.languageModel.add(r.nextToken.loss, r.count, r.numLayers, r.length);
    if (!prediction && this.model.routingSource !== 'trace' && this.model.task !== 'causal-lm') {
      throw new Error('a spot-check example needs a class prediction; this model gave none (a causal LM)');
    }
    // Routing statistics: every routed token, special tokens included (the engine's convention); a trace's tokens
    // without recorded routing are left out.
    const include = tokens.some((t) => t.recorded === false) ? (t: number) => tokens[t]?.recorded !== false : undefined;
    const tally = this.overall.addRouting(r, include);
    if (record.label !== undefined) {
      let g = this.byLabel.get(record.label);
      if (!g) this.byLabel.set(record.label, (g = { n: 0, acc: this.accumulator() }));
      g.n++;
      g.acc.addTally(tally);
    }
    if (this.groupColumn) {
      const key = record.group ?? EMPTY_GROUP;
      let g = this.byGroup.get(key);
      if (!g) this.byGroup.set(key, (g = { n: 0, acc: this.accumulator() }));
      g.n++;
      g.acc.addTally(tally);
    }
    if (prediction) {
      let p = this.byPrediction.get(prediction.index);
      if (!p) this.byPrediction.set(prediction.index, (p = { n: 0, acc: this.accumulator() }));
      p.n++;
      p.acc.addTally(tally);
    }

    // Text-level views: content tokens only. A token's importance is its mean over the layers.
    const L = r.numLayers;
    const T = r.length;
    const E = r.numExperts;
    const weights: number[] = [];
    for (let t = 0; t < T; t++) {
      const tok = tokens[t];
      if (tok.special || tok.recorded === false) continue;
      // Expert specialisation: which experts each token text goes to, layer by layer.
      let te = this.tokenExperts.get(tok.text);
      if (!te) this.tokenExperts.set(tok.text, (te = new CellCounts(L * E)));
      te.occurrences++;
      this.contentTokens++;
      for (let l = 0; l < L; l++) {
        const base = (l * T + t) * E;
        for (let e = 0; e < E; e++) {
          if (r.gates[base + e] === 0) continue;
          const cell = l * E + e;
          te.add(cell);
          this.expertAssignments[cell]++;
        }
      }
      let imp = Number.NaN;
      if (r.importance && L > 0) {
        let s = 0;
        for (let l = 0; l < L; l++) s += r.importance[l * T + t];
        imp = s / L;
      }
      weights.push(imp);
      if (!Number.isFinite(imp)) continue;
      const e = this.tokenImportance.get(tok.text);
      if (e) {
        e.sum += imp;
        e.count++;
      } else this.tokenImportance.set(tok.text, { sum: imp, count: 1 });
    }
    let kSum = 0;
    let counted = 0;
    for (let t = 0; t < T; t++) {
      if (include && !include(t)) continue;
      counted++;
      for (let l = 0; l < L; l++) kSum += r.count[l * T + t];
    }
    this.rows.push({
      line: record.line,
      text: snippet(record.text, this.opts.snippetChars),
      pair: record.pair === undefined ? null : snippet(record.pair, this.opts.snippetChars),
      label: record.label ?? null,
      predictedIndex: prediction ? prediction.index : null,
      confidence: prediction ? (prediction.probabilities[prediction.index] ?? 0) : null,
      meanK: L * counted === 0 ? 0 : kSum / (L * counted),
      entropy: this.model.importanceAvailable === false ? null : entropyBits(weights),
      tokens: T,
      windows: routed.windows,
      ...(r.nextToken ? { meanLoss: meanScoredLoss(r.nextToken.loss, r.length) } : {}),
      group: this.groupColumn ? (record.group ?? EMPTY_GROUP) : null,
    });
  }

  /** An example the model could not run (e.g. its pair text is too long); counted with the skipped rows. */
  skip(line: number, reason: string): void {
    this.runSkippedCount++;
    if (this.runSkipped.length < MAX_SKIPPED_LISTED) this.runSkipped.push({ line, reason });
  }

  /** Per layer and expert, the tokens with the highest lift among those it received at least the minimum count. */
  private specialisation(): SpecialisationExpert[][] {
    const { numLayers: L, numExperts: E } = this.model;
    const perCell: SpecialisationToken[][] = Array.from({ length: L * E }, () => []);
    for (const [token, te] of this.tokenExperts) {
      for (const [cell, count] of te.entries()) {
        if (count < this.opts.specialisationMinCount) continue;
        const value = lift(count, this.expertAssignments[cell], te.occurrences, this.contentTokens);
        if (value !== null) perCell[cell].push({ token, count, lift: value });
      }
    }
    const order = (a: SpecialisationToken, b: SpecialisationToken): number =>
      b.lift - a.lift || b.count - a.count || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0);
    return Array.from({ length: L }, (_, l) =>
      Array.from({ length: E }, (_, e) => ({
        expert: e,
        tokens: perCell[l * E + e].sort(order).slice(0, this.opts.specialisationTopTokens),
      })),
    );
  }

  build(ctx: SpotCheckContext): SpotCheckReport {
    const m = this.model;
    const execution = ctx.provider?.expertCompute ?? 'routed';
    const labels = m.labels;
    const labelValues = this.rows.flatMap((r) => (r.label === null ? [] : [r.label]));
    const causal = m.task === 'causal-lm';
    const mapping = causal ? causalLabelMapping(labelValues) : mapLabels(labelValues, labels);
    const toModel = new Map(mapping.pairs.map((p) => [p.dataset_label, p.model_label]));
    const mapped = mapping.strategy !== 'none' && mapping.strategy !== 'no-labels';
    let correctCount = 0;
    // Accuracy per group of each kind, keyed as the groups are (dataset label, predicted index, group value).
    const groupAccuracy = new Map<string, GroupAccuracy>();
    const countIn = (key: string, labelled: boolean, correct: boolean | null): void => {
      let g = groupAccuracy.get(key);
      if (!g) groupAccuracy.set(key, (g = { labelled: 0, correct: mapped ? 0 : null }));
      if (labelled) g.labelled++;
      if (correct && g.correct !== null) g.correct++;
    };
    const accuracyOf = (key: string): GroupAccuracy => groupAccuracy.get(key) ?? { labelled: 0, correct: mapped ? 0 : null };
    const examples: SpotCheckExample[] = this.rows.map((r) => {
      const gold = r.label === null ? null : (toModel.get(r.label) ?? null);
      const predicted = r.predictedIndex === null ? null : (labels[r.predictedIndex] ?? String(r.predictedIndex));
      const correct = mapped && gold !== null && predicted !== null ? gold === predicted : null;
      if (correct) correctCount++;
      if (r.label !== null) countIn(`label:${r.label}`, true, correct);
      if (r.predictedIndex !== null) countIn(`prediction:${r.predictedIndex}`, r.label !== null, correct);
      if (r.group !== null) countIn(`group:${r.group}`, r.label !== null, correct);
      return {
        line: r.line,
        text: r.text,
        pair: r.pair,
        label: r.label,
        gold: mapped ? gold : null,
        predicted,
        confidence: r.confidence,
        correct,
        mean_k: r.meanK,
        importance_entropy: r.entropy,
        tokens: r.tokens,
        windows: r.windows,
        ...(r.meanLoss !== undefined ? { mean_loss: r.meanLoss } : {}),
      };
    });
    const labelled = labelValues.length;
    let confusion: SpotCheckConfusion | null = null;
    if (labelled > 0 && !causal) {
      const rowNames = mapped ? [...labels] : [...new Set(labelValues)].sort(naturalCompare);
      const matrix = rowNames.map(() => new Array<number>(labels.length).fill(0));
      for (const r of this.rows) {
        if (r.label === null || r.predictedIndex === null) continue;
        const rowName = mapped ? toModel.get(r.label)! : r.label;
        matrix[rowNames.indexOf(rowName)][r.predictedIndex]++;
      }
      confusion = { rows: rowNames, rows_are: mapped ? 'model-labels' : 'dataset-labels', columns: [...labels], matrix };
    }
    const predictedCounts = labels.map((label, i) => ({ label, count: this.rows.filter((r) => r.predictedIndex === i).length }));

    const s = this.overall.result();
    const importanceAvailable = m.importanceAvailable !== false;
    const entries = [...this.tokenImportance.entries()]
      .filter(([, v]) => v.count >= this.opts.minTokenCount)
      .map(([token, v]) => ({ token, count: v.count, mean_importance: v.sum / v.count }));
    const byImportance = (a: TokenImportanceEntry, b: TokenImportanceEntry): number =>
      b.mean_importance - a.mean_importance || b.count - a.count || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0);
    // One ranking, split: the most important from its top, the least from its bottom, never the same token in both
    // (with fewer than twice the list length, each list gets its half; the median token of an odd count goes to "most").
    const ranked = [...entries].sort(byImportance);
    const mostN = Math.min(this.opts.tokenListLength, Math.ceil(ranked.length / 2));
    const leastN = Math.min(this.opts.tokenListLength, ranked.length - mostN);
    const most = ranked.slice(0, mostN);
    const least = ranked.slice(ranked.length - leastN).reverse();

    const n = this.rows.length;
    const readerFirst = ctx.readerSkipped.first;
    const first = [...readerFirst, ...this.runSkipped].sort((a, b) => a.line - b.line).slice(0, MAX_SKIPPED_LISTED);
    const seconds = ctx.elapsedMs / 1000;
    return {
      version: SPOT_CHECK_REPORT_VERSION,
      kind: 'damoe-spot-check',
      created_at: (ctx.createdAt ?? new Date()).toISOString(),
      dataset: ctx.dataset,
      sample: ctx.sample,
      model: {
        name: m.name,
        path: m.path,
        router_kind: m.routerKind,
        num_layers: m.numLayers,
        num_experts: m.numExperts,
        k_max: m.kMax,
        labels: [...labels],
        max_sequence_length: m.maxSequenceLength,
        importance_available: importanceAvailable,
      },
      execution_provider: ctx.provider && {
        requested: ctx.provider.requested,
        used: ctx.provider.used,
        skipped: ctx.provider.skipped.map((x) => ({ ...x })),
        ...(ctx.provider.placement ? { placement: structuredClone(ctx.provider.placement) } : {}),
        ...(ctx.provider.placementProblem ? { placement_problem: ctx.provider.placementProblem } : {}),
        ...(ctx.provider.modelFile ? { model_file: ctx.provider.modelFile } : {}),
      },
      threads: ctx.threads ?? null,
      workers: ctx.workers ?? 1,
      n,
      cancelled: ctx.cancelled,
      partial: ctx.cancelled || !!ctx.partialReason,
      partial_reason: ctx.partialReason ?? (ctx.cancelled ? 'cancelled' : null),
      worker_restarts: ctx.workerRestarts ?? 0,
      skipped: {
        count: ctx.readerSkipped.count + this.runSkippedCount,
        reader: ctx.readerSkipped.count,
        run: this.runSkippedCount,
        first,
      },
      accuracy: mapped && labelled > 0 ? correctCount / labelled : null,
      accuracy_ci95: mapped && labelled > 0 ? wilsonInterval(correctCount, labelled) : null,
      labelled,
      correct: mapped && labelled > 0 ? correctCount : null,
      label_mapping: mapping,
      confusion,
      predicted_counts: predictedCounts,
      tokens: s.tokens,
      k_histogram: { per_layer: s.kHistogram.perLayer, overall: s.kHistogram.overall },
      mean_k: { per_layer: s.meanK.perLayer, overall: s.meanK.overall },
      expert_load: s.expertLoad.map(loadOut),
      co_activation: s.coActivation,
      flops: {
        spent: s.flops.spent,
        executed: executedExpertFlops(s.flops.spent, s.tokens * m.numLayers, m.numExperts, s.flops.perExpertToken, execution),
        execution,
        fixed_top_k_max: s.flops.fixedTopKMax,
        fixed_top_2: s.flops.fixedTop2,
        per_expert_token: s.flops.perExpertToken,
        unit: s.flops.unit ?? 'flops',
      },
      routing_by_label: [...this.byLabel.entries()]
        .sort(([a], [b]) => naturalCompare(a, b))
        .map(([label, g]) =>
          group(label, mapped ? (toModel.get(label) ?? null) : null, g.n, g.acc.result(), accuracyOf(`label:${label}`), s),
        ),
      routing_by_group: [...this.byGroup.entries()]
        .sort(([a], [b]) => naturalCompare(a, b))
        .map(([label, g]) => group(label, null, g.n, g.acc.result(), accuracyOf(`group:${label}`), s)),
      expert_specialisation: this.specialisation(),
      ...(this.languageModel.scored > 0 ? { language_model: this.languageModel.result() } : {}),
      expert_specialisation_min_count: this.opts.specialisationMinCount,
      routing_by_prediction: [...this.byPrediction.entries()]
        .sort(([a], [b]) => a - b)
        .map(([i, g]) => group(labels[i] ?? String(i), labels[i] ?? null, g.n, g.acc.result(), accuracyOf(`prediction:${i}`), s)),
      token_importance: {
        available: importanceAvailable,
        min_count: this.opts.minTokenCount,
        special_tokens: 'excluded',
        distinct_tokens: this.tokenImportance.size,
        most: importanceAvailable ? most : [],
        least: importanceAvailable ? least : [],
      },
      examples,
      examples_per_second: seconds > 0 ? n / seconds : 0,
      elapsed_ms: ctx.elapsedMs,
    };
  }
}

/** A causal LM has no classes: dataset labels map to none, and only group the routing (routing_by_label). */
function causalLabelMapping(datasetLabels: readonly string[]): LabelMapping {
  const values = [...new Set(datasetLabels)].sort(naturalCompare);
  if (values.length === 0) return { strategy: 'no-labels', pairs: [], note: null };
  return {
    strategy: 'none',
    pairs: values.map((v) => ({ dataset_label: v, model_label: null, by: null })),
    note: 'a causal LM predicts no class, so there is no accuracy; the dataset labels only group the routing (routing per label)',
  };
}

/** Mean of loss[1..T-1] (token 0 has no loss); null for a one-token text. */
function meanScoredLoss(loss: Float32Array, T: number): number | null {
  if (T < 2) return null;
  let sum = 0;
  for (let t = 1; t < T; t++) sum += loss[t];
  return sum / (T - 1);
}

/** Token losses over a sample, per layer against the token's K (a causal LM's spot-check). */
class LossByK {
  scored = 0;
  private lossSum = 0;
  private lossSq = 0;
  /** Per layer: counts and loss sums per K, and the sums of K, K^2 and K*loss for the correlation. */
  private byK: { n: number[]; loss: number[]; k: number; k2: number; kl: number }[] = [];

  add(loss: Float32Array, count: Int32Array, L: number, T: number): void {
    while (this.byK.length < L) this.byK.push({ n: [], loss: [], k: 0, k2: 0, kl: 0 });
    for (let t = 1; t < T; t++) {
      const x = loss[t];
      this.scored++;
      this.lossSum += x;
      this.lossSq += x * x;
      for (let l = 0; l < L; l++) {
        const k = count[l * T + t];
        const b = this.byK[l];
        b.n[k] = (b.n[k] ?? 0) + 1;
        b.loss[k] = (b.loss[k] ?? 0) + x;
        b.k += k;
        b.k2 += k * k;
        b.kl += k * x;
      }
    }
  }

  result(): SpotCheckLanguageModel {
    const n = this.scored;
    const mean = this.lossSum / n;
    const lossVar = this.lossSq / n - mean * mean;
    return {
      perplexity: Math.exp(mean),
      mean_loss: mean,
      scored_tokens: n,
      by_k: this.byK.map((b) =>
        Array.from({ length: b.n.length }, (_, k) => ({ tokens: b.n[k] ?? 0, mean_loss: b.n[k] ? b.loss[k] / b.n[k] : null })),
      ),
      k_loss_correlation: this.byK.map((b) => {
        const mk = b.k / n;
        const kVar = b.k2 / n - mk * mk;
        if (!(kVar > 1e-12) || !(lossVar > 1e-12)) return null;
        return (b.kl / n - mk * mean) / Math.sqrt(kVar * lossVar);
      }),
    };
  }
}
