/**
 * Routing out of the CLI in columnar and line formats: `damoe spot-check --routing OUT.parquet` on the SST-2 sample
 * fixture with the shipped model, read back by DuckDB (@duckdb/node-api: a second Parquet implementation, C++,
 * independent of the hyparquet-writer that wrote the file) and checked against the JSON report and against
 * `damoe analyze --json` of single examples; the writer's row groups; `damoe analyze --format jsonl`.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Analysis } from '../../src/shared/analysis';
import { ROUTING_TABLE_COLUMNS, ROUTING_TABLE_VERSION } from '../../src/shared/routing-table';
import type { SpotCheckReport } from '../../src/shared/spotcheck-report';
import type { TokenLine } from '../../src/shared/token-line';
import { RoutingTableWriter } from '../../src/core/spotcheck/routing-table';
import { ROOT, SHIPPED_DAMOE_DIR } from '../unit/core/helpers';

const BIN = path.join(ROOT, 'bin', 'damoe.js');
const SST2 = path.join(ROOT, 'test', 'fixtures', 'datasets', 'sst2-sample.tsv');
const M = ['--model', SHIPPED_DAMOE_DIR, '--provider', 'cpu', '--threads', '1'];

function damoe(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Row = Record<string, unknown>;

async function query(c: DuckDBConnection, sql: string): Promise<Row[]> {
  return (await c.runAndReadAll(sql)).getRowObjectsJson() as Row[];
}

/** Entropy in bits, computed here from the Analysis' router probabilities (not with the writer's code). */
function entropyBits(p: readonly number[]): number {
  const total = p.reduce((s, x) => s + x, 0);
  return -p.reduce((s, x) => (x > 0 ? s + (x / total) * Math.log2(x / total) : s), 0);
}

const near = (a: unknown, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(Number(a) - b) <= tol, `${what}: ${String(a)} vs ${b}`);

describe('damoe spot-check --routing OUT.parquet', () => {
  let tmp = '';
  let db: DuckDBInstance;
  let c: DuckDBConnection;
  let report: SpotCheckReport;
  let parquet = '';
  let stderr = '';
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-routing-'));
    parquet = path.join(tmp, 'routing.parquet');
    const json = path.join(tmp, 'report.json');
    const r = damoe(['spot-check', ...M, '--workers', '1', SST2, '--json', json, '--routing', parquet]);
    assert.equal(r.code, 0, r.stderr);
    stderr = r.stderr;
    report = JSON.parse(fs.readFileSync(json, 'utf8')) as SpotCheckReport;
    db = await DuckDBInstance.create(':memory:');
    c = await db.connect();
  });
  after(() => {
    c?.closeSync();
    db?.closeSync();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('has one row per (example, token, layer): Σ tokens × layers rows, with the schema of src/shared/routing-table.ts', async () => {
    const L = report.model.num_layers;
    const expected = report.examples.reduce((s, e) => s + e.tokens * L, 0);
    assert.equal(report.n, 31);
    const [count] = await query(c, `select count(*)::int as n, count(distinct line)::int as examples from '${parquet}'`);
    assert.deepEqual(count, { n: expected, examples: 31 });
    assert.match(stderr, new RegExp(`wrote ${parquet.replace(/[.\\]/g, '\\$&')} \\(${expected} rows: the tokens x layers of 31 examples`));
    const described = await query(c, `describe select * from '${parquet}'`);
    const duck = {
      int32: 'INTEGER',
      float: 'FLOAT',
      boolean: 'BOOLEAN',
      string: 'VARCHAR',
      'list<int32>': 'INTEGER[]',
      'list<float>': 'FLOAT[]',
    };
    assert.deepEqual(
      described.map((d) => [d.column_name, d.column_type]),
      ROUTING_TABLE_COLUMNS.map((col) => [col.name, duck[col.type]]),
    );
    const kv = await query(c, `select decode(key) as k, decode(value) as v from parquet_kv_metadata('${parquet}')`);
    assert.ok(kv.some((x) => x.k === 'damoe.routing_table_version' && x.v === String(ROUTING_TABLE_VERSION)));
    assert.ok(kv.some((x) => x.k === 'damoe.model' && x.v === 'damoe-sst2'));
  });

  it('agrees with the JSON report, example by example: rows, mean K, label, prediction, confidence', async () => {
    const L = report.model.num_layers;
    const rows = await query(
      c,
      `select line, count(*)::int as n, avg(k) as mean_k, any_value(label) as label, any_value(predicted) as predicted,
              any_value(confidence) as confidence, count(distinct token_index)::int as tokens,
              bool_and(len(experts) = k and len(gates) = k) as lists_have_k
       from '${parquet}' group by line order by line`,
    );
    assert.deepEqual(
      rows.map((r) => r.line),
      report.examples.map((e) => e.line),
    );
    report.examples.forEach((e, i) => {
      const r = rows[i];
      assert.equal(r.n, e.tokens * L, `line ${e.line}`);
      assert.equal(r.tokens, e.tokens);
      near(r.mean_k, e.mean_k, 1e-9, `line ${e.line} mean K`);
      assert.equal(r.label, e.label);
      assert.equal(r.predicted, e.predicted);
      assert.ok(e.confidence !== null, 'a classifier has a confidence');
      near(r.confidence, e.confidence, 1e-6, `line ${e.line} confidence`);
      assert.equal(r.lists_have_k, true);
    });
  });

  it('holds the same tokens, K, experts, gates, importance and router entropy as damoe analyze of the example', async () => {
    const lines = fs.readFileSync(SST2, 'utf8').split('\n');
    for (const line of [report.examples[0].line, report.examples[report.examples.length - 1].line]) {
      const text = lines[line - 1].split('\t')[0];
      const r = damoe(['analyze', ...M, '--json', text]);
      assert.equal(r.code, 0, r.stderr);
      const a = JSON.parse(r.stdout) as Analysis;
      const rows = await query(c, `select * from '${parquet}' where line = ${line} order by token_index, layer`);
      assert.equal(rows.length, a.tokens.length * a.layers.length);
      for (const row of rows) {
        const t = Number(row.token_index);
        const layer = a.layers[Number(row.layer)];
        const what = `line ${line} token ${t} layer ${layer.layer}`;
        assert.equal(row.token, a.tokens[t].text, what);
        assert.equal(row.special, a.tokens[t].special, what);
        assert.equal(row.k, layer.k[t], what);
        assert.deepEqual(row.experts, layer.experts[t], what);
        (row.gates as number[]).forEach((g, i) => near(g, layer.gates[t][i], 1e-5, `${what} gate ${i}`));
        near(row.importance, layer.importance[t], 1e-5, `${what} importance`);
        near(row.router_entropy, entropyBits(layer.routerProbs[t]), 1e-4, `${what} router entropy`);
      }
    }
  });
});

describe('the routing table in docs/cli.md', () => {
  it('lists exactly the columns of src/shared/routing-table.ts, in file order, with their types', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'cli.md'), 'utf8');
    const section = doc.slice(doc.indexOf('#### `--routing OUT.parquet`'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| column |')));
    const rows = [...table.matchAll(/^\| `([a-z_]+)` \| ([a-z<>0-9]+)( \(nullable\))? \|/gm)];
    assert.deepEqual(
      rows.map((m) => [m[1], m[2], m[3] !== undefined]),
      ROUTING_TABLE_COLUMNS.map((col) => [col.name, col.type, col.nullable]),
    );
  });
});

describe('RoutingTableWriter', () => {
  it('streams row groups of whole examples and renames the file into place only when finished', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-routing-writer-'));
    try {
      const file = path.join(dir, 'out.parquet');
      const w = new RoutingTableWriter(file, { name: 'fake', labels: ['no', 'yes'] }, {}, 10);
      const T = 4;
      const L = 2;
      const E = 3;
      for (let i = 0; i < 5; i++) {
        const count = new Int32Array(L * T).fill(1);
        const gates = new Float32Array(L * T * E);
        const probs = new Float32Array(L * T * E).fill(1 / E);
        for (let lt = 0; lt < L * T; lt++) gates[lt * E + ((lt + i) % E)] = 1;
        w.add(
          { line: i + 2, text: `example ${i}`, label: i % 2 ? 'yes' : undefined },
          {
            tokens: Array.from({ length: T }, (_, t) => ({ text: `t${t}`, special: t === 0 })),
            routing: {
              length: T,
              numLayers: L,
              numExperts: E,
              importance: null,
              count,
              gates,
              probs,
              // A causal LM's token losses on odd examples (loss[0] is not a loss and must not be written).
              nextToken:
                i % 2
                  ? {
                      k: 1,
                      loss: Float32Array.from({ length: T }, (_, t) => t + 0.5),
                      topIds: new Int32Array(T),
                      topLogprobs: new Float32Array(T),
                      context: new Int32Array(T),
                    }
                  : null,
            },
            prediction: { index: i % 2, label: i % 2 ? 'yes' : 'no', probabilities: [0.25, 0.75] },
            windows: 1,
          },
        );
        assert.equal(fs.existsSync(file), false, 'nothing at the target before finish');
      }
      const s = w.finish();
      assert.deepEqual({ rows: s.rows, examples: s.examples, rowGroups: s.rowGroups }, { rows: 40, examples: 5, rowGroups: 3 });
      assert.deepEqual(fs.readdirSync(dir), ['out.parquet']);
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const groups = await query(c, `select count(distinct row_group_id)::int as g from parquet_metadata('${file}')`);
      assert.equal(groups[0].g, 3);
      const [agg] = await query(
        c,
        `select count(*)::int as n, count(importance)::int as with_importance, count(label)::int as labelled,
                min(router_entropy) as h from '${file}'`,
      );
      assert.deepEqual(
        { n: agg.n, with_importance: agg.with_importance, labelled: agg.labelled },
        { n: 40, with_importance: 0, labelled: 16 },
      );
      near(agg.h, Math.log2(E), 1e-6, 'entropy of a uniform router');
      const losses = await query(c, `select line, token_index, any_value(loss) as loss from '${file}' group by all order by all`);
      assert.equal(losses.length, 20);
      for (const r of losses) {
        const expected = Number(r.line) % 2 === 1 && Number(r.token_index) > 0 ? Number(r.token_index) + 0.5 : null;
        assert.equal(r.loss, expected, `line ${String(r.line)} token ${String(r.token_index)}`);
      }
      c.closeSync();
      db.closeSync();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('damoe analyze --format jsonl', () => {
  it('prints one token per line with its routing per layer, the same as --json', () => {
    const text = 'A gorgeous, witty and moving film.';
    const jsonl = damoe(['analyze', ...M, '--format', 'jsonl', text]);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const a = JSON.parse(damoe(['analyze', ...M, '--json', text]).stdout) as Analysis;
    const lines = jsonl.stdout.split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.equal(lines.length, a.tokens.length);
    lines.forEach((l, t) => {
      const tok = JSON.parse(l) as TokenLine;
      assert.equal(tok.index, t);
      assert.equal(tok.text, a.tokens[t].text);
      assert.equal(tok.start, a.tokens[t].start);
      assert.deepEqual(
        tok.k,
        a.layers.map((layer) => layer.k[t]),
      );
      assert.deepEqual(
        tok.experts,
        a.layers.map((layer) => layer.experts[t]),
      );
      assert.equal(tok.gates.length, a.layers.length);
      assert.equal(tok.importance.length, a.layers.length);
    });
    const both = damoe(['analyze', ...M, '--json', '--format', 'jsonl', text]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--json and --format jsonl disagree/);
    const bad = damoe(['analyze', ...M, '--format', 'csv', text]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be one of table, json, jsonl, got 'csv'/);
  });
});
