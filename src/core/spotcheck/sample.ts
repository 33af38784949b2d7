/**
 * Seeded, stratified sampling in one streaming pass with bounded memory.
 *
 * Every label (stratum) keeps its own reservoir (Algorithm R with the seeded PRNG) of up to N records, so each
 * reservoir is a uniform sample of its label. At the end N is split over the labels in proportion to how many
 * records each had in the stream (largest-remainder rounding), and each reservoir is cut down to its share by a
 * seeded partial shuffle (a uniform sample of a uniform sample is uniform). The result is in file order.
 *
 * Memory: at most N records per label. Records without a label form one stratum of their own. When a "label"
 * column turns out to have more than MAX_STRATA distinct values it is not a class label: stratification is dropped
 * and the plain reservoir (kept alongside from the start, so it is still a uniform sample of everything) is used.
 * Same file + same seed + same N = same sample.
 */
import type { DatasetRecord } from '../datasets/types';
import { createRng, randomInt } from './rng';
import { DEFAULT_SPOTCHECK_SAMPLE_SIZE, DEFAULT_SPOTCHECK_SEED } from '../../shared/defaults';

export const MAX_STRATA = 256;
/** Stratum key of records without a label. */
export const NO_LABEL = '\u0000(no label)';

export interface SampleOptions {
  /** Records to take, or 'all'. Default 500. */
  size?: number | 'all';
  seed?: number | string;
  /** Stratify by label when records have labels (default true). */
  stratify?: boolean;
}

export interface StratumInfo {
  /** The label as written in the dataset; null for records without one. */
  label: string | null;
  /** Records with this label in the stream. */
  seen: number;
  /** Records taken into the sample. */
  taken: number;
}

export interface SampleResult {
  /** The sample, in file order. */
  records: DatasetRecord[];
  /** Records seen in the stream. */
  seen: number;
  requested: number | 'all';
  seed: number | string;
  stratified: boolean;
  strata: StratumInfo[];
  /** Why stratification was not used, when it was not. */
  note: string | null;
}

class Reservoir<T> {
  readonly items: T[] = [];
  seen = 0;
  constructor(private readonly capacity: number) {}

  add(item: T, rng: () => number): void {
    this.seen++;
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    const j = randomInt(rng, this.seen);
    if (j < this.capacity) this.items[j] = item;
  }
}

/** Largest-remainder (Hamilton) split of `n` over `counts` in proportion; ties go to the earlier entry. */
export function proportionalAllocation(counts: readonly number[], n: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return counts.map(() => 0);
  if (n >= total) return [...counts];
  const exact = counts.map((c) => (n * c) / total);
  const alloc = exact.map((x) => Math.floor(x));
  let left = n - alloc.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    if (alloc[i] < counts[i]) {
      alloc[i]++;
      left--;
    }
  }
  return alloc;
}

/** k of `items` chosen uniformly by a seeded partial Fisher-Yates shuffle (a copy; `items` is left alone). */
export function choose<T>(items: readonly T[], k: number, rng: () => number): T[] {
  const a = [...items];
  for (let i = 0; i < k; i++) {
    const j = i + randomInt(rng, a.length - i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

/** Incremental sampler: `add` records as they stream, then `result()`. */
export class StratifiedSampler {
  private readonly rng: () => number;
  private readonly size: number;
  private readonly strata = new Map<string, Reservoir<DatasetRecord>>();
  private readonly plain: Reservoir<DatasetRecord>;
  /** The plain reservoir draws from its own stream of numbers so the strata do not depend on it. */
  private readonly plainRng: () => number;
  private overflow = false;
  private seen = 0;
  private readonly strataSeen = new Map<string, number>();

  constructor(private readonly options: SampleOptions = {}) {
    const size = options.size ?? DEFAULT_SPOTCHECK_SAMPLE_SIZE;
    if (size !== 'all' && (!Number.isInteger(size) || size < 1))
      throw new RangeError(`sample size must be a whole number >= 1 or 'all', got ${size}`);
    this.size = size === 'all' ? Infinity : size;
    this.rng = createRng(options.seed ?? DEFAULT_SPOTCHECK_SEED);
    this.plain = new Reservoir(this.size);
    this.plainRng = createRng(`plain:${String(options.seed ?? DEFAULT_SPOTCHECK_SEED)}`);
  }

  add(record: DatasetRecord): void {
    this.seen++;
    const key = record.label ?? NO_LABEL;
    this.strataSeen.set(key, (this.strataSeen.get(key) ?? 0) + 1);
    if (this.size === Infinity) {
      this.plain.items.push(record);
      return;
    }
    this.plain.add(record, this.plainRng);
    if (this.overflow || this.options.stratify === false) return;
    let r = this.strata.get(key);
    if (!r) {
      if (this.strata.size >= MAX_STRATA) {
        this.overflow = true;
        this.strata.clear();
        return;
      }
      r = new Reservoir(this.size);
      this.strata.set(key, r);
    }
    r.add(record, this.rng);
  }

  result(): SampleResult {
    const requested = this.options.size ?? DEFAULT_SPOTCHECK_SAMPLE_SIZE;
    const seed = this.options.seed ?? DEFAULT_SPOTCHECK_SEED;
    const labelled = [...this.strataSeen.keys()].some((k) => k !== NO_LABEL);
    const info = (taken: Map<string, number>): StratumInfo[] =>
      [...this.strataSeen.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, seen]) => ({ label: key === NO_LABEL ? null : key, seen, taken: taken.get(key) ?? 0 }));
    const countTaken = (records: readonly DatasetRecord[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const r of records) m.set(r.label ?? NO_LABEL, (m.get(r.label ?? NO_LABEL) ?? 0) + 1);
      return m;
    };
    const byLine = (a: DatasetRecord, b: DatasetRecord): number => a.line - b.line;
    const stratify = this.size !== Infinity && this.seen > this.size && labelled && !this.overflow && this.options.stratify !== false;
    if (!stratify) {
      const records = [...this.plain.items].sort(byLine);
      let note: string | null = null;
      if (this.overflow) note = `not stratified: the label column has more than ${MAX_STRATA} distinct values`;
      else if (this.options.stratify === false) note = 'not stratified (turned off)';
      else if (!labelled) note = 'not stratified: the dataset has no labels';
      else if (this.size === Infinity || this.seen <= this.size) note = 'every record was taken';
      return { records, seen: this.seen, requested, seed, stratified: false, strata: info(countTaken(records)), note };
    }
    const keys = [...this.strata.keys()].sort();
    const alloc = proportionalAllocation(
      keys.map((k) => this.strata.get(k)!.seen),
      this.size,
    );
    const records: DatasetRecord[] = [];
    keys.forEach((k, i) => {
      // A loop, not push(...items): a stratum of a large dataset has more items than a call can take arguments.
      for (const r of choose(this.strata.get(k)!.items, alloc[i], this.rng)) records.push(r);
    });
    records.sort(byLine);
    return { records, seen: this.seen, requested, seed, stratified: true, strata: info(countTaken(records)), note: null };
  }
}

/** Samples a stream of records (see the module comment). */
export async function sampleRecords(
  records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>,
  options: SampleOptions = {},
): Promise<SampleResult> {
  const sampler = new StratifiedSampler(options);
  for await (const r of records) sampler.add(r);
  return sampler.result();
}
