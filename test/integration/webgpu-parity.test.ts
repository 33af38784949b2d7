/**
 * WebGPU parity: every shipped model with a GPU graph (model.gpu.onnx) on onnxruntime-node's WebGPU provider against its CPU provider, on the parity
 * sentences (test/fixtures/parity/NAME.json), on a machine without a GPU. Dawn gets a Vulkan adapter from a CPU
 * Vulkan driver: SwiftShader from Debian's chromium package, which scripts/setup.sh installs
 * (../shared/notes/webgpu-on-cpu-vulkan.md). The Vulkan environment is set only for the child process that runs the
 * models (and its model worker), never for this test process or the other tests.
 *
 * - The engine with `--provider webgpu` must report that WebGPU ran (the test fails otherwise).
 * - logits within 1e-4, gates and router probabilities within 1e-5, expert_count exactly equal, except where the
 *   K rule's input (s · importance, at a ceil boundary) or the k-th and (k+1)-th router probabilities tie within
 *   1e-6: those (layer, token) pairs are counted and reported, and a sentence with one is left out of the logit check.
 *
 * DAMOE_WEBGPU_ICD=/path/to/icd.json (with DAMOE_WEBGPU_LIBS=dir for its loader) runs it on another Vulkan driver,
 * e.g. lavapipe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildModel } from './helpers/webgpu-parity-child';
import { placementText } from '../../src/shared/provider-text';
import { readOnnxMetadata } from '../../src/core/onnx/metadata';

/**
 * Parity sentences per classifier: the first 12 of the fixtures' 30 (DAMOE_WEBGPU_SENTENCES=30 for all; the CPU
 * provider and the GPU graph on CPU are checked on all 30 by parity.test.ts and gpu-graph.test.ts). A WebGPU run on
 * SwiftShader takes about 0.4 s on a quiet 2-core machine and 5 to 7 s under a load average of 13, where 3 models x
 * 30 took 429 s and 4 models x 20 (the LM 6) ran past the child's 9-minute limit; 12 and 4 took about 4 minutes there.
 */
const SENTENCES = Number(process.env.DAMOE_WEBGPU_SENTENCES ?? 12);
/**
 * Parity sentences of a causal LM: fewer, because each of its runs also takes the [T, vocabulary] logits through
 * LogSoftmax (on CPU: WebGPU has no kernel for it) and top-5, about 5 s a sentence on SwiftShader on a loaded 2-core
 * machine, so that the whole test stays within a few minutes of CI.
 */
const LM_SENTENCES = Number(process.env.DAMOE_WEBGPU_LM_SENTENCES ?? 4);
const LOGIT_TOL = 1e-4;
const GATE_TOL = 1e-5;
const TIE_TOL = 1e-6;

const root = join(__dirname, '..', '..', '..');
const swiftshaderDir = '/usr/lib/chromium';
const icd = process.env.DAMOE_WEBGPU_ICD ?? join(swiftshaderDir, 'vk_swiftshader_icd.json');
const libs = process.env.DAMOE_WEBGPU_LIBS ?? (process.env.DAMOE_WEBGPU_ICD ? '' : swiftshaderDir);
// Models that ship a GPU graph (model.gpu.onnx): every shipped model has one; one without would be left out, and the
// test prints its name.
const shipped = readdirSync(join(root, 'models'))
  .filter((d) => existsSync(join(root, 'models', d, 'model.onnx')))
  .sort();
const models = shipped.filter((d) => existsSync(join(root, 'models', d, 'model.gpu.onnx')));
const withoutGpuGraph = shipped.filter((d) => !models.includes(d));

/** A causal LM's folder: its model.onnx's contract says task "causal-lm". */
async function isCausal(name: string): Promise<boolean> {
  const contract = (await readOnnxMetadata(join(root, 'models', name, 'model.onnx'))).get('moe.contract');
  return (JSON.parse(contract ?? '{}') as { task?: string }).task === 'causal-lm';
}

/** The K rule's scale s per layer (K = clamp(ceil(s · importance), 1, k_max)), or null for a fixed-K router. */
function kScales(m: ChildModel): number[] | null {
  if (m.routerKind !== 'da-moe') return null;
  const def = m.importanceDefinition ?? {};
  const cal = def.k_calibration as { s_per_layer?: number[] } | undefined;
  if (cal?.s_per_layer) return cal.s_per_layer;
  const kScale = typeof def.k_scale === 'number' ? def.k_scale : 1;
  return Array.from({ length: m.numLayers }, () => kScale * m.kMax);
}

const nearInteger = (x: number): boolean => Math.abs(x - Math.round(x)) <= TIE_TOL;

test(
  `every shipped model with a GPU graph on WebGPU (CPU Vulkan) matches the CPU provider on ${SENTENCES} parity sentences (causal LMs ${LM_SENTENCES})`,
  { timeout: 10 * 60_000 },
  async (t) => {
    assert.ok(existsSync(icd), `no Vulkan driver at ${icd}: run scripts/setup.sh (it installs chromium, which carries SwiftShader)`);
    const env = {
      ...process.env,
      VK_ICD_FILENAMES: icd,
      LD_LIBRARY_PATH: [libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    };
    const t0 = performance.now();
    const child = spawnSync(
      process.execPath,
      [
        join(__dirname, 'helpers', 'webgpu-parity-child.js'),
        String(SENTENCES),
        ...(await Promise.all(models.map(async (m) => `${join(root, 'models', m)}${(await isCausal(m)) ? `=${LM_SENTENCES}` : ''}`))),
      ],
      { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 9 * 60_000 },
    );
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(child.status, 0, `the WebGPU child failed (${child.signal ?? child.status}): ${child.stderr.slice(-2000)}`);
    const results = JSON.parse(child.stdout.trim().split('\n').pop() ?? '[]') as ChildModel[];
    assert.deepEqual(
      results.map((r) => r.name),
      models,
    );
    t.diagnostic(
      `WebGPU parity: ${models.length} models (${SENTENCES} sentences each, causal LMs ${LM_SENTENCES}) in ${seconds.toFixed(1)} s (driver ${icd})`,
    );
    if (withoutGpuGraph.length > 0) t.diagnostic(`left out (no model.gpu.onnx): ${withoutGpuGraph.join(', ')}`);

    for (const m of results) {
      assert.equal(
        m.engineProvider.used,
        'webgpu',
        `${m.name}: the engine ran on ${m.engineProvider.used}, not WebGPU: ${JSON.stringify(m.engineProvider.skipped)}`,
      );
      // The engine runs the folder's GPU graph on WebGPU, and the raw WebGPU session below runs the same file.
      assert.equal(m.engineProvider.modelFile, 'model.gpu.onnx', `${m.name}: ${m.engineProvider.gpuGraphProblem}`);
      assert.equal(m.engineProvider.expertCompute, 'dense-masked');
      assert.equal(m.webgpuFile, 'model.gpu.onnx');
      if (m.sparsePlacement) {
        // Before: the sparse dispatch's NonZero has no WebGPU kernel, so it runs on CPU, one per MoE layer.
        const before = m.sparsePlacement;
        t.diagnostic(`${m.name}: model.onnx on WebGPU: ${placementText(before)}`);
        assert.equal(before.cpu_op_counts.NonZero, m.numLayers, `${m.name}: one NonZero per MoE layer on CPU`);
        assert.ok(before.memcpy_nodes > 0, `${m.name}: CPU nodes inside a GPU graph need copies`);
      }
      const placement = m.engineProvider.placement;
      assert.ok(placement, `${m.name}: no node placement on WebGPU: ${m.engineProvider.placementProblem}`);
      t.diagnostic(`${m.name}: model.gpu.onnx on WebGPU: ${placementText(placement)}`);
      assert.equal(placement.gpu_provider, 'WebGpuExecutionProvider');
      assert.ok(placement.gpu_nodes > 0, JSON.stringify(placement));
      // After: only onnxruntime's CPU-preferred shape arithmetic (and the int64 mask's cast) stays on the CPU. A causal
      // LM also keeps, outside its MoE layers, the int64 comparisons of positions (the causal mask, the K rule's
      // causal baseline), the int64 slices of the shifted targets, and its head's LogSoftmax over the vocabulary
      // (no WebGPU kernel for it in onnxruntime-node 1.30).
      const shapeOps = ['Cast', 'Concat', 'ConstantOfShape', 'Gather', 'Range', 'Reshape', 'Shape', 'Unsqueeze'];
      const lmHeadOps = m.task === 'causal-lm' ? ['Greater', 'LessOrEqual', 'LogSoftmax', 'Slice'] : [];
      assert.deepEqual(
        placement.cpu_ops.filter((op) => !shapeOps.includes(op) && !lmHeadOps.includes(op)),
        [],
        `${m.name}: ops other than shape arithmetic on CPU`,
      );
      assert.equal(placement.cpu_op_counts.NonZero, undefined, `${m.name}: no NonZero left`);
      const scales = kScales(m);
      const e = m.numExperts;
      let worstLogit = 0;
      let worstGate = 0;
      let worstProb = 0;
      let kTies = 0;
      let topkTies = 0;
      let logitCasesSkipped = 0;
      const failures: string[] = [];
      m.cases.forEach((c, ci) => {
        let caseTied = false;
        for (let l = 0; l < m.numLayers; l++) {
          for (let i = 0; i < c.t; i++) {
            const at = l * c.t + i;
            const kc = c.cpu.expert_count[at];
            const kg = c.webgpu.expert_count[at];
            const probs = c.cpu.router_probs.slice(at * e, (at + 1) * e);
            const sorted = [...probs].sort((a, b) => b - a);
            const kTie =
              scales !== null &&
              (nearInteger(scales[l] * c.cpu.token_importance[at]) || nearInteger(scales[l] * c.webgpu.token_importance[at]));
            const k = Math.max(kc, kg);
            const topkTie = k < e && Math.abs(sorted[k - 1] - sorted[k]) <= TIE_TOL;
            const chosen = (p: typeof c.cpu): string =>
              Array.from({ length: e }, (_, x) => (p.expert_gates[at * e + x] !== 0 ? '1' : '0')).join('');
            const sameChoice = kc === kg && chosen(c.cpu) === chosen(c.webgpu);
            if (!sameChoice) {
              if (kc !== kg && kTie) kTies++;
              else if (topkTie) topkTies++;
              else
                failures.push(
                  `${JSON.stringify(c.text)} layer ${l} token ${i}: K ${kc} vs ${kg}, experts ${chosen(c.cpu)} vs ${chosen(c.webgpu)}`,
                );
              caseTied = true;
              continue;
            }
            for (let x = 0; x < e; x++) {
              worstGate = Math.max(worstGate, Math.abs(c.cpu.expert_gates[at * e + x] - c.webgpu.expert_gates[at * e + x]));
              worstProb = Math.max(worstProb, Math.abs(c.cpu.router_probs[at * e + x] - c.webgpu.router_probs[at * e + x]));
            }
          }
        }
        if (ci === 0) {
          const fromEngine = m.engineK.flat();
          const fromSession = c.webgpu.expert_count;
          if (!caseTied) assert.deepEqual(fromEngine, fromSession, `${m.name}: the engine's K differs from the WebGPU session's`);
        }
        if (caseTied) logitCasesSkipped++;
        else c.cpu.logits.forEach((v, j) => (worstLogit = Math.max(worstLogit, Math.abs(v - c.webgpu.logits[j]))));
      });
      t.diagnostic(
        `${m.name}: max |logit diff| ${worstLogit.toExponential(2)}, max |gate diff| ${worstGate.toExponential(2)}, ` +
          `max |router prob diff| ${worstProb.toExponential(2)}; ties: ${kTies} K-rule, ${topkTies} top-k ` +
          `(${logitCasesSkipped} sentence(s) left out of the logit check); ` +
          `session ${m.sessionSeconds.webgpu.toFixed(1)} s, ${m.cases.length} runs ${m.runSeconds.webgpu.toFixed(1)} s on WebGPU ` +
          `(cpu: ${m.runSeconds.cpu.toFixed(2)} s)`,
      );
      assert.deepEqual(failures, [], `${m.name}: expert_count or chosen experts differ without a tie`);
      assert.ok(worstLogit <= LOGIT_TOL, `${m.name}: max |logit difference| ${worstLogit} > ${LOGIT_TOL}`);
      assert.ok(worstGate <= GATE_TOL, `${m.name}: max |gate difference| ${worstGate} > ${GATE_TOL}`);
      assert.ok(worstProb <= GATE_TOL, `${m.name}: max |router probability difference| ${worstProb} > ${GATE_TOL}`);
    }
  },
);
