/**
 * The throughput path on the shipped DA-MoE model (tiny fixture model when it is absent): a pool of single-threaded
 * workers gives exactly the routing of the interactive worker, the flat routing folds into the same spot-check
 * report as full Analyses, and the pool's processes go away when released or disposed.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { openDataset } from '../../src/core/datasets/reader';
import type { DatasetRecord } from '../../src/core/datasets/types';
import { createEngine, DamoeEngine } from '../../src/core/engine';
import { SpotCheckReportBuilder } from '../../src/core/spotcheck/report';
import { isAlive, ROOT, SHIPPED_DAMOE_DIR, TINY_MODEL_DIR, waitFor } from '../unit/core/helpers';

const MODEL_DIR = fs.existsSync(path.join(SHIPPED_DAMOE_DIR, 'model.onnx')) ? SHIPPED_DAMOE_DIR : TINY_MODEL_DIR;
const SST2 = path.join(ROOT, 'test', 'fixtures', 'datasets', 'sst2-sample.tsv');

/** The pool's worker pids, read through the engine's private field (diagnostics only). */
function poolPids(engine: DamoeEngine): number[] {
  return (engine as unknown as { pool: { pid?: number }[] }).pool.map((r) => r.pid!).filter((p) => p !== undefined);
}

describe('batch worker pool', () => {
  let engine: DamoeEngine;
  const records: DatasetRecord[] = [];
  before(async () => {
    engine = await createEngine({ modelDir: MODEL_DIR, executionProvider: 'cpu', threads: 1 });
    const dataset = await openDataset(SST2);
    for await (const r of dataset.records()) records.push(r);
  });
  after(async () => engine.dispose());

  it('two batch workers give exactly the routing and predictions of the interactive worker alone', async () => {
    const requests = records.map((r) => ({ text: r.text }));
    const alone = await engine.routeBatch(requests, { batchSize: 4 });
    assert.equal(engine.batchWorkerCount, 0);
    const pooled = await engine.routeBatch(requests, { batchSize: 4, workers: 2 });
    // threads: 1, so the interactive worker is one of the two
    assert.equal(engine.batchWorkerCount, 1);
    const pids = poolPids(engine);
    assert.equal(new Set([...pids, engine.workerPid]).size, 2);
    assert.equal(pooled.length, alone.length);
    pooled.forEach((p, i) => {
      const a = alone[i];
      assert.deepEqual(p.tokens, a.tokens);
      assert.deepEqual(p.prediction, a.prediction);
      assert.deepEqual(p.routing.count, a.routing.count);
      assert.deepEqual(p.routing.gates, a.routing.gates);
      assert.deepEqual(p.routing.importance, a.routing.importance);
    });
    await engine.releaseBatchWorkers();
    assert.equal(engine.batchWorkerCount, 0);
    for (const pid of pids) assert.ok(await waitFor(() => !isAlive(pid)), `pool worker ${pid} still alive`);
  });

  it('routeBatch + addRouted builds the same report as analyzeBatch + add', async () => {
    const requests = records.map((r) => ({ text: r.text }));
    const fast = new SpotCheckReportBuilder(engine.model);
    (await engine.routeBatch(requests, { batchSize: 8, workers: 2 })).forEach((r, i) => fast.addRouted(records[i], r));
    const full = new SpotCheckReportBuilder(engine.model);
    (await engine.analyzeBatch(requests, { batchSize: 8 })).forEach((a, i) => full.add(records[i], a));
    const ctx = {
      dataset: {
        path: SST2,
        format: 'tsv' as const,
        columns: null,
        text_column: 'sentence',
        pair_column: null,
        label_column: 'label',
        rows: 0,
        records: 0,
      },
      sample: { requested: 'all' as const, seed: 0, size: records.length, stratified: false, strata: [], note: null },
      provider: engine.provider,
      cancelled: false,
      elapsedMs: 1,
      readerSkipped: { count: 0, first: [] },
      createdAt: new Date(0),
    };
    const a = fast.build(ctx);
    const b = full.build(ctx);
    assert.equal(a.n, records.length);
    assert.deepEqual(a, b);
  });

  it('workers must be a whole number >= 1; a multi-threaded interactive worker is not a batch worker; dispose stops the pool', async () => {
    await assert.rejects(engine.routeBatch([{ text: 'x' }], { workers: 0 }), /workers must be a whole number >= 1/);
    const other = await createEngine({ modelDir: MODEL_DIR, executionProvider: 'cpu', threads: 2 });
    assert.equal(await other.startBatchWorkers(2), 2);
    assert.equal(other.batchWorkerCount, 2);
    const pids = poolPids(other);
    assert.equal(new Set([...pids, other.workerPid]).size, 3);
    await other.dispose();
    for (const pid of pids) assert.ok(await waitFor(() => !isAlive(pid)), `pool worker ${pid} still alive`);
  });
});
