/**
 * Throughput path shared by one worker and a pool of them: sequences are sorted by length and cut into buckets
 * (each padded to its longest member), and the buckets are spread over the workers. Every worker is kept
 * `inFlightPerWorker` runs deep, so it starts the next bucket as soon as it finishes one instead of waiting for the
 * host to read the result and post more work.
 */
import { EngineError } from '../errors';
import { int64Tensor, TensorMap } from './tensors';

/** One token sequence for a batch; attention is 1 on every id given. */
export interface TokenSequence {
  ids: readonly number[];
}

/** Anything that runs the model once on a set of feeds (a ModelRuntime). */
export interface BucketRunner {
  run(feeds: TensorMap, options?: { signal?: AbortSignal }): Promise<TensorMap>;
}

export interface BatchOptions {
  /** Sequences per model run (default 16). */
  batchSize?: number;
  /** Id written into padded positions (masked out, so any valid id works). Default 0. */
  padId?: number;
  /** Runs queued on each worker at once (default 2). */
  inFlightPerWorker?: number;
  signal?: AbortSignal;
  /** Sequences finished so far (in completion order, not input order). */
  onProgress?: (done: number, total: number) => void;
}

/** One sequence's share of a batched run: its row in the bucket's outputs, right-padded to paddedLength. */
export interface BatchItemResult {
  outputs: TensorMap;
  row: number;
  length: number;
  paddedLength: number;
  /** Real lengths of every row of the run (shared by the run's items), when known. */
  rowLengths?: readonly number[];
}

interface Bucket {
  members: number[];
  paddedLength: number;
}

/** Buckets of at most batchSize sequences, shortest first; each lists input indices. */
export function planBuckets(items: readonly TokenSequence[], batchSize: number): Bucket[] {
  const size = Math.max(1, Math.floor(batchSize));
  const order = items.map((_, i) => i).sort((a, b) => items[a].ids.length - items[b].ids.length);
  const buckets: Bucket[] = [];
  for (let start = 0; start < order.length; start += size) {
    const members = order.slice(start, start + size);
    const paddedLength = members.reduce((m, i) => Math.max(m, items[i].ids.length), 1);
    buckets.push({ members, paddedLength });
  }
  return buckets;
}

function bucketFeeds(items: readonly TokenSequence[], bucket: Bucket, padId: number): TensorMap {
  const L = bucket.paddedLength;
  const ids = new Array<number>(bucket.members.length * L).fill(padId);
  const mask = new Array<number>(bucket.members.length * L).fill(0);
  bucket.members.forEach((itemIndex, row) => {
    items[itemIndex].ids.forEach((id, t) => {
      ids[row * L + t] = id;
      mask[row * L + t] = 1;
    });
  });
  const dims = [bucket.members.length, L];
  return { input_ids: int64Tensor(ids, dims), attention_mask: int64Tensor(mask, dims) };
}

/**
 * Runs every sequence through the runners and returns one result per input, in input order. The first failure
 * rejects the whole batch (runs already queued finish in their workers; their results are dropped).
 */
export function runBuckets(
  runners: readonly BucketRunner[],
  items: readonly TokenSequence[],
  options: BatchOptions = {},
): Promise<BatchItemResult[]> {
  if (runners.length === 0) return Promise.reject(new EngineError('inference-failed', 'No model worker to run the batch on.'));
  const buckets = planBuckets(items, options.batchSize ?? 16);
  const padId = options.padId ?? 0;
  const depth = Math.max(1, Math.floor(options.inFlightPerWorker ?? 2));
  const results: BatchItemResult[] = new Array(items.length);
  if (buckets.length === 0) return Promise.resolve(results);
  return new Promise<BatchItemResult[]>((resolve, reject) => {
    let next = 0;
    let running = 0;
    let done = 0;
    let failed = false;
    const launch = (runner: BucketRunner): void => {
      if (failed || next >= buckets.length) return;
      const bucket = buckets[next++];
      running++;
      runner.run(bucketFeeds(items, bucket, padId), { signal: options.signal }).then(
        (outputs) => {
          running--;
          if (failed) return;
          const rowLengths = bucket.members.map((i) => items[i].ids.length);
          bucket.members.forEach((itemIndex, row) => {
            results[itemIndex] = { outputs, row, length: rowLengths[row], paddedLength: bucket.paddedLength, rowLengths };
          });
          done += bucket.members.length;
          options.onProgress?.(done, items.length);
          if (next < buckets.length) launch(runner);
          else if (running === 0) resolve(results);
        },
        (error: unknown) => {
          running--;
          if (failed) return;
          failed = true;
          reject(error);
        },
      );
    };
    for (let d = 0; d < depth; d++) for (const runner of runners) launch(runner);
  });
}
