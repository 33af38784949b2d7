/**
 * The spot-check command's rules without the vscode API (unit-tested in plain Node): settings, the explicit options
 * argument, the quick pick's items, where an example's text cell sits on its line (for editor linking), export file
 * names and the "never the dataset itself" rule.
 */
import * as path from 'path';
import type { ResolvedColumns } from '../../core';
import { DATASET_EXTENSIONS, type DatasetFormat } from '../../shared/dataset';
import {
  DEFAULT_IMPORTANCE_CHECK_SAMPLE,
  DEFAULT_SPOTCHECK_SAMPLE_SIZE,
  DEFAULT_SPOTCHECK_SEED,
  MAX_SPOTCHECK_SAMPLE_SIZE,
} from '../../shared/defaults';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import type { SpotCheckExportFormat } from '../../shared/protocol/spotcheck';
import { formatPercentWithCi, wilsonInterval } from '../../shared/stats';
import { perplexityText } from '../../shared/lm-report-text';

/** File extensions the command offers (open dialog; package.json's menus list the same, checked by a test). */
export const DATASET_FILE_EXTENSIONS: readonly string[] = Object.keys(DATASET_EXTENSIONS);

export interface SpotCheckSettings {
  /** Examples to take; 0 = all. */
  sampleSize: number;
  seed: number | string;
  /** Empty / undefined = auto-detect. */
  textColumn?: string;
  pairColumn?: string;
  labelColumn?: string;
  /** Examples of the sample the importance check occludes after the run (docs/importance-check.md); 0 = none. */
  importanceCheck?: number;
  /**
   * Routing statistics per value of this column (damoe spot-check --group-column); undefined = none. Chosen per run in
   * the quick pick (a dataset's own column), so it is not a setting.
   */
  groupColumn?: string;
}

/** Clamps what a hand-edited settings.json may contain. */
export function sanitizeSpotCheckSettings(raw: {
  sampleSize?: unknown;
  seed?: unknown;
  textColumn?: unknown;
  pairColumn?: unknown;
  labelColumn?: unknown;
  importanceCheck?: unknown;
}): SpotCheckSettings {
  const sampleSize =
    typeof raw.sampleSize === 'number' &&
    Number.isInteger(raw.sampleSize) &&
    raw.sampleSize >= 0 &&
    raw.sampleSize <= MAX_SPOTCHECK_SAMPLE_SIZE
      ? raw.sampleSize
      : DEFAULT_SPOTCHECK_SAMPLE_SIZE;
  const seed = parseSeed(raw.seed) ?? DEFAULT_SPOTCHECK_SEED;
  const column = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const importanceCheck = isImportanceSample(raw.importanceCheck) ? raw.importanceCheck : DEFAULT_IMPORTANCE_CHECK_SAMPLE;
  return {
    sampleSize,
    seed,
    textColumn: column(raw.textColumn),
    pairColumn: column(raw.pairColumn),
    labelColumn: column(raw.labelColumn),
    importanceCheck,
  };
}

function isImportanceSample(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_SPOTCHECK_SAMPLE_SIZE;
}

/** A seed: a safe integer (number or digits), or any other non-empty string (used as given); undefined when unusable. */
export function parseSeed(v: unknown): number | string | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (t === '') return undefined;
  if (/^-?\d+$/.test(t) && Number.isSafeInteger(Number(t))) return Number(t);
  return t.slice(0, 200);
}

/** Sample size as typed in the input box: a whole number >= 0 (0 = all); an error message otherwise. */
export function parseSampleSize(text: string): number | string {
  const t = text.trim().toLowerCase();
  if (t === 'all') return 0;
  if (!/^\d+$/.test(t)) return 'a whole number (0 or "all" = every example)';
  const n = Number(t);
  if (n > MAX_SPOTCHECK_SAMPLE_SIZE) return `at most ${MAX_SPOTCHECK_SAMPLE_SIZE.toLocaleString('en')}`;
  return n;
}

/** The `sample` option of the core for a settings value (0 = all). */
export function sampleOption(size: number): number | 'all' {
  return size === 0 ? 'all' : size;
}

/** Options the command takes as an argument (tests, other extensions); given, the quick pick is skipped. */
export interface SpotCheckCommandOptions extends Partial<SpotCheckSettings> {
  /** Absolute path of the dataset (instead of a resource URI argument or the active editor). */
  file?: string;
}

const OPTION_KEYS = ['sampleSize', 'seed', 'textColumn', 'pairColumn', 'labelColumn', 'groupColumn', 'importanceCheck', 'file'] as const;

/** A plain object whose keys are all spot-check options (and at least one). */
export function isCommandOptions(v: unknown): v is SpotCheckCommandOptions {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => (OPTION_KEYS as readonly string[]).includes(k));
}

/** Validates explicit options; returns the settings to run with (over the configured ones) or an error message. */
export function mergeCommandOptions(base: SpotCheckSettings, o: SpotCheckCommandOptions): SpotCheckSettings | string {
  const out: SpotCheckSettings = { ...base };
  if (o.sampleSize !== undefined) {
    if (
      typeof o.sampleSize !== 'number' ||
      !Number.isInteger(o.sampleSize) ||
      o.sampleSize < 0 ||
      o.sampleSize > MAX_SPOTCHECK_SAMPLE_SIZE
    ) {
      return `sampleSize must be a whole number >= 0 (0 = all), got ${JSON.stringify(o.sampleSize)}`;
    }
    out.sampleSize = o.sampleSize;
  }
  if (o.seed !== undefined) {
    const seed = parseSeed(o.seed);
    if (seed === undefined) return `seed must be an integer or a non-empty string, got ${JSON.stringify(o.seed)}`;
    out.seed = seed;
  }
  if (o.importanceCheck !== undefined) {
    if (!isImportanceSample(o.importanceCheck))
      return `importanceCheck must be a whole number of examples >= 0 (0 = no importance check), got ${JSON.stringify(o.importanceCheck)}`;
    out.importanceCheck = o.importanceCheck;
  }
  for (const k of ['textColumn', 'pairColumn', 'labelColumn', 'groupColumn'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') return `${k} must be a string, got ${JSON.stringify(v)}`;
    out[k] = v.trim() === '' ? undefined : v.trim();
  }
  return out;
}

/** Whether a file name looks like a dataset the command handles. */
export function isDatasetFileName(name: string): boolean {
  const ext = path.extname(name).slice(1).toLowerCase();
  return DATASET_FILE_EXTENSIONS.includes(ext);
}

/** Dataset errors speak the CLI's flags; in VS Code the same choices are settings / quick-pick items. */
export function vscodeDatasetMessage(message: string): string {
  return message
    .replace(/--text-column( \(JSON key\))?/g, 'text column$1 (damoe.spotCheck.textColumn)')
    .replace(/--pair-column( \(JSON key\))?/g, 'pair column$1 (damoe.spotCheck.pairColumn)')
    .replace(/--label-column( \(JSON key\))?/g, 'label column$1 (damoe.spotCheck.labelColumn)')
    .replace(/--group-column( \(JSON key\))?/g, 'group column$1 (the quick pick\'s "Group by")')
    .replace(/Pass text column/g, 'Set the text column');
}

// ---- the quick pick --------------------------------------------------------------------------------------------

export type PickAction = 'run' | 'sampleSize' | 'seed' | 'textColumn' | 'pairColumn' | 'labelColumn' | 'groupColumn';

export interface PickItem {
  action: PickAction;
  label: string;
  description?: string;
  detail?: string;
}

export interface DetectedColumns {
  format: DatasetFormat;
  /** Header columns / JSON keys; null for plain text. */
  columns: string[] | null;
  resolved: ResolvedColumns;
}

function columnDescription(value: string | null, source: 'user' | 'detected' | 'none'): string {
  if (value === null) return source === 'none' ? 'none found' : 'none';
  return source === 'user' ? `${value} (chosen)` : `${value} (detected)`;
}

/** The items of the confirm/change quick pick: Run first (Enter runs at once), then one item per choice. */
export function pickItems(s: SpotCheckSettings, d: DetectedColumns, fileName: string): PickItem[] {
  const r = d.resolved;
  const items: PickItem[] = [
    {
      action: 'run',
      label: '$(play) Run spot-check',
      description: `${s.sampleSize === 0 ? 'all examples' : `${s.sampleSize} examples`}, seed ${s.seed}`,
      detail: `${fileName} · ${d.format.toUpperCase()}${d.columns ? ` · columns: ${d.columns.join(', ')}` : ' · one example per line'}`,
    },
    { action: 'sampleSize', label: 'Sample size', description: s.sampleSize === 0 ? 'all (0)' : String(s.sampleSize) },
    { action: 'seed', label: 'Seed', description: String(s.seed) },
  ];
  if (d.columns !== null) {
    items.push(
      { action: 'textColumn', label: 'Text column', description: columnDescription(r.text, r.source.text) },
      { action: 'pairColumn', label: 'Pair column', description: columnDescription(r.pair, r.source.pair) },
      { action: 'labelColumn', label: 'Label column', description: columnDescription(r.label, r.source.label) },
      {
        action: 'groupColumn',
        label: 'Group by',
        description: r.group ? `${r.group} (chosen)` : 'none',
        detail: 'Routing statistics per value of a column (e.g. a domain): examples, accuracy, mean K, expert load',
      },
    );
  }
  return items;
}

/** Choices for a column item: auto-detect first, then every column (the current one marked). */
export function columnChoices(
  columns: readonly string[],
  current: string | undefined,
): { label: string; value: string | undefined; description?: string }[] {
  return [
    { label: 'Auto-detect', value: undefined, description: current === undefined ? 'current' : undefined },
    ...columns.map((c) => ({ label: c, value: c, description: current === c ? 'current' : undefined })),
  ];
}

/**
 * Choices for "Group by": none first, then every column but the text and pair columns (they hold free text, one
 * value per example), the current one marked. The label column may group (routing per label is then shown twice).
 */
export function groupColumnChoices(
  d: DetectedColumns,
  current: string | undefined,
): { label: string; value: string | undefined; description?: string }[] {
  const text = new Set([d.resolved.text, d.resolved.pair]);
  return [
    { label: 'None', value: undefined, description: current === undefined ? 'current' : undefined },
    ...(d.columns ?? [])
      .filter((c) => !text.has(c))
      .map((c) => ({
        label: c,
        value: c,
        description:
          [current === c ? 'current' : '', c === d.resolved.label ? 'the label column' : ''].filter(Boolean).join(' · ') || undefined,
      })),
  ];
}

// ---- linking an example to its line -----------------------------------------------------------------------------

/** Character range [start, end) on a line. */
export interface CellRange {
  start: number;
  end: number;
}

/**
 * Where the text cell of a record is on its line, such that `lineText.slice(start, end) === text`; null when the
 * cell can't be found or its raw text differs from the value (CSV doubled quotes, JSON escapes, a CSV record that
 * spans lines). `column` is the resolved text column (ignored for plain text).
 */
export function locateTextCell(
  lineText: string,
  format: DatasetFormat,
  columns: readonly string[] | null,
  column: string,
  text: string,
): CellRange | null {
  const line = lineText.replace(/\r$/, '');
  const check = (r: CellRange | null): CellRange | null => (r && line.slice(r.start, r.end) === text ? r : null);
  if (format === 'text') return check({ start: 0, end: line.length });
  if (format === 'tsv') {
    const i = columns?.indexOf(column) ?? -1;
    if (i < 0) return null;
    let start = 0;
    for (let c = 0; c < i; c++) {
      const tab = line.indexOf('\t', start);
      if (tab < 0) return null;
      start = tab + 1;
    }
    const tab = line.indexOf('\t', start);
    return check({ start, end: tab < 0 ? line.length : tab });
  }
  if (format === 'csv') {
    const i = columns?.indexOf(column) ?? -1;
    if (i < 0) return null;
    const cells = csvCells(line);
    const cell = cells?.[i];
    return cell ? check(cell) : null;
  }
  // JSONL: the value of the key, as written, when it needs no escapes.
  const encoded = JSON.stringify(text);
  if (encoded.slice(1, -1) !== text) return null;
  const re = new RegExp(`${escapeRegExp(JSON.stringify(column))}\\s*:\\s*`, 'g');
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const at = m.index + m[0].length;
    if (line.startsWith(encoded, at)) return check({ start: at + 1, end: at + encoded.length - 1 });
  }
  return null;
}

/** The raw ranges of a one-line CSV record's cells (inside the quotes for a quoted cell); null when a quote is left open. */
export function csvCells(line: string): CellRange[] | null {
  const out: CellRange[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return null;
        if (line[q + 1] === '"') {
          j = q + 2;
          continue;
        }
        out.push({ start: i + 1, end: q });
        i = q + 1;
        break;
      }
      // Anything between the closing quote and the comma is kept by relaxed parsers; the range stays the quoted part.
      const comma = line.indexOf(',', i);
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        out.push({ start: i, end: line.length });
        return out;
      }
      out.push({ start: i, end: comma });
      i = comma + 1;
    }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What the report says clicking an example does, for this dataset format. */
export function linkingNote(format: DatasetFormat, pair: string | null): string | null {
  const notes: string[] = [];
  if (format === 'jsonl')
    notes.push('JSONL text with escapes (\\n, \\", \\u…) cannot be linked to the editor: such examples are analysed without linking');
  if (format === 'csv') notes.push('CSV cells with doubled quotes or line breaks are analysed without editor linking');
  if (pair !== null) notes.push(`the pair text (${pair}) is analysed with the text; only the text is linked to the editor`);
  return notes.length ? `${notes.join('; ')}.` : null;
}

// ---- export ------------------------------------------------------------------------------------------------------

/** `spotcheck-<dataset>-<model>-<yyyy-mm-dd-hh-mm-ss>.<ext>`, safe for every file system. */
export function exportFileName(
  report: Pick<SpotCheckReport, 'dataset' | 'model'>,
  format: SpotCheckExportFormat,
  now = new Date(),
): string {
  return datedExportName('spotcheck', report.dataset.path, report.model.name, format, now);
}

/** `<kind>-<dataset base name>-<what>-<UTC date and time>.<format>`, with only file-name-safe characters. */
export function datedExportName(kind: string, datasetPath: string, what: string, format: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:T]/g, '-').slice(0, 19);
  const base = path.basename(datasetPath).replace(/\.[^.]*$/, '');
  return `${kind}-${base}-${what}-${stamp}.${format}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Whether `target` is the dataset file itself (compared as resolved paths; case-insensitively on Windows and macOS). */
export function isSameFile(target: string, dataset: string, platform: NodeJS.Platform = process.platform): boolean {
  const norm = (p: string): string => {
    const r = path.resolve(p);
    return platform === 'win32' || platform === 'darwin' ? r.toLowerCase() : r;
  };
  return norm(target) === norm(dataset);
}

/** The progress notification's message: `120/500 · 35.2 examples/s`. */
export function progressMessage(done: number, total: number, examplesPerSecond: number): string {
  const rate =
    examplesPerSecond > 0 ? ` · ${examplesPerSecond >= 10 ? examplesPerSecond.toFixed(0) : examplesPerSecond.toFixed(1)} examples/s` : '';
  return `${done}/${total}${rate}`;
}

// ---- the status bar summary -------------------------------------------------------------------------------------

export interface SpotCheckStatus {
  /** The status bar text: short enough never to be cut off beside the editor's own items. */
  text: string;
  /** The tooltip's heading and lines (plain text; the vscode side escapes them as Markdown). */
  title: string;
  lines: string[];
}

/**
 * The summary of a finished spot-check for the status bar: the headline figure with its 95% CI, the examples and
 * mean K in the text ("80.0% [58.4, 91.9] on 20 · mean K 1.91"), every other figure in the tooltip.
 */
export function spotCheckStatus(r: SpotCheckReport): SpotCheckStatus {
  const ci = r.accuracy_ci95 ?? (r.correct !== null && r.labelled > 0 ? wilsonInterval(r.correct, r.labelled) : null);
  const lm = r.language_model;
  const headline =
    r.accuracy !== null
      ? `${formatPercentWithCi(r.accuracy, ci)} on ${r.n}`
      : lm
        ? `perplexity ${perplexityText(lm.perplexity)} on ${r.n}`
        : `${r.n} examples`;
  const text = `$(checklist) ${r.cancelled ? 'cancelled · ' : r.partial ? 'partial · ' : ''}${headline} · mean K ${r.mean_k.overall.toFixed(2)}`;
  const lines: string[] = [];
  if (r.accuracy !== null && r.correct !== null) {
    lines.push(
      `Accuracy ${formatPercentWithCi(r.accuracy, ci)} (95% Wilson interval).`,
      `${r.correct} of ${r.labelled} labelled examples right.`,
    );
  } else if (lm) {
    lines.push(`Perplexity ${perplexityText(lm.perplexity)} (mean loss ${lm.mean_loss.toFixed(3)} nats over ${lm.scored_tokens} tokens).`);
  } else {
    lines.push(r.label_mapping.note ?? 'No accuracy: the dataset has no labels.');
  }
  lines.push(
    `Examples: ${r.n} of the ${r.sample.size} sampled from ${r.dataset.records} in ${path.basename(r.dataset.path)}` +
      (r.cancelled ? ' (cancelled: the figures cover those only)' : r.partial ? ` (partial: ${r.partial_reason})` : '') +
      (r.skipped.count > 0 ? `; ${r.skipped.count} ${r.skipped.count === 1 ? 'row' : 'rows'} skipped` : '') +
      '.',
  );
  lines.push(
    `Mean K ${r.mean_k.overall.toFixed(2)} (per layer ${r.mean_k.per_layer.map((k) => k.toFixed(2)).join(', ')}) over ${r.tokens} tokens.`,
  );
  const f = r.flops;
  if (f.fixed_top_2 > 0) {
    lines.push(
      `Expert compute ${((100 * f.spent) / f.fixed_top_2).toFixed(1)}% of a fixed top-2 router` +
        (r.model.k_max !== 2 && f.fixed_top_k_max > 0
          ? `, ${((100 * f.spent) / f.fixed_top_k_max).toFixed(1)}% of top-${r.model.k_max}`
          : '') +
        '.',
    );
  }
  lines.push(`${r.examples_per_second.toFixed(1)} examples/s.`);
  lines.push('Click to show the report.');
  return { text, title: `DA-MoE spot-check: ${r.model.name} on ${path.basename(r.dataset.path)}`, lines };
}
