/**
 * The Hugging Face router families (test/fixtures/models/hf/<family>/, built by make-hf-fixtures.py): through the real
 * onnxruntime-node, the routing derived in TypeScript (src/core/routers) from each tiny model's router_logits must
 * equal the reference routing beside it exactly in expert ids (and dropped tokens) and within 1e-5 in gates.
 *
 * Then the same texts through the engine (createEngine, batched as the extension and the CLI run them) must give an
 * Analysis whose experts, gates, dropped tokens and decoder layers are the reference's, and `damoe analyze` must
 * analyse every family (table and --json).
 *
 * The references come from our own PyTorch implementation of each family's router as transformers' modelling file
 * writes it (named in each reference.json, e.g. src/transformers/models/deepseek_v3/modeling_deepseek_v3.py), not
 * from transformers itself, which is not installed here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createEngine } from '../../src/core/engine';
import type { Analysis } from '../../src/shared/analysis';
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

/** What each fixture's metadata declares (make-hf-fixtures.py), as the Analysis must report it. */
const EXPECTED_MODEL: Record<string, { dense?: number[]; decoder?: number[]; shared?: { count: number; gate: string }; input: string }> = {
  mixtral: { input: 'logits' },
  qwen2_moe: { dense: [1], decoder: [0, 2], shared: { count: 1, gate: 'sigmoid' }, input: 'probabilities' },
  olmoe: { input: 'logits' },
  deepseek_v3: { dense: [0], decoder: [1, 2], shared: { count: 1, gate: 'none' }, input: 'logits' },
  gpt_oss: { input: 'logits' },
  switch_transformers: { dense: [0, 2], decoder: [1, 3], input: 'logits' },
};

function fixture(family: string): { dir: string; ref: Reference } {
  const dir = join(root, 'test', 'fixtures', 'models', 'hf', family);
  return { dir, ref: JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference };
}

/** The Analysis' routing against the reference: ids and dropped tokens exactly, gates within 1e-5. */
function assertMatchesReference(a: Analysis, c: Reference['texts'][number]): number {
  assert.deepEqual(
    a.tokens.map((t) => t.id),
    c.ids,
  );
  let worst = 0;
  c.layers.forEach((layer, l) => {
    const got = a.layers[l];
    assert.deepEqual(got.experts, layer.experts, `experts, layer ${l} of ${JSON.stringify(c.text)}`);
    got.gates.forEach((g, t) => g.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - layer.gates[t][j])))));
    assert.deepEqual(got.dropped ?? [], layer.dropped ?? [], `dropped, layer ${l}`);
  });
  assert.ok(worst <= GATE_TOLERANCE, `gate difference ${worst}`);
  return worst;
}

test('every family analyses through the engine: the Analysis carries the reference routing and the router facts', async () => {
  for (const family of HF_FAMILIES) {
    const { dir, ref } = fixture(family);
    const engine = await createEngine({ modelDir: dir, executionProvider: 'cpu', threads: 1 });
    try {
      const analyses = await engine.analyzeBatch(ref.texts.map((c) => ({ text: c.text })));
      const want = EXPECTED_MODEL[family];
      analyses.forEach((a, i) => {
        assert.equal(a.task, 'causal-lm');
        assert.equal(a.model.router?.convention, ref.convention);
        assert.equal(a.model.router?.input, want.input, `${family}: router input`);
        assert.deepEqual(a.model.denseLayers, want.dense, `${family}: dense layers`);
        assert.deepEqual(a.model.sharedExperts, want.shared, `${family}: shared experts`);
        const decoder = a.layers.map((l) => l.decoderLayer);
        if (want.dense)
          assert.equal(
            decoder.some((d) => d !== undefined && want.dense!.includes(d)),
            false,
          );
        else assert.deepEqual(decoder, [undefined, undefined]);
        assertMatchesReference(a, ref.texts[i]);
      });
    } finally {
      await engine.dispose();
    }
  }
});

test('damoe analyze: every family in the table and --json', () => {
  const bin = join(root, 'bin', 'damoe.js');
  for (const family of HF_FAMILIES) {
    const { dir, ref } = fixture(family);
    const c = ref.texts[1];
    const args = ['analyze', '--model', dir, '--provider', 'cpu', '--threads', '1'];
    const json = spawnSync(process.execPath, [bin, ...args, '--json', c.text], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(json.status, 0, json.stderr);
    assertMatchesReference(JSON.parse(json.stdout) as Analysis, c);
    const table = spawnSync(process.execPath, [bin, ...args, c.text], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`Router: +${ref.convention} `));
    if (family === 'switch_transformers') {
      assert.match(table.stdout, /dropped \(over capacity\)/);
      assert.match(table.stdout, /Dropped: +\d+ token-layers over expert capacity/);
      assert.match(table.stdout, /Dense: +decoder layers 0, 2 dense \(no router\)/);
    }
    if (family === 'deepseek_v3') {
      assert.match(table.stdout, /Shared: +1 shared expert, always on in every MoE layer/);
      assert.match(table.stdout, /4 groups, 2 kept, gates normalised, × 2\.5, correction bias in the selection/);
    }
  }
});
