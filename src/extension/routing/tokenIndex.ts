/**
 * Offset ↔ token lookup over an Analysis (pure). Analysis offsets are UTF-16 units of Analysis.text; the caller
 * adds the document offset where the analysed text began. Tokens of a second segment (textPair) index into other
 * text and are left out: the editor only ever analyses one segment.
 */
import type { AnalysisToken } from '../../shared/analysis';

interface Span {
  start: number;
  end: number;
  index: number;
}

export class TokenIndex {
  /** Content tokens with offsets, sorted by start then token index (tokenizers emit them in order; we don't rely on it). */
  private readonly spans: Span[];

  constructor(tokens: readonly AnalysisToken[]) {
    this.spans = tokens
      .filter((t) => !t.special && (t.sequence ?? 0) === 0 && t.start !== null && t.end !== null && t.end >= t.start)
      .map((t) => ({ start: t.start as number, end: t.end as number, index: t.index }))
      .sort((a, b) => a.start - b.start || a.index - b.index);
  }

  get size(): number {
    return this.spans.length;
  }

  /**
   * The token whose [start, end) holds `offset`. With `inclusiveEnd` (cursor positions sit *between* characters),
   * a cursor right after a token's last character still counts as on it when no token starts there.
   * Tokens that share a span (byte-level BPE splitting one character) resolve to the first of them.
   */
  at(offset: number, inclusiveEnd = false): number | null {
    const s = this.spans;
    if (s.length === 0 || !Number.isFinite(offset)) return null;
    // Binary search: last span with start <= offset.
    let lo = 0;
    let hi = s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid].start <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return null;
    // Walk back over spans with the same start (and a few overlapping predecessors) to honour "first of a shared span".
    let first = found;
    while (first > 0 && s[first - 1].start === s[found].start) first--;
    for (let i = first; i <= found; i++) if (offset < s[i].end) return s[i].index;
    // Overlapping longer span that started earlier (rare; bounded look-back keeps this O(log n) in practice).
    for (let i = first - 1; i >= 0 && i >= first - 8; i--) if (offset < s[i].end) return s[i].index;
    if (inclusiveEnd) {
      for (let i = found; i >= first; i--) if (s[i].end === offset) return s[i].index;
    }
    return null;
  }
}
