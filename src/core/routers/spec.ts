/**
 * The `router`, `shared_experts` and `dense_layers` keys of the `moe.contract` metadata (contract version 2,
 * docs/model-contract.md#router-conventions), validated into a RouterSpec: everything deriveRouting needs to turn a
 * model's router_logits into experts and gates the way its Hugging Face family does.
 */
import { ROUTER_CONVENTIONS, RouterConvention, type RouterInfo, SharedExperts } from '../../shared/analysis';

export type RouterInput = 'logits' | 'probabilities' | 'auto';

export interface RouterSpec {
  convention: RouterConvention;
  /** Experts per token (1 for switch-capacity). */
  k: number;
  /** What router_logits holds; 'auto' treats rows that are all >= 0 and sum to 1 as probabilities (softmax conventions). */
  input: RouterInput;
  /** sigmoid-group-topk: experts split into nGroup equal groups, topkGroup of them kept per token. */
  nGroup: number;
  topkGroup: number;
  /** sigmoid-group-topk: divide the k gates by their sum. */
  normTopkProb: boolean;
  /** sigmoid-group-topk: gates are multiplied by it. */
  routedScalingFactor: number;
  /** sigmoid-group-topk: [numLayers][numExperts] added to the sigmoid scores for selection only; null: zeros. */
  eScoreCorrectionBias: number[][] | null;
  /** switch-capacity: the most tokens one expert takes per sequence. */
  expertCapacity: number | null;
}

export interface RouterMetadata {
  router: RouterSpec;
  sharedExperts: SharedExperts | null;
  denseLayers: number[];
}

/** v1's `gates` key named two of the conventions. */
const LEGACY_GATES: Record<string, RouterConvention> = {
  'renormalized-top-k': 'softmax-topk-renorm',
  'router-probability': 'softmax-topk',
};

type Report = (key: string, expected: string, found: unknown) => void;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max = Infinity): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/**
 * Reads the router keys of the metadata `m` (already known: num_layers L, num_experts E, k). `bad(key, expected, found)`
 * records a violation. Without a `router` key the convention comes from v1's `gates` (default softmax-topk-renorm).
 */
export function parseRouterMetadata(m: Record<string, unknown>, L: number, E: number, k: number, bad: Report): RouterMetadata {
  const raw = m.router;
  let convention: RouterConvention = (typeof m.gates === 'string' && LEGACY_GATES[m.gates]) || 'softmax-topk-renorm';
  const spec: RouterSpec = {
    convention,
    k,
    input: 'auto',
    nGroup: 1,
    topkGroup: 1,
    normTopkProb: false,
    routedScalingFactor: 1,
    eScoreCorrectionBias: null,
    expertCapacity: null,
  };
  if (raw !== undefined) {
    if (!isObject(raw)) bad('router', 'an object {"convention": ..., ...}', raw);
    else {
      if ((ROUTER_CONVENTIONS as readonly unknown[]).includes(raw.convention)) convention = raw.convention as RouterConvention;
      else bad('router.convention', `one of ${ROUTER_CONVENTIONS.map((c) => `"${c}"`).join(', ')}`, raw.convention);
      spec.convention = convention;
      if (raw.input !== undefined) {
        if (raw.input === 'logits' || raw.input === 'probabilities' || raw.input === 'auto') spec.input = raw.input;
        else bad('router.input', '"logits", "probabilities" or "auto"', raw.input);
      }
      if (convention === 'sigmoid-group-topk') parseGrouped(raw, spec, L, E, k, bad);
      if (convention === 'switch-capacity') {
        if (k !== 1) bad('k', '1 for a switch-capacity router (Switch routes each token to one expert)', k);
        if (isInt(raw.expert_capacity, 1)) spec.expertCapacity = raw.expert_capacity;
        else bad('router.expert_capacity', 'an integer >= 1 (tokens one expert takes per sequence)', raw.expert_capacity);
      }
    }
  }
  return { router: spec, sharedExperts: parseSharedExperts(m.shared_experts, bad), denseLayers: parseDenseLayers(m.dense_layers, L, bad) };
}

function parseGrouped(raw: Record<string, unknown>, spec: RouterSpec, L: number, E: number, k: number, bad: Report): void {
  if (raw.n_group !== undefined) {
    if (isInt(raw.n_group, 1, E) && E % raw.n_group === 0) spec.nGroup = raw.n_group;
    else bad('router.n_group', `an integer >= 1 that divides num_experts (${E})`, raw.n_group);
  }
  if (raw.topk_group !== undefined) {
    if (isInt(raw.topk_group, 1, spec.nGroup)) spec.topkGroup = raw.topk_group;
    else bad('router.topk_group', `an integer in 1..n_group (${spec.nGroup})`, raw.topk_group);
  }
  if (spec.nGroup === 1) spec.topkGroup = 1;
  const reachable = spec.topkGroup * (E / spec.nGroup);
  if (k > reachable) bad('k', `at most topk_group x experts per group = ${reachable}`, k);
  if (raw.norm_topk_prob !== undefined) {
    if (typeof raw.norm_topk_prob === 'boolean') spec.normTopkProb = raw.norm_topk_prob;
    else bad('router.norm_topk_prob', 'true or false', raw.norm_topk_prob);
  }
  if (raw.routed_scaling_factor !== undefined) {
    const f = raw.routed_scaling_factor;
    if (typeof f === 'number' && Number.isFinite(f) && f > 0) spec.routedScalingFactor = f;
    else bad('router.routed_scaling_factor', 'a positive number', f);
  }
  const bias = raw.e_score_correction_bias;
  if (bias !== undefined && bias !== null) {
    const ok =
      Array.isArray(bias) &&
      bias.length === L &&
      bias.every((row) => Array.isArray(row) && row.length === E && row.every((v) => typeof v === 'number' && Number.isFinite(v)));
    if (ok) spec.eScoreCorrectionBias = bias as number[][];
    else bad('router.e_score_correction_bias', `[num_layers = ${L}][num_experts = ${E}] finite numbers (one row per MoE layer)`, bias);
  }
}

function parseSharedExperts(v: unknown, bad: Report): SharedExperts | null {
  if (v === undefined || v === null) return null;
  if (isObject(v) && isInt(v.count, 0) && (v.gate === undefined || v.gate === 'sigmoid' || v.gate === 'none')) {
    return v.count === 0 ? null : { count: v.count, gate: v.gate === 'sigmoid' ? 'sigmoid' : 'none' };
  }
  bad('shared_experts', '{"count": integer >= 0, "gate": "sigmoid" | "none"}', v);
  return null;
}

function parseDenseLayers(v: unknown, L: number, bad: Report): number[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v) && v.every((i) => isInt(i, 0))) {
    const sorted = [...new Set(v as number[])].sort((a, b) => a - b);
    const decoderLayers = L + sorted.length;
    if (sorted.length === v.length && sorted.every((i) => i < decoderLayers)) return sorted;
    bad('dense_layers', `distinct decoder-layer indices below num_layers + their count (${decoderLayers})`, v);
    return [];
  }
  bad('dense_layers', 'an array of decoder-layer indices (integers >= 0)', v);
  return [];
}

/** The decoder-layer index of each MoE layer 0..L-1, skipping the dense ones. */
export function moeDecoderLayers(numLayers: number, denseLayers: readonly number[]): number[] {
  const dense = new Set(denseLayers);
  const out: number[] = [];
  for (let d = 0; out.length < numLayers; d++) if (!dense.has(d)) out.push(d);
  return out;
}

/**
 * The router as the Analysis reports it. `input` is the metadata's, or 'logits' for 'auto' until a run resolves it
 * (the engine overwrites it with what the first run found).
 */
export function routerInfo(r: RouterSpec): RouterInfo {
  return {
    convention: r.convention,
    input: r.input === 'probabilities' ? 'probabilities' : 'logits',
    ...(r.convention === 'sigmoid-group-topk'
      ? {
          nGroup: r.nGroup,
          topkGroup: r.topkGroup,
          normTopkProb: r.normTopkProb,
          routedScalingFactor: r.routedScalingFactor,
          selectionBias: r.eScoreCorrectionBias?.some((row) => row.some((v) => v !== 0)) ?? false,
        }
      : {}),
    ...(r.convention === 'switch-capacity' && r.expertCapacity !== null ? { expertCapacity: r.expertCapacity } : {}),
  };
}
