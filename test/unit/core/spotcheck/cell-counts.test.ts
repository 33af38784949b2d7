import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { CellCounts, DENSE_MAX_CELLS } from '../../../../src/core/spotcheck/cell-counts';

describe('CellCounts (expert specialisation counts of one token text)', () => {
  const adds = [3, 0, 3, 7, 3, 0];
  const counted = (c: CellCounts): [number, number][] => [...c.entries()].sort((a, b) => a[0] - b[0]);

  it('counts each cell, dense for small models and sparse for large ones, with the same entries', () => {
    const small = new CellCounts(8);
    const large = new CellCounts(DENSE_MAX_CELLS + 1);
    for (const cell of adds) {
      small.add(cell);
      large.add(cell);
    }
    assert.deepEqual(counted(small), [
      [0, 2],
      [3, 3],
      [7, 1],
    ]);
    assert.deepEqual(counted(large), counted(small));
  });

  it('lists only cells that were reached (a large model does not hold a row per token)', () => {
    const large = new CellCounts(48 * 128);
    large.add(6000);
    assert.deepEqual(counted(large), [[6000, 1]]);
  });
});
