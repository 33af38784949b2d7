/**
 * What `damoe models` says about a model directory without running it: the contract checks, the router rule from
 * the moe.contract metadata, the figures of its metrics.json, the file sizes, and the execution providers this
 * installation of onnxruntime-node offers.
 */
import * as fs from 'fs';
import * as path from 'path';
import { checkModelDirectory, MODEL_FILE } from './contract';
import type { ExecutionProviderName } from '../shared/analysis';
import {
  MODEL_LISTING_VERSION,
  type ModelListing,
  type ModelMetrics,
  type ModelRouterRule,
  type ProviderSupport,
} from '../shared/model-listing';

export const METRICS_FILE = 'metrics.json';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function fileBytes(file: string): number | null {
  try {
    return fs.statSync(file).size;
  } catch {
    return null;
  }
}

/** The router rule as the metadata states it; null when the metadata lacks the keys every model has. */
export function routerRule(md: Record<string, unknown>): ModelRouterRule | null {
  const kind = str(md.router_kind);
  const layers = num(md.num_layers);
  const experts = num(md.num_experts);
  if (kind === null || layers === null || experts === null) return null;
  const importance = isObject(md.importance) ? md.importance : {};
  const k = kind === 'top-k' ? num(md.k) : null;
  const calibration = isObject(importance.k_calibration) ? importance.k_calibration : isObject(md.k_calibration) ? md.k_calibration : null;
  // Contract v2 names the Hugging Face router family in router.convention (docs/model-contract.md#router-conventions).
  const convention = str(md.router) ?? (isObject(md.router) ? str(md.router.convention) : null);
  return {
    kind,
    k,
    k_max: num(md.k_max) ?? k ?? 0,
    rule: str(importance.k_rule) ?? str(md.k_rule),
    k_scale: num(importance.k_scale) ?? num(md.k_scale),
    k_calibration: calibration,
    gates: str(md.gates),
    convention,
    shared_experts: isObject(md.shared_experts) ? md.shared_experts : null,
    dense_layers: Array.isArray(md.dense_layers) ? md.dense_layers.filter((x): x is number => typeof x === 'number') : [],
    num_layers: layers,
    num_experts: experts,
  };
}

/** metrics.json's figures; null when the file is absent. An unreadable one is a problem of the listing. */
export function readMetrics(dir: string): { metrics: ModelMetrics | null; problem: string | null } {
  const file = path.join(dir, METRICS_FILE);
  if (!fs.existsSync(file)) return { metrics: null, problem: null };
  let j: unknown;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { metrics: null, problem: `${METRICS_FILE}: not readable JSON (${(e as Error).message}); its figures are not shown` };
  }
  if (!isObject(j)) return { metrics: null, problem: `${METRICS_FILE}: expected a JSON object; its figures are not shown` };
  return {
    metrics: {
      accuracy: num(j.accuracy),
      perplexity: num(j.perplexity),
      evaluated_on: str(j.valid_file),
      examples: num(j.examples),
      mean_k: num(j.mean_k),
      parameters: num(j.parameters),
    },
    problem: null,
  };
}

const CUDA_LIBRARIES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'],
  win32: ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll'],
};

let cachedSupport: ProviderSupport[] | undefined;

/**
 * The providers of the onnxruntime-node the model worker loads (the same module resolution: the package's vendored
 * copy, or node_modules in a clone). Loads its native binding to ask it, once per process; runs no model.
 */
export function providerSupport(): ProviderSupport[] {
  if (cachedSupport) return cachedSupport;
  const support = (provider: ExecutionProviderName, status: ProviderSupport['status'], detail: string): ProviderSupport => ({
    provider,
    status,
    detail,
  });
  let backends: { name: string; bundled: boolean }[];
  let binDir: string;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when asked: it is a native module
    const ort = require('onnxruntime-node') as { listSupportedBackends(): { name: string; bundled: boolean }[] };
    backends = ort.listSupportedBackends();
    binDir = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
  } catch (e) {
    const why = `onnxruntime-node cannot be loaded here (${process.platform}-${process.arch}): ${(e as Error).message.split('\n')[0]}`;
    return (cachedSupport = (['cpu', 'webgpu', 'cuda'] as const).map((p) => support(p, 'not-installed', why)));
  }
  const has = (name: string) => backends.find((b) => b.name === name);
  const result: ProviderSupport[] = [support('cpu', 'available', 'built into onnxruntime-node')];
  result.push(
    has('webgpu')
      ? support('webgpu', 'needs-hardware', 'built in; used when a GPU adapter (Vulkan, D3D12 or Metal) is found as the model loads')
      : support('webgpu', 'not-installed', `onnxruntime-node has no WebGPU provider on ${process.platform}-${process.arch}`),
  );
  const cudaLibs = CUDA_LIBRARIES[process.platform];
  const cuda = has('cuda');
  if (!cuda || !cudaLibs) {
    result.push(support('cuda', 'not-installed', `onnxruntime-node has no CUDA provider on ${process.platform}-${process.arch}`));
  } else {
    const missing = cudaLibs.filter((f) => !fs.existsSync(path.join(binDir, f)));
    result.push(
      missing.length === 0
        ? support('cuda', 'needs-hardware', 'CUDA provider libraries present; used with an NVIDIA GPU, CUDA 12 and cuDNN 9')
        : support(
            'cuda',
            'not-installed',
            `the CUDA provider libraries are not installed (${missing.join(', ')}); docs/cli.md, "CUDA", says how to add them`,
          ),
    );
  }
  return (cachedSupport = result);
}

/** The listing of one model directory. */
export async function describeModel(dir: string): Promise<ModelListing> {
  const check = await checkModelDirectory(dir);
  const raw = check.metadata?.raw ?? null;
  const { metrics, problem } = readMetrics(dir);
  const externalData = fileBytes(path.join(dir, `${MODEL_FILE}.data`));
  const modelBytes = fileBytes(path.join(dir, MODEL_FILE));
  return {
    version: MODEL_LISTING_VERSION,
    name: path.basename(dir),
    path: dir,
    ok: check.violations.length === 0,
    problems: problem ? [...check.violations, problem] : check.violations,
    metadata: raw,
    task: raw ? (str(raw.task) ?? 'sequence-classification') : null,
    router: raw ? routerRule(raw) : null,
    metrics,
    size: {
      model_bytes: modelBytes === null ? null : modelBytes + (externalData ?? 0),
      tokenizer_bytes: check.tokenizerPath ? fileBytes(check.tokenizerPath) : null,
    },
    providers: providerSupport(),
  };
}
