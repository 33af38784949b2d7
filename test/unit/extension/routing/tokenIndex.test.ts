import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { TokenIndex } from '../../../../src/extension/routing/tokenIndex';
import { makeAnalysis } from '../fixtures';

describe('TokenIndex: token at an offset', () => {
  const idx = new TokenIndex(makeAnalysis().tokens);
  it('finds the token whose [start, end) holds the offset; skips specials', () => {
    assert.equal(idx.size, 3);
    assert.equal(idx.at(0), 1);
    assert.equal(idx.at(2), 1);
    assert.equal(idx.at(4), 2);
    assert.equal(idx.at(8), 2);
    assert.equal(idx.at(12), 3);
  });
  it('returns null between tokens, before, after, and for non-numbers', () => {
    assert.equal(idx.at(3), null); // the space
    assert.equal(idx.at(-1), null);
    assert.equal(idx.at(13), null);
    assert.equal(idx.at(Number.NaN), null);
  });
  it('inclusiveEnd: a cursor right after a token is on it, unless a token starts there', () => {
    assert.equal(idx.at(3, true), 1);
    assert.equal(idx.at(13, true), 3);
    const adj = new TokenIndex([
      { index: 0, id: 1, text: 'ab', start: 0, end: 2, special: false },
      { index: 1, id: 2, text: 'cd', start: 2, end: 4, special: false },
    ]);
    assert.equal(adj.at(2, true), 1);
  });
  it('tokens sharing one span resolve to the first; unsorted input is fine', () => {
    const t = new TokenIndex([
      { index: 2, id: 3, text: 'z', start: 5, end: 6, special: false },
      { index: 1, id: 2, text: '\u00a2', start: 0, end: 1, special: false },
      { index: 0, id: 1, text: '\u00e2', start: 0, end: 1, special: false },
    ]);
    assert.equal(t.at(0), 0);
    assert.equal(t.at(5), 2);
    assert.equal(t.at(3), null);
  });
  it('is fast on long inputs (binary search)', () => {
    const tokens = Array.from({ length: 100_000 }, (_, i) => ({
      index: i,
      id: i,
      text: 'ab',
      start: 3 * i,
      end: 3 * i + 2,
      special: false,
    }));
    const big = new TokenIndex(tokens);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) assert.equal(big.at(3 * i + 1), i);
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 2000);
  });
});
