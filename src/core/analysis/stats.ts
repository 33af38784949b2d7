/**
 * Routing statistics over one text or many (dataset spot-checks add example after example).
 *
 * Every token handed to `add` counts, special tokens included: [CLS]/[SEP] are routed and cost expert compute
 * like any other token. A view that wants content tokens only passes an `include` filter.
 */
import { routingFromLayers, TokenRouting } from './routed';
import type { ExpertCompute, ExpertFlops, ExpertLoad, LayerRouting, RoutingStats } from '../../shared/analysis';

export interface StatsConfig {
  numLayers: number;
  numExperts: number;
  /** Largest K a token can get (k_max, or k for top-k). */
  kMax: number;
  /** FLOPs of one expert on one token; null when unknown (the figures then count expert evaluations). */
  flopsPerExpertToken: number | null;
  /** How the graph that ran computes the experts, for ExpertFlops.executed. Default 'routed'. */
  expertCompute?: ExpertCompute;
  /** Count the co-activation matrix (default true); without it, result().coActivation is empty. */
  coActivation?: boolean;
}

export class RoutingStatsAccumulator {
  private tokens = 0;
  /** Flat [L, kMax + 1] counts of K; K above kMax (a broken model) is clamped into the last bin. */
  private readonly kCounts: Float64Array;
  /** Flat [L, E]: tokens routed to each expert, and the gate mass it received. */
  private readonly expertTokens: Float64Array;
  private readonly gateMass: Float64Array;
  /** Flat [L, E, E] (empty without co-activation). */
  private readonly coActivation: Float64Array;
  private kSum = 0;
  /** A token's chosen experts in one layer (scratch of addRouting). */
  private readonly chosen: Int32Array;

  constructor(readonly config: StatsConfig) {
    const { numLayers: L, numExperts: E, kMax } = config;
    this.kCounts = new Float64Array(L * (kMax + 1));
    this.expertTokens = new Float64Array(L * E);
    this.gateMass = new Float64Array(L * E);
    this.coActivation = new Float64Array(config.coActivation === false ? 0 : L * E * E);
    this.chosen = new Int32Array(E);
  }

  /**
   * Adds the routing of one sequence given as LayerRouting lists (experts and their gates per token).
   * `include(tokenIndex)` picks the tokens to count (default: all). Every layer must list the same tokens.
   */
  add(layers: readonly LayerRouting[], include?: (tokenIndex: number) => boolean): void {
    if (layers.length !== this.config.numLayers) {
      throw new Error(`RoutingStatsAccumulator: expected ${this.config.numLayers} layers, got ${layers.length}`);
    }
    this.addRouting(routingFromLayers(layers, this.config.numExperts), include);
  }

  /**
   * Adds the routing of one sequence as flat arrays: count [L, T], gates [L, T, E]; a token's experts are those
   * with a non-zero gate. `include(tokenIndex)` picks the tokens to count (default: all). Returns what the
   * sequence added (co-activation aside), for accumulators of subsets (addTally) that need not read it again.
   * (Flat typed arrays throughout: a spot-check adds thousands of sequences, and nested arrays per sequence were
   * most of its garbage.)
   */
  addRouting(
    r: Pick<TokenRouting, 'numLayers' | 'numExperts' | 'length' | 'count' | 'gates'>,
    include?: (tokenIndex: number) => boolean,
  ): RoutingTally {
    const { numLayers: L, numExperts: E, length: T } = r;
    if (L !== this.config.numLayers) throw new Error(`RoutingStatsAccumulator: expected ${this.config.numLayers} layers, got ${L}`);
    if (E !== this.config.numExperts) throw new Error(`RoutingStatsAccumulator: expected ${this.config.numExperts} experts, got ${E}`);
    const kMax = this.config.kMax;
    const bins = kMax + 1;
    const tally: RoutingTally = {
      tokens: 0,
      kSum: 0,
      kCounts: new Float64Array(L * bins),
      expertTokens: new Float64Array(L * E),
      gateMass: new Float64Array(L * E),
    };
    const { kCounts, expertTokens, gateMass } = tally;
    const co = this.coActivation;
    const withCo = co.length > 0;
    const chosen = this.chosen;
    const { count, gates } = r;
    for (let t = 0; t < T; t++) {
      if (include && !include(t)) continue;
      tally.tokens++;
      for (let l = 0; l < L; l++) {
        const lt = l * T + t;
        const k = count[lt];
        kCounts[l * bins + Math.min(Math.max(k, 0), kMax)]++;
        tally.kSum += k;
        let n = 0;
        const row = lt * E;
        const cell = l * E;
        for (let e = 0; e < E; e++) {
          const g = gates[row + e];
          if (g === 0) continue;
          chosen[n++] = e;
          expertTokens[cell + e]++;
          gateMass[cell + e] += g;
        }
        if (!withCo) continue;
        const layerBase = l * E * E;
        for (let i = 0; i < n; i++) {
          const coRow = layerBase + chosen[i] * E;
          for (let j = 0; j < n; j++) co[coRow + chosen[j]]++;
        }
      }
    }
    this.addTally(tally);
    return tally;
  }

  /** Adds what addRouting of another accumulator (same model) returned for a sequence; no co-activation. */
  addTally(t: RoutingTally): void {
    if (t.kCounts.length !== this.kCounts.length || t.expertTokens.length !== this.expertTokens.length) {
      throw new Error(
        `RoutingStatsAccumulator: a tally of ${t.kCounts.length / (this.config.kMax + 1)} layers does not fit ${this.config.numLayers} layers`,
      );
    }
    this.tokens += t.tokens;
    this.kSum += t.kSum;
    addInto(this.kCounts, t.kCounts);
    addInto(this.expertTokens, t.expertTokens);
    addInto(this.gateMass, t.gateMass);
  }

  result(): RoutingStats {
    const { numLayers: L, numExperts: E, kMax } = this.config;
    const perLayer = rows(this.kCounts, L, kMax + 1);
    const overall = Array.from({ length: kMax + 1 }, (_, k) => sum(perLayer.map((row) => row[k])));
    const meanPerLayer = perLayer.map((row) => {
      const n = sum(row);
      return n === 0 ? 0 : sum(row.map((c, k) => c * k)) / n;
    });
    const layerTokens = this.tokens * L;
    const gateMass = rows(this.gateMass, L, E);
    return {
      tokens: this.tokens,
      kHistogram: { perLayer, overall },
      meanK: { perLayer: meanPerLayer, overall: layerTokens === 0 ? 0 : this.kSum / layerTokens },
      expertLoad: rows(this.expertTokens, L, E).map((tokens, l) => expertLoad(l, tokens, gateMass[l])),
      coActivation:
        this.coActivation.length === 0
          ? []
          : Array.from({ length: L }, (_, l) => rows(this.coActivation.subarray(l * E * E, (l + 1) * E * E), E, E)),
      flops: this.flops(E),
    };
  }

  private flops(numExperts: number): ExpertFlops {
    const per = this.config.flopsPerExpertToken ?? 1;
    const layerTokens = this.tokens * this.config.numLayers;
    return {
      spent: this.kSum * per,
      executed: executedExpertFlops(this.kSum * per, layerTokens, numExperts, per, this.config.expertCompute ?? 'routed'),
      execution: this.config.expertCompute ?? 'routed',
      fixedTopKMax: layerTokens * this.config.kMax * per,
      fixedTop2: layerTokens * Math.min(2, numExperts) * per,
      perExpertToken: per,
      unit: this.config.flopsPerExpertToken === null ? 'expert-evaluations' : 'flops',
    };
  }
}

/**
 * Expert FLOPs a graph executed: what the router spent for a routed graph; for a dense-masked one (the GPU graph)
 * every expert on every (layer, token), chosen or not.
 */
export function executedExpertFlops(
  spent: number,
  layerTokens: number,
  numExperts: number,
  perExpertToken: number,
  compute: ExpertCompute,
): number {
  return compute === 'dense-masked' ? layerTokens * numExperts * perExpertToken : spent;
}

/** Load of one layer's experts from tokens routed to each and the gate mass each received. */
export function expertLoad(layer: number, tokens: readonly number[], gateMass: readonly number[]): ExpertLoad {
  const total = sum(tokens);
  const n = tokens.length;
  const mean = n === 0 ? 0 : total / n;
  const variance = n === 0 ? 0 : sum(tokens.map((x) => (x - mean) ** 2)) / n;
  return {
    layer,
    tokens: [...tokens],
    gateMass: [...gateMass],
    utilisation: tokens.map((x) => (mean === 0 ? 0 : x / mean)),
    dead: tokens.flatMap((x, e) => (x === 0 ? [e] : [])),
    cv: mean === 0 ? 0 : Math.sqrt(variance) / mean,
  };
}

/** What one sequence adds to the statistics, co-activation aside (see addRouting). */
export interface RoutingTally {
  tokens: number;
  kSum: number;
  /** Flat [L, kMax + 1]. */
  kCounts: Float64Array;
  /** Flat [L, E]. */
  expertTokens: Float64Array;
  gateMass: Float64Array;
}

function addInto(into: Float64Array, from: Float64Array): void {
  for (let i = 0; i < into.length; i++) into[i] += from[i];
}

/** A flat [n, cols] array as n plain rows. */
function rows(flat: Float64Array, n: number, cols: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * cols, (i + 1) * cols)));
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
