/**
 * Routing traces in the documented vLLM and SGLang formats (built by test/fixtures/traces/engine-responses.ts, which
 * cites the engine source and commit of each field list; no engine ran) -> the Analysis. Token ids come from the
 * shipped tokenizer (models/damoe-sst2/tokenizer.json).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Tokenizer } from '../../../../src/core/tokenizer';
import { detectTraceFormat, readTraceModelConfig, traceAnalysis, type TraceModelConfig } from '../../../../src/core/traces';
import { EngineError } from '../../../../src/core/errors';
import { analysisTokens } from '../../../../src/core/analysis/build';
import type { Analysis } from '../../../../src/shared/analysis';
import { SHIPPED_DAMOE_DIR } from '../helpers';
import {
  sglangCompletion,
  sglangGenerate,
  syntheticRouting,
  vllm021Chat,
  vllm021Completion,
  vllmMainCompletion,
  type TraceSpec,
} from '../../../fixtures/traces/engine-responses';

const tokenizer = Tokenizer.fromFile(path.join(SHIPPED_DAMOE_DIR, 'tokenizer.json'));
const L = 3;
const K = 2;
const E = 8;
const config: TraceModelConfig = {
  numExperts: E,
  topK: K,
  numLayers: L,
  source: { numExperts: 'config.json', topK: 'config.json', numLayers: 'config.json' },
};
const PROMPT = 'A gorgeous, witty and moving film.';
const promptIds = tokenizer.encode(PROMPT).ids;
const generatedIds = tokenizer.encode('truly great', undefined, { addSpecialTokens: false }).ids;
const spec: TraceSpec = { promptIds, generatedIds, routing: syntheticRouting(promptIds.length + generatedIds.length, L, K, E) };
const opts = { tokenizer, tokenizerPath: SHIPPED_DAMOE_DIR, config, source: 'test.json' };

function analyse(json: unknown, over: Partial<typeof opts> & { prompt?: string } = {}): Analysis {
  return traceAnalysis(JSON.parse(JSON.stringify(json)), { ...opts, ...over });
}

function refused(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EngineError, String(e));
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `message lacks ${JSON.stringify(p)}: ${e.message}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

/** What must agree between two formats of the same routing: tokens and per-layer experts and K. */
function routingView(a: Analysis): unknown {
  return {
    tokens: a.tokens.map((t) => [t.id, t.text, t.start, t.end, t.special, t.generated ?? false, t.recorded ?? true]),
    text: a.text,
    layers: a.layers.map((l) => [l.k, l.experts]),
    stats: [a.stats.tokens, a.stats.expertLoad.map((x) => x.tokens), a.stats.coActivation],
  };
}

describe('routing traces: vLLM 0.21 completions', () => {
  const a = analyse(vllm021Completion(spec));
  it('shows every prompt token with exactly the expert ids of prompt_routed_experts in each layer', () => {
    assert.equal(a.tokens.length, promptIds.length + generatedIds.length);
    promptIds.forEach((id, t) => {
      assert.equal(a.tokens[t].id, id);
      assert.equal(a.tokens[t].text, tokenizer.idToToken(id));
      assert.equal(a.tokens[t].generated, undefined);
      for (let l = 0; l < L; l++) assert.deepEqual(a.layers[l].experts[t], spec.routing[t][l], `token ${t} layer ${l}`);
    });
  });
  it('marks the generated tokens and keeps their routing', () => {
    const P = promptIds.length;
    generatedIds.forEach((id, i) => {
      assert.equal(a.tokens[P + i].id, id);
      assert.equal(a.tokens[P + i].generated, true);
      for (let l = 0; l < L; l++) assert.deepEqual(a.layers[l].experts[P + i], spec.routing[P + i][l]);
    });
    assert.equal(a.text.endsWith('truly great'), true, a.text);
  });
  it('has no gates, importance or prediction, and K is top_k', () => {
    assert.equal(a.model.routingSource, 'trace');
    assert.equal(a.model.gatesAvailable, false);
    assert.equal(a.model.importanceAvailable, false);
    assert.equal(a.prediction, null);
    assert.equal(a.provider, null);
    assert.equal(a.model.kMax, K);
    assert.equal(a.model.numExperts, E);
    for (const layer of a.layers) {
      assert.ok(layer.k.every((k) => k === K));
      assert.ok(layer.gates.every((g) => g.length === K && g.every(Number.isNaN)));
      assert.ok(layer.importance.every(Number.isNaN));
      assert.ok(layer.routerProbs.every((p) => p.length === 0));
    }
    assert.ok(
      a.stats.expertLoad.every((x) => x.gateMass.every(Number.isNaN)),
      'gate mass is not recorded',
    );
    assert.equal(a.model.trace?.format, 'vllm-completions');
    assert.equal(a.model.trace?.engineModel, 'Qwen/Qwen3-30B-A3B');
  });
  it('counts every recorded token in the statistics', () => {
    assert.equal(a.stats.tokens, a.tokens.length);
    const load0 = new Array<number>(E).fill(0);
    for (const row of spec.routing) for (const e of row[0]) load0[e]++;
    assert.deepEqual(a.stats.expertLoad[0].tokens, load0);
  });
  it('rebuilds the text from the ids with offsets, or takes them from --prompt', () => {
    for (const t of a.tokens) if (!t.special) assert.ok(t.start !== null && t.end !== null && t.end > t.start);
    const p = analyse(vllm021Completion(spec), { prompt: PROMPT });
    assert.ok(p.text.startsWith(PROMPT));
    const film = p.tokens.find((t) => t.text === 'film')!;
    assert.equal(PROMPT.slice(film.start!, film.end!), 'film');
  });
});

describe('routing traces: --prompt tokens are those of a local analysis', () => {
  it('marks a token the tokenizer did not know as unknown, as analysisTokens does', () => {
    // U+2603 is not in the shipped WordPiece vocabulary: it becomes [UNK], whose text is not the source's.
    const text = 'a \u2603 film';
    const enc = tokenizer.encode(text);
    const unk = tokenizer.specialTokens.unk!.id;
    assert.ok(enc.ids.includes(unk), 'the test text has an unknown token');
    const s: TraceSpec = { promptIds: enc.ids, generatedIds: [], routing: syntheticRouting(enc.ids.length, L, K, E) };
    const a = analyse(vllm021Completion(s), { prompt: text });
    assert.deepEqual(a.tokens, analysisTokens(enc.tokens, unk));
    const snowman = a.tokens.find((t) => t.id === unk)!;
    assert.equal(snowman.unknown, true);
    assert.equal(text.slice(snowman.start!, snowman.end!), '\u2603');
  });
});

describe('routing traces: the formats agree', () => {
  // The sequence formats drop the last generated token's row (never fed back): give vLLM 0.21 the same rows.
  const base = routingView(analyse(vllm021Completion(spec, generatedIds.length - 1)));
  it("SGLang's base64 /generate decodes to the same Analysis as the vLLM form", () => {
    assert.deepEqual(routingView(analyse(sglangGenerate(spec))), base);
  });
  it('SGLang /v1/completions (sglext), vLLM main (.npy) and vLLM chat completions too', () => {
    assert.deepEqual(routingView(analyse(sglangCompletion(spec))), base);
    assert.deepEqual(routingView(analyse(vllmMainCompletion(spec))), base);
    assert.deepEqual(routingView(analyse(vllm021Chat(spec, generatedIds.length - 1))), base);
  });
  it('the last generated token is shown as not recorded and left out of the statistics', () => {
    const a = analyse(sglangGenerate(spec));
    const last = a.tokens[a.tokens.length - 1];
    assert.equal(last.recorded, false);
    assert.ok(a.layers.every((l) => l.experts[last.index].length === 0 && l.k[last.index] === 0));
    assert.equal(a.stats.tokens, a.tokens.length - 1);
    assert.equal(a.model.trace?.unrecordedTokens, 1);
  });
  it('detects each format', () => {
    assert.equal(detectTraceFormat(vllm021Completion(spec)), 'vllm-completions');
    assert.equal(detectTraceFormat(vllm021Chat(spec)), 'vllm-chat-completions');
    assert.equal(detectTraceFormat(vllmMainCompletion(spec)), 'vllm-completions');
    assert.equal(detectTraceFormat(sglangGenerate(spec)), 'sglang-generate');
    assert.equal(detectTraceFormat(sglangCompletion(spec)), 'sglang-completions');
  });
});

describe('routing traces: prefix-cached rows (vLLM 0.21 marks them -1)', () => {
  it('shows them as not recorded and leaves them out of the statistics', () => {
    const routing = spec.routing.map((row, t) => (t < 2 ? row.map((l) => l.map(() => -1)) : row));
    const a = analyse(vllm021Completion({ ...spec, routing }));
    assert.equal(a.tokens[0].recorded, false);
    assert.equal(a.tokens[1].recorded, false);
    assert.equal(a.tokens[2].recorded, undefined);
    assert.equal(a.stats.tokens, a.tokens.length - 2);
  });
  it('refuses a row that is -1 in some slots only', () => {
    const routing = spec.routing.map((row, t) => (t === 3 ? [[-1, row[0][1]], ...row.slice(1)] : row));
    refused(() => analyse(vllm021Completion({ ...spec, routing })), 'prompt_routed_experts[3][0][0]', 'found -1');
  });
});

describe('routing traces: bad traces are refused with the field, the expected and the found shape', () => {
  it('a prompt row count that does not match the prompt tokens', () => {
    const r = vllm021Completion(spec);
    (r.prompt_routed_experts as unknown[]).pop();
    refused(
      () => analyse(r),
      'prompt_routed_experts',
      `expected [${promptIds.length}, num_moe_layers, top_k]`,
      `found [${promptIds.length - 1}, ${L}, ${K}]`,
    );
  });
  it('a row with a missing layer', () => {
    const r = vllm021Completion(spec);
    (r.prompt_routed_experts as number[][][])[4].pop();
    refused(() => analyse(r), 'prompt_routed_experts[4]', `expected ${L} layers`, `found an array of ${L - 1}`);
  });
  it('an expert id >= num_experts', () => {
    const r = vllm021Completion(spec);
    (r.prompt_routed_experts as number[][][])[2][1][0] = E;
    refused(() => analyse(r), 'prompt_routed_experts[2][1][0]', `[0, ${E})`, `found ${E}`);
  });
  it('a repeated expert', () => {
    const routing = spec.routing.map((row, t) => (t === 1 ? [[row[0][0], row[0][0]], ...row.slice(1)] : row));
    refused(() => analyse(vllm021Completion({ ...spec, routing })), 'prompt_routed_experts[1][0][1]', 'twice');
  });
  it('a top_k other than config.json says', () => {
    refused(() => analyse(vllm021Completion(spec), { config: { ...config, topK: 4 } }), 'top_k = 4', `found ${K} per token`);
  });
  it('SGLang rows that do not match prompt + generated - 1', () => {
    // One more generated id than the rows were recorded for.
    const r = sglangGenerate(spec);
    (r.output_ids as number[]).push(generatedIds[0]);
    (r.meta_info as Record<string, number>).completion_tokens++;
    const T = promptIds.length + generatedIds.length;
    refused(() => analyse(r), 'meta_info.routed_experts', `expected [${T}, ${L}, ${K}]`, `found [${T - 1}, ${L}, ${K}]`);
  });
  it('SGLang base64 that is not a multiple of layers x top_k', () => {
    refused(
      () => analyse(sglangGenerate(spec), { config: { ...config, numLayers: 5 } }),
      'meta_info.routed_experts',
      'not a multiple of layers × top_k = 10',
    );
  });
  it('prompt ids that differ from --prompt', () => {
    refused(() => analyse(vllm021Completion(spec), { prompt: 'A different film.' }), 'choices[0].prompt_token_ids', 'differ from --prompt');
  });
  it('no prompt ids and no --prompt', () => {
    const r = vllm021Completion(spec);
    delete (r.choices as Record<string, unknown>[])[0].prompt_token_ids;
    refused(() => analyse(r), 'prompt_token_ids is missing', 'return_token_ids', '--prompt');
    // With --prompt the same response is read.
    assert.equal(analyse(r, { prompt: PROMPT }).tokens.length, promptIds.length + generatedIds.length);
  });
  it('a token id outside the tokenizer', () => {
    refused(
      () => analyse(vllm021Completion({ ...spec, promptIds: [...promptIds.slice(0, -1), 10 ** 7] })),
      'choices[0].prompt_token_ids[',
      'vocabulary',
    );
  });
  it('num_experts unknown', () => {
    refused(() => analyse(vllm021Completion(spec), { config: { source: {} } }), 'num_experts is unknown', '--num-experts');
  });
});

describe('routing traces: a server that did not record routing', () => {
  it('vLLM with prompt_routed_experts null names the flag', () => {
    const r = vllm021Completion(spec);
    r.prompt_routed_experts = null;
    (r.choices as Record<string, unknown>[])[0].routed_experts = null;
    refused(() => analyse(r), '--enable-return-routed-experts');
  });
  it('SGLang without sglext names the flag and the request field', () => {
    const r = sglangCompletion(spec);
    delete r.sglext;
    refused(() => analyse(r), '--enable-return-routed-experts', 'return_routed_experts');
    const g = sglangGenerate(spec);
    delete (g.meta_info as Record<string, unknown>).routed_experts;
    refused(() => analyse(g), 'meta_info.routed_experts is missing', '--enable-return-routed-experts');
  });
});

describe('routing traces: config.json', () => {
  it('gives num_experts, top_k and the layer count (Mixtral and DeepSeek names too)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-trace-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({ num_local_experts: 8, num_experts_per_tok: 2, num_hidden_layers: 32 }),
      );
      assert.deepEqual(readTraceModelConfig(dir), {
        numExperts: 8,
        topK: 2,
        numLayers: 32,
        maxPositions: undefined,
        source: { numExperts: 'config.json', topK: 'config.json', numLayers: 'config.json' },
      });
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ n_routed_experts: 256, num_experts_per_tok: 8 }));
      assert.equal(readTraceModelConfig(dir).numExperts, 256);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('routing traces: SGLang dense layers', () => {
  it('leaves out a decoder layer whose rows stayed zeros (no router) and says which', () => {
    const routing = spec.routing.map((row) => [row[0].map(() => 0), ...row.slice(1)]);
    const a = analyse(sglangGenerate({ ...spec, routing }));
    assert.equal(a.model.numLayers, L - 1);
    assert.deepEqual(a.layers[0].experts[1], spec.routing[1][1]);
    assert.deepEqual(
      a.layers.map((l) => l.decoderLayer),
      [1, 2],
    );
    assert.match(a.model.trace!.notes.join('\n'), /decoder layer 0 recorded no experts .* decoder layers 1, 2/);
  });
});
