/**
 * The shipped GPU graphs (models/NAME/model.gpu.onnx: dense-masked experts, weights read from model.onnx) against
 * the sparse graphs on onnxruntime's CPU provider, on every parity sentence and on a padded batch; how the engine
 * picks one (gpu-graph.ts) and refuses a stale pair. The same graphs on WebGPU: webgpu-parity.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { findGpuGraph, GPU_GRAPH_FILE } from '../../src/core/gpu-graph';
import { createEngine } from '../../src/core/engine';

const root = join(__dirname, '..', '..', '..');
const models = ['damoe-sst2', 'switch-sst2', 'top2-sst2', 'damoe-lm-sst2'];

type Outputs = Record<string, number[]>;

async function run(session: ort.InferenceSession, rows: number[][]): Promise<Outputs> {
  const t = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * t);
  const mask = new BigInt64Array(rows.length * t);
  rows.forEach((r, b) => r.forEach((id, i) => ((ids[b * t + i] = BigInt(id)), (mask[b * t + i] = 1n))));
  const out = await session.run({
    input_ids: new ort.Tensor('int64', ids, [rows.length, t]),
    attention_mask: new ort.Tensor('int64', mask, [rows.length, t]),
  });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as ArrayLike<number | bigint>, Number)]));
}

const maxDiff = (a: number[], b: number[]): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('the GPU graph (model.gpu.onnx)', () => {
  for (const name of models) {
    it(`${name}: the same logits (a causal LM: loss and top-5), gates and K as model.onnx on the 30 parity sentences and a padded batch (CPU)`, async (t) => {
      const dir = join(root, 'models', name);
      const found = await findGpuGraph(dir);
      assert.equal(found?.problem, undefined);
      assert.equal(found?.graph?.expertCompute, 'dense-masked');
      // Its weights are read from model.onnx: the file is small.
      assert.ok(statSync(join(dir, GPU_GRAPH_FILE)).size < 512 * 1024);
      const opts = { executionProviders: ['cpu'], intraOpNumThreads: 1 };
      const sparse = await ort.InferenceSession.create(join(dir, 'model.onnx'), opts);
      const gpu = await ort.InferenceSession.create(join(dir, GPU_GRAPH_FILE), opts);
      const fixture = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'parity', `${name}.json`), 'utf8')) as {
        cases: { input_ids: number[] }[];
      };
      const batches = [...fixture.cases.map((c) => [c.input_ids]), fixture.cases.slice(0, 4).map((c) => c.input_ids)];
      let logit = 0;
      let gate = 0;
      for (const rows of batches) {
        const [a, b] = [await run(sparse, rows), await run(gpu, rows)];
        assert.deepEqual(b.expert_count, a.expert_count);
        if (a.logits) logit = Math.max(logit, maxDiff(a.logits, b.logits));
        else {
          // A causal LM: its in-graph per-token loss and top-5 next tokens.
          assert.deepEqual(b.next_token_topk_ids, a.next_token_topk_ids);
          logit = Math.max(logit, maxDiff(a.token_loss, b.token_loss), maxDiff(a.next_token_topk_logprobs, b.next_token_topk_logprobs));
        }
        gate = Math.max(gate, maxDiff(a.expert_gates, b.expert_gates), maxDiff(a.router_probs, b.router_probs));
      }
      t.diagnostic(
        `${name}: max |logit diff| ${logit.toExponential(2)}, max |gate diff| ${gate.toExponential(2)} over ${batches.length} runs`,
      );
      assert.ok(logit <= 1e-4, `logits differ by ${logit}`);
      assert.ok(gate <= 1e-5, `gates differ by ${gate}`);
      await Promise.all([sparse.release(), gpu.release()]);
    });
  }

  it('is refused when it was exported from another model.onnx, and ignored when absent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'damoe-gpu-graph-'));
    try {
      assert.equal(await findGpuGraph(dir), null);
      copyFileSync(join(root, 'models', 'switch-sst2', 'model.onnx'), join(dir, 'model.onnx'));
      copyFileSync(join(root, 'models', 'damoe-sst2', GPU_GRAPH_FILE), join(dir, GPU_GRAPH_FILE));
      const stale = await findGpuGraph(dir);
      assert.match(
        stale?.problem ?? '',
        /^model\.gpu\.onnx not used \(GPU providers run model\.onnx\): it was exported from another model\.onnx/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the engine on cpu runs model.onnx and reports the executed expert FLOPs as spent', async () => {
    const engine = await createEngine({ modelDir: join(root, 'models', 'damoe-sst2'), executionProvider: 'cpu', threads: 1 });
    try {
      const a = await engine.analyze({ text: 'a gripping, funny film' });
      assert.equal(a.provider?.modelFile, 'model.onnx');
      assert.equal(a.provider?.expertCompute, 'routed');
      assert.equal(a.stats.flops.execution, 'routed');
      assert.equal(a.stats.flops.executed, a.stats.flops.spent);
    } finally {
      await engine.dispose();
    }
  });
});
