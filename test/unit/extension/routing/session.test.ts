import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { AnalysisSession } from '../../../../src/extension/routing/session';
import { makeAnalysis } from '../fixtures';

describe('AnalysisSession', () => {
  const uri = 'file:///doc.txt';
  it('maps document offsets through the base offset, and token ranges back', () => {
    const s = new AnalysisSession();
    s.set(makeAnalysis(), { uri, version: 3, baseOffset: 100 });
    assert.equal(s.tokenAtDocumentOffset(104), 2);
    assert.equal(s.tokenAtDocumentOffset(99), null);
    assert.equal(s.tokenAtDocumentOffset(4), null);
    assert.deepEqual(s.documentRangeOf(3), { start: 110, end: 113 });
    assert.equal(s.documentRangeOf(0), null); // special
    assert.equal(s.documentRangeOf(99), null);
    assert.equal(s.documentRangeOf(1.5), null);
    assert.ok(s.isLiveFor(uri, 3));
    assert.ok(!s.isLiveFor(uri, 4));
    assert.ok(!s.isLiveFor('file:///other.txt', 3));
  });
  it('edits after keep it live (version follows); edits before/inside mark it stale once', () => {
    const s = new AnalysisSession();
    const events: boolean[] = [];
    s.onStaleChange((st) => events.push(st));
    s.set(makeAnalysis(), { uri, version: 1, baseOffset: 100 });
    assert.equal(s.applyChange(uri, 2, [{ rangeOffset: 113, rangeLength: 0, text: '!' }]), false);
    assert.ok(s.isLiveFor(uri, 2));
    assert.equal(s.applyChange('file:///other.txt', 3, [{ rangeOffset: 0, rangeLength: 0, text: 'x' }]), false);
    assert.ok(s.isLiveFor(uri, 2));
    assert.equal(s.applyChange(uri, 3, [{ rangeOffset: 50, rangeLength: 0, text: 'x' }]), true);
    assert.ok(s.stale);
    assert.ok(!s.isLiveFor(uri, 3));
    assert.ok(s.covers(uri));
    assert.ok(s.containsDocumentOffset(100) && !s.containsDocumentOffset(113));
    assert.equal(s.applyChange(uri, 4, [{ rangeOffset: 105, rangeLength: 1, text: '' }]), false); // already stale
    assert.deepEqual(events, [true]);
  });
  it('a new analysis replaces a stale one', () => {
    const s = new AnalysisSession();
    s.set(makeAnalysis(), { uri, version: 1, baseOffset: 0 });
    s.markStale();
    s.set(makeAnalysis(), { uri, version: 5, baseOffset: 0 });
    assert.ok(!s.stale && s.isLiveFor(uri, 5));
  });
  it('without an anchor (restored panel) nothing links to the editor', () => {
    const s = new AnalysisSession();
    s.set(makeAnalysis(), null);
    assert.equal(s.tokenAtDocumentOffset(1), null);
    assert.equal(s.documentRangeOf(1), null);
    assert.ok(!s.covers(uri));
  });
});
