/**
 * The Hugging Face router families (test/fixtures/models/hf/<family>/, built by make-hf-fixtures.py): through the real
 * onnxruntime-node, the routing derived in TypeScript (src/core/routers) from each tiny model's router_logits must
 * equal the reference routing beside it exactly in expert ids (and dropped tokens) and within 1e-5 in gates.
 *
 * The references come from our own PyTorch implementation of each family's router as transformers' modelling file
 * writes it (named in each reference.json, e.g. src/transformers/models/deepseek_v3/modeling_deepseek_v3.py), not
 * from transformers itself, which is not installed here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readOnnxMetadata } from '../../src/core/onnx/metadata';
import { deriveRouting, parseRouterMetadata } from '../../src/core/routers';
import { Tokenizer } from '../../src/core/tokenizer';

interface ReferenceLayer {
  experts: number[][];
  gates: number[][];
  dropped?: number[];
}
interface Reference {
  family: string;
  modelling_file: string;
  convention: string;
  texts: { text: string; ids: number[]; layers: ReferenceLayer[] }[];
}

const root = join(__dirname, '..', '..', '..');
const HF_FAMILIES = ['mixtral', 'qwen2_moe', 'olmoe', 'deepseek_v3', 'gpt_oss', 'switch_transformers'];
const GATE_TOLERANCE = 1e-5;

for (const family of HF_FAMILIES) {
  test(`${family}: routing derived from onnxruntime's router_logits equals the reference`, async () => {
    const dir = join(root, 'test', 'fixtures', 'models', 'hf', family);
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
    assert.match(ref.modelling_file, new RegExp(`models/${family}/modeling_${family}\\.py$`));
    const meta = JSON.parse((await readOnnxMetadata(join(dir, 'model.onnx'))).get('moe.contract')!) as Record<string, unknown>;
    const L = meta.num_layers as number;
    const E = meta.num_experts as number;
    const problems: string[] = [];
    const { router } = parseRouterMetadata(meta, L, E, meta.k as number, (key) => problems.push(key));
    assert.deepEqual(problems, []);
    assert.equal(router.convention, ref.convention);

    // One padded batch of every text, as the engine runs them.
    const tokenizer = Tokenizer.fromFile(join(dir, 'tokenizer.json'));
    const B = ref.texts.length;
    const T = Math.max(...ref.texts.map((t) => t.ids.length));
    const ids = new BigInt64Array(B * T);
    const mask = new BigInt64Array(B * T);
    ref.texts.forEach((c, b) => {
      assert.deepEqual(tokenizer.encode(c.text).ids, c.ids, `tokenizer ids for ${JSON.stringify(c.text)}`);
      c.ids.forEach((id, t) => {
        ids[b * T + t] = BigInt(id);
        mask[b * T + t] = 1n;
      });
    });
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['cpu'] });
    let worstGate = 0;
    let compared = 0;
    let dropped = 0;
    let probabilityInput = false;
    try {
      const out = await session.run({
        input_ids: new ort.Tensor('int64', ids, [B, T]),
        attention_mask: new ort.Tensor('int64', mask, [B, T]),
      });
      const rl = out.router_logits;
      assert.deepEqual(rl.dims, [L, B, T, E]);
      const data = rl.data as Float32Array;
      ref.texts.forEach((c, b) => {
        const n = c.ids.length;
        const rows = new Float32Array(L * n * E);
        for (let l = 0; l < L; l++) rows.set(data.subarray((l * B + b) * T * E, ((l * B + b) * T + n) * E), l * n * E);
        const d = deriveRouting(rows, L, n, E, router);
        probabilityInput ||= d.input === 'probabilities';
        c.layers.forEach((layer, l) => {
          for (let t = 0; t < n; t++) {
            const lt = l * n + t;
            const chosen = Array.from({ length: E }, (_, e) => e)
              .filter((e) => d.gates[lt * E + e] !== 0)
              .sort((x, y) => d.gates[lt * E + y] - d.gates[lt * E + x] || x - y);
            const where = `${JSON.stringify(c.text)} layer ${l} token ${t}`;
            assert.deepEqual(chosen, layer.experts[t], `experts, ${where}`);
            chosen.forEach((e, j) => (worstGate = Math.max(worstGate, Math.abs(d.gates[lt * E + e] - layer.gates[t][j]))));
            assert.equal(d.count[lt], layer.experts[t].length, `count, ${where}`);
            compared++;
          }
          const droppedHere = Array.from({ length: n }, (_, t) => t).filter((t) => d.dropped[l * n + t]);
          assert.deepEqual(droppedHere, layer.dropped ?? [], `dropped tokens, ${JSON.stringify(c.text)} layer ${l}`);
          dropped += droppedHere.length;
        });
      });
    } finally {
      await session.release();
    }
    assert.ok(worstGate <= GATE_TOLERANCE, `largest gate difference ${worstGate.toExponential(2)} > ${GATE_TOLERANCE}`);
    // What makes each family's case: the capacity drops tokens, Qwen's router_logits are already probabilities.
    if (family === 'switch_transformers') assert.ok(dropped > 0, 'the capacity fixture drops some tokens');
    assert.equal(probabilityInput, family === 'qwen2_moe', 'router_logits read as probabilities only for qwen2_moe');
    console.log(`${family}: ${compared} token-layers, largest gate difference ${worstGate.toExponential(2)}, ${dropped} dropped`);
  });
}
