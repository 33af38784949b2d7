/**
 * Writes the routing table (src/shared/routing-table.ts) as Parquet with hyparquet-writer, as the spot-check runs:
 * each example's flat routing becomes rows in column buffers, and every ROW_GROUP_ROWS rows are encoded as one row
 * group and written out, so memory holds one row group, not the whole sample. The file is written under a temporary
 * name in the same folder and renamed when finished; a failed run leaves nothing behind.
 *
 * hyparquet-writer (pure JavaScript, no dependencies beyond its reader hyparquet, bundled by esbuild) was chosen over
 * parquet-wasm (a multi-MB WASM module), @dsnp/parquetjs (pulls the AWS SDK) and apache-arrow (no Parquet writer of
 * its own): docs/cli.md, "--routing".
 */
import * as fs from 'fs';
import * as path from 'path';
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import type { ModelSummary } from '../../shared/analysis';
import { ROUTING_TABLE_COLUMNS, ROUTING_TABLE_VERSION, type RoutingColumn } from '../../shared/routing-table';
import type { DatasetRecord } from '../datasets/types';
import type { RoutedExample } from './report';

/** Rows per row group (an example's rows are never split): a few MB of buffered columns for the shipped models. */
export const ROW_GROUP_ROWS = 65536;
/** Encoded bytes kept before they are written to the file. */
const FLUSH_BYTES = 1 << 20;

function schemaOf(columns: readonly RoutingColumn[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  const scalar = { int32: 'INT32', float: 'FLOAT', boolean: 'BOOLEAN', string: 'BYTE_ARRAY' } as const;
  for (const c of columns) {
    const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
    if (c.type === 'list<int32>' || c.type === 'list<float>') {
      // The standard three-level LIST (parquet-format LogicalTypes.md), which DuckDB, pyarrow and Spark read as a list.
      schema.push(
        { name: c.name, repetition_type, num_children: 1, converted_type: 'LIST' },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: c.type === 'list<int32>' ? 'INT32' : 'FLOAT', repetition_type: 'REQUIRED' },
      );
    } else {
      schema.push({
        name: c.name,
        type: scalar[c.type],
        repetition_type,
        ...(c.type === 'string' ? { converted_type: 'UTF8' as const } : {}),
      });
    }
  }
  return schema;
}

/** Entropy in bits of one router probability row; null when it holds no probability mass. */
export function routerEntropyBits(probs: Float32Array, from: number, count: number): number | null {
  let total = 0;
  for (let e = 0; e < count; e++) total += Math.max(0, probs[from + e]);
  if (!(total > 0)) return null;
  let h = 0;
  for (let e = 0; e < count; e++) {
    const p = Math.max(0, probs[from + e]) / total;
    if (p > 0) h -= p * Math.log2(p);
  }
  return h;
}

type Columns = { [C in (typeof ROUTING_TABLE_COLUMNS)[number] as C['name']]: unknown[] };

function emptyColumns(): Columns {
  return Object.fromEntries(ROUTING_TABLE_COLUMNS.map((c) => [c.name, []])) as unknown as Columns;
}

export interface RoutingTableSummary {
  file: string;
  rows: number;
  examples: number;
  rowGroups: number;
  bytes: number;
}

export class RoutingTableWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly bytes: ByteWriter;
  private readonly parquet: ParquetWriter;
  private columns = emptyColumns();
  private buffered = 0;
  private rows = 0;
  private examples = 0;
  private rowGroups = 0;
  private closed = false;

  /** Opens `<file>`'s temporary sibling; the model's labels name the predictions. */
  constructor(
    readonly file: string,
    private readonly model: Pick<ModelSummary, 'name' | 'labels'>,
    metadata: Record<string, string> = {},
    private readonly rowGroupRows = ROW_GROUP_ROWS,
  ) {
    this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
    this.fd = fs.openSync(this.tmp, 'wx');
    const bytes = new ByteWriter();
    // Encoded pages go to the file as they accumulate (the library's own fileWriter does the same with whole-file
    // appends; this keeps one descriptor open).
    const ensure = bytes.ensure.bind(bytes);
    bytes.ensure = (size: number) => {
      if (bytes.index > FLUSH_BYTES) this.flushBytes();
      ensure(size);
    };
    bytes.finish = () => this.flushBytes();
    this.bytes = bytes;
    const kv = { 'damoe.routing_table_version': String(ROUTING_TABLE_VERSION), 'damoe.model': model.name, ...metadata };
    this.parquet = new ParquetWriter({
      writer: bytes,
      schema: schemaOf(ROUTING_TABLE_COLUMNS),
      kvMetadata: Object.entries(kv).map(([key, value]) => ({ key, value })),
      createdBy: 'damoe-inspector (hyparquet-writer)',
    });
  }

  private flushBytes(): void {
    if (this.bytes.index === 0) return;
    fs.writeSync(this.fd, new Uint8Array(this.bytes.buffer, 0, this.bytes.index));
    this.bytes.index = 0;
  }

  /** Adds one analysed example: T × L rows, token by token, layer by layer. */
  add(record: DatasetRecord, routed: RoutedExample): void {
    if (this.closed) throw new Error('routing table: add after finish');
    const { routing: r, tokens, prediction } = routed;
    const { length: T, numLayers: L, numExperts: E } = r;
    const c = this.columns;
    const predicted = prediction ? (this.model.labels[prediction.index] ?? String(prediction.index)) : null;
    const confidence = prediction ? (prediction.probabilities[prediction.index] ?? 0) : null;
    const loss = r.nextToken?.loss;
    const label = record.label ?? null;
    for (let t = 0; t < T; t++) {
      for (let l = 0; l < L; l++) {
        const lt = l * T + t;
        const experts: number[] = [];
        for (let e = 0; e < E; e++) if (r.gates[lt * E + e] !== 0) experts.push(e);
        experts.sort((a, b) => r.gates[lt * E + b] - r.gates[lt * E + a] || a - b);
        c.line.push(record.line);
        c.token_index.push(t);
        c.token.push(tokens[t].text);
        c.special.push(tokens[t].special);
        c.layer.push(l);
        c.k.push(r.count[lt]);
        const imp = r.importance ? r.importance[lt] : Number.NaN;
        c.importance.push(Number.isFinite(imp) ? imp : null);
        c.experts.push(experts);
        c.gates.push(experts.map((e) => r.gates[lt * E + e]));
        c.router_entropy.push(routerEntropyBits(r.probs, lt * E, E));
        c.loss.push(loss && t > 0 && Number.isFinite(loss[t]) ? loss[t] : null);
        c.label.push(label);
        c.predicted.push(predicted);
        c.confidence.push(confidence);
      }
    }
    this.buffered += T * L;
    this.rows += T * L;
    this.examples++;
    if (this.buffered >= this.rowGroupRows) this.writeRowGroup();
  }

  private writeRowGroup(): void {
    if (this.buffered === 0) return;
    const columnData = ROUTING_TABLE_COLUMNS.map((col) => ({ name: col.name, data: this.columns[col.name] }));
    void this.parquet.write({ columnData, rowGroupSize: this.buffered });
    this.rowGroups++;
    this.columns = emptyColumns();
    this.buffered = 0;
  }

  /** Writes the rest and the footer, then renames the file into place. */
  finish(): RoutingTableSummary {
    if (this.closed) throw new Error('routing table: finished twice');
    try {
      this.writeRowGroup();
      void this.parquet.finish();
      this.flushBytes();
      fs.closeSync(this.fd);
      this.closed = true;
      fs.renameSync(this.tmp, this.file);
    } catch (e) {
      this.abort();
      throw e;
    }
    return { file: this.file, rows: this.rows, examples: this.examples, rowGroups: this.rowGroups, bytes: fs.statSync(this.file).size };
  }

  /** Drops the temporary file (the run failed); the target is never touched. */
  abort(): void {
    if (!this.closed) {
      this.closed = true;
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    fs.rmSync(this.tmp, { force: true });
  }
}
