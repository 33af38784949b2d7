import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { occludedProbabilities, occlusionVariants, probabilityDrops, tokenPlaces } from '../../../../src/core/analysis/occlusion';
import { planWindows } from '../../../../src/core/analysis/windowing';
import { Tokenizer } from '../../../../src/core/tokenizer';
import { WORDPIECE_TOKENIZER } from '../helpers';

const tok = Tokenizer.fromFile(WORDPIECE_TOKENIZER);

describe('occlusion variants (real tokenizer)', () => {
  it('one window: one input per ordinary token, that token deleted, [CLS] and [SEP] never', () => {
    const e = tok.postProcess(tok.tokenize('the film is good'));
    const plan = planWindows(e.tokens.length - 2, 100, 25);
    const variants = occlusionVariants(e.tokens, [{ ids: e.ids, tokens: e.tokens }], plan);
    const ordinary = e.tokens.map((t, i) => (t.special ? -1 : i)).filter((i) => i >= 0);
    assert.deepEqual(
      variants.map((v) => v.token),
      ordinary,
    );
    for (const v of variants) {
      assert.equal(v.window, 0);
      assert.deepEqual(v.ids, [...e.ids.slice(0, v.token), ...e.ids.slice(v.token + 1)]);
    }
    assert.ok(e.tokens[0].special && e.tokens[e.tokens.length - 1].special);
  });

  it('a pair input: tokens of both texts are occluded, every special token kept', () => {
    const e = tok.postProcess(tok.tokenize('a cat'), tok.tokenize('no dog', 1));
    const plan = planWindows(tok.tokenize('a cat').length, 100, 25);
    const variants = occlusionVariants(e.tokens, [{ ids: e.ids, tokens: e.tokens }], plan);
    assert.equal(variants.length, e.tokens.filter((t) => !t.special).length);
    assert.ok(variants.some((v) => e.tokens[v.token].sequenceIndex === 1));
    for (const v of variants) assert.equal(v.ids.length, e.ids.length - 1);
  });

  it('windows: a content token is deleted from every window over it, at its position there; a pair token from all', () => {
    const text = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    const a = tok.tokenize(text);
    const b = tok.tokenize('pair', 1);
    const plan = planWindows(a.length, 12, 4);
    assert.ok(plan.windows.length >= 3);
    const windows = plan.windows.map((w) => tok.postProcess(a.slice(w.start, w.end), b));
    const merged = tok.postProcess(a, b).tokens;
    const places = tokenPlaces(merged, windows, plan);
    let content = 0;
    merged.forEach((t, i) => {
      if (t.special) return assert.deepEqual(places[i], []);
      if (t.sequenceIndex === 1) {
        assert.equal(places[i].length, plan.windows.length);
        for (const p of places[i]) assert.equal(windows[p.window].tokens[p.position].text, t.text);
        return;
      }
      const expected = plan.windows.map((w, wi) => (content >= w.start && content < w.end ? wi : -1)).filter((w) => w >= 0);
      assert.deepEqual(
        places[i].map((p) => p.window),
        expected,
      );
      // The same token (same characters of the text) at that position of each window.
      for (const p of places[i]) assert.equal(windows[p.window].tokens[p.position].start, t.start);
      content++;
    });
    const variants = occlusionVariants(
      merged,
      windows.map((w) => ({ ids: w.ids, tokens: w.tokens })),
      plan,
    );
    assert.equal(
      variants.length,
      places.reduce((n, p) => n + p.length, 0),
    );
  });
});

describe('occludedProbabilities', () => {
  it('one window: the variant is the occluded prediction; specials get null', () => {
    const out = occludedProbabilities(3, [{ token: 1, window: 0, ids: [] }], [[0.3, 0.7]], [[0.9, 0.1]]);
    assert.deepEqual(out, [null, [0.3, 0.7], null]);
  });

  it('windows: the mean of the windows, the ones that held the token replaced by its variants', () => {
    const base = [
      [0.8, 0.2],
      [0.6, 0.4],
      [0.4, 0.6],
    ];
    const out = occludedProbabilities(
      2,
      [
        { token: 0, window: 0, ids: [] },
        { token: 0, window: 1, ids: [] },
        { token: 1, window: 2, ids: [] },
      ],
      [
        [0.2, 0.8],
        [0.3, 0.7],
        [1, 0],
      ],
      base,
    );
    const close = (a: number[], b: number[]): void => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-12, `${a} vs ${b}`));
    close(out[0]!, [(0.2 + 0.3 + 0.4) / 3, (0.8 + 0.7 + 0.6) / 3]);
    close(out[1]!, [(0.8 + 0.6 + 1) / 3, (0.2 + 0.4 + 0) / 3]);
  });

  it('refuses results that do not match the inputs', () => {
    assert.throws(() => occludedProbabilities(1, [{ token: 0, window: 0, ids: [] }], [], [[1]]), /0 results for 1 occluded inputs/);
  });

  it('drops are of the given class; a negative drop (the token hurt the prediction) stays negative', () => {
    assert.deepEqual(probabilityDrops([0.25, 0.75], [null, [0.5, 0.5], [0, 1]], 1), [null, 0.25, -0.25]);
  });
});
