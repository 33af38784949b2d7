/** Dataset format from the file extension, else from the first bytes of the file. */
import * as fs from 'fs';
import * as path from 'path';
import { LABEL_COLUMNS, PAIR_COLUMNS, TEXT_COLUMNS } from './columns';
import { DATASET_EXTENSIONS, type DatasetFormat } from '../../shared/dataset';

const KNOWN_NAMES = new Set([...TEXT_COLUMNS, ...LABEL_COLUMNS, ...PAIR_COLUMNS.flat()].map((s) => s.toLowerCase()));

/** Format of `file`: by extension; `.json` and unknown extensions are sniffed from the first line. */
export function detectFormat(file: string, head?: Buffer): { format: DatasetFormat; source: 'extension' | 'content' } {
  const ext = path.extname(file).slice(1).toLowerCase();
  const byExt = Object.prototype.hasOwnProperty.call(DATASET_EXTENSIONS, ext) ? DATASET_EXTENSIONS[ext] : undefined;
  if (byExt) return { format: byExt, source: 'extension' };
  return { format: sniffFormat(head ?? readHead(file)), source: 'content' };
}

export function readHead(file: string, bytes = 64 * 1024): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf as unknown as Uint8Array, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** JSON object on the first line: JSONL; a tab: TSV; a comma-separated header of known names: CSV; else text. */
export function sniffFormat(head: Buffer): DatasetFormat {
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const first =
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.replace(/\r$/, '') ?? '';
  if (first.trimStart().startsWith('{')) return 'jsonl';
  if (first.includes('\t')) return 'tsv';
  const fields = first.split(',').map((f) =>
    f
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase(),
  );
  if (fields.length >= 2 && fields.some((f) => KNOWN_NAMES.has(f))) return 'csv';
  return 'text';
}
