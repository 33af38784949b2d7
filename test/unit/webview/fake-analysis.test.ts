/** The fake Analysis is consistent (tests rely on it). */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { makeFakeAnalysis } from './fake-analysis';

describe('makeFakeAnalysis', () => {
  for (const routerKind of ['da-moe', 'top-k'] as const) {
    it(`is internally consistent (${routerKind})`, () => {
      const a = makeFakeAnalysis({ tokens: 50, experts: 8, layers: 3, kMax: 3, routerKind });
      const E = a.model.numExperts;
      assert.equal(a.tokens.length, 50);
      assert.equal(a.tokens.filter((t) => t.special).length, 2);
      for (const t of a.tokens) if (!t.special) assert.equal(a.text.slice(t.start!, t.end!), t.text);
      a.layers.forEach((l, li) => {
        let total = 0;
        for (let t = 0; t < a.tokens.length; t++) {
          assert.equal(l.experts[t].length, l.k[t]);
          assert.equal(l.gates[t].length, l.k[t]);
          assert.ok(l.gates[t].every((g) => g > 0));
          assert.ok(
            l.gates[t].every((g, j) => j === 0 || g <= l.gates[t][j - 1]),
            'ordered by gate',
          );
          assert.ok(Math.abs(l.gates[t].reduce((x, y) => x + y, 0) - 1) < 1e-4);
          assert.equal(new Set(l.experts[t]).size, l.k[t]);
          assert.equal(l.routerProbs[t].length, E);
          assert.ok(Math.abs(l.routerProbs[t].reduce((x, y) => x + y, 0) - 1) < 1e-4);
          if (routerKind === 'top-k') assert.equal(l.k[t], a.model.kMax);
          total += l.k[t];
        }
        assert.equal(
          a.stats.kHistogram.perLayer[li].reduce((x, y) => x + y, 0),
          a.stats.tokens,
        );
        assert.equal(
          a.stats.expertLoad[li].tokens.reduce((x, y) => x + y, 0),
          total,
        );
      });
      assert.deepEqual(a.stats.expertLoad[0].dead, [E - 1]);
      const overall = a.stats.kHistogram.overall;
      assert.equal(
        overall.reduce((x, y) => x + y, 0),
        a.stats.tokens * a.layers.length,
      );
    });
  }
  it('injects exact text', () => {
    const a = makeFakeAnalysis({ tokens: 8, injectText: { at: 2, text: '<b>x</b>' } });
    assert.equal(a.tokens[2].text, '<b>x</b>');
  });
});
