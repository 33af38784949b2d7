import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildTokenHoverMarkdown, escapeMarkdown, STALE_HOVER } from '../../../../src/extension/routing/hoverLogic';
import { makeAnalysis } from '../fixtures';

describe('hover markdown', () => {
  it('shows the token, its importance, and one row per layer with K and experts with gates', () => {
    const md = buildTokenHoverMarkdown(makeAnalysis(), 2)!;
    assert.match(md, /token 2 `quick`/);
    assert.match(md, /importance 2\.000 \(mean over layers\)/);
    assert.match(md, /\| layer \| importance \| K \| top experts \(gate\) \|/);
    assert.match(md, /\| 0 \| 1\.500 \| 3 \/ 4 \| E5 0\.50 · E1 0\.30 · E7 0\.20 \|/);
    assert.match(md, /\| 1 \| 2\.500 \| 3 \/ 4 \|/);
    assert.equal(md.split('\n').filter((l) => /^\| \d/.test(l)).length, 2);
  });
  it('caps the experts shown and says how many more', () => {
    const md = buildTokenHoverMarkdown(makeAnalysis(), 2, 2)!;
    assert.match(md, /E5 0\.50 · E1 0\.30 · \+1 \|/);
  });
  it('router_logits models: importance is "not available", not zero', () => {
    const a = makeAnalysis();
    a.model.routingSource = 'router_logits';
    const md = buildTokenHoverMarkdown(a, 2)!;
    assert.match(md, /importance not available/);
    assert.match(md, /\| 0 \| — \| 3 \/ 4 \|/);
  });
  it('token text cannot inject markdown or break the code span', () => {
    const a = makeAnalysis();
    a.tokens[2] = { ...a.tokens[2], text: '`[x](command:evil)`\n' };
    const md = buildTokenHoverMarkdown(a, 2)!;
    const first = md.split('\n')[0];
    assert.equal((first.match(/`/g) ?? []).length, 2);
    assert.equal(escapeMarkdown('a|b*c<d>'), 'a\\|b\\*c\\<d\\>');
  });
  it('out-of-range token → null; the stale text tells what to do', () => {
    assert.equal(buildTokenHoverMarkdown(makeAnalysis(), 42), null);
    assert.match(STALE_HOVER, /text changed since analysis — re-run \*\*Analyze Routing\*\*/);
  });
});

describe('hover markdown, Hugging Face router families', () => {
  it('says dropped tokens are dropped, which decoder layer each MoE layer is, and that shared experts are always on', () => {
    const a = makeAnalysis();
    a.model.sharedExperts = { count: 1, gate: 'sigmoid' };
    a.model.denseLayers = [1];
    a.layers[0].decoderLayer = 0;
    a.layers[1].decoderLayer = 2;
    a.layers[1].dropped = [2];
    a.layers[1].k[2] = 0;
    a.layers[1].experts[2] = [];
    a.layers[1].gates[2] = [];
    const md = buildTokenHoverMarkdown(a, 2)!;
    assert.match(md, /\| 0 \(decoder 0\) \| 1\.500 \| 3 \/ 4 \| E5 0\.50/);
    assert.match(md, /\| 1 \(decoder 2\) \| 2\.500 \| 0 \/ 4 \| dropped \(over capacity\) \|/);
    assert.match(md, /1 shared expert, always on \\\(sigmoid\\-gated per token\\\) · decoder layer 1 dense \\\(no router\\\)/);
    // A token the layer kept shows its experts.
    assert.match(buildTokenHoverMarkdown(a, 3)!, /\| 1 \(decoder 2\) \| 1\.000 \| 2 \/ 4 \| E3 0\.60 · E4 0\.40 \|/);
  });
  it('causal LMs: the loss, where the token stood among what was expected, and the next-token predictions', () => {
    const a = makeAnalysis({ task: 'causal-lm', prediction: null });
    const pred = (token: string, id: number, probability: number) => ({ token, id, probability });
    a.tokens[1] = { ...a.tokens[1], loss: 1.0, predictions: [pred('quick', a.tokens[2].id, 0.5), pred('`x`', 99, 0.2)] };
    a.tokens[2] = { ...a.tokens[2], loss: -Math.log(0.5), context: 2, predictions: [pred('fox', 7, 0.3)] };
    a.languageModel = { perplexity: 2, meanLoss: Math.log(2), scoredTokens: 3, top1Accuracy: 1, topKAccuracy: 1, predictionsPerToken: 5 };
    const md = buildTokenHoverMarkdown(a, 2)!;
    assert.match(md, /loss \*\*0\.69 nats \(p 0\.50\)\*\* · the model's choice #1/);
    assert.match(md, /expected here: `quick` 0\.50 · `ˋxˋ` 0\.20/);
    assert.match(md, /predicts next: `fox` 0\.30/);
    assert.match(md, /perplexity 2\.00/);
    const first = buildTokenHoverMarkdown({ ...a, tokens: a.tokens.map((t, i) => (i === 0 ? { ...t, loss: undefined } : t)) }, 0)!;
    assert.match(first, /loss: — \(the first token: nothing predicts it\)/);
  });
});
