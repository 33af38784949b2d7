/** Token labels on canvases (heatmap, K grid): made visible (displayToken) and cut with … to fit, cached per font. */
import { displayToken } from './dom';

const cache = new Map<string, string>();

export function truncateToWidth(c: CanvasRenderingContext2D, text: string, maxW: number): string {
  const key = `${c.font}\u0000${maxW}\u0000${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let s = displayToken(text);
  if (c.measureText(s).width > maxW) {
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (c.measureText(s.slice(0, mid) + '…').width <= maxW) lo = mid;
      else hi = mid - 1;
    }
    s = s.slice(0, lo) + '…';
  }
  if (cache.size > 20_000) cache.clear();
  cache.set(key, s);
  return s;
}
