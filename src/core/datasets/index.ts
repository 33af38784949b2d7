/** Dataset readers for spot-checks: TSV (GLUE), CSV, JSONL and plain text, streamed. */
export { openDataset, DEFAULT_MAX_SKIPPED_LISTED } from './reader';
export type { Dataset } from './reader';
export { resolveColumns, PAIR_COLUMNS, TEXT_COLUMNS, LABEL_COLUMNS } from './columns';
export { detectFormat, sniffFormat } from './detect';
export { readLines, decodeUtf8 } from './lines';
export { DatasetError, DATASET_FORMATS } from './types';
export type { DatasetFormat, DatasetRecord, DatasetOptions, ReaderReport, ResolvedColumns, SkippedRow, DatasetErrorCode } from './types';
