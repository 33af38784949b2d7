import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { isPackedAnalysis, packAnalysis, unpackAnalysis } from '../../../../src/shared/protocol/packed-analysis';
import { makeFakeAnalysis } from '../../webview/fake-analysis';

describe('packed analysis (the wire form of analysis/show)', () => {
  it('round-trips exactly, with the per-token routing in typed arrays', () => {
    const a = makeFakeAnalysis({ tokens: 40, experts: 8, layers: 3, kMax: 4, seed: 5 });
    a.layers[1].decoderLayer = 3;
    a.layers[2].dropped = [4, 7];
    a.layers[2].k[4] = 0;
    a.layers[2].experts[4] = [];
    a.layers[2].gates[4] = [];
    const p = packAnalysis(a);
    assert.ok(isPackedAnalysis(p));
    assert.equal(p.layers, undefined);
    assert.ok(p.packedLayers.routerProbs instanceof Float64Array);
    assert.equal(p.packedLayers.routerProbs.length, 40 * 3 * 8);
    assert.equal(
      p.packedLayers.experts.length,
      a.layers.reduce((s, l) => s + l.k.reduce((x, y) => x + y, 0), 0),
    );
    assert.deepEqual(unpackAnalysis(p), a);
    // The packing survives a structured clone (what postMessage does to it).
    assert.deepEqual(unpackAnalysis(structuredClone(p)), a);
    assert.equal(isPackedAnalysis(a), false);
  });

  it('keeps NaN gates and empty router probabilities (a routing trace)', () => {
    const a = makeFakeAnalysis({ tokens: 6, experts: 4, layers: 2, kMax: 2, seed: 1 });
    a.model.gatesAvailable = false;
    for (const l of a.layers) {
      l.gates = l.experts.map((ex) => ex.map(() => NaN));
      l.routerProbs = l.experts.map(() => []);
    }
    const back = unpackAnalysis(packAnalysis(a));
    assert.deepEqual(back, a);
    assert.ok(Number.isNaN(back.layers[0].gates[1][0]));
  });

  it("builds a layer's experts, gates and router probabilities when one of them is first read (a first paint reads one layer)", () => {
    const a = makeFakeAnalysis({ tokens: 12, experts: 4, layers: 3, kMax: 2, seed: 2 });
    const back = unpackAnalysis(packAnalysis(a));
    const built = (l: number, key: 'experts' | 'gates' | 'routerProbs'): boolean =>
      'value' in Object.getOwnPropertyDescriptor(back.layers[l], key)!;
    assert.equal(built(1, 'experts'), false);
    assert.deepEqual(back.layers[1].gates, a.layers[1].gates);
    assert.ok(built(1, 'experts') && built(1, 'gates') && built(1, 'routerProbs'), 'all three at once');
    assert.equal(built(0, 'experts') || built(2, 'gates'), false, 'the other layers are not built');
    assert.deepEqual(back.layers[1].experts, a.layers[1].experts);
    back.layers[0].routerProbs = [];
    assert.deepEqual(back.layers[0].routerProbs, []);
    assert.deepEqual(back.layers[0].experts, a.layers[0].experts);
    // Serialised (setState's clone, the JSON export) as the plain analysis.
    assert.deepEqual(structuredClone(unpackAnalysis(packAnalysis(a))), a);
    assert.deepEqual(JSON.parse(JSON.stringify(unpackAnalysis(packAnalysis(a)))), JSON.parse(JSON.stringify(a)));
  });

  it('refuses a packing whose sizes do not add up, naming the array', () => {
    const p = packAnalysis(makeFakeAnalysis({ tokens: 10, experts: 4, layers: 2, kMax: 2 }));
    assert.throws(
      () => unpackAnalysis({ ...p, packedLayers: { ...p.packedLayers, k: new Int32Array(3) } }),
      /packed k has the wrong length/,
    );
    assert.throws(
      () => unpackAnalysis({ ...p, packedLayers: { ...p.packedLayers, gates: [] as unknown as Float64Array } }),
      /gates is not a typed array/,
    );
    assert.throws(() => unpackAnalysis({ ...p, tokens: p.tokens.slice(1) }), /packed layers for 10 tokens, analysis has 9/);
  });
});
