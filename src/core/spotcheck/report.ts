/**
 * The spot-check report: plain JSON data (snake_case keys, no NaN) that the CLI writes with --json, the HTML
 * renderer (src/report/) draws, and the VS Code side can show or export. All routing statistics come from
 * RoutingStatsAccumulator (src/core/analysis/stats.ts), the same code as a single Analysis.
 *
 * Conventions (docs/cli.md):
 * - routing statistics (K histogram, mean K, expert load, co-activation, FLOPs, per-label routing) count every
 *   token the model routes, special tokens included, as `damoe analyze` does;
 * - token lists (most/least important tokens) and the importance entropy are about the text: special tokens are
 *   left out.
 */
import { routingFromLayers, RoutedText } from '../analysis/routed';
import { RoutingStatsAccumulator } from '../analysis/stats';
import type { Analysis, ExpertLoad, ModelSummary, ProviderReport, RoutingStats } from '../../shared/analysis';
import type { DatasetFormat, DatasetRecord, SkippedRow } from '../datasets/types';

export const SPOT_CHECK_REPORT_VERSION = 1;
export const DEFAULT_MIN_TOKEN_COUNT = 5;
export const DEFAULT_TOKEN_LIST_LENGTH = 20;
export const DEFAULT_SNIPPET_CHARS = 300;
export const MAX_SKIPPED_LISTED = 20;

export interface SpotCheckExpertLoad {
  layer: number;
  /** Tokens routed to each expert. */
  tokens: number[];
  gate_mass: number[];
  /** tokens[e] / (sum(tokens) / E): 1 is the fair share. */
  utilisation: number[];
  /** Experts that received no token. */
  dead: number[];
  /** Coefficient of variation of tokens over experts. */
  cv: number;
}

export interface SpotCheckKHistogram {
  /** per_layer[l][k]: tokens with K = k in layer l, k = 0..kMax. */
  per_layer: number[][];
  overall: number[];
}

export interface SpotCheckRoutingGroup {
  /** The group's label: the dataset label (routing_by_label) or the predicted model label (routing_by_prediction). */
  label: string;
  /** The model label the dataset label maps to; null when it does not map (always the label itself for predictions). */
  model_label: string | null;
  /** Examples in the group. */
  n: number;
  /** Tokens counted (special tokens included). */
  tokens: number;
  mean_k: { per_layer: number[]; overall: number };
  k_histogram: SpotCheckKHistogram;
  expert_load: SpotCheckExpertLoad[];
}

export interface TokenImportanceEntry {
  /** The token's vocabulary string (`##ing`, `Ġthe`). */
  token: string;
  /** Occurrences in the sample (content tokens only). */
  count: number;
  /** Mean over its occurrences of the token's importance averaged over layers. */
  mean_importance: number;
}

export interface SpotCheckExample {
  line: number;
  /** The text, cut to a snippet (ending in … when cut). */
  text: string;
  pair: string | null;
  /** The label as written in the dataset; null when the row has none. */
  label: string | null;
  /** The model label the dataset label maps to; null when it has none or does not map. */
  gold: string | null;
  predicted: string;
  /** Probability of the predicted class. */
  confidence: number;
  /** null when there is no mapped label. */
  correct: boolean | null;
  /** Mean K over all tokens and layers (special tokens included). */
  mean_k: number;
  /** Shannon entropy (bits) of the content tokens' importance (mean over layers) normalised to sum to 1; null when not available. */
  importance_entropy: number | null;
  /** Tokens of the example, special tokens included. */
  tokens: number;
  /** Windows the text was split into (1 when it fitted). */
  windows: number;
}

export type LabelMappingStrategy = 'exact' | 'case-insensitive' | 'index' | 'mixed' | 'none' | 'no-labels';

export interface LabelMapping {
  strategy: LabelMappingStrategy;
  /** One entry per distinct dataset label value in the sample. */
  pairs: { dataset_label: string; model_label: string | null; by: 'exact' | 'case-insensitive' | 'index' | null }[];
  /** Why accuracy is null, or how labels were matched when it was not by name. */
  note: string | null;
}

export interface SpotCheckConfusion {
  /** Row names: model labels when dataset labels map to them, else the dataset label values. */
  rows: string[];
  rows_are: 'model-labels' | 'dataset-labels';
  /** Column names: the model labels (predictions). */
  columns: string[];
  /** matrix[row][column]: examples with that label predicted as that column. */
  matrix: number[][];
}

export interface SpotCheckReport {
  version: typeof SPOT_CHECK_REPORT_VERSION;
  kind: 'damoe-spot-check';
  created_at: string;
  dataset: {
    path: string;
    format: DatasetFormat;
    /** Header columns (TSV/CSV) or first JSON object's keys; null for plain text. */
    columns: string[] | null;
    text_column: string;
    pair_column: string | null;
    label_column: string | null;
    /** Data rows read (good and skipped). */
    rows: number;
    /** Good records (the sampling population). */
    records: number;
  };
  sample: {
    requested: number | 'all';
    seed: number | string;
    /** Examples in the sample (the run's total). */
    size: number;
    stratified: boolean;
    strata: { label: string | null; seen: number; taken: number }[];
    note: string | null;
  };
  model: {
    name: string;
    path: string;
    router_kind: string;
    num_layers: number;
    num_experts: number;
    k_max: number;
    labels: string[];
    max_sequence_length: number;
    importance_available: boolean;
  };
  execution_provider: { requested: string; used: string; skipped: { provider: string; reason: string }[] };
  threads: number | null;
  /** Model worker processes the run was spread over (single-threaded each when more than 1). */
  workers: number;
  /** Examples analysed (less than sample.size when cancelled, or when some failed). */
  n: number;
  cancelled: boolean;
  /** Rows skipped by the reader (bad rows) and examples the model could not run; first MAX_SKIPPED_LISTED listed. */
  skipped: { count: number; reader: number; run: number; first: SkippedRow[] };
  /** Share of labelled examples predicted correctly; null without labels or when labels do not map. */
  accuracy: number | null;
  /** Analysed examples that have a label. */
  labelled: number;
  correct: number | null;
  label_mapping: LabelMapping;
  confusion: SpotCheckConfusion | null;
  predicted_counts: { label: string; count: number }[];
  /** Tokens counted in the routing statistics (special tokens included). */
  tokens: number;
  k_histogram: SpotCheckKHistogram;
  mean_k: { per_layer: number[]; overall: number };
  expert_load: SpotCheckExpertLoad[];
  /** co_activation[l][i][j]: tokens routed to both i and j in layer l. */
  co_activation: number[][][];
  flops: { spent: number; fixed_top_k_max: number; fixed_top_2: number; per_expert_token: number; unit: 'flops' | 'expert-evaluations' };
  /** Routing per dataset label (empty without labels). */
  routing_by_label: SpotCheckRoutingGroup[];
  /** Routing per predicted label. */
  routing_by_prediction: SpotCheckRoutingGroup[];
  token_importance: {
    available: boolean;
    min_count: number;
    special_tokens: 'excluded';
    distinct_tokens: number;
    most: TokenImportanceEntry[];
    least: TokenImportanceEntry[];
  };
  examples: SpotCheckExample[];
  examples_per_second: number;
  elapsed_ms: number;
}

/** What the caller knows about the run besides the analyses. */
export interface SpotCheckContext {
  dataset: SpotCheckReport['dataset'];
  sample: Omit<SpotCheckReport['sample'], 'size'> & { size: number };
  provider: ProviderReport;
  threads?: number | null;
  /** Model worker processes the run used (default 1). */
  workers?: number;
  cancelled: boolean;
  elapsedMs: number;
  /** Rows the reader skipped. */
  readerSkipped: { count: number; first: SkippedRow[] };
  createdAt?: Date;
}

export interface ReportBuilderOptions {
  minTokenCount?: number;
  tokenListLength?: number;
  snippetChars?: number;
}

interface Row {
  line: number;
  text: string;
  pair: string | null;
  label: string | null;
  predictedIndex: number;
  confidence: number;
  meanK: number;
  entropy: number | null;
  tokens: number;
  windows: number;
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
    if (/^\d+$/.test(v) && Number(v) < modelLabels.length) return { dataset_label: v, model_label: modelLabels[Number(v)], by: 'index' as const };
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
  const note = byIndex.length > 0 ? `dataset labels mapped by index: ${byIndex.map((p) => `${p.dataset_label} → ${p.model_label}`).join(', ')}` : null;
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

function group(label: string, modelLabel: string | null, n: number, s: RoutingStats): SpotCheckRoutingGroup {
  return {
    label,
    model_label: modelLabel,
    n,
    tokens: s.tokens,
    mean_k: { per_layer: s.meanK.perLayer, overall: s.meanK.overall },
    k_histogram: { per_layer: s.kHistogram.perLayer, overall: s.kHistogram.overall },
    expert_load: s.expertLoad.map(loadOut),
  };
}

/** What the report needs of one example: RoutedText, with tokens reduced to their text and kind. */
export type RoutedExample = Omit<RoutedText, 'tokens'> & { tokens: readonly { text: string; special: boolean }[] };

/** Adds analysed examples one by one (memory: one row per example plus fixed-size statistics), then builds the report. */
export class SpotCheckReportBuilder {
  private readonly overall: RoutingStatsAccumulator;
  private readonly byLabel = new Map<string, { n: number; acc: RoutingStatsAccumulator }>();
  private readonly byPrediction = new Map<number, { n: number; acc: RoutingStatsAccumulator }>();
  private readonly tokenImportance = new Map<string, { sum: number; count: number }>();
  private readonly rows: Row[] = [];
  private readonly runSkipped: SkippedRow[] = [];
  private runSkippedCount = 0;
  private readonly opts: Required<ReportBuilderOptions>;

  constructor(
    readonly model: ModelSummary,
    options: ReportBuilderOptions = {},
  ) {
    this.overall = this.accumulator(true);
    this.opts = {
      minTokenCount: options.minTokenCount ?? DEFAULT_MIN_TOKEN_COUNT,
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
    // Routing statistics: every routed token, special tokens included (the engine's convention).
    const tally = this.overall.addRouting(r);
    if (record.label !== undefined) {
      let g = this.byLabel.get(record.label);
      if (!g) this.byLabel.set(record.label, (g = { n: 0, acc: this.accumulator() }));
      g.n++;
      g.acc.addTally(tally);
    }
    let p = this.byPrediction.get(prediction.index);
    if (!p) this.byPrediction.set(prediction.index, (p = { n: 0, acc: this.accumulator() }));
    p.n++;
    p.acc.addTally(tally);

    // Text-level views: content tokens only. A token's importance is its mean over the layers.
    const L = r.numLayers;
    const T = r.length;
    const weights: number[] = [];
    for (let t = 0; t < T; t++) {
      const tok = tokens[t];
      if (tok.special) continue;
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
    for (let i = 0; i < L * T; i++) kSum += r.count[i];
    this.rows.push({
      line: record.line,
      text: snippet(record.text, this.opts.snippetChars),
      pair: record.pair === undefined ? null : snippet(record.pair, this.opts.snippetChars),
      label: record.label ?? null,
      predictedIndex: prediction.index,
      confidence: prediction.probabilities[prediction.index] ?? 0,
      meanK: L * T === 0 ? 0 : kSum / (L * T),
      entropy: this.model.importanceAvailable === false ? null : entropyBits(weights),
      tokens: T,
      windows: routed.windows,
    });
  }

  /** An example the model could not run (e.g. its pair text is too long); counted with the skipped rows. */
  skip(line: number, reason: string): void {
    this.runSkippedCount++;
    if (this.runSkipped.length < MAX_SKIPPED_LISTED) this.runSkipped.push({ line, reason });
  }

  build(ctx: SpotCheckContext): SpotCheckReport {
    const m = this.model;
    const labels = m.labels;
    const labelValues = this.rows.flatMap((r) => (r.label === null ? [] : [r.label]));
    const mapping = mapLabels(labelValues, labels);
    const toModel = new Map(mapping.pairs.map((p) => [p.dataset_label, p.model_label]));
    const mapped = mapping.strategy !== 'none' && mapping.strategy !== 'no-labels';
    let correctCount = 0;
    const examples: SpotCheckExample[] = this.rows.map((r) => {
      const gold = r.label === null ? null : (toModel.get(r.label) ?? null);
      const predicted = labels[r.predictedIndex] ?? String(r.predictedIndex);
      const correct = mapped && gold !== null ? gold === predicted : null;
      if (correct) correctCount++;
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
      };
    });
    const labelled = labelValues.length;
    let confusion: SpotCheckConfusion | null = null;
    if (labelled > 0) {
      const rowNames = mapped ? [...labels] : [...new Set(labelValues)].sort(naturalCompare);
      const matrix = rowNames.map(() => new Array<number>(labels.length).fill(0));
      for (const r of this.rows) {
        if (r.label === null) continue;
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
    const most = [...entries].sort(byImportance).slice(0, this.opts.tokenListLength);
    const least = [...entries]
      .sort((a, b) => a.mean_importance - b.mean_importance || b.count - a.count || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0))
      .slice(0, this.opts.tokenListLength);

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
      execution_provider: { requested: ctx.provider.requested, used: ctx.provider.used, skipped: ctx.provider.skipped.map((x) => ({ ...x })) },
      threads: ctx.threads ?? null,
      workers: ctx.workers ?? 1,
      n,
      cancelled: ctx.cancelled,
      skipped: {
        count: ctx.readerSkipped.count + this.runSkippedCount,
        reader: ctx.readerSkipped.count,
        run: this.runSkippedCount,
        first,
      },
      accuracy: mapped && labelled > 0 ? correctCount / labelled : null,
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
        fixed_top_k_max: s.flops.fixedTopKMax,
        fixed_top_2: s.flops.fixedTop2,
        per_expert_token: s.flops.perExpertToken,
        unit: s.flops.unit ?? 'flops',
      },
      routing_by_label: [...this.byLabel.entries()]
        .sort(([a], [b]) => naturalCompare(a, b))
        .map(([label, g]) => group(label, mapped ? (toModel.get(label) ?? null) : null, g.n, g.acc.result())),
      routing_by_prediction: [...this.byPrediction.entries()]
        .sort(([a], [b]) => a - b)
        .map(([i, g]) => group(labels[i] ?? String(i), labels[i] ?? null, g.n, g.acc.result())),
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
