/**
 * The compute limit of the latency bench: the matrix-product FLOPs of one forward pass of a training/damoe model,
 * counted from the model's own sizes, and the single-core rate of a large float32 matrix product measured with the
 * engine's own library (onnxruntime's MatMul on the cpu provider) and with PyTorch's (torch.mm), so that
 * `FLOPs / rate` is the time no implementation could beat without running the same products faster than the faster
 * of the two libraries does. The rate is per CPU-second of the process (the CPU time a product took, not its wall
 * time), so a busy shared machine does not lower it; with N threads the limit is the FLOPs over N cores' rate.
 *
 * The sizes come from model.onnx's initializer shapes (read from the protobuf without a protobuf library):
 * d = `model.tok.weight`'s width, h = the expert hidden size (`model.blocks.0.moe.experts.0.fc1.weight` rows);
 * layers, experts and labels from the contract metadata. A multiply-add counts as 2 FLOPs. Per layer, for a
 * sequence of T tokens: the q, k, v and output projections 4 * 2*T*d*d, the attention scores and their product
 * with v 2 * 2*T*T*d, the router 2*T*d*E, and the experts on the tokens routed to them 2 * 2*d*h per (token,
 * chosen expert), i.e. sum(K) times the contract's expert_flops_per_token; plus the classifier head 2*d*C.
 * Element-wise work (LayerNorm, softmax, GELU, the K rule) is not counted: it is a few percent of these FLOPs.
 */
import * as fs from 'fs';
import type * as Ort from 'onnxruntime-node';
import { packedVarints, protoFields, WIRE_LEN, WIRE_VARINT } from '../src/core/onnx/protobuf';

/** The matrix product whose rate sets the limit: n x n x n float32, best of this many runs. */
export const GEMM_N = 1024;
export const GEMM_REPS = 10;

/** Names and shapes of the graph's initializers (ModelProto.graph = 7, GraphProto.initializer = 5). */
export function initializerShapes(file: string): Map<string, number[]> {
  const buf = new Uint8Array(fs.readFileSync(file));
  const shapes = new Map<string, number[]>();
  const text = new TextDecoder();
  for (const g of protoFields(buf)) {
    if (g.no !== 7 || g.wire !== WIRE_LEN) continue;
    for (const init of protoFields(buf, g.start, g.end)) {
      if (init.no !== 5 || init.wire !== WIRE_LEN) continue;
      let name = '';
      const dims: number[] = [];
      for (const f of protoFields(buf, init.start, init.end)) {
        if (f.no === 8 && f.wire === WIRE_LEN) name = text.decode(buf.subarray(f.start, f.end));
        else if (f.no === 1 && f.wire === WIRE_VARINT) dims.push(f.value);
        else if (f.no === 1 && f.wire === WIRE_LEN) dims.push(...packedVarints(buf, f.start, f.end));
      }
      shapes.set(name, dims);
    }
  }
  return shapes;
}

export interface ModelSizes {
  d: number;
  hidden: number;
  layers: number;
  experts: number;
  labels: number;
  expertFlopsPerToken: number;
}

/** The sizes of a training/damoe export, or why they cannot be read. */
export function modelSizes(
  file: string,
  meta: { numLayers: number; numExperts: number; labels: readonly string[]; expertFlopsPerToken?: number | null },
): ModelSizes | string {
  const shapes = initializerShapes(file);
  const tok = shapes.get('model.tok.weight');
  const fc1 = shapes.get('model.blocks.0.moe.experts.0.fc1.weight');
  if (!tok || tok.length !== 2 || !fc1 || fc1.length !== 2) {
    return 'the initializers are not named like a training/damoe export (model.tok.weight, model.blocks.0.moe.experts.0.fc1.weight)';
  }
  return {
    d: tok[1],
    hidden: fc1[0],
    layers: meta.numLayers,
    experts: meta.numExperts,
    labels: meta.labels.length,
    // fc1 and fc2, d x h each, one multiply-add per weight: what export writes as expert_flops_per_token.
    expertFlopsPerToken: meta.expertFlopsPerToken ?? 2 * 2 * tok[1] * fc1[0],
  };
}

/** Matrix-product FLOPs of one sequence of T tokens that routed `kSum[l]` (token, expert) pairs in layer l (only their sum over layers counts). */
export function forwardFlops(s: ModelSizes, T: number, kSum: readonly number[]): { total: number; experts: number } {
  const perLayerDense = 4 * 2 * T * s.d * s.d + 2 * 2 * T * T * s.d + 2 * T * s.d * s.experts;
  const experts = kSum.reduce((a, k) => a + k * s.expertFlopsPerToken, 0);
  return { total: s.layers * perLayerDense + experts + 2 * s.d * s.labels, experts };
}

/** An ONNX model of one MatMul Y = A x B of two n x n float32 inputs (opset 17), encoded by hand. */
export function matmulModel(n: number): Uint8Array {
  const bytes: number[] = [];
  const varint = (out: number[], v: number): void => {
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  const len = (no: number, payload: number[]): number[] => {
    const out: number[] = [];
    varint(out, no * 8 + WIRE_LEN);
    varint(out, payload.length);
    return out.concat(payload);
  };
  const int = (no: number, v: number): number[] => {
    const out: number[] = [];
    varint(out, no * 8 + WIRE_VARINT);
    varint(out, v);
    return out;
  };
  const str = (no: number, s: string): number[] => len(no, [...new TextEncoder().encode(s)]);
  const dim = len(1, int(1, n)); // TensorShapeProto.dim { dim_value }
  const tensorType = len(1, [...int(1, 1), ...len(2, [...dim, ...dim])]); // float, [n, n]
  const valueInfo = (no: number, name: string): number[] => len(no, [...str(1, name), ...len(2, tensorType)]);
  const node = len(1, [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'Y'), ...str(4, 'MatMul')]);
  const graph = [...node, ...str(2, 'gemm'), ...valueInfo(11, 'A'), ...valueInfo(11, 'B'), ...valueInfo(12, 'Y')];
  bytes.push(...int(1, 8), ...len(8, int(2, 17)), ...len(7, graph));
  return Uint8Array.from(bytes);
}

/** A matrix-product rate: per CPU-second (so other load on a shared machine does not lower it) and per wall second. */
export interface GemmRate {
  /** GFLOP per CPU-second of this process, the best of the repetitions: one core's rate. */
  gflopsPerCore: number;
  /** GFLOP per wall second, the best repetition. */
  gflopsWall: number;
}

/**
 * Float32 matrix-product rate of onnxruntime's cpu provider (one MatMul n x n x n, one intra-op thread), the best of
 * `reps` runs after a warm-up. The run is on the calling thread, so this process's CPU time is the product's.
 */
export async function onnxruntimeGemmRate(ort: typeof Ort, n: number, reps: number): Promise<GemmRate> {
  const session = await ort.InferenceSession.create(matmulModel(n), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const data = (): Float32Array => Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const feeds = { A: new ort.Tensor('float32', data(), [n, n]), B: new ort.Tensor('float32', data(), [n, n]) };
    await session.run(feeds);
    let cpu = Infinity;
    let wall = Infinity;
    for (let r = 0; r < reps; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await session.run(feeds);
      wall = Math.min(wall, performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu = Math.min(cpu, (c.user + c.system) / 1000);
    }
    const flop = 2 * n ** 3;
    return { gflopsPerCore: flop / (cpu * 1e6), gflopsWall: flop / (wall * 1e6) };
  } finally {
    await session.release();
  }
}
