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

const OPTION_KEYS = ['sampleSize', 'seed', 'textColumn', 'pairColumn', 'labelColumn', 'importanceCheck', 'file'] as const;

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
  for (const k of ['textColumn', 'pairColumn', 'labelColumn'] as const) {
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
    .replace(/Pass text column/g, 'Set the text column');
}

// ---- the quick pick --------------------------------------------------------------------------------------------

export type PickAction = 'run' | 'sampleSize' | 'seed' | 'textColumn' | 'pairColumn' | 'labelColumn';

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
  const stamp = now.toISOString().replace(/[:T]/g, '-').slice(0, 19);
  const base = path.basename(report.dataset.path).replace(/\.[^.]*$/, '');
  return `spotcheck-${base}-${report.model.name}-${stamp}.${format}`.replace(/[^A-Za-z0-9._-]/g, '_');
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
