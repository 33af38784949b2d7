/**
 * Model output tensors -> the routing of one sequence in contract form. Models that expose only router_logits
 * get their probabilities, choice, gates and counts derived by their family's convention (core/routers,
 * docs/model-contract.md#router-conventions), so everything downstream sees one shape.
 */
import { checkRoutingInvariants, ContractMetadata, RoutingSource } from '../contract';
import { expectDims, tensor, violation } from './output-checks';
import type { BatchItemResult } from '../runtime/batch-dispatch';
import { deriveRouting } from '../routers';
import type { RawTensor, TensorMap } from '../runtime/tensors';
import { extractNextTokenRows, NextTokenRows } from './next-token';

/** Routing of one sequence's real tokens: [L, T] and [L, T, E] flattened, T = length. */
export interface SequenceRouting {
  length: number;
  numLayers: number;
  numExperts: number;
  /** Class logits [C]; empty for causal LMs. */
  logits: Float32Array;
  /** Causal LMs: per-token loss and next-token predictions; null for classifiers. */
  nextToken: NextTokenRows | null;
  /** null when the model has no token_importance. */
  importance: Float32Array | null;
  count: Int32Array;
  gates: Float32Array;
  probs: Float32Array;
  /** [L, T]: 1 where a capacity-limited router dropped the token; null when the router drops nothing. */
  dropped?: Uint8Array | null;
  /** router_logits models: whether the rows were logits or already probabilities. */
  routerInput?: 'logits' | 'probabilities';
}

export interface OutputSpec {
  metadata: ContractMetadata;
  routingSource: RoutingSource;
}

/** Copies row `row` of a [L, B, Tp, (E)] tensor, positions 0..T-1 (or all Tp when `all`), into [L, T, (E)]. */
function sliceRouting<A extends Float32Array | Int32Array>(
  t: RawTensor,
  row: number,
  take: number,
  inner: number,
  make: (n: number) => A,
): A {
  const [L, B, Tp] = t.dims;
  const out = make(L * take * inner);
  const n = take * inner;
  const data = t.data;
  if (data instanceof Float32Array && out instanceof Float32Array) {
    // Same element type: a block copy per layer (Number(x) of a float32 is the same float32 value).
    for (let l = 0; l < L; l++) {
      const src = (l * B + row) * Tp * inner;
      out.set(data.subarray(src, src + n), l * n);
    }
    return out;
  }
  for (let l = 0; l < L; l++) {
    const src = (l * B + row) * Tp * inner;
    for (let i = 0; i < n; i++) out[l * n + i] = Number(data[src + i]);
  }
  return out;
}

/** The routing of one item of a batched run, checked against the contract's invariants (pads included). */
export function extractSequenceRouting(item: BatchItemResult, spec: OutputSpec): SequenceRouting {
  const { metadata } = spec;
  const { outputs, row, length, paddedLength } = item;
  const L = metadata.numLayers;
  const E = metadata.numExperts;
  let logits = new Float32Array(0);
  let nextToken: NextTokenRows | null = null;
  let B: number;
  if (metadata.task === 'causal-lm') {
    nextToken = extractNextTokenRows(outputs, row, length, paddedLength);
    B = outputs.token_loss.dims[0];
  } else {
    const logitsT = tensor(outputs, 'logits');
    B = logitsT.dims[0];
    expectDims(logitsT, 'logits', [B, metadata.labels.length]);
    const C = metadata.labels.length;
    logits = Float32Array.from(logitsT.data.slice(row * C, row * C + C) as Float32Array);
  }

  if (spec.routingSource === 'router_logits') {
    const rl = tensor(outputs, 'router_logits');
    expectDims(rl, 'router_logits', [L, B, paddedLength, E]);
    const raw = sliceRouting(rl, row, length, E, (n) => new Float32Array(n));
    const d = deriveRouting(raw, L, length, E, metadata.router);
    const dropped = metadata.router.convention === 'switch-capacity' ? d.dropped : null;
    return {
      length,
      numLayers: L,
      numExperts: E,
      logits,
      importance: null,
      count: d.count,
      gates: d.gates,
      probs: d.probs,
      dropped,
      routerInput: d.input,
      nextToken,
    };
  }

  const imp = tensor(outputs, 'token_importance');
  const cnt = tensor(outputs, 'expert_count');
  const gts = tensor(outputs, 'expert_gates');
  const prb = tensor(outputs, 'router_probs');
  expectDims(imp, 'token_importance', [L, B, paddedLength]);
  expectDims(cnt, 'expert_count', [L, B, paddedLength]);
  expectDims(gts, 'expert_gates', [L, B, paddedLength, E]);
  expectDims(prb, 'router_probs', [L, B, paddedLength, E]);

  const arrays = { imp, cnt, gts, prb };
  const problems = bucketProblems(item, arrays, metadata) ?? sequenceProblems(item, arrays, metadata);
  if (problems.length > 0) throw violation(problems);
  return {
    length,
    numLayers: L,
    numExperts: E,
    logits,
    nextToken,
    importance: sliceRouting(imp, row, length, 1, (n) => new Float32Array(n)),
    count: sliceRouting(cnt, row, length, 1, (n) => new Int32Array(n)),
    gates: sliceRouting(gts, row, length, E, (n) => new Float32Array(n)),
    probs: sliceRouting(prb, row, length, E, (n) => new Float32Array(n)),
  };
}

interface ContractTensors {
  imp: RawTensor;
  cnt: RawTensor;
  gts: RawTensor;
  prb: RawTensor;
}

/** Invariant messages of whole runs, so that a run of B sequences is checked once and not B times. */
const checkedRuns = new WeakMap<TensorMap, string[]>();

/**
 * The contract's invariants over the item's whole run (pads included) when the run's row lengths are known: the
 * [L, B, Tp] tensors read as one sequence of B*Tp positions. Empty when the run is good; null when it is not (or
 * the lengths are unknown), so that the item's own check names the positions.
 */
function bucketProblems(item: BatchItemResult, t: ContractTensors, metadata: ContractMetadata): string[] | null {
  const { outputs, rowLengths, paddedLength } = item;
  if (!rowLengths) return null;
  let problems = checkedRuns.get(outputs);
  if (!problems) {
    const mask = new Uint8Array(rowLengths.length * paddedLength);
    rowLengths.forEach((n, r) => mask.fill(1, r * paddedLength, r * paddedLength + n));
    problems = checkRoutingInvariants(
      {
        numLayers: metadata.numLayers,
        length: rowLengths.length * paddedLength,
        numExperts: metadata.numExperts,
        mask,
        count: t.cnt.data,
        // float32 by the contract (checkModelIO checks the element types when the model loads).
        gates: t.gts.data as Float32Array,
        probs: t.prb.data as Float32Array,
      },
      metadata.kMax,
      metadata.routerKind,
    );
    checkedRuns.set(outputs, problems);
  }
  return problems.length === 0 ? problems : null;
}

/** The invariants over the item's own padded row (pads are held to "K = 0, all gates 0" too). */
function sequenceProblems(item: BatchItemResult, t: ContractTensors, metadata: ContractMetadata): string[] {
  const { row, length, paddedLength } = item;
  const E = metadata.numExperts;
  const mask = new Array<number>(paddedLength);
  for (let i = 0; i < paddedLength; i++) mask[i] = i < length ? 1 : 0;
  return checkRoutingInvariants(
    {
      numLayers: metadata.numLayers,
      length: paddedLength,
      numExperts: E,
      mask,
      count: sliceRouting(t.cnt, row, paddedLength, 1, (n) => new Int32Array(n)),
      gates: sliceRouting(t.gts, row, paddedLength, E, (n) => new Float32Array(n)),
      probs: sliceRouting(t.prb, row, paddedLength, E, (n) => new Float32Array(n)),
    },
    metadata.kMax,
    metadata.routerKind,
  );
}
