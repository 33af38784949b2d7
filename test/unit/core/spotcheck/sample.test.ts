import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DatasetRecord } from '../../../../src/core/datasets/types';
import { createRng } from '../../../../src/core/spotcheck/rng';
import { MAX_STRATA, proportionalAllocation, sampleRecords, StratifiedSampler } from '../../../../src/core/spotcheck/sample';

/** n records, label chosen by `labelOf(i)`. */
function records(n: number, labelOf: (i: number) => string | undefined): DatasetRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const label = labelOf(i);
    return label === undefined ? { line: i + 2, text: `t${i}` } : { line: i + 2, text: `t${i}`, label };
  });
}

async function* stream(rs: DatasetRecord[]): AsyncGenerator<DatasetRecord> {
  for (const r of rs) yield r;
}

const lines = (rs: readonly DatasetRecord[]): number[] => rs.map((r) => r.line);

describe('seeded PRNG', () => {
  it('same seed same sequence; different seeds differ; values in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xa = Array.from({ length: 100 }, a);
    assert.deepEqual(xa, Array.from({ length: 100 }, b));
    assert.notDeepEqual(xa, Array.from({ length: 100 }, c));
    assert.ok(xa.every((x) => x >= 0 && x < 1));
    assert.deepEqual(Array.from({ length: 5 }, createRng('abc')), Array.from({ length: 5 }, createRng('abc')));
  });
});

describe('sampling', () => {
  const data = records(10_000, (i) => (i % 10 < 3 ? 'neg' : 'pos')); // 30% neg, 70% pos

  it('same seed gives the same sample; a different seed a different one; file order kept', async () => {
    const a = await sampleRecords(stream(data), { size: 200, seed: 7 });
    const b = await sampleRecords(stream(data), { size: 200, seed: 7 });
    const c = await sampleRecords(stream(data), { size: 200, seed: 8 });
    assert.deepEqual(lines(a.records), lines(b.records));
    assert.notDeepEqual(lines(a.records), lines(c.records));
    assert.equal(a.records.length, 200);
    assert.deepEqual(
      lines(a.records),
      [...lines(a.records)].sort((x, y) => x - y),
    );
    assert.equal(new Set(lines(a.records)).size, 200, 'no record twice');
  });

  it('stratifies proportionally to the label counts in the stream', async () => {
    const s = await sampleRecords(stream(data), { size: 200, seed: 1 });
    assert.equal(s.stratified, true);
    assert.deepEqual(s.strata, [
      { label: 'neg', seen: 3000, taken: 60 },
      { label: 'pos', seen: 7000, taken: 140 },
    ]);
    const odd = await sampleRecords(stream(records(1000, (i) => (i < 10 ? 'rare' : i < 343 ? 'b' : 'c'))), { size: 100, seed: 3 });
    // 10 / 333 / 657 of 1000 -> exact shares 1.0 / 33.3 / 65.7 -> 1 / 33 / 66 (largest remainder)
    assert.deepEqual(
      odd.strata.map((x) => x.taken),
      [33, 66, 1],
    );
    assert.deepEqual(
      odd.strata.map((x) => x.label),
      ['b', 'c', 'rare'],
    );
  });

  it('is uniform within a stratum (every region of the file is represented)', async () => {
    const s = await sampleRecords(stream(records(100_000, () => 'x')), { size: 1000, seed: 11 });
    const deciles = new Array(10).fill(0);
    for (const r of s.records) deciles[Math.floor((r.line - 2) / 10_000)]++;
    for (const d of deciles) assert.ok(d > 60 && d < 140, `decile count ${d}`);
  });

  it("takes everything when N >= rows or 'all'; unlabelled data is not stratified", async () => {
    const small = await sampleRecords(stream(data.slice(0, 50)), { size: 500, seed: 0 });
    assert.equal(small.records.length, 50);
    assert.equal(small.note, 'every record was taken');
    const all = await sampleRecords(stream(data), { size: 'all' });
    assert.equal(all.records.length, 10_000);
    const unlabelled = await sampleRecords(stream(records(500, () => undefined)), { size: 20, seed: 2 });
    assert.equal(unlabelled.stratified, false);
    assert.equal(unlabelled.records.length, 20);
    assert.match(unlabelled.note!, /no labels/);
  });

  it('memory is bounded: never more than N records per stratum held while streaming', () => {
    const sampler = new StratifiedSampler({ size: 100, seed: 5 });
    const internals = sampler as unknown as { strata: Map<string, { items: unknown[] }>; plain: { items: unknown[] } };
    for (let i = 0; i < 50_000; i++) {
      sampler.add({ line: i + 1, text: 'x', label: i % 3 === 0 ? 'a' : 'b' });
      if (i % 5000 === 0) {
        for (const r of internals.strata.values()) assert.ok(r.items.length <= 100);
        assert.ok(internals.plain.items.length <= 100);
      }
    }
    assert.equal(internals.strata.size, 2);
    assert.equal(sampler.result().records.length, 100);
  });

  it(`falls back to a plain uniform sample when the "label" has more than ${MAX_STRATA} values`, async () => {
    const s = await sampleRecords(stream(records(5000, (i) => `id-${i}`)), { size: 50, seed: 9 });
    assert.equal(s.stratified, false);
    assert.match(s.note!, /more than 256 distinct values/);
    assert.equal(s.records.length, 50);
    const again = await sampleRecords(stream(records(5000, (i) => `id-${i}`)), { size: 50, seed: 9 });
    assert.deepEqual(lines(s.records), lines(again.records));
  });

  it('rejects a bad size', () => {
    assert.throws(() => new StratifiedSampler({ size: 0 }), /whole number >= 1/);
    assert.throws(() => new StratifiedSampler({ size: 2.5 }), /whole number >= 1/);
  });

  it('proportional allocation (largest remainder) sums to N and never exceeds a stratum', () => {
    assert.deepEqual(proportionalAllocation([3000, 7000], 200), [60, 140]);
    assert.deepEqual(proportionalAllocation([1, 1, 1], 2), [1, 1, 0]);
    assert.deepEqual(proportionalAllocation([5, 5], 20), [5, 5]);
    assert.deepEqual(proportionalAllocation([0, 10], 3), [0, 3]);
    const a = proportionalAllocation([17, 4, 999, 3], 77);
    assert.equal(
      a.reduce((x, y) => x + y, 0),
      77,
    );
  });
});
