/**
 * The K rule as the model's metadata states it (docs/model-contract.md, `moe.contract` → `importance`), read for
 * display: where K steps up along the importance axis, and the words the exporter wrote. Nothing here decides K:
 * the exported graph does (training/damoe/routing.py `experts_per_token`), and the views show the model's own
 * `expert_count`. These thresholds only mark, on the importance legend and in the K grid, where that rule says K
 * changes; a unit test checks them against the K the shipped model actually gave (test/unit/shared/k-rule.test.ts).
 *
 * The rule `K = clamp(ceil(s · importance), 1, k_max)` with s = k_scale · k_max (or, for a calibrated rule, the
 * per-layer s of `k_calibration.s_per_layer`) gives K = k exactly when (k − 1)/s < importance ≤ k/s, so K steps from
 * k to k + 1 at importance k/s, for k = 1..k_max − 1 (shipped damoe-sst2: s = 1.5, steps at 0.667, 1.333, 2.000).
 */
import type { ModelSummary } from './analysis';

export interface KRuleInfo {
  /** 'dynamic': K follows importance by the stated rule; 'fixed': top-k (K never changes); 'unknown': a DA-MoE
   * model whose metadata does not give the numbers (thresholds are then not drawn, and the views say so). */
  kind: 'dynamic' | 'fixed' | 'unknown';
  kMax: number;
  /** Per layer the s of K = clamp(ceil(s · importance), 1, k_max), or one s for every layer; null when unknown. */
  scale: number[] | number | null;
  /** The metadata's words, shown as given (null when absent). */
  rule: string | null;
  definition: string | null;
  normalization: string | null;
  /** Where s came from: 'k_scale' (s = k_scale · k_max) or 'k_calibration' (s_per_layer). */
  source: 'k_scale' | 'k_calibration' | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const posNum = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);

export function kRuleOf(model: Pick<ModelSummary, 'routerKind' | 'kMax' | 'importanceDefinition'>): KRuleInfo {
  const imp = model.importanceDefinition ?? null;
  const base = {
    kMax: model.kMax,
    rule: str(imp?.k_rule),
    definition: str(imp?.definition),
    normalization: str(imp?.normalization),
  };
  if (model.routerKind !== 'da-moe') return { ...base, kind: 'fixed', scale: null, source: null };
  const cal = imp?.k_calibration;
  if (cal && typeof cal === 'object' && !Array.isArray(cal)) {
    const s = (cal as Record<string, unknown>).s_per_layer;
    if (Array.isArray(s) && s.length > 0 && s.every((x) => posNum(x) !== null))
      return { ...base, kind: 'dynamic', scale: s as number[], source: 'k_calibration' };
  }
  const kScale = posNum(imp?.k_scale);
  if (kScale !== null) return { ...base, kind: 'dynamic', scale: kScale * model.kMax, source: 'k_scale' };
  return { ...base, kind: 'unknown', scale: null, source: null };
}

/** The s of layer l, or null when the rule does not give one. */
export function kScaleOf(rule: KRuleInfo, layer: number): number | null {
  if (rule.scale === null) return null;
  if (typeof rule.scale === 'number') return rule.scale;
  return rule.scale[layer] ?? null;
}

/**
 * Importance values at which K steps from k to k + 1 in layer l (k = 1..k_max − 1, ascending); [] for fixed-K
 * models and for rules the metadata does not give. A token with importance ≤ thresholds[0] gets K = 1; one above
 * thresholds[k − 1] and ≤ thresholds[k] gets K = k + 1.
 */
export function kThresholds(rule: KRuleInfo, layer: number): number[] {
  const s = kScaleOf(rule, layer);
  if (rule.kind !== 'dynamic' || s === null) return [];
  const out: number[] = [];
  for (let k = 1; k < rule.kMax; k++) out.push(k / s);
  return out;
}

/** The K the stated rule gives an importance (for marking where a token sits; the model's K is what is shown). */
export function kFromRule(rule: KRuleInfo, layer: number, importance: number): number | null {
  const s = kScaleOf(rule, layer);
  if (rule.kind !== 'dynamic' || s === null || !Number.isFinite(importance)) return null;
  return Math.min(rule.kMax, Math.max(1, Math.ceil(s * importance)));
}

/** One line for the panel: "K = clamp(ceil(1.5 · importance), 1, 4), s = k_scale · k_max: K=1 up to 0.667, …, K=4 above 2.000". */
export function describeKRule(rule: KRuleInfo, layer: number): string {
  if (rule.kind === 'fixed') return `fixed K = ${rule.kMax} for every token`;
  const s = kScaleOf(rule, layer);
  if (rule.kind === 'unknown' || s === null) return rule.rule ?? 'the model does not state its K rule';
  const th = kThresholds(rule, layer);
  const steps = th.map((t, i) => `K=${i + 1} up to ${t.toFixed(3)}`);
  steps.push(th.length ? `K=${rule.kMax} above ${th[th.length - 1].toFixed(3)}` : `K=${rule.kMax}`);
  const where = rule.source === 'k_calibration' ? `the calibrated s of layer ${layer}` : 'k_scale · k_max';
  return `K = clamp(ceil(${+s.toFixed(4)} · importance), 1, ${rule.kMax}), s = ${where}: ${steps.join(', ')}`;
}
