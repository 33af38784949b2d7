/**
 * Streaming dataset readers. `openDataset` checks the file, detects the format and resolves the columns (so a wrong
 * column name fails before any model is loaded); `records()` then streams the examples with bounded memory.
 *
 * Bad rows (wrong column count, bad JSON, invalid UTF-8, empty text, a CSV quote never closed) are skipped and
 * counted in the report with their line numbers; they never end the read.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseCsv } from 'csv-parse';
import { resolveColumns } from './columns';
import { detectFormat } from './detect';
import { decodeUtf8, MAX_LINE_BYTES, readLines, type RawLine } from './lines';
import type { DatasetFormat } from '../../shared/dataset';
import { DatasetError, DatasetOptions, DatasetRecord, ReaderReport, ResolvedColumns } from './types';

export const DEFAULT_MAX_SKIPPED_LISTED = 20;

export interface Dataset {
  readonly path: string;
  readonly format: DatasetFormat;
  /** Header columns (TSV/CSV), keys of the first JSON object (JSONL), null for plain text. */
  readonly columns: string[] | null;
  readonly resolved: ResolvedColumns;
  /** Live report of the latest `records()` pass (final once the pass ends). */
  readonly report: ReaderReport;
  /** Streams the records; every call is a new pass over the file and resets the report. */
  records(): AsyncGenerator<DatasetRecord>;
}

export async function openDataset(file: string, options: DatasetOptions = {}): Promise<Dataset> {
  const abs = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new DatasetError('file-not-found', `dataset file not found: ${abs}`);
  }
  if (!stat.isFile()) throw new DatasetError('not-a-file', `not a file: ${abs}`);
  try {
    fs.accessSync(abs, fs.constants.R_OK);
  } catch {
    throw new DatasetError('unreadable', `cannot read the dataset file: ${abs}`);
  }
  const encoding = unicodeBomEncoding(abs);
  if (encoding) {
    throw new DatasetError(
      'encoding',
      `${abs} is ${encoding} (it starts with a ${encoding} byte-order mark); datasets are read as UTF-8. Convert it first: ` +
        `iconv -f ${encoding.replace(/ .*/, '')} -t UTF-8 ${shellQuote(abs)} > ${shellQuote(utf8Name(abs))}`,
    );
  }
  const detected = options.format ? { format: options.format, source: 'user' as const } : detectFormat(abs);
  const format = detected.format;
  const columns = await readColumns(abs, format);
  const resolved = resolveColumns(columns, options, format);
  const maxListed = options.maxSkippedListed ?? DEFAULT_MAX_SKIPPED_LISTED;
  const newReport = (): ReaderReport => ({
    path: abs,
    format,
    formatSource: detected.source,
    columns: columns ? [...columns] : null,
    resolved,
    rows: 0,
    records: 0,
    skipped: { count: 0, first: [] },
    labelled: 0,
    complete: false,
  });
  const dataset = {
    path: abs,
    format,
    columns,
    resolved,
    report: newReport(),
    async *records(): AsyncGenerator<DatasetRecord> {
      const report = newReport();
      dataset.report = report;
      const sink: RowSink = {
        skip(line, reason) {
          report.rows++;
          report.skipped.count++;
          if (report.skipped.first.length < maxListed) report.skipped.first.push({ line, reason });
        },
        take(record) {
          report.rows++;
          report.records++;
          if (record.label !== undefined) report.labelled++;
        },
      };
      const source =
        format === 'tsv'
          ? tsvRecords(abs, resolved, sink)
          : format === 'csv'
            ? csvRecords(abs, resolved, sink)
            : format === 'jsonl'
              ? jsonlRecords(abs, resolved, sink)
              : textRecords(abs, sink);
      for await (const record of source) yield record;
      report.complete = true;
    },
  };
  return dataset;
}

interface RowSink {
  skip(line: number, reason: string): void;
  take(record: DatasetRecord): void;
}

/** The encoding a UTF-16/UTF-32 byte-order mark at the start of `file` announces; null for anything else. */
export function unicodeBomEncoding(file: string): string | null {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    const n = fs.readSync(fd, b as unknown as Uint8Array, 0, 4, 0);
    if (n >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return 'UTF-32LE';
    if (n >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return 'UTF-32BE';
    if (n >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'UTF-16LE';
    if (n >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'UTF-16BE';
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

function shellQuote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function utf8Name(file: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.utf8${ext}`;
}

/** The header (TSV/CSV) or the first JSON object's keys (JSONL); null for plain text. */
async function readColumns(file: string, format: DatasetFormat): Promise<string[] | null> {
  if (format === 'text') return null;
  if (format === 'tsv') {
    for await (const { bytes, overlong } of readLines(file)) {
      if (overlong) {
        throw new DatasetError(
          'no-header',
          `the first line of ${file} is longer than ${MAX_LINE_BYTES / (1024 * 1024)} MB, so it cannot be a header line of column names; ` +
            `a TSV file starts with one (is the file TSV, and does it use LF or CRLF line ends?)`,
        );
      }
      const header = decodeUtf8(bytes);
      if (header === null) throw new DatasetError('no-header', `the header line of ${file} is not valid UTF-8`);
      if (header.trim() === '')
        throw new DatasetError('no-header', `the first line of ${file} is empty; a TSV file starts with a header line of column names`);
      return header.split('\t').map((c) => c.trim());
    }
    throw new DatasetError('empty-dataset', `the dataset is empty: ${file}`);
  }
  if (format === 'csv') {
    for await (const { record } of csvRows(file, () => undefined)) {
      const names = record.map((b) => decodeUtf8(b));
      if (names.some((n) => n === null)) throw new DatasetError('no-header', `the header line of ${file} is not valid UTF-8`);
      return (names as string[]).map((c) => c.trim());
    }
    throw new DatasetError('empty-dataset', `the dataset is empty: ${file}`);
  }
  let sawLine = false;
  for await (const { bytes } of readLines(file)) {
    const s = decodeUtf8(bytes);
    if (s === null || s.trim() === '') continue;
    sawLine = true;
    try {
      const v: unknown = JSON.parse(s);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) return Object.keys(v);
    } catch {
      // a bad line: the records pass reports it
    }
  }
  if (!sawLine) throw new DatasetError('empty-dataset', `the dataset is empty: ${file}`);
  return [];
}

function fieldsToRecord(
  line: number,
  fields: readonly string[],
  header: readonly string[],
  cols: ResolvedColumns,
  sink: RowSink,
): DatasetRecord | null {
  if (fields.length === 1 && fields[0].trim() === '' && header.length > 1) {
    sink.skip(line, 'empty line');
    return null;
  }
  if (fields.length !== header.length) {
    sink.skip(line, `expected ${header.length} columns, found ${fields.length}`);
    return null;
  }
  const at = (name: string): string => fields[header.indexOf(name)];
  const text = at(cols.text);
  if (text.trim() === '') {
    sink.skip(line, `empty text (column "${cols.text}")`);
    return null;
  }
  const record: DatasetRecord = { line, text };
  if (cols.pair !== null) {
    const pair = at(cols.pair);
    if (pair.trim() === '') {
      sink.skip(line, `empty pair text (column "${cols.pair}")`);
      return null;
    }
    record.pair = pair;
  }
  if (cols.label !== null) {
    const label = at(cols.label).trim();
    if (label !== '') record.label = label;
  }
  if (cols.group) {
    const group = at(cols.group).trim();
    if (group !== '') record.group = group;
  }
  sink.take(record);
  return record;
}

/** GLUE-style TSV: header line, fields split on tabs, quoting off (a `"` is an ordinary character). */
async function* tsvRecords(file: string, cols: ResolvedColumns, sink: RowSink): AsyncGenerator<DatasetRecord> {
  const lines = readLines(file);
  const first = await lines.next();
  if (first.done) return;
  const header = (decodeUtf8(first.value.bytes) ?? '').split('\t').map((c) => c.trim());
  for await (const { line, text } of decodedLines(lines, sink)) {
    const record = fieldsToRecord(line, text.split('\t'), header, cols, sink);
    if (record) yield record;
  }
}

/** The lines that fit the line limit and decode as UTF-8; the others are skipped and counted. */
async function* decodedLines(lines: AsyncIterable<RawLine>, sink: RowSink): AsyncGenerator<{ line: number; text: string }> {
  for await (const { line, bytes, overlong } of lines) {
    if (overlong) {
      sink.skip(line, `line longer than ${MAX_LINE_BYTES / (1024 * 1024)} MB (not read)`);
      continue;
    }
    const text = decodeUtf8(bytes);
    if (text === null) {
      sink.skip(line, 'invalid UTF-8');
      continue;
    }
    yield { line, text };
  }
}

interface CsvRow {
  record: Buffer[];
  /** First and last line of the record (a quoted field may hold newlines). */
  startLine: number;
  endLine: number;
}

function startsWithBom(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(3);
    const n = fs.readSync(fd, b as unknown as Uint8Array, 0, 3, 0);
    return n === 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
  } finally {
    fs.closeSync(fd);
  }
}

function countNewlines(fields: readonly Buffer[]): number {
  let n = 0;
  for (const f of fields) for (let i = f.indexOf(0x0a); i >= 0; i = f.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Byte offset where line `n` (1-based) starts, counting from `fromByte` (where line `fromLine` starts); null past the end. */
async function lineOffset(file: string, fromByte: number, fromLine: number, n: number): Promise<number | null> {
  let line = fromLine;
  let offset = fromByte;
  if (line >= n) return offset;
  const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024, start: fromByte });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
        if (++line === n) return offset + i + 1;
      }
      offset += chunk.length;
    }
    return null;
  } finally {
    stream.destroy();
  }
}

/**
 * csv-parse (streaming) with fields as raw bytes (`encoding: null`), so each field is decoded strictly. Line numbers
 * are counted here: a record spans one line plus the line breaks inside its quoted fields (csv-parse's own count
 * takes a CRLF inside quotes for two lines). The BOM is skipped before parsing, because csv-parse switches to string
 * output when it sees one. A record the parser cannot finish (a quote opened and never closed, which would swallow
 * every line after it) goes to `onSkip` with its first line, and parsing starts again at the next line, so the
 * good rows after it are read. Other malformed records are skipped with their line the same way.
 */
async function* csvRows(file: string, onSkip: (line: number, reason: string) => void): AsyncGenerator<CsvRow> {
  let fromByte = startsWithBom(file) ? 3 : 0;
  /** Lines before fromByte. */
  let lineBase = 0;
  for (;;) {
    let lastEnd = lineBase;
    let unclosedAt: number | null = null;
    const parser = parseCsv({
      encoding: null as unknown as undefined,
      bom: false,
      relax_column_count: true,
      relax_quotes: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        if (err?.code === 'CSV_QUOTE_NOT_CLOSED') {
          unclosedAt = lastEnd + 1;
          return undefined;
        }
        onSkip(lastEnd + 1, `malformed CSV${err ? `: ${err.message.replace(/:? ?(at|on) line \d+.*$/, '')}` : ''}`);
        lastEnd += 1;
        return undefined;
      },
    });
    const input = fs.createReadStream(file, { highWaterMark: 256 * 1024, start: fromByte });
    input.on('error', (e) => parser.destroy(e));
    input.pipe(parser);
    try {
      for await (const fields of parser as AsyncIterable<(Buffer | string)[]>) {
        const record = fields.map((f) => (typeof f === 'string' ? Buffer.from(f, 'utf8') : f));
        const startLine = lastEnd + 1;
        lastEnd = startLine + countNewlines(record);
        yield { record, startLine, endLine: lastEnd };
      }
    } finally {
      input.unpipe(parser);
      input.destroy();
      parser.destroy();
    }
    if (unclosedAt === null) return;
    const bad: number = unclosedAt;
    onSkip(bad, 'malformed CSV: a quote opened on this line is never closed (the line is skipped; reading goes on at the next line)');
    const next = await lineOffset(file, fromByte, lineBase + 1, bad + 1);
    if (next === null) return;
    fromByte = next;
    lineBase = bad;
  }
}

async function* csvRecords(file: string, cols: ResolvedColumns, sink: RowSink): AsyncGenerator<DatasetRecord> {
  let header: string[] | null = null;
  for await (const row of csvRows(file, (line, reason) => sink.skip(line, reason))) {
    const fields = row.record.map((b) => decodeUtf8(b));
    if (header === null) {
      header = fields.map((f) => (f ?? '').trim());
      continue;
    }
    if (fields.some((f) => f === null)) {
      sink.skip(row.startLine, 'invalid UTF-8');
      continue;
    }
    const record = fieldsToRecord(row.startLine, fields as string[], header, cols, sink);
    if (record) yield record;
  }
}

function jsonString(v: unknown): string | undefined | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined || v === null) return undefined;
  return null;
}

/** JSON Lines: one object per line; the text/pair/label keys come from the resolved columns. */
async function* jsonlRecords(file: string, cols: ResolvedColumns, sink: RowSink): AsyncGenerator<DatasetRecord> {
  for await (const { line, text: s } of decodedLines(readLines(file), sink)) {
    if (s.trim() === '') {
      sink.skip(line, 'empty line');
      continue;
    }
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      sink.skip(line, `invalid JSON: ${(e as Error).message}`);
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      sink.skip(line, 'not a JSON object');
      continue;
    }
    const obj = v as Record<string, unknown>;
    const text = obj[cols.text];
    if (typeof text !== 'string') {
      sink.skip(line, text === undefined ? `no "${cols.text}" key` : `"${cols.text}" is not a string`);
      continue;
    }
    if (text.trim() === '') {
      sink.skip(line, `empty text (key "${cols.text}")`);
      continue;
    }
    const record: DatasetRecord = { line, text };
    if (cols.pair !== null) {
      const pair = obj[cols.pair];
      if (typeof pair !== 'string' || pair.trim() === '') {
        sink.skip(
          line,
          pair === undefined
            ? `no "${cols.pair}" key`
            : typeof pair !== 'string'
              ? `"${cols.pair}" is not a string`
              : `empty pair text (key "${cols.pair}")`,
        );
        continue;
      }
      record.pair = pair;
    }
    if (cols.label !== null) {
      const label = jsonString(obj[cols.label]);
      if (label === null) {
        sink.skip(line, `"${cols.label}" is not a string, number or boolean`);
        continue;
      }
      if (label !== undefined && label.trim() !== '') record.label = label.trim();
    }
    if (cols.group) {
      // A group that is not a string, number or boolean (an object...) is left out of the groups, not a bad row.
      const group = jsonString(obj[cols.group]);
      if (group !== null && group !== undefined && group.trim() !== '') record.group = group.trim();
    }
    sink.take(record);
    yield record;
  }
}

/** Plain text: every line is one example (blank lines are skipped and counted). */
async function* textRecords(file: string, sink: RowSink): AsyncGenerator<DatasetRecord> {
  for await (const { line, text: s } of decodedLines(readLines(file), sink)) {
    if (s.trim() === '') {
      sink.skip(line, 'empty text');
      continue;
    }
    const record: DatasetRecord = { line, text: s };
    sink.take(record);
    yield record;
  }
}
