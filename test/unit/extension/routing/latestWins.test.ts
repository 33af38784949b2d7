import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LatestWins } from '../../../../src/extension/routing/latestWins';

describe('latest wins', () => {
  it('a new request aborts the running one; only the newest finishes the progress', () => {
    const lw = new LatestWins();
    const a = lw.begin();
    const b = lw.begin();
    assert.ok(a.signal.aborted && !a.isCurrent());
    assert.ok(!b.signal.aborted && b.isCurrent());
    assert.equal(lw.finish(a), false);
    assert.ok(lw.running);
    assert.equal(lw.finish(b), true);
    assert.ok(!lw.running);
  });
});
