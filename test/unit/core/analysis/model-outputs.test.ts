import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { predict, routingLayers } from '../../../../src/core/analysis/build';
import { extractSequenceRouting, SequenceRouting } from '../../../../src/core/analysis/model-outputs';
import { parseContractMetadata } from '../../../../src/core/contract';
import { EngineError } from '../../../../src/core/engine-api';
import { summarizeOrtError } from '../../../../src/core/runtime/providers';

const close = (a: ArrayLike<number>, b: number[]): void => {
  assert.equal(a.length, b.length);
  b.forEach((x, i) => assert.ok(Math.abs(a[i] - x) < 1e-6, `[${i}] ${a[i]} != ${x}`));
};

describe('extractSequenceRouting', () => {
  const metadata = parseContractMetadata(
    JSON.stringify({
      contract_version: 1,
      router_kind: 'da-moe',
      num_layers: 1,
      num_experts: 2,
      k_max: 2,
      labels: ['a', 'b'],
      tokenizer: 't.json',
      max_sequence_length: 8,
    }),
  ).metadata!;
  // batch of 2 rows, padded length 2; row 1 has one real token
  const outputs = {
    logits: { type: 'float32', dims: [2, 2], data: Float32Array.from([0, 1, 2, 3]) },
    token_importance: { type: 'float32', dims: [1, 2, 2], data: Float32Array.from([1, 1, 0.5, 0]) },
    expert_count: { type: 'int64', dims: [1, 2, 2], data: BigInt64Array.from([1n, 2n, 1n, 0n]) },
    expert_gates: { type: 'float32', dims: [1, 2, 2, 2], data: Float32Array.from([1, 0, 0.3, 0.7, 0, 1, 0, 0]) },
    router_probs: { type: 'float32', dims: [1, 2, 2, 2], data: Float32Array.from([0.9, 0.1, 0.3, 0.7, 0.2, 0.8, 0, 0]) },
  };
  it("takes the item's row and drops its padding", () => {
    const r = extractSequenceRouting({ outputs, row: 1, length: 1, paddedLength: 2 }, { metadata, routingSource: 'contract' });
    assert.deepEqual(Array.from(r.logits), [2, 3]);
    assert.deepEqual(Array.from(r.count), [1]);
    close(r.gates, [0, 1]);
    close(r.importance!, [0.5]);
  });
  it('a violated invariant is a contract-violation error listing it', () => {
    const broken = { ...outputs, expert_count: { ...outputs.expert_count, data: BigInt64Array.from([1n, 2n, 1n, 1n]) } };
    assert.throws(
      () => extractSequenceRouting({ outputs: broken, row: 1, length: 1, paddedLength: 2 }, { metadata, routingSource: 'contract' }),
      (e: Error) => e instanceof EngineError && e.code === 'contract-violation' && /expected 0 on padding, found 1/.test(e.message),
    );
  });
  it('a wrong output shape names the output', () => {
    const broken = { ...outputs, router_probs: { ...outputs.router_probs, dims: [1, 2, 2, 3] } };
    assert.throws(
      () => extractSequenceRouting({ outputs: broken, row: 0, length: 2, paddedLength: 2 }, { metadata, routingSource: 'contract' }),
      /output "router_probs": expected shape \[1, 2, 2, 2\], found \[1, 2, 2, 3\]/,
    );
  });
});

describe('routingLayers and predict', () => {
  const w: SequenceRouting = {
    length: 2,
    numLayers: 1,
    numExperts: 3,
    logits: Float32Array.from([0, Math.log(3)]),
    importance: null,
    count: Int32Array.from([2, 1]),
    gates: Float32Array.from([0.2, 0, 0.8, 0, 1, 0]),
    probs: Float32Array.from([0.2, 0.1, 0.7, 0.1, 0.8, 0.1]),
    nextToken: null,
  };
  it('experts sorted by gate, highest first; importance NaN when unavailable', () => {
    const [l] = routingLayers(w);
    assert.deepEqual(l.experts, [[2, 0], [1]]);
    close(l.gates[0], [0.8, 0.2]);
    assert.ok(Number.isNaN(l.importance[0]));
    assert.deepEqual(l.k, [2, 1]);
  });
  it('prediction is the mean of window probabilities', () => {
    const other = { ...w, logits: Float32Array.from([Math.log(3), 0]) }; // [0.75, 0.25]
    const p = predict([w, w, other], ['a', 'b']);
    close(p.probabilities, [(0.25 * 2 + 0.75) / 3, (0.75 * 2 + 0.25) / 3]);
    assert.equal(p.label, 'b');
  });
});

describe('summarizeOrtError', () => {
  it('drops the C++ source location and failed check', () => {
    const m = summarizeOrtError(
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::X::lambda()> status == Success was false. Failed to get a WebGPU adapter: No supported adapters\n\nmore',
    );
    assert.equal(m, 'Failed to get a WebGPU adapter: No supported adapters');
  });
});
