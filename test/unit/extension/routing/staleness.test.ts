import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { changeMakesStale, changesMakeStale } from '../../../../src/extension/routing/staleness';

describe('staleness rules', () => {
  const c = (rangeOffset: number, rangeLength: number, text: string) => ({ rangeOffset, rangeLength, text });
  it('edits after the analysed text do not make it stale (typing right after included)', () => {
    assert.equal(changeMakesStale(10, 20, c(20, 0, 'x')), false);
    assert.equal(changeMakesStale(10, 20, c(25, 3, '')), false);
  });
  it('edits before or inside make it stale (insertions at its start too)', () => {
    assert.equal(changeMakesStale(10, 20, c(0, 0, 'x')), true);
    assert.equal(changeMakesStale(10, 20, c(10, 0, 'x')), true);
    assert.equal(changeMakesStale(10, 20, c(15, 1, 'y')), true);
    assert.equal(changeMakesStale(10, 20, c(5, 10, '')), true);
    assert.equal(changeMakesStale(10, 20, c(19, 5, '')), true);
  });
  it('no-op changes are ignored; any stale change in a batch wins', () => {
    assert.equal(changeMakesStale(10, 20, c(0, 0, '')), false);
    assert.equal(changesMakeStale(10, 20, [c(30, 0, 'x'), c(2, 1, '')]), true);
    assert.equal(changesMakeStale(10, 20, [c(30, 0, 'x'), c(40, 1, '')]), false);
  });
});
