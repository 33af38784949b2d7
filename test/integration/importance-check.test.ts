/**
 * Importance against occlusion with the real onnxruntime and the shipped DA-MoE model: the occluded probabilities
 * are the model's own on the text without the token (checked by analysing the deleted-token text directly), and
 * the check's importance is the analysis's.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { createEngine, DamoeEngine } from '../../src/core/engine';
import { EngineError } from '../../src/core/engine-api';
import { checkSampleImportance, checkTextImportance } from '../../src/core/analysis/importance-check';
import { SHIPPED_DAMOE_DIR, TINY_LM_DIR } from '../unit/core/helpers';
import { MAX_OCCLUSION_TOKENS } from '../../src/shared/defaults';

const TEXT = 'the acting is wooden , but the story is not bad at all';

describe('importance check on models/damoe-sst2 (real onnxruntime)', () => {
  let engine: DamoeEngine;
  before(async () => {
    engine = await createEngine({ modelDir: SHIPPED_DAMOE_DIR, threads: 1 });
  });
  after(async () => {
    await engine.dispose();
  });

  it('each drop is p(c | text) - p(c | the text with that token deleted), the latter run directly', async () => {
    const analysis = await engine.analyze({ text: TEXT });
    const [occ] = await engine.occludeBatch([{ text: TEXT }]);
    const c = analysis.prediction!.index;
    assert.equal(occ.prediction.index, c);
    assert.ok(Math.abs(occ.prediction.probabilities[c] - analysis.prediction!.probabilities[c]) < 1e-6);
    // The check's importance is the analysis's.
    analysis.layers.forEach((l, layer) =>
      l.importance.forEach((v, t) => assert.ok(Math.abs(occ.importance![layer * occ.length + t] - v) < 1e-5)),
    );
    assert.equal(occ.sequences, 1 + analysis.tokens.filter((t) => !t.special).length, 'one run of the text, one per ordinary token');
    let compared = 0;
    for (const t of analysis.tokens) {
      const drop = occ.drops[t.index];
      if (t.special) {
        assert.equal(drop, null, 'special tokens are never occluded');
        continue;
      }
      // The text without this token's characters tokenises to the ids without it (whole words here): run it directly.
      const deleted = TEXT.slice(0, t.start!) + TEXT.slice(t.end!);
      const ids = engine.tokenizer.postProcess(engine.tokenizer.tokenize(deleted)).ids;
      const expected = analysis.tokens.filter((u) => u.index !== t.index).map((u) => u.id);
      assert.deepEqual(ids, expected, `"${deleted}" tokenises to the ids without token ${t.index}`);
      const direct = await engine.analyze({ text: deleted });
      const want = analysis.prediction!.probabilities[c] - direct.prediction!.probabilities[c];
      assert.ok(Math.abs(drop! - want) < 1e-5, `token ${t.index} "${t.text}": drop ${drop} vs direct ${want}`);
      compared++;
    }
    assert.equal(compared, 13);
    assert.ok(
      occ.drops.some((d) => d !== null && Math.abs(d) > 1e-3),
      'some token moves the prediction',
    );
  });

  it('texts batched together give the same drops as one at a time', async () => {
    const other = 'a gorgeous , witty , seductive movie .';
    const [a, b] = await engine.occludeBatch([{ text: TEXT }, { text: other }], { batchSize: 7 });
    const [a1] = await engine.occludeBatch([{ text: TEXT }]);
    const [b1] = await engine.occludeBatch([{ text: other }]);
    a.drops.forEach((d, i) => assert.ok(d === null ? a1.drops[i] === null : Math.abs(d - a1.drops[i]!) < 1e-5));
    b.drops.forEach((d, i) => assert.ok(d === null ? b1.drops[i] === null : Math.abs(d - b1.drops[i]!) < 1e-5));
  });

  it('an analysis check: a Spearman rho per layer over the text tokens; a sample check pools texts', async () => {
    const one = await checkTextImportance(engine, { text: TEXT });
    assert.equal(one.n, 13);
    assert.equal(one.layers.length, engine.model.numLayers);
    for (const l of one.layers) {
      assert.equal(l.n, 13);
      assert.ok(l.spearman !== null && l.spearman >= -1 && l.spearman <= 1);
    }
    assert.equal(one.drops!.length, 15);
    const many = await checkSampleImportance(engine, [{ text: TEXT }, { text: 'an utterly charming film' }, { text: 'dull .' }], {
      textsPerRun: 2,
    });
    assert.equal(many.texts, 3);
    assert.equal(many.n, 13 + 4 + 2);
    assert.equal(many.drops, undefined);
  });

  it('windowed text: every window that holds a token is re-run without it; the base is the analysis', async () => {
    const windowed = await createEngine({ modelDir: SHIPPED_DAMOE_DIR, threads: 1, maxTokens: 8 });
    try {
      const analysis = await windowed.analyze({ text: TEXT });
      assert.ok(analysis.windowing && analysis.windowing.windows > 1);
      const [occ] = await windowed.occludeBatch([{ text: TEXT }]);
      const c = analysis.prediction!.index;
      assert.ok(Math.abs(occ.prediction.probabilities[c] - analysis.prediction!.probabilities[c]) < 1e-6);
      const ordinary = analysis.tokens.filter((t) => !t.special).length;
      assert.ok(occ.sequences > analysis.windowing.windows + ordinary, 'tokens in the overlaps are re-run in each of their windows');
      assert.equal(occ.drops.filter((d) => d !== null).length, ordinary);
    } finally {
      await windowed.dispose();
    }
  });

  it('a text over MAX_OCCLUSION_TOKENS is refused before anything runs, with what to do', async () => {
    const long = Array.from({ length: MAX_OCCLUSION_TOKENS }, (_, i) => `w${i % 50}`).join(' ');
    await assert.rejects(engine.occludeBatch([{ text: long }]), (e: EngineError) => {
      assert.equal(e.code, 'input-too-long');
      assert.match(e.message, new RegExp(`takes texts of at most ${MAX_OCCLUSION_TOKENS} tokens: check a shorter selection`));
      return true;
    });
  });

  it('cancellable', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(engine.occludeBatch([{ text: TEXT }], { signal: ac.signal }), (e: EngineError) => e.code === 'cancelled');
  });
});

describe('importance check on a causal LM', () => {
  it('is refused with a message that says why', async () => {
    const lm = await createEngine({ modelDir: TINY_LM_DIR, threads: 1 });
    try {
      await assert.rejects(lm.occludeBatch([{ text: 'the film' }]), (e: EngineError) => {
        assert.equal(e.code, 'importance-unavailable');
        assert.match(e.message, /causal language model: it predicts no class/);
        return true;
      });
    } finally {
      await lm.dispose();
    }
  });
});
