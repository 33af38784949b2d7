/** Contract v2's causal-LM side: the task key, the next-token outputs, and the worker's reduction of full logits. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkModelIO, parseContractMetadata } from '../../../src/core/contract';
import { reduceCausalLogits } from '../../../src/core/runtime/next-token';
import { int64Tensor, type TensorInfo } from '../../../src/core/runtime/tensors';

const LM = {
  contract_version: 2,
  task: 'causal-lm',
  router_kind: 'da-moe',
  num_layers: 2,
  num_experts: 4,
  k_max: 2,
  tokenizer: 'tokenizer.json',
  max_sequence_length: 32,
};

const inputs: TensorInfo[] = [
  { name: 'input_ids', type: 'int64', shape: ['batch', 'sequence'] },
  { name: 'attention_mask', type: 'int64', shape: ['batch', 'sequence'] },
];
const routing: TensorInfo[] = [
  { name: 'token_importance', type: 'float32', shape: [2, 'batch', 'sequence'] },
  { name: 'expert_count', type: 'int64', shape: [2, 'batch', 'sequence'] },
  { name: 'expert_gates', type: 'float32', shape: [2, 'batch', 'sequence', 4] },
  { name: 'router_probs', type: 'float32', shape: [2, 'batch', 'sequence', 4] },
];
const inGraph: TensorInfo[] = [
  { name: 'token_loss', type: 'float32', shape: ['batch', 'sequence'] },
  { name: 'next_token_topk_ids', type: 'int64', shape: ['batch', 'sequence', 5] },
  { name: 'next_token_topk_logprobs', type: 'float32', shape: ['batch', 'sequence', 5] },
];

describe('contract v2: task', () => {
  it('a causal LM needs no labels and says its task', () => {
    const { metadata, violations } = parseContractMetadata(JSON.stringify(LM));
    assert.deepEqual(violations, []);
    assert.equal(metadata!.task, 'causal-lm');
    assert.equal(metadata!.contractVersion, 2);
    assert.deepEqual(metadata!.labels, []);
  });
  it('a v1 model without task is a sequence classifier', () => {
    const v1 = { ...LM, contract_version: 1, labels: ['a', 'b'], task: undefined };
    const { metadata, violations } = parseContractMetadata(JSON.stringify(v1));
    assert.deepEqual(violations, []);
    assert.equal(metadata!.task, 'sequence-classification');
  });
  it('an unknown task and a causal LM declared as v1 are each refused by name', () => {
    const bad = parseContractMetadata(JSON.stringify({ ...LM, task: 'seq2seq' }));
    assert.equal(bad.violations.length, 1);
    assert.match(bad.violations[0], /metadata key "task": expected "sequence-classification" or "causal-lm", found "seq2seq"/);
    const v1 = parseContractMetadata(JSON.stringify({ ...LM, contract_version: 1 }));
    assert.match(v1.violations.join('\n'), /"contract_version": expected 2 for "task": "causal-lm"/);
    const v3 = parseContractMetadata(JSON.stringify({ ...LM, contract_version: 3 }));
    assert.match(v3.violations.join('\n'), /"contract_version": expected 1 or 2, found number 3/);
  });
  it('a classifier still needs its labels', () => {
    const { violations } = parseContractMetadata(JSON.stringify({ ...LM, task: 'sequence-classification' }));
    assert.match(violations.join('\n'), /metadata key "labels"/);
  });
});

describe('contract v2: causal-LM outputs', () => {
  const meta = parseContractMetadata(JSON.stringify(LM)).metadata;
  it('accepts the in-graph next-token outputs', () => {
    assert.deepEqual(checkModelIO(inputs, [...inGraph, ...routing], meta), {
      routingSource: 'contract',
      nextTokenSource: 'in-graph',
      violations: [],
    });
  });
  it('accepts full logits [B, T, V] instead', () => {
    const io = checkModelIO(inputs, [{ name: 'logits', type: 'float32', shape: ['batch', 'sequence', 300] }, ...routing], meta);
    assert.deepEqual(io.violations, []);
    assert.equal(io.nextTokenSource, 'logits');
  });
  it('class logits [B, C] on a causal LM are refused with the rank it needs', () => {
    const io = checkModelIO(inputs, [{ name: 'logits', type: 'float32', shape: ['batch', 2] }, ...routing], meta);
    assert.equal(io.violations.length, 1);
    assert.match(io.violations[0], /output "logits": expected rank 3 \[B, T, V\], found rank 2.*#causal-language-models/);
  });
  it('a missing or mistyped next-token output is named', () => {
    const io = checkModelIO(inputs, [inGraph[0], { ...inGraph[1], type: 'int32' }, ...routing], meta);
    assert.deepEqual(
      io.violations.map((v) => v.split(' (see')[0]),
      [
        'output "next_token_topk_ids": expected dtype int64, found int32',
        'output "next_token_topk_logprobs": expected float32 [B, T, K], found no output of that name (outputs: token_loss, next_token_topk_ids, token_importance, expert_count, expert_gates, router_probs)',
      ],
    );
  });
});

describe('reduceCausalLogits (the worker)', () => {
  // B = 1, T = 3, V = 4; natural-log softmax by hand.
  const logits = Float32Array.from([0, 1, 2, 3, /* t=1 */ 3, 3, 0, 0, /* t=2 */ 0, 0, 0, 0]);
  const ids = int64Tensor([0, 1, 3], [1, 3]);
  const out = reduceCausalLogits(
    { logits: { type: 'float32', dims: [1, 3, 4], data: logits }, other: { type: 'float32', dims: [1], data: Float32Array.from([7]) } },
    ids,
    2,
  );
  const lse = (xs: number[]): number => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));
  it('replaces logits by the loss of each token, aligned with the token', () => {
    assert.equal(out.logits, undefined);
    assert.deepEqual(out.other.data, Float32Array.from([7]));
    const loss = out.token_loss.data as Float32Array;
    assert.deepEqual(out.token_loss.dims, [1, 3]);
    assert.equal(loss[0], 0);
    assert.ok(Math.abs(loss[1] - (lse([0, 1, 2, 3]) - 1)) < 1e-6, 'token 1 (id 1) scored by position 0');
    assert.ok(Math.abs(loss[2] - (lse([3, 3, 0, 0]) - 0)) < 1e-6, 'token 2 (id 3) scored by position 1');
  });
  it('keeps the top k per position, most probable first, ties to the lower id', () => {
    assert.deepEqual(out.next_token_topk_ids.dims, [1, 3, 2]);
    assert.deepEqual(Array.from(out.next_token_topk_ids.data as BigInt64Array, Number), [3, 2, 0, 1, 0, 1]);
    const lp = out.next_token_topk_logprobs.data as Float32Array;
    assert.ok(Math.abs(lp[0] - (3 - lse([0, 1, 2, 3]))) < 1e-6);
    assert.ok(Math.abs(lp[5] - Math.log(0.25)) < 1e-6);
  });
  it('leaves class logits [B, C] alone', () => {
    const cls = { logits: { type: 'float32', dims: [1, 2], data: Float32Array.from([1, 2]) } };
    assert.equal(reduceCausalLogits(cls, ids), cls);
  });
});
