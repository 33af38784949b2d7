/**
 * Long inputs: overlapping windows over the content tokens of the first text, and the map back from the merged
 * token list to the window (and position) each token's routing is read from.
 *
 * The text is tokenised once without specials; each window is a slice of those tokens that the tokenizer's
 * post-processor wraps in specials, so offsets always index the original text and nothing is truncated.
 */
import type { EncodedToken } from '../tokenizer';

export interface ContentWindow {
  /** [start, end) in content-token indices of the first text. */
  start: number;
  end: number;
}

export interface WindowPlan {
  windowTokens: number;
  overlapTokens: number;
  windows: ContentWindow[];
}

/**
 * Windows of `windowTokens` content tokens, neighbours sharing at least `overlapTokens`. The last window is
 * aligned to the end, so every window is full and the final overlap may be larger.
 */
export function planWindows(contentLength: number, windowTokens: number, overlapTokens: number): WindowPlan {
  if (!Number.isInteger(windowTokens) || windowTokens < 1) throw new RangeError(`windowTokens must be >= 1, got ${windowTokens}`);
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= windowTokens) {
    throw new RangeError(`overlapTokens must be in 0..${windowTokens - 1}, got ${overlapTokens}`);
  }
  if (contentLength <= windowTokens) return { windowTokens, overlapTokens, windows: [{ start: 0, end: contentLength }] };
  const stride = windowTokens - overlapTokens;
  const windows: ContentWindow[] = [];
  for (let start = 0; start + windowTokens < contentLength; start += stride) windows.push({ start, end: start + windowTokens });
  windows.push({ start: contentLength - windowTokens, end: contentLength });
  return { windowTokens, overlapTokens, windows };
}

/** Default overlap: a quarter of the window, so every token is at least W/8 from a window edge in some window. */
export function defaultOverlap(windowTokens: number): number {
  return Math.floor(windowTokens / 4);
}

/** The window in which content token `index` is farthest from an edge (the earlier one on a tie). */
export function mostCentralWindow(plan: WindowPlan, index: number): number {
  let best = -1;
  let bestMargin = -1;
  plan.windows.forEach((w, i) => {
    if (index < w.start || index >= w.end) return;
    const margin = Math.min(index - w.start, w.end - 1 - index);
    if (margin > bestMargin) {
      best = i;
      bestMargin = margin;
    }
  });
  if (best < 0) throw new RangeError(`content token ${index} is in no window`);
  return best;
}

/** The first window that holds content token `index`: where a causal LM sees the most tokens before it. */
export function longestContextWindow(plan: WindowPlan, index: number): number {
  const w = plan.windows.findIndex((w) => index >= w.start && index < w.end);
  if (w < 0) throw new RangeError(`content token ${index} is in no window`);
  return w;
}

/**
 * How a token is read when several windows hold it: 'most-central' (farthest from an edge: bidirectional models),
 * or 'longest-context' (the first window that holds it: causal LMs, whose prediction at a token depends only on
 * what comes before it).
 */
export type TokenSourceRule = 'most-central' | 'longest-context';

/** Where one merged token's routing comes from. */
export interface TokenSource {
  window: number;
  position: number;
}

/**
 * For each token of `merged` (the whole input, post-processed once), the window and position to read it from.
 * Content tokens of the first text: their window by `rule` (most central unless given). Specials before the first text: the first window;
 * specials after it: the last window. Tokens of the pair text (repeated in every window): the first window.
 */
export function mapMergedTokens(
  merged: readonly EncodedToken[],
  windows: readonly (readonly EncodedToken[])[],
  plan: WindowPlan,
  rule: TokenSourceRule = 'most-central',
): TokenSource[] {
  const choose = rule === 'longest-context' ? longestContextWindow : mostCentralWindow;
  const index = windows.map((tokens) => {
    const a: number[] = [];
    const b: number[] = [];
    const special: number[] = [];
    tokens.forEach((t, p) => (t.special ? special : t.sequenceIndex === 1 ? b : a).push(p));
    return { a, b, special };
  });
  const last = windows.length - 1;
  let contentIndex = 0;
  let pairIndex = 0;
  let specialIndex = 0;
  return merged.map((t): TokenSource => {
    if (t.special) {
      const window = contentIndex === 0 ? 0 : last;
      return { window, position: index[window].special[specialIndex++] };
    }
    if (t.sequenceIndex === 1) return { window: 0, position: index[0].b[pairIndex++] };
    const window = choose(plan, contentIndex);
    const position = index[window].a[contentIndex - plan.windows[window].start];
    contentIndex++;
    return { window, position };
  });
}
