/**
 * The model contract (docs/model-contract.md): what a model directory, its `moe.contract` metadata and its
 * inputs/outputs must look like, and the invariants its routing outputs keep on every run.
 *
 * Every check returns messages instead of throwing at the first problem, so a user fixing an export sees all
 * violations at once. Each message names the output or key, what was expected and what was found.
 */
import * as path from 'path';
import type { ModelTask, RouterKind, SharedExperts } from '../shared/analysis';
import { checkRegularFile } from './model-files';
import { readOnnxMetadata } from './onnx/metadata';
import { parseRouterMetadata, RouterSpec } from './routers';
import type { TensorInfo } from './runtime/tensors';

export const CONTRACT_DOC = 'docs/model-contract.md';
export const CONTRACT_METADATA_KEY = 'moe.contract';
/** The newest contract version; every version in SUPPORTED_CONTRACT_VERSIONS still loads. */
export const CONTRACT_VERSION = 2;
export const SUPPORTED_CONTRACT_VERSIONS: readonly number[] = [1, 2];
export const MODEL_FILE = 'model.onnx';

export type GateConvention = 'renormalized-top-k' | 'router-probability';
export type RoutingSource = 'contract' | 'router_logits';
/**
 * Where a causal LM's per-token loss and next-token predictions come from: its in-graph outputs (token_loss,
 * next_token_topk_ids, next_token_topk_logprobs), or full logits [B, T, V] that the model worker reduces to the
 * same three tensors (src/core/runtime/next-token.ts) so that V-sized tensors never cross the process boundary.
 */
export type NextTokenSource = 'in-graph' | 'logits';
export const NEXT_TOKEN_OUTPUTS = ['token_loss', 'next_token_topk_ids', 'next_token_topk_logprobs'] as const;

/** The `moe.contract` metadata, validated and in camelCase. */
export interface ContractMetadata {
  contractVersion: number;
  /** 'sequence-classification' when the metadata does not say. */
  task: ModelTask;
  routerKind: RouterKind;
  numLayers: number;
  numExperts: number;
  /** k_max for da-moe, k for top-k: the most experts one token can use. */
  kMax: number;
  /** The fixed K of a top-k router; null for da-moe. */
  k: number | null;
  /** Class names in logit order; empty for causal LMs. */
  labels: string[];
  tokenizer: string;
  maxSequenceLength: number;
  expertFlopsPerToken: number | null;
  gates: GateConvention | null;
  /** Shown to the user as given. */
  importance: Record<string, unknown> | null;
  /** How router_logits become experts and gates (the `router` key, or v1's `gates`); unused for contract routing. */
  router: RouterSpec;
  sharedExperts: SharedExperts | null;
  /** Decoder-layer indices of dense (router-less) layers; [] when every decoder layer is an MoE layer. */
  denseLayers: number[];
  /** The JSON document as stored in the model. */
  raw: Record<string, unknown>;
}

/** A model directory that passed every static check. */
export interface ModelContract {
  dir: string;
  modelPath: string;
  tokenizerPath: string;
  metadata: ContractMetadata;
  routingSource: RoutingSource;
  /** Causal LMs only; null for classifiers. */
  nextTokenSource: NextTokenSource | null;
}

export const CONTRACT_OUTPUTS = ['logits', 'token_importance', 'expert_count', 'expert_gates', 'router_probs'] as const;

function see(section: string): string {
  return ` (see ${CONTRACT_DOC}#${section})`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '...' : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

// ---- metadata -------------------------------------------------------------------------------------------------

export interface MetadataCheck {
  metadata: ContractMetadata | null;
  violations: string[];
}

/** Validates the `moe.contract` JSON string (undefined: the key is absent). */
export function parseContractMetadata(rawValue: string | undefined): MetadataCheck {
  if (rawValue === undefined) {
    return {
      metadata: null,
      violations: [
        `metadata: expected a metadata_props entry "${CONTRACT_METADATA_KEY}" holding the contract JSON, found none${see('metadata')}`,
      ],
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(rawValue);
  } catch (e) {
    return {
      metadata: null,
      violations: [
        `metadata "${CONTRACT_METADATA_KEY}": expected a JSON document, found malformed JSON (${(e as Error).message})${see('metadata')}`,
      ],
    };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return {
      metadata: null,
      violations: [`metadata "${CONTRACT_METADATA_KEY}": expected a JSON object, found ${describe(json)}${see('metadata')}`],
    };
  }
  const m = json as Record<string, unknown>;
  const violations: string[] = [];
  const bad = (key: string, expected: string): void => {
    violations.push(`metadata key "${key}": expected ${expected}, found ${describe(m[key])}${see('metadata')}`);
  };
  const int = (key: string, min: number, max = Infinity): number | null => {
    const v = m[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      bad(key, max === Infinity ? `an integer >= ${min}` : `an integer in ${min}..${max}`);
      return null;
    }
    return v;
  };

  const version = SUPPORTED_CONTRACT_VERSIONS.includes(m.contract_version as number) ? (m.contract_version as number) : null;
  if (version === null) bad('contract_version', SUPPORTED_CONTRACT_VERSIONS.join(' or '));
  let task: ModelTask = 'sequence-classification';
  let taskKnown = true;
  if (m.task !== undefined) {
    if (m.task === 'sequence-classification' || m.task === 'causal-lm') task = m.task;
    else {
      bad('task', '"sequence-classification" or "causal-lm"');
      taskKnown = false;
    }
  }
  if (task === 'causal-lm' && version === 1) bad('contract_version', '2 for "task": "causal-lm" (causal LMs are contract version 2)');
  const routerKind = m.router_kind === 'da-moe' || m.router_kind === 'top-k' ? m.router_kind : null;
  if (!routerKind) bad('router_kind', '"da-moe" or "top-k"');
  const numLayers = int('num_layers', 1);
  const numExperts = int('num_experts', 1);
  let kMax: number | null = null;
  let k: number | null = null;
  const kRange = numExperts ?? Infinity;
  if (routerKind === 'da-moe') kMax = int('k_max', 1, kRange);
  if (routerKind === 'top-k') k = kMax = int('k', 1, kRange);
  const labels = m.labels;
  // A causal LM has no classes: its labels are not read (an exporter may still write them).
  const labelsOk =
    task === 'causal-lm' || !taskKnown || (Array.isArray(labels) && labels.length >= 2 && labels.every((l) => typeof l === 'string'));
  if (!labelsOk) bad('labels', 'an array of at least 2 strings (class names in logit order)');
  const tokenizer = typeof m.tokenizer === 'string' && m.tokenizer.trim() !== '' ? m.tokenizer : null;
  if (!tokenizer) bad('tokenizer', 'the tokenizer file name, relative to the model directory');
  else if (path.isAbsolute(tokenizer) || tokenizer.split(/[\\/]/).includes('..')) {
    bad('tokenizer', 'a file name inside the model directory');
  }
  const maxSequenceLength = int('max_sequence_length', 2);
  let expertFlopsPerToken: number | null = null;
  if (m.expert_flops_per_token !== undefined) {
    const f = m.expert_flops_per_token;
    if (typeof f !== 'number' || !Number.isFinite(f) || f <= 0) bad('expert_flops_per_token', 'a positive number');
    else expertFlopsPerToken = f;
  }
  let gates: GateConvention | null = null;
  if (m.gates !== undefined) {
    if (m.gates === 'renormalized-top-k' || m.gates === 'router-probability') gates = m.gates;
    else bad('gates', '"renormalized-top-k" or "router-probability"');
  }
  let importance: Record<string, unknown> | null = null;
  if (m.importance !== undefined) {
    if (typeof m.importance === 'object' && m.importance !== null && !Array.isArray(m.importance)) {
      importance = m.importance as Record<string, unknown>;
    } else bad('importance', 'an object describing token_importance');
  }
  const routerKeys =
    numLayers && numExperts && kMax
      ? parseRouterMetadata(m, numLayers, numExperts, kMax, (key, expected, found) =>
          violations.push(`metadata key "${key}": expected ${expected}, found ${describe(found)}${see('router-conventions')}`),
        )
      : null;
  if (
    violations.length > 0 ||
    !version ||
    !routerKind ||
    !numLayers ||
    !numExperts ||
    !kMax ||
    !maxSequenceLength ||
    !tokenizer ||
    !routerKeys
  ) {
    return { metadata: null, violations };
  }
  return {
    metadata: {
      contractVersion: version,
      task,
      routerKind,
      numLayers,
      numExperts,
      kMax,
      k,
      labels: task === 'causal-lm' ? [] : (labels as string[]),
      tokenizer,
      maxSequenceLength,
      expertFlopsPerToken,
      gates,
      importance,
      router: routerKeys.router,
      sharedExperts: routerKeys.sharedExperts,
      denseLayers: routerKeys.denseLayers,
      raw: m,
    },
    violations: [],
  };
}

// ---- inputs and outputs ---------------------------------------------------------------------------------------

interface ExpectedTensor {
  name: string;
  type: string;
  /** Dimension names; numbers must match the metadata, letters are dynamic. */
  dims: string[];
}

/** What carries the model's prediction: class logits [B, C], or a causal LM's next-token outputs. */
function predictionOutputs(task: ModelTask, nextToken: NextTokenSource | null): ExpectedTensor[] {
  if (task !== 'causal-lm') return [{ name: 'logits', type: 'float32', dims: ['B', 'C'] }];
  if (nextToken === 'logits') return [{ name: 'logits', type: 'float32', dims: ['B', 'T', 'V'] }];
  return [
    { name: 'token_loss', type: 'float32', dims: ['B', 'T'] },
    { name: 'next_token_topk_ids', type: 'int64', dims: ['B', 'T', 'K'] },
    { name: 'next_token_topk_logprobs', type: 'float32', dims: ['B', 'T', 'K'] },
  ];
}

/** A causal LM's next-token source: its in-graph outputs when it has any of them, else full logits. */
export function nextTokenSourceOf(outputs: readonly TensorInfo[]): NextTokenSource {
  const names = new Set(outputs.map((o) => o.name));
  return NEXT_TOKEN_OUTPUTS.some((n) => names.has(n)) || !names.has('logits') ? 'in-graph' : 'logits';
}

function expectedOutputs(source: RoutingSource, prediction: ExpectedTensor[]): ExpectedTensor[] {
  const routing4 = ['L', 'B', 'T', 'E'];
  if (source === 'router_logits') return [...prediction, { name: 'router_logits', type: 'float32', dims: routing4 }];
  return [
    ...prediction,
    { name: 'token_importance', type: 'float32', dims: ['L', 'B', 'T'] },
    { name: 'expert_count', type: 'int64', dims: ['L', 'B', 'T'] },
    { name: 'expert_gates', type: 'float32', dims: routing4 },
    { name: 'router_probs', type: 'float32', dims: routing4 },
  ];
}

/** Which routing outputs the model exposes: all contract outputs, or only router_logits. */
export function routingSourceOf(outputs: readonly TensorInfo[]): RoutingSource {
  const names = new Set(outputs.map((o) => o.name));
  const hasContractRouting = CONTRACT_OUTPUTS.slice(1).some((n) => names.has(n));
  return !hasContractRouting && names.has('router_logits') ? 'router_logits' : 'contract';
}

export interface IOCheck {
  routingSource: RoutingSource;
  /** Causal LMs only; null for classifiers (and when the metadata is unreadable). */
  nextTokenSource: NextTokenSource | null;
  violations: string[];
}

/** Checks names, dtypes, ranks and the sizes the metadata fixes (L, E, C). `metadata` may be null (already reported). */
export function checkModelIO(inputs: readonly TensorInfo[], outputs: readonly TensorInfo[], metadata: ContractMetadata | null): IOCheck {
  const violations: string[] = [];
  for (const name of ['input_ids', 'attention_mask']) {
    const t = inputs.find((i) => i.name === name);
    if (!t) {
      violations.push(
        `input "${name}": expected an int64 [B, T] input, found no input of that name (inputs: ${inputs.map((i) => i.name).join(', ') || 'none'})${see('inputs')}`,
      );
      continue;
    }
    if (t.type !== 'int64') violations.push(`input "${name}": expected dtype int64, found ${t.type}${see('inputs')}`);
    if (t.shape.length > 0 && t.shape.length !== 2)
      violations.push(`input "${name}": expected rank 2 [B, T], found rank ${t.shape.length} [${t.shape.join(', ')}]${see('inputs')}`);
    else if (t.shape.length === 2 && (isFixed(t.shape[0]) || isFixed(t.shape[1]))) {
      violations.push(`input "${name}": expected dynamic B and T axes, found fixed shape [${t.shape.join(', ')}]${see('inputs')}`);
    }
  }
  for (const extra of inputs) {
    if (extra.name !== 'input_ids' && extra.name !== 'attention_mask') {
      violations.push(`input "${extra.name}": expected only input_ids and attention_mask, found this extra input${see('inputs')}`);
    }
  }

  const routingSource = routingSourceOf(outputs);
  if (routingSource === 'router_logits' && metadata && metadata.routerKind !== 'top-k') {
    violations.push(
      `output "router_logits": a model exposing only logits + router_logits must declare "router_kind": "top-k" with "k", found "router_kind": "${metadata.routerKind}"${see('models-that-only-expose-router_logits')}`,
    );
  }
  const sizes: Record<string, number | undefined> = {
    L: metadata?.numLayers,
    E: metadata?.numExperts,
    C: metadata?.labels.length,
  };
  const sizeKey: Record<string, string> = { L: 'num_layers', E: 'num_experts', C: 'labels (count)' };
  const task = metadata?.task ?? 'sequence-classification';
  const nextTokenSource = task === 'causal-lm' ? nextTokenSourceOf(outputs) : null;
  for (const exp of expectedOutputs(routingSource, predictionOutputs(task, nextTokenSource))) {
    const t = outputs.find((o) => o.name === exp.name);
    const section =
      task === 'causal-lm' && exp.dims[0] === 'B'
        ? 'causal-language-models'
        : routingSource === 'router_logits'
          ? 'models-that-only-expose-router_logits'
          : 'outputs';
    if (!t) {
      violations.push(
        `output "${exp.name}": expected ${exp.type} [${exp.dims.join(', ')}], found no output of that name (outputs: ${outputs.map((o) => o.name).join(', ') || 'none'})${see(section)}`,
      );
      continue;
    }
    if (t.type !== exp.type) violations.push(`output "${exp.name}": expected dtype ${exp.type}, found ${t.type}${see(section)}`);
    if (t.shape.length === 0) continue; // rank unknown to onnxruntime; checked on the first run
    if (t.shape.length !== exp.dims.length) {
      violations.push(
        `output "${exp.name}": expected rank ${exp.dims.length} [${exp.dims.join(', ')}], found rank ${t.shape.length} [${t.shape.join(', ')}]${see(section)}`,
      );
      continue;
    }
    exp.dims.forEach((d, i) => {
      const want = sizes[d];
      const got = t.shape[i];
      if (want !== undefined && isFixed(got) && got !== want) {
        violations.push(
          `output "${exp.name}": dimension ${i} (${d}) must equal metadata ${sizeKey[d]} = ${want}, found ${got}${see(section)}`,
        );
      }
    });
  }
  return { routingSource, nextTokenSource, violations };
}

function isFixed(dim: number | string | undefined): dim is number {
  return typeof dim === 'number' && dim > 0;
}

// ---- model directory ------------------------------------------------------------------------------------------

export interface DirectoryCheck {
  modelPath: string;
  metadata: ContractMetadata | null;
  tokenizerPath: string | null;
  violations: string[];
  /** model.onnx parses as an ONNX model (false: damaged, truncated or another kind of file). */
  modelReadable: boolean;
  /** model.onnx is not a non-empty regular file (a FIFO, device, socket, directory, or empty): never opened. */
  notARegularFile?: boolean;
}

/**
 * Static checks that need no onnxruntime: model.onnx a non-empty regular file (lstat/stat first: a FIFO, device,
 * socket or directory is refused by name, never opened in a way that blocks) that parses, metadata valid, the
 * tokenizer file present and a regular file. Asynchronous, so the extension host's thread never waits on a read.
 * The caller has already made sure the directory and model.onnx exist (a missing model is not a violation).
 */
export async function checkModelDirectory(dir: string): Promise<DirectoryCheck> {
  const modelPath = path.join(dir, MODEL_FILE);
  const unreadable = (message: string, notARegularFile = false): DirectoryCheck => ({
    modelPath,
    metadata: null,
    tokenizerPath: null,
    violations: [`${MODEL_FILE}: ${message}`],
    modelReadable: false,
    notARegularFile,
  });
  const file = await checkRegularFile(modelPath);
  if (file.problem) return unreadable(file.problem, file.kind !== null);
  let props: Map<string, string>;
  try {
    props = await readOnnxMetadata(modelPath);
  } catch (e) {
    return unreadable((e as Error).message);
  }
  const { metadata, violations } = parseContractMetadata(props.get(CONTRACT_METADATA_KEY));
  let tokenizerPath: string | null = null;
  if (metadata) {
    tokenizerPath = path.join(dir, metadata.tokenizer);
    const tok = await checkRegularFile(tokenizerPath);
    if (tok.kind === null && !tok.linkTarget) {
      violations.push(`metadata key "tokenizer": expected the file ${metadata.tokenizer} in ${dir}, found no such file${see('metadata')}`);
      tokenizerPath = null;
    } else if (tok.problem) {
      violations.push(`metadata key "tokenizer": expected ${metadata.tokenizer} to be a JSON file, but ${tok.problem}${see('metadata')}`);
      tokenizerPath = null;
    }
  }
  return { modelPath, metadata, tokenizerPath, violations, modelReadable: true };
}

// ---- per-run invariants ---------------------------------------------------------------------------------------

/** Routing of one sequence in contract form (flattened [L, T] and [L, T, E], real tokens and pads alike). */
export interface RoutingArrays {
  numLayers: number;
  /** Positions per layer (padded length). */
  length: number;
  numExperts: number;
  /** 1 for real tokens, per position. */
  mask: ArrayLike<number>;
  /** int64 tensors arrive as BigInt64Array. */
  count: ArrayLike<number | bigint>;
  gates: ArrayLike<number>;
  probs: ArrayLike<number>;
}

const MAX_INVARIANT_MESSAGES = 10;

/** The invariants of docs/model-contract.md#outputs; returns at most 10 messages (then a count). */
export function checkRoutingInvariants(r: RoutingArrays, kMax: number, routerKind: RouterKind): string[] {
  const out: string[] = [];
  let more = 0;
  const report = (msg: string): void => {
    if (out.length < MAX_INVARIANT_MESSAGES) out.push(`${msg}${see('outputs')}`);
    else more++;
  };
  const { numLayers: L, length: T, numExperts: E } = r;
  for (let l = 0; l < L; l++) {
    for (let t = 0; t < T; t++) {
      const lt = l * T + t;
      const k = Number(r.count[lt]);
      let nonzero = 0;
      let probSum = 0;
      for (let e = 0; e < E; e++) {
        if (r.gates[lt * E + e] !== 0) nonzero++;
        probSum += r.probs[lt * E + e];
      }
      const where = `layer ${l}, position ${t}`;
      if (r.mask[t]) {
        if (k !== nonzero)
          report(`output "expert_count" (${where}): expected the number of non-zero expert_gates (${nonzero}), found ${k}`);
        if (k < 1 || k > kMax) report(`output "expert_count" (${where}): expected 1..${kMax} on a real token, found ${k}`);
        else if (routerKind === 'top-k' && k !== kMax)
          report(`output "expert_count" (${where}): expected k = ${kMax} for a top-k router, found ${k}`);
        if (!(Math.abs(probSum - 1) <= 1e-3))
          report(`output "router_probs" (${where}): expected a row summing to 1 (±1e-3), found ${probSum.toFixed(4)}`);
      } else {
        if (k !== 0) report(`output "expert_count" (${where}): expected 0 on padding, found ${k}`);
        if (nonzero !== 0) report(`output "expert_gates" (${where}): expected all 0 on padding, found ${nonzero} non-zero`);
      }
    }
  }
  if (more > 0) out.push(`... and ${more} more invariant violations`);
  return out;
}
