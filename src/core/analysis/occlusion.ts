/**
 * The bookkeeping of occlusion (docs/importance-check.md): which model inputs remove which token, and how their
 * outputs become "the prediction without token t". Pure: the engine runs the inputs (occludeBatch in engine.ts).
 *
 * A token is removed by deleting its id from every window that holds it (a content token of the first text: the
 * windows over its position; a token of the pair text: every window, each repeats the pair). The other windows are
 * not re-run: their probabilities are the unoccluded run's. The occluded prediction merges the windows the way the
 * prediction does (the mean of the windows' probabilities), so for a text in one window it is plainly the model's
 * output on the ids without the token. Windows keep their places: deleting a token does not re-plan them.
 */
import type { EncodedToken } from '../tokenizer';
import type { WindowPlan } from './windowing';
import type { Prediction } from '../../shared/analysis';

/** One window of an input as the model sees it. */
export interface OcclusionWindow {
  ids: readonly number[];
  tokens: readonly EncodedToken[];
}

/** Where a merged token sits in one window. */
export interface TokenPlace {
  window: number;
  position: number;
}

/** One model input: window `window` of the text with token `token` (an index into the merged tokens) deleted. */
export interface OcclusionVariant {
  token: number;
  window: number;
  ids: number[];
}

/**
 * For each merged token, every window that holds it and its position there; [] for special tokens, which are never
 * occluded. Content tokens of the first text are matched to windows by their index among that text's tokens.
 */
export function tokenPlaces(merged: readonly EncodedToken[], windows: readonly OcclusionWindow[], plan: WindowPlan): TokenPlace[][] {
  if (windows.length !== plan.windows.length) {
    throw new RangeError(`${windows.length} windows given for a plan of ${plan.windows.length}`);
  }
  const index = windows.map((w) => {
    const a: number[] = [];
    const b: number[] = [];
    w.tokens.forEach((t, p) => {
      if (!t.special) (t.sequenceIndex === 1 ? b : a).push(p);
    });
    return { a, b };
  });
  let content = 0;
  let pair = 0;
  return merged.map((t): TokenPlace[] => {
    if (t.special) return [];
    if (t.sequenceIndex === 1) {
      const p = pair++;
      return index.map((w, window) => ({ window, position: w.b[p] }));
    }
    const c = content++;
    const places: TokenPlace[] = [];
    plan.windows.forEach((w, window) => {
      if (c >= w.start && c < w.end) places.push({ window, position: index[window].a[c - w.start] });
    });
    if (places.length === 0) throw new RangeError(`content token ${c} is in no window`);
    return places;
  });
}

/** Every input the occlusion of one text needs: per ordinary token, one per window that holds it. */
export function occlusionVariants(
  merged: readonly EncodedToken[],
  windows: readonly OcclusionWindow[],
  plan: WindowPlan,
): OcclusionVariant[] {
  const variants: OcclusionVariant[] = [];
  tokenPlaces(merged, windows, plan).forEach((places, token) => {
    for (const { window, position } of places) {
      const ids = windows[window].ids;
      variants.push({ token, window, ids: [...ids.slice(0, position), ...ids.slice(position + 1)] });
    }
  });
  return variants;
}

/**
 * The class probabilities of the text without each token: the mean over windows, a window that held the token
 * replaced by its variant's probabilities. `variantProbs[i]` belongs to `variants[i]`; `windowProbs[w]` are window
 * w's unoccluded probabilities. null for tokens without a variant (special tokens).
 */
export function occludedProbabilities(
  tokenCount: number,
  variants: readonly OcclusionVariant[],
  variantProbs: readonly (readonly number[])[],
  windowProbs: readonly (readonly number[])[],
): (number[] | null)[] {
  if (variantProbs.length !== variants.length) {
    throw new RangeError(`${variantProbs.length} results for ${variants.length} occluded inputs`);
  }
  const W = windowProbs.length;
  const replaced: (Map<number, readonly number[]> | null)[] = new Array(tokenCount).fill(null);
  variants.forEach((v, i) => {
    const m = (replaced[v.token] ??= new Map());
    m.set(v.window, variantProbs[i]);
  });
  return replaced.map((m) => {
    if (!m) return null;
    const C = windowProbs[0]?.length ?? 0;
    const mean = new Array<number>(C).fill(0);
    for (let w = 0; w < W; w++) {
      const p = m.get(w) ?? windowProbs[w];
      for (let c = 0; c < C; c++) mean[c] += p[c] / W;
    }
    return mean;
  });
}

/** p(c | text) - p(c | text without the token) for each token; null where nothing was occluded. */
export function probabilityDrops(base: readonly number[], occluded: readonly (readonly number[] | null)[], cls: number): (number | null)[] {
  return occluded.map((p) => (p === null ? null : base[cls] - p[cls]));
}

/** One text through the occlusion: its unoccluded routing's importance and each token's drop. */
export interface OccludedText {
  /** Importance [L, T] of the unoccluded run, flattened (TokenRouting.importance); null when the model has none. */
  importance: Float32Array | null;
  /** Tokens (T), special tokens included. */
  length: number;
  /** Per token: p(c) - p(c | text without it), c = prediction.index; null for special tokens. */
  drops: (number | null)[];
  /** The prediction on the whole text. */
  prediction: Prediction;
  /** Model runs (sequences) this text took: its windows and its occluded inputs. */
  sequences: number;
}
