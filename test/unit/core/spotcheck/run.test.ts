import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { BatchAnalyzeOptions } from '../../../../src/core/engine-api';
import { AnalyzeRequest, EngineError } from '../../../../src/core/engine-api';
import type { DatasetRecord } from '../../../../src/core/datasets/types';
import { RoutedExample, SpotCheckReportBuilder } from '../../../../src/core/spotcheck/report';
import {
  BatchEngine,
  defaultChunkSize,
  defaultSpotCheckWorkers,
  runSpotCheck,
  SpotCheckProgress,
  workerMemoryEstimate,
} from '../../../../src/core/spotcheck/run';
import { fakeAnalysis, MODEL, routedFrom } from './fake';

/** A fake engine: every text gets one content token; 'LONG' texts fail as too long; calls are recorded. */
function fakeEngine(onCall?: (n: number) => void): BatchEngine & { calls: AnalyzeRequest[][] } {
  const calls: AnalyzeRequest[][] = [];
  return {
    model: MODEL,
    provider: { requested: 'cpu', used: 'cpu', skipped: [] },
    calls,
    async routeBatch(reqs: readonly AnalyzeRequest[], options: BatchAnalyzeOptions = {}): Promise<RoutedExample[]> {
      calls.push([...reqs]);
      onCall?.(calls.length);
      await new Promise((r) => setImmediate(r));
      if (options.signal?.aborted) throw new EngineError('cancelled', 'The request was cancelled.');
      if (reqs.some((r) => r.text === 'LONG')) throw new EngineError('input-too-long', 'The pair text has 999 tokens');
      options.onProgress?.(reqs.length, reqs.length);
      return reqs.map((r) =>
        routedFrom(fakeAnalysis(r.text, [{ text: r.text, k: [1, 2], imp: [1, 1] }], r.textPair === undefined ? [0.3, 0.7] : [0.6, 0.4])),
      );
    },
  };
}

const recs = (texts: string[]): DatasetRecord[] => texts.map((text, i) => ({ line: i + 2, text, label: '1' }));

const context = (cancelled: boolean, elapsedMs: number) => ({
  dataset: {
    path: '/x',
    format: 'tsv' as const,
    columns: null,
    text_column: 't',
    pair_column: null,
    label_column: null,
    rows: 0,
    records: 0,
  },
  sample: { requested: 5, seed: 0, size: 5, stratified: false, strata: [], note: null },
  provider: MODEL && { requested: 'cpu' as const, used: 'cpu' as const, skipped: [] },
  cancelled,
  elapsedMs,
  readerSkipped: { count: 0, first: [] },
});

describe('runSpotCheck', () => {
  it('runs the sample in chunks through routeBatch, passes pairs, reports progress', async () => {
    const engine = fakeEngine();
    const builder = new SpotCheckReportBuilder(MODEL);
    const progress: SpotCheckProgress[] = [];
    const records = recs(['a', 'b', 'c', 'd', 'e']);
    records[1].pair = 'second';
    const res = await runSpotCheck(engine, records, builder, { chunkSize: 2, onProgress: (p) => progress.push(p) });
    assert.deepEqual(
      engine.calls.map((c) => c.length),
      [2, 2, 1],
    );
    assert.deepEqual(engine.calls[0][1], { text: 'b', textPair: 'second' });
    assert.equal(res.done, 5);
    assert.equal(res.cancelled, false);
    assert.equal(builder.count, 5);
    assert.equal(progress[progress.length - 1].done, 5);
    assert.equal(progress[progress.length - 1].total, 5);
    assert.ok(progress.every((p, i) => i === 0 || p.done >= progress[i - 1].done));
    assert.ok(progress.every((p) => p.examplesPerSecond >= 0));
    const report = builder.build(context(false, res.elapsedMs));
    assert.equal(report.examples[1].predicted, 'negative');
  });

  it('cancelling keeps the finished chunks and says how many were done', async () => {
    const controller = new AbortController();
    const engine = fakeEngine((n) => {
      if (n === 2) controller.abort();
    });
    const builder = new SpotCheckReportBuilder(MODEL);
    const res = await runSpotCheck(engine, recs(['a', 'b', 'c', 'd', 'e']), builder, {
      chunkSize: 2,
      pipelineDepth: 1,
      signal: controller.signal,
    });
    assert.equal(res.cancelled, true);
    assert.equal(res.done, 2);
    assert.equal(builder.count, 2);
    const report = builder.build(context(res.cancelled, res.elapsedMs));
    assert.equal(report.cancelled, true);
    assert.equal(report.n, 2);
  });

  it('with chunks in flight at once, results are still folded in input order', async () => {
    const engine = fakeEngine();
    const builder = new SpotCheckReportBuilder(MODEL);
    const res = await runSpotCheck(engine, recs(['a', 'b', 'c', 'd', 'e', 'f', 'g']), builder, { chunkSize: 2, pipelineDepth: 3 });
    assert.equal(res.done, 7);
    assert.deepEqual(
      engine.calls.map((c) => c.map((r) => r.text).join('')),
      ['ab', 'cd', 'ef', 'g'],
    );
    const report = builder.build(context(false, 1));
    assert.deepEqual(
      report.examples.map((x) => x.text),
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    );
  });

  it('an already-aborted signal runs nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const engine = fakeEngine();
    const res = await runSpotCheck(engine, recs(['a']), new SpotCheckReportBuilder(MODEL), { signal: controller.signal });
    assert.deepEqual([res.done, res.cancelled, engine.calls.length], [0, true, 0]);
  });

  it('one input the model cannot take is skipped with its line; the rest of its chunk still runs', async () => {
    const engine = fakeEngine();
    const builder = new SpotCheckReportBuilder(MODEL);
    const res = await runSpotCheck(engine, recs(['a', 'LONG', 'c', 'd']), builder, { chunkSize: 3 });
    assert.equal(res.failed, 1);
    assert.equal(res.done, 4);
    assert.equal(builder.count, 3);
    const report = builder.build(context(false, 1));
    assert.equal(report.skipped.run, 1);
    assert.equal(report.skipped.first[0].line, 3);
    assert.match(report.skipped.first[0].reason, /^input-too-long: /);
    assert.deepEqual(
      report.examples.map((x) => x.line),
      [2, 4, 5],
    );
  });

  it('a chunk whose worker crashed is run once more and the run goes on; restarts are counted', async () => {
    let restarts = 0;
    let failNext = true;
    const base = fakeEngine();
    const engine: BatchEngine = {
      ...base,
      get workerRestarts() {
        return restarts;
      },
      async routeBatch(reqs, options) {
        if (failNext && reqs.some((r) => r.text === 'c')) {
          failNext = false;
          restarts++;
          throw new EngineError('worker-crashed', 'The model worker was killed by SIGKILL during the request');
        }
        return base.routeBatch(reqs, options);
      },
    };
    const builder = new SpotCheckReportBuilder(MODEL);
    const retries: string[] = [];
    const res = await runSpotCheck(engine, recs(['a', 'b', 'c', 'd', 'e']), builder, {
      chunkSize: 2,
      onRetry: (r) => retries.push(r.reason),
    });
    assert.equal(res.done, 5);
    assert.equal(res.failed, 0);
    assert.equal(res.workerRestarts, 1);
    assert.equal(res.retriedChunks, 1);
    assert.equal(res.partialReason, null);
    assert.match(retries[0], /^worker-crashed: The model worker was killed by SIGKILL/);
    const report = builder.build({ ...context(false, 1), workerRestarts: res.workerRestarts, partialReason: res.partialReason });
    assert.equal(report.n, 5);
    assert.equal(report.worker_restarts, 1);
    assert.equal(report.partial, false);
  });

  it('a chunk that fails twice is counted under skipped with its reason and lines; the report is marked partial', async () => {
    const base = fakeEngine();
    const engine: BatchEngine = {
      ...base,
      async routeBatch(reqs, options) {
        if (reqs.some((r) => r.text === 'c')) throw new EngineError('worker-unresponsive', 'The model worker sent no sign of life');
        return base.routeBatch(reqs, options);
      },
    };
    const builder = new SpotCheckReportBuilder(MODEL);
    const res = await runSpotCheck(engine, recs(['a', 'b', 'c', 'd', 'e']), builder, { chunkSize: 2 });
    assert.equal(res.done, 5);
    assert.equal(res.failed, 2);
    assert.equal(res.lostToFailures, 2);
    assert.match(res.partialReason ?? '', /^2 examples could not be run \(their chunk failed twice: worker-unresponsive/);
    const report = builder.build({ ...context(false, 1), partialReason: res.partialReason });
    assert.equal(report.n, 3);
    assert.equal(report.partial, true);
    assert.equal(report.skipped.run, 2);
    assert.deepEqual(
      report.skipped.first.map((s) => s.line),
      [4, 5],
    );
    assert.match(report.skipped.first[0].reason, /worker-unresponsive: .*\(its chunk of 2 examples failed twice\)/);
  });

  it('after 3 chunks in a row fail twice the run stops; every example is still counted (analysed + skipped = sample)', async () => {
    const engine: BatchEngine = {
      ...fakeEngine(),
      async routeBatch() {
        throw new EngineError('inference-failed', 'Model run failed: bad kernel');
      },
    };
    const builder = new SpotCheckReportBuilder(MODEL);
    const res = await runSpotCheck(engine, recs(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']), builder, { chunkSize: 2, pipelineDepth: 1 });
    assert.equal(res.done, 8);
    assert.equal(res.failed, 8);
    assert.match(
      res.partialReason ?? '',
      /the run stopped after 3 chunks in a row failed twice \(inference-failed: Model run failed: bad kernel\)/,
    );
    const report = builder.build({ ...context(false, 1), partialReason: res.partialReason });
    assert.equal(report.n + report.skipped.run, 8);
    assert.match(report.skipped.first[7].reason, /^not run: the run stopped after 3 chunks/);
  });
});

describe('spot-check defaults', () => {
  it('chunks of about an eighth of the sample, 64 to 1024 examples', () => {
    assert.equal(defaultChunkSize(10), 64);
    assert.equal(defaultChunkSize(500), 64);
    assert.equal(defaultChunkSize(6000), 750);
    assert.equal(defaultChunkSize(6735), 842);
    assert.equal(defaultChunkSize(1_000_000), 1024);
  });

  it('workers: the thread budget when set, else one per CPU up to 8', () => {
    assert.equal(defaultSpotCheckWorkers(1, 16), 1);
    assert.equal(defaultSpotCheckWorkers(3, 2), 3);
    assert.equal(defaultSpotCheckWorkers(0, 2), 2);
    assert.equal(defaultSpotCheckWorkers(0, 64), 8);
    assert.equal(defaultSpotCheckWorkers(0, 1), 1);
  });

  it('automatic workers fit in half the free memory; an explicit budget is taken as given', () => {
    const MB = 1024 * 1024;
    // the shipped model: 13.5 MB -> about 127 MB per worker
    assert.equal(workerMemoryEstimate(13.5 * MB), 127 * MB);
    assert.equal(defaultSpotCheckWorkers(0, 16, { modelBytes: 13.5 * MB, freeBytes: 64_000 * MB }), 8);
    assert.equal(defaultSpotCheckWorkers(0, 16, { modelBytes: 13.5 * MB, freeBytes: 600 * MB }), 2);
    // a 2 GB model on a machine with 8 GB free: one worker (8 GB / 2 / 4.1 GB)
    assert.equal(defaultSpotCheckWorkers(0, 16, { modelBytes: 2048 * MB, freeBytes: 8192 * MB }), 1);
    // never fewer than one, and --threads N wins
    assert.equal(defaultSpotCheckWorkers(0, 16, { modelBytes: 2048 * MB, freeBytes: 100 * MB }), 1);
    assert.equal(defaultSpotCheckWorkers(4, 16, { modelBytes: 2048 * MB, freeBytes: 100 * MB }), 4);
  });
});
