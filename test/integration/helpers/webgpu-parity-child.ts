/**
 * The child process of webgpu-parity.test.ts, started with a CPU Vulkan driver in its environment (the test sets it
 * for this process and its model worker only). For each model folder given: the engine with `--provider webgpu`
 * on the first case (which provider ran, and its K), then onnxruntime-node sessions on `cpu` and on `webgpu` over
 * the parity cases, and one JSON line on stdout with every output tensor of both.
 *
 * Usage: node webgpu-parity-child.js CASES MODEL_DIR[=N]... (CASES: how many parity sentences per model; =N sets a
 * model's own count)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createEngine } from '../../../src/core/engine';
import type { ModelSummary, NodePlacement, ProviderReport } from '../../../src/shared/analysis';
import { placementFromProfile } from '../../../src/core/runtime/placement';

export interface ProviderOutputs {
  logits: number[];
  expert_count: number[];
  expert_gates: number[];
  router_probs: number[];
  token_importance: number[];
}

export interface ChildCase {
  text: string;
  t: number;
  cpu: ProviderOutputs;
  webgpu: ProviderOutputs;
}

export interface ChildModel {
  name: string;
  engineProvider: ProviderReport;
  /** The graph the raw WebGPU session ran: model.gpu.onnx when the folder has one (as the engine does). */
  webgpuFile: string;
  /** The first model only: the placement of its sparse model.onnx on WebGPU (the "before" of the GPU graph). */
  sparsePlacement?: NodePlacement;
  engineK: number[][];
  kMax: number;
  routerKind: string;
  task: ModelSummary['task'];
  importanceDefinition: Record<string, unknown> | null;
  numLayers: number;
  numExperts: number;
  sessionSeconds: { cpu: number; webgpu: number };
  runSeconds: { cpu: number; webgpu: number };
  cases: ChildCase[];
}

const root = join(__dirname, '..', '..', '..', '..');

async function runAll(session: ort.InferenceSession, cases: { input_ids: number[] }[]): Promise<ProviderOutputs[]> {
  const out: ProviderOutputs[] = [];
  for (const c of cases) {
    const t = c.input_ids.length;
    const r = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(c.input_ids.map(BigInt)), [1, t]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(t).fill(1n), [1, t]),
    });
    const num = (name: string): number[] => Array.from(r[name].data as ArrayLike<number | bigint>, Number);
    out.push({
      // A causal LM's in-graph per-token loss stands in for class logits (the same tolerance).
      logits: num(r.logits ? 'logits' : 'token_loss'),
      expert_count: num('expert_count'),
      expert_gates: num('expert_gates'),
      router_probs: num('router_probs'),
      token_importance: num('token_importance'),
    });
  }
  return out;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, (performance.now() - t0) / 1000];
}

async function main(): Promise<void> {
  const [count, ...args] = process.argv.slice(2);
  const models: ChildModel[] = [];
  for (const arg of args) {
    const [dir, own] = arg.split('=');
    const name = basename(dir);
    const fixture = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'parity', `${name}.json`), 'utf8')) as {
      cases: { text: string; input_ids: number[] }[];
    };
    const cases = fixture.cases.slice(0, Number(own ?? count));
    const engine = await createEngine({ modelDir: dir, executionProvider: 'webgpu', threads: 1 });
    let engineProvider: ChildModel['engineProvider'];
    let engineK: number[][];
    let info: ModelSummary;
    try {
      const a = await engine.analyze({ text: cases[0].text });
      engineProvider = a.provider!;
      engineK = a.layers.map((l) => l.k);
      info = a.model;
    } finally {
      await engine.dispose();
    }
    const modelPath = join(dir, 'model.onnx');
    const gpuPath = join(dir, 'model.gpu.onnx');
    const webgpuPath = existsSync(gpuPath) ? gpuPath : modelPath;
    let sparsePlacement: NodePlacement | undefined;
    if (models.length === 0) {
      const profileDir = mkdtempSync(join(tmpdir(), 'webgpu-parity-profile-'));
      try {
        const s = await ort.InferenceSession.create(modelPath, {
          executionProviders: ['webgpu'],
          enableProfiling: true,
          profileFilePrefix: join(profileDir, 'ort'),
        });
        await runAll(s, cases.slice(0, 1));
        s.endProfiling();
        await s.release();
        const file = readdirSync(profileDir).find((f) => f.endsWith('.json'))!;
        sparsePlacement = placementFromProfile(JSON.parse(readFileSync(join(profileDir, file), 'utf8')));
      } finally {
        rmSync(profileDir, { recursive: true, force: true });
      }
    }
    const results: Record<'cpu' | 'webgpu', ProviderOutputs[]> = { cpu: [], webgpu: [] };
    const sessionSeconds = { cpu: 0, webgpu: 0 };
    const runSeconds = { cpu: 0, webgpu: 0 };
    for (const provider of ['cpu', 'webgpu'] as const) {
      const [session, s] = await timed(() =>
        ort.InferenceSession.create(provider === 'webgpu' ? webgpuPath : modelPath, {
          executionProviders: [provider],
          intraOpNumThreads: 1,
        }),
      );
      sessionSeconds[provider] = s;
      try {
        [results[provider], runSeconds[provider]] = await timed(() => runAll(session, cases));
      } finally {
        await session.release();
      }
    }
    models.push({
      name,
      engineProvider,
      webgpuFile: basename(webgpuPath),
      sparsePlacement,
      engineK,
      kMax: info.kMax,
      routerKind: info.routerKind,
      task: info.task,
      importanceDefinition: info.importanceDefinition ?? null,
      numLayers: info.numLayers,
      numExperts: info.numExperts,
      sessionSeconds,
      runSeconds,
      cases: cases.map((c, i) => ({ text: c.text, t: c.input_ids.length, cpu: results.cpu[i], webgpu: results.webgpu[i] })),
    });
  }
  process.stdout.write(`${JSON.stringify(models)}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`webgpu-parity-child: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
