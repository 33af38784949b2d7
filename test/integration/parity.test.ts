/**
 * Parity of the shipped ONNX models with PyTorch: the fixtures in test/fixtures/parity/ hold PyTorch eager outputs
 * for 30 fixed sentences (written by training/export.py; causal LMs by training/export_lm.py). onnxruntime-node on CPU
 * must reproduce them: logits within 1e-4, expert_count exactly, gates within 1e-5; a causal LM's token_loss and
 * top-5 log-probabilities within 1e-4 and its top-5 ids exactly (but where two candidates tie within 1e-4). Our
 * TypeScript tokenizer must also give PyTorch's ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '../../src/core/tokenizer';

interface ParityCase {
  text: string;
  input_ids: number[];
  logits: number[];
  expert_count: number[][];
  expert_gates: number[][][];
  token_importance: number[][];
}

/** A causal LM's case (training/export_lm.py). */
interface LmParityCase {
  text: string;
  input_ids: number[];
  token_loss: number[];
  top5_ids: number[][];
  top5_logprobs: number[][];
  expert_count: number[][];
}

async function checkLm(session: ort.InferenceSession, tokenizer: Tokenizer, cases: LmParityCase[]): Promise<void> {
  let worstLoss = 0;
  let worstLogprob = 0;
  for (const c of cases) {
    assert.deepEqual(tokenizer.encode(c.text).ids, c.input_ids, `tokenizer ids for ${JSON.stringify(c.text)}`);
    const t = c.input_ids.length;
    const out = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(c.input_ids.map(BigInt)), [1, t]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(t).fill(1n), [1, t]),
    });
    const loss = out.token_loss.data as Float32Array;
    for (let i = 1; i < t; i++) worstLoss = Math.max(worstLoss, Math.abs(loss[i] - c.token_loss[i]));
    const ids = Array.from(out.next_token_topk_ids.data as BigInt64Array, Number);
    const lp = out.next_token_topk_logprobs.data as Float32Array;
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < 5; j++) {
        worstLogprob = Math.max(worstLogprob, Math.abs(lp[i * 5 + j] - c.top5_logprobs[i][j]));
        const tied =
          (j > 0 && c.top5_logprobs[i][j - 1] - c.top5_logprobs[i][j] < 1e-4) ||
          (j < 4 && c.top5_logprobs[i][j] - c.top5_logprobs[i][j + 1] < 1e-4);
        if (!tied) assert.equal(ids[i * 5 + j], c.top5_ids[i][j], `${JSON.stringify(c.text)} position ${i} prediction ${j}`);
      }
    }
    assert.deepEqual(
      Array.from(out.expert_count.data as BigInt64Array, Number),
      c.expert_count.flat(),
      `expert_count for ${JSON.stringify(c.text)}`,
    );
  }
  assert.ok(worstLoss <= 1e-4, `max |token_loss difference| ${worstLoss} > 1e-4`);
  assert.ok(worstLogprob <= 1e-4, `max |top-5 log-probability difference| ${worstLogprob} > 1e-4`);
}

const root = join(__dirname, '..', '..', '..');
const fixtureDir = join(root, 'test', 'fixtures', 'parity');
const models = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''));

test('every shipped model has a parity fixture', () => {
  const shipped = readdirSync(join(root, 'models')).filter((d) => existsSync(join(root, 'models', d, 'model.onnx')));
  assert.ok(shipped.includes('damoe-sst2'), 'models/damoe-sst2 must ship');
  assert.deepEqual([...models].sort(), [...shipped].sort());
});

for (const name of models) {
  test(`${name}: onnxruntime-node reproduces PyTorch on 30 sentences`, async () => {
    const fixture = JSON.parse(readFileSync(join(fixtureDir, `${name}.json`), 'utf8')) as { cases: ParityCase[] };
    assert.equal(fixture.cases.length, 30);
    const dir = join(root, 'models', name);
    const tokenizer = Tokenizer.fromFile(join(dir, 'tokenizer.json'));
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['cpu'] });
    let worstLogit = 0;
    let worstGate = 0;
    try {
      if ('token_loss' in fixture.cases[0]) return await checkLm(session, tokenizer, fixture.cases as unknown as LmParityCase[]);
      for (const c of fixture.cases) {
        assert.deepEqual(tokenizer.encode(c.text).ids, c.input_ids, `tokenizer ids for ${JSON.stringify(c.text)}`);
        const t = c.input_ids.length;
        const ids = new ort.Tensor('int64', BigInt64Array.from(c.input_ids.map(BigInt)), [1, t]);
        const mask = new ort.Tensor('int64', new BigInt64Array(t).fill(1n), [1, t]);
        const out = await session.run({ input_ids: ids, attention_mask: mask });
        const logits = out.logits.data as Float32Array;
        c.logits.forEach((v, i) => {
          worstLogit = Math.max(worstLogit, Math.abs(v - logits[i]));
        });
        const counts = Array.from(out.expert_count.data as BigInt64Array, Number);
        const layers = c.expert_count.length;
        const e = out.expert_gates.dims[3];
        assert.deepEqual(counts, c.expert_count.flat(), `expert_count for ${JSON.stringify(c.text)}`);
        const gates = out.expert_gates.data as Float32Array;
        for (let l = 0; l < layers; l++) {
          for (let i = 0; i < t; i++) {
            for (let x = 0; x < e; x++) {
              worstGate = Math.max(worstGate, Math.abs(c.expert_gates[l][i][x] - gates[(l * t + i) * e + x]));
            }
          }
        }
      }
    } finally {
      await session.release();
    }
    assert.ok(worstLogit <= 1e-4, `max |logit difference| ${worstLogit} > 1e-4`);
    assert.ok(worstGate <= 1e-5, `max |gate difference| ${worstGate} > 1e-5`);
  });
}
