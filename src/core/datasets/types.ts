/** Dataset readers: records streamed from TSV, CSV, JSONL or plain-text files for spot-checks. */

import type { DatasetFormat, SkippedRow } from '../../shared/dataset';

/** One example read from a dataset file. */
export interface DatasetRecord {
  /** 1-based line of the file where the record starts (the header, when there is one, is line 1). */
  line: number;
  text: string;
  /** Second segment of a pair input (sentence2, hypothesis, question2...). */
  pair?: string;
  /** The label as written in the file (a string even when the file has numbers); absent when the row has none. */
  label?: string;
  /** The value of the group column (`--group-column`) as written, trimmed; absent when the row's cell is empty. */
  group?: string;
}

export interface DatasetOptions {
  /** Force the format instead of detecting it from the extension and content. */
  format?: DatasetFormat;
  /** Column (TSV/CSV header name) or key (JSONL) holding the text. */
  textColumn?: string;
  /** Column or key holding the second segment of a pair. */
  pairColumn?: string;
  /** Column or key holding the label. */
  labelColumn?: string;
  /** Column or key whose values group the routing statistics (a domain, a source...); no default. */
  groupColumn?: string;
  /** Skipped rows listed in the report (all are counted). Default 20. */
  maxSkippedListed?: number;
}

/** The columns a dataset is read with; for plain text only `text` is meaningful ("(line)"). */
export interface ResolvedColumns {
  text: string;
  pair: string | null;
  label: string | null;
  /** The group column (given by the user only); null when none. */
  group?: string | null;
  /** How they were chosen: given by the user, or detected from the header. */
  source: { text: 'user' | 'detected'; pair: 'user' | 'detected' | 'none'; label: 'user' | 'detected' | 'none' };
}

/** What the reader saw; updated while records are read and final once iteration ends. */
export interface ReaderReport {
  path: string;
  format: DatasetFormat;
  /** How the format was chosen. */
  formatSource: 'user' | 'extension' | 'content';
  /** Header columns (TSV/CSV) or the keys of the first JSON object (JSONL); null for plain text. */
  columns: string[] | null;
  resolved: ResolvedColumns;
  /** Data rows (records) seen, good and bad; the header is not counted. */
  rows: number;
  /** Records handed out. */
  records: number;
  skipped: { count: number; first: SkippedRow[] };
  /** Records that have a label. */
  labelled: number;
  /** True once the whole file has been read. */
  complete: boolean;
}

export type DatasetErrorCode =
  | 'file-not-found'
  | 'not-a-file'
  | 'unreadable'
  /** The file is not UTF-8 (a UTF-16 or UTF-32 byte-order mark); the message names the encoding and the iconv fix. */
  | 'encoding'
  | 'unknown-column'
  | 'no-header'
  | 'empty-dataset';

/** A dataset that cannot be read as asked (the whole run fails; bad rows never throw this). */
export class DatasetError extends Error {
  constructor(
    readonly code: DatasetErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}
