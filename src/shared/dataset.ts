/**
 * Dataset facts that cross the process boundary (they appear in the spot-check report) or are needed on both sides:
 * the formats, a skipped row, and the one table of file extensions. The readers are src/core/datasets/; the VS Code
 * menus (package.json `when` clauses) and open dialog read DATASET_EXTENSIONS (checked by test/unit/shared/defaults.test.ts).
 */
export type DatasetFormat = 'tsv' | 'csv' | 'jsonl' | 'text';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['tsv', 'csv', 'jsonl', 'text'];

/** File extension (lower case, no dot) -> the format it is read as. Other extensions are sniffed from the content. */
export const DATASET_EXTENSIONS: Readonly<Record<string, DatasetFormat>> = {
  tsv: 'tsv',
  tab: 'tsv',
  csv: 'csv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  txt: 'text',
  text: 'text',
};

/** A row the reader could not use, or an example the model could not run. */
export interface SkippedRow {
  line: number;
  reason: string;
}
