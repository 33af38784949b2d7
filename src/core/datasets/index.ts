/** Dataset readers for spot-checks: TSV (GLUE), CSV, JSONL and plain text, streamed. */
export { openDataset, DEFAULT_MAX_SKIPPED_LISTED } from './reader';
export type { Dataset } from './reader';
export { resolveColumns, PAIR_COLUMNS, TEXT_COLUMNS, LABEL_COLUMNS } from './columns';
export { detectFormat, sniffFormat } from './detect';
export { readLines, decodeUtf8 } from './lines';
export { DatasetError } from './types';
export type { DatasetRecord, DatasetOptions, ReaderReport, ResolvedColumns, DatasetErrorCode } from './types';
