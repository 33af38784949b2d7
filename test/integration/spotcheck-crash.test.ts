/**
 * Spot-checks survive model worker failures (issue 12), with real worker processes, the real onnxruntime-node and
 * the shipped damoe-sst2 model: one of two workers is killed (SIGKILL) or stopped (SIGSTOP) mid-run, and the run
 * still covers every example with the figures of a clean run. It used to end the run with no report.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { createEngine, DamoeEngine } from '../../src/core/engine';
import { openDataset } from '../../src/core/datasets';
import { runDatasetSample, sampleDataset } from '../../src/core/spotcheck';
import type { SpotCheckReport } from '../../src/shared/spotcheck-report';
import { isAlive, ROOT, SHIPPED_DAMOE_DIR, waitFor } from '../unit/core/helpers';

const DATA = path.join(ROOT, 'test', 'fixtures', 'datasets', 'sst2-600.tsv');
const SAME = ['n', 'accuracy', 'correct', 'confusion', 'k_histogram', 'predicted_counts', 'skipped'] as const;

async function spotCheck(engine: DamoeEngine, onProgress?: (done: number) => void): Promise<SpotCheckReport> {
  const dataset = await openDataset(DATA);
  const sample = await sampleDataset(dataset, { sample: 'all' });
  return runDatasetSample(engine, dataset, sample, { workers: 2, threads: 1, chunkSize: 50, onProgress: (p) => onProgress?.(p.done) });
}

describe('spot-check with a model worker lost mid-run', () => {
  let engine: DamoeEngine;
  let clean: SpotCheckReport;
  before(async () => {
    engine = await createEngine({ modelDir: SHIPPED_DAMOE_DIR, executionProvider: 'cpu', threads: 1 });
    clean = await spotCheck(engine);
  });
  after(async () => engine.dispose());

  it('SIGKILL one of 2 workers: in-flight chunks run again, n and accuracy as in a clean run, worker_restarts >= 1', async () => {
    let killed: number | undefined;
    const report = await spotCheck(engine, (done) => {
      if (killed !== undefined || done === 0) return;
      killed = engine.batchWorkerPids[0];
      process.kill(killed, 'SIGKILL');
    });
    assert.ok(killed !== undefined, 'no worker was killed');
    assert.equal(clean.n, 600);
    for (const key of SAME) assert.deepEqual(report[key], clean[key], key);
    assert.ok(report.worker_restarts >= 1, `worker_restarts ${report.worker_restarts}`);
    assert.equal(report.partial, false);
    assert.equal(report.cancelled, false);
    assert.equal(clean.worker_restarts, 0);
    assert.ok(await waitFor(() => !isAlive(killed!)));
  });

  it('SIGSTOP one of 2 workers: the watchdog replaces it, and the run completes with the same figures', async () => {
    const watched = await createEngine({ modelDir: SHIPPED_DAMOE_DIR, executionProvider: 'cpu', threads: 1, workerTimeoutSeconds: 5 });
    let stopped: number | undefined;
    let report: SpotCheckReport;
    try {
      report = await spotCheck(watched, (done) => {
        if (stopped !== undefined || done === 0) return;
        stopped = watched.batchWorkerPids[0];
        process.kill(stopped, 'SIGSTOP');
      });
    } finally {
      await watched.dispose();
    }
    assert.ok(stopped !== undefined, 'no worker was stopped');
    for (const key of SAME) assert.deepEqual(report[key], clean[key], key);
    assert.ok(report.worker_restarts >= 1, `worker_restarts ${report.worker_restarts}`);
    assert.ok(await waitFor(() => !isAlive(stopped!)), 'the stopped worker was not killed');
  });
});
