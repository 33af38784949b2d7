/**
 * How the router of a Hugging Face family, its shared experts, its dense layers and its dropped tokens are said in
 * words: one wording for the CLI, the hover and the panels.
 */
import type { LayerRouting, ModelSummary } from './analysis';

const CONVENTION_TEXT: Record<string, string> = {
  'softmax-topk-renorm': 'softmax → top-k → renormalised',
  'softmax-topk': 'softmax → top-k (not renormalised)',
  'topk-softmax': 'top-k of logits → softmax over k',
  'sigmoid-group-topk': 'sigmoid + bias → group-limited top-k',
  'switch-capacity': 'Switch top-1 with expert capacity',
};

/** The router convention and its parameters in one line; null for contract-routing models. */
export function routerDescription(model: ModelSummary): string | null {
  const r = model.router;
  if (!r) return null;
  const parts = [`${r.convention} (${CONVENTION_TEXT[r.convention] ?? r.convention})`];
  if (r.convention === 'sigmoid-group-topk') {
    parts.push(
      `${r.nGroup} groups, ${r.topkGroup} kept`,
      r.normTopkProb ? 'gates normalised' : 'gates not normalised',
      `× ${r.routedScalingFactor}`,
      r.selectionBias ? 'correction bias in the selection' : 'no correction bias',
    );
  }
  if (r.convention === 'switch-capacity' && r.expertCapacity !== undefined) parts.push(`capacity ${r.expertCapacity} tokens per expert`);
  if (r.input === 'probabilities') parts.push('router_logits were already probabilities');
  return parts.join(', ');
}

/** "1 shared expert, always on (sigmoid-gated)"; null when the model has none. */
export function sharedExpertsDescription(model: ModelSummary): string | null {
  const s = model.sharedExperts;
  if (!s || s.count === 0) return null;
  return `${s.count} shared expert${s.count === 1 ? '' : 's'}, always on${s.gate === 'sigmoid' ? ' (sigmoid-gated per token)' : ''}`;
}

/** "decoder layer 0 dense (no router)"; null when every layer is an MoE layer. */
export function denseLayersDescription(model: ModelSummary): string | null {
  const d = model.denseLayers ?? [];
  if (d.length === 0) return null;
  return `decoder layer${d.length === 1 ? '' : 's'} ${d.join(', ')} dense (no router)`;
}

/** "1" or, when the model has dense layers, "1 (decoder 2)": the MoE layer and where it sits among all decoder layers. */
export function layerLabel(layer: LayerRouting): string {
  return layer.decoderLayer === undefined ? `${layer.layer}` : `${layer.layer} (decoder ${layer.decoderLayer})`;
}

const droppedSets = new WeakMap<LayerRouting, Set<number>>();

/** Whether the layer's router dropped token `t` (capacity): no expert at all. */
export function isDropped(layer: LayerRouting, t: number): boolean {
  if (!layer.dropped || layer.dropped.length === 0) return false;
  let set = droppedSets.get(layer);
  if (!set) droppedSets.set(layer, (set = new Set(layer.dropped)));
  return set.has(t);
}

export const DROPPED_TEXT = 'dropped (over capacity)';
