import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mapMergedTokens, mostCentralWindow, planWindows } from '../../../../src/core/analysis/windowing';
import { Tokenizer } from '../../../../src/core/tokenizer';
import { WORDPIECE_TOKENIZER } from '../helpers';

describe('planWindows', () => {
  it('one window when the content fits', () => {
    assert.deepEqual(planWindows(10, 10, 2).windows, [{ start: 0, end: 10 }]);
  });
  it('overlapping full windows, the last aligned to the end', () => {
    assert.deepEqual(planWindows(25, 10, 2).windows, [
      { start: 0, end: 10 },
      { start: 8, end: 18 },
      { start: 15, end: 25 },
    ]);
  });
  it('rejects an overlap that leaves no stride', () => {
    assert.throws(() => planWindows(25, 10, 10), /overlapTokens must be in 0\.\.9/);
  });
  it('each token goes to the window where it is farthest from an edge', () => {
    const plan = planWindows(25, 10, 2);
    assert.equal(mostCentralWindow(plan, 0), 0);
    assert.equal(mostCentralWindow(plan, 8), 0); // margin min(8, 1) = 1 in window 0, 0 in window 1
    assert.equal(mostCentralWindow(plan, 9), 1); // window 0 margin 0, window 1 margin 1
    assert.equal(mostCentralWindow(plan, 16), 1); // window 1 margin min(8,1)=1, window 2 margin min(1,8)=1: earlier wins
    assert.equal(mostCentralWindow(plan, 17), 2);
    assert.equal(mostCentralWindow(plan, 24), 2);
  });
});

describe('mapMergedTokens (real tokenizer)', () => {
  const tok = Tokenizer.fromFile(WORDPIECE_TOKENIZER);
  const text = Array.from({ length: 40 }, (_, i) => `word${i} is good,`).join(' ') + '\nthe end';
  const a = tok.tokenize(text);
  const plan = planWindows(a.length, 30, 7);
  const windows = plan.windows.map((w) => tok.postProcess(a.slice(w.start, w.end)).tokens);
  const merged = tok.postProcess(a).tokens;
  const sources = mapMergedTokens(merged, windows, plan);

  it('the text really needs several windows', () => {
    assert.ok(plan.windows.length >= 4, `windows: ${plan.windows.length}`);
  });
  it('merged token count equals the unwindowed tokenization', () => {
    assert.equal(sources.length, tok.encode(text).tokens.length);
  });
  it('every merged token maps to the same token (id and offsets into the original text) in its window', () => {
    merged.forEach((t, i) => {
      const w = windows[sources[i].window][sources[i].position];
      assert.equal(w.id, t.id, `token ${i}`);
      assert.equal(w.start, t.start);
      assert.equal(w.end, t.end);
      if (!t.special) assert.equal(text.slice(t.start!, t.end!).toLowerCase().replace(/\s/g, ''), t.text.replace(/^##/, ''));
    });
  });
  it('[CLS] comes from the first window, [SEP] from the last, content from its most central window', () => {
    assert.equal(sources[0].window, 0);
    assert.equal(sources[sources.length - 1].window, plan.windows.length - 1);
    assert.equal(sources[1].window, 0);
    assert.equal(sources[sources.length - 2].window, plan.windows.length - 1);
    const middle = sources.slice(1, -1).map((s) => s.window);
    assert.deepEqual(
      [...middle].sort((x, y) => x - y),
      middle,
      'windows are used in order',
    );
    assert.equal(new Set(middle).size, plan.windows.length, 'every window supplies some tokens');
  });
  it('pair tokens come from the first window', () => {
    const b = tok.tokenize('a short pair', 1);
    const pw = plan.windows.map((w) => tok.postProcess(a.slice(w.start, w.end), b).tokens);
    const pm = tok.postProcess(a, b).tokens;
    const ps = mapMergedTokens(pm, pw, plan);
    pm.forEach((t, i) => {
      assert.equal(pw[ps[i].window][ps[i].position].id, t.id);
      if (t.sequenceIndex === 1) assert.equal(ps[i].window, 0);
    });
  });
});
