/**
 * A model folder's GPU graph (docs/model-contract.md#the-gpu-graph): `model.gpu.onnx` beside `model.onnx`, the same
 * model exported without the ops GPU providers lack (the sparse dispatch's NonZero, int64 comparisons), whose
 * weights are ONNX external data read from model.onnx itself. It is used on GPU providers only, and only when it
 * says it was made from this very model.onnx (the SHA-256 in its `moe.gpu_graph` metadata): its weights are byte
 * offsets into that file, so a stale pair would run on garbage weights instead of failing.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { ExpertCompute } from '../shared/analysis';
import { CONTRACT_DOC, MODEL_FILE } from './contract';
import { checkRegularFile } from './model-files';
import { readOnnxMetadata } from './onnx/metadata';

export const GPU_GRAPH_FILE = 'model.gpu.onnx';
export const GPU_GRAPH_METADATA_KEY = 'moe.gpu_graph';
const EXPERT_COMPUTES: readonly ExpertCompute[] = ['dense-masked'];

export interface GpuGraph {
  path: string;
  expertCompute: ExpertCompute;
}

/** The GPU graph to use, or why the one present cannot be (then GPU providers run model.onnx); null when there is none. */
export type GpuGraphCheck = { graph: GpuGraph; problem?: undefined } | { graph?: undefined; problem: string } | null;

export async function findGpuGraph(dir: string): Promise<GpuGraphCheck> {
  const file = path.join(dir, GPU_GRAPH_FILE);
  const check = await checkRegularFile(file, GPU_GRAPH_FILE);
  if (check.kind === null && !check.linkTarget) return null;
  const refuse = (why: string): GpuGraphCheck => ({
    problem: `${GPU_GRAPH_FILE} not used (GPU providers run ${MODEL_FILE}): ${why}`,
  });
  if (check.problem) return refuse(check.problem);
  let raw: string | undefined;
  try {
    raw = (await readOnnxMetadata(file)).get(GPU_GRAPH_METADATA_KEY);
  } catch (e) {
    return refuse((e as Error).message);
  }
  if (raw === undefined) return refuse(`it has no "${GPU_GRAPH_METADATA_KEY}" metadata (see ${CONTRACT_DOC})`);
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return refuse(`its "${GPU_GRAPH_METADATA_KEY}" metadata is not JSON`);
  }
  const compute = info.expert_compute as ExpertCompute;
  if (!EXPERT_COMPUTES.includes(compute)) {
    return refuse(`expert_compute ${JSON.stringify(info.expert_compute)} is not one of ${EXPERT_COMPUTES.join(', ')}`);
  }
  if (info.sparse_graph !== MODEL_FILE) {
    return refuse(`it was made for ${JSON.stringify(info.sparse_graph)}, not ${MODEL_FILE}`);
  }
  const sha = await sha256(path.join(dir, MODEL_FILE));
  if (info.sparse_graph_sha256 !== sha) {
    return refuse(
      `it was exported from another ${MODEL_FILE} (SHA-256 ${String(info.sparse_graph_sha256).slice(0, 12)}…, this one is ` +
        `${sha.slice(0, 12)}…). Export both again (training/export.py), or delete ${GPU_GRAPH_FILE}`,
    );
  }
  return { graph: { path: file, expertCompute: compute } };
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}
