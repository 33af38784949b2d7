/**
 * placementFromProfile: node placement from onnxruntime's profile. The events are cut down from a real profile of
 * models/damoe-sst2 on WebGPU (SwiftShader), onnxruntime-node 1.30: the same fields, fewer of them.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { placementFromProfile } from '../../../../src/core/runtime/placement';
import { placementBrief, placementText } from '../../../../src/shared/provider-text';

function node(name: string, op: string, provider: string): object {
  return {
    cat: 'Node',
    pid: 1,
    tid: 1,
    dur: 84,
    ts: 1,
    ph: 'X',
    name: `${name}_kernel_time`,
    args: { op_name: op, provider, node_index: '4' },
  };
}
const CPU = 'CPUExecutionProvider';
const GPU = 'WebGpuExecutionProvider';

const PROFILE = [
  { cat: 'Session', name: 'model_loading_uri', args: {} },
  { cat: 'Session', name: 'session_initialization', args: {} },
  node('/model/Cast', 'Cast', CPU),
  node('/model/blocks.0/moe/NonZero', 'NonZero', CPU),
  node('/model/blocks.1/moe/NonZero', 'NonZero', CPU),
  node('/model/blocks.0/moe/Split', 'Split', CPU),
  node('/model/blocks.0/attn/Gemm', 'Gemm', GPU),
  node('/model/blocks.0/attn/Gemm_1', 'Gemm', GPU),
  node('/model/blocks.0/moe/TopK', 'TopK', GPU),
  node('Memcpy_token_1', 'MemcpyToHost', GPU),
  node('Memcpy_token_2', 'MemcpyFromHost', GPU),
  { cat: 'Session', name: 'SequentialExecutor::Execute', args: {} },
  // A second run's events for the same nodes: each node is counted once.
  node('/model/blocks.0/moe/NonZero', 'NonZero', CPU),
  node('/model/blocks.0/attn/Gemm', 'Gemm', GPU),
  // Events that are not nodes' kernels are ignored.
  { cat: 'Node', name: '/model/Cast_fence_before', args: { op_name: 'Cast', provider: CPU } },
  { cat: 'Node', name: '/model/Odd_kernel_time', args: {} },
];

describe('placementFromProfile', () => {
  it('counts each node once by provider, the CPU op types most frequent first, copies apart', () => {
    const p = placementFromProfile(PROFILE);
    assert.deepEqual(p, {
      gpu_nodes: 3,
      cpu_nodes: 4,
      cpu_ops: ['NonZero', 'Cast', 'Split'],
      cpu_op_counts: { NonZero: 2, Cast: 1, Split: 1 },
      memcpy_nodes: 2,
      gpu_provider: GPU,
      source: 'onnxruntime-profile',
    });
    assert.equal(placementText(p), '3 nodes on GPU, 4 on CPU (NonZero ×2, Cast ×1, Split ×1), 2 GPU↔CPU copies');
    assert.equal(placementBrief(p), '4 of 7 nodes on CPU');
  });

  it('says all on GPU when no node ran on CPU', () => {
    const p = placementFromProfile([node('a', 'MatMul', 'CUDAExecutionProvider')]);
    assert.equal(p.gpu_provider, 'CUDAExecutionProvider');
    assert.equal(placementText(p), '1 node on GPU, none on CPU, 0 GPU↔CPU copies');
    assert.equal(placementBrief(p), 'all 1 node on GPU');
  });

  it('refuses a profile without node events, and one that is not an event array', () => {
    assert.throws(() => placementFromProfile([{ cat: 'Session', name: 'model_loading_uri' }]), /no node events/);
    assert.throws(() => placementFromProfile({ traceEvents: [] }), /not a JSON array/);
  });
});
