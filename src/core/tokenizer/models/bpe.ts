import { asObject, bool, invalid, Json, LoadContext, str } from '../config';
import { codePointLength } from '../normalizedString';
import { Model, ModelToken } from './types';

interface Piece {
  text: string;
  a: number;
  b: number;
}

/**
 * BPE with a priority queue over adjacent pairs (lowest merge rank first,
 * leftmost on ties), so a pathological 10k-character word stays O(n log n).
 */
export class BpeModel implements Model {
  readonly vocab: Map<string, number>;
  readonly unkId: number | undefined;
  readonly fuseUnk: boolean;
  private readonly unkToken: string | undefined;
  private readonly ranks = new Map<string, Map<string, number>>();
  private readonly suffix: string;
  private readonly contSuffix: string;
  private readonly byteFallback: boolean;
  private readonly ignoreMerges: boolean;
  private readonly cache = new Map<string, Piece[]>();

  constructor(c: Json, ctx: LoadContext) {
    this.vocab = new Map(Object.entries(asObject(c.vocab, 'BPE vocab', ctx)) as Array<[string, number]>);
    this.unkToken = str(c, 'unk_token');
    this.unkId = this.unkToken === undefined ? undefined : this.vocab.get(this.unkToken);
    this.fuseUnk = bool(c, 'fuse_unk', false);
    this.suffix = str(c, 'end_of_word_suffix', '')!;
    this.contSuffix = str(c, 'continuing_subword_suffix', '')!;
    this.byteFallback = bool(c, 'byte_fallback', false);
    this.ignoreMerges = bool(c, 'ignore_merges', false);
    if (!Array.isArray(c.merges)) invalid('BPE model (merges must be an array)', ctx);
    c.merges.forEach((m: unknown, rank: number) => {
      let pair: [string, string];
      if (Array.isArray(m) && m.length === 2) pair = [String(m[0]), String(m[1])];
      else if (typeof m === 'string' && m.indexOf(' ') > 0) {
        const i = m.indexOf(' ');
        pair = [m.slice(0, i), m.slice(i + 1).split(' ')[0]];
      } else return invalid(`BPE merge #${rank}`, ctx);
      let inner = this.ranks.get(pair[0]);
      if (!inner) this.ranks.set(pair[0], (inner = new Map()));
      if (!inner.has(pair[1])) inner.set(pair[1], rank);
    });
  }

  tokenize(word: string): ModelToken[] {
    if (word.length === 0) return [];
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return [{ id, text: word, a: 0, b: word.length }];
    }
    const out: ModelToken[] = [];
    for (const p of this.merge(word)) {
      const id = this.vocab.get(p.text);
      if (id !== undefined) {
        out.push({ id, text: p.text, a: p.a, b: p.b });
        continue;
      }
      if (this.byteFallback) {
        const bytes = [...new TextEncoder().encode(p.text)].map(
          (x) => `<0x${x.toString(16).toUpperCase().padStart(2, '0')}>`,
        );
        const ids = bytes.map((t) => this.vocab.get(t));
        if (ids.every((x) => x !== undefined)) {
          // Every byte token of a character gets the whole character's range.
          bytes.forEach((t, k) => out.push({ id: ids[k]!, text: t, a: p.a, b: p.b }));
          continue;
        }
      }
      if (this.unkId !== undefined) out.push({ id: this.unkId, text: this.unkToken!, a: p.a, b: p.b });
    }
    return out;
  }

  private merge(word: string): Piece[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const text: string[] = [];
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < word.length; ) {
      const n = codePointLength(word, i);
      text.push(word.slice(i, i + n));
      a.push(i);
      b.push(i + n);
      i += n;
    }
    if (this.suffix) text[text.length - 1] += this.suffix;
    const n = text.length;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const version = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new PairHeap();
    const offer = (i: number): void => {
      const j = next[i];
      if (i < 0 || j < 0) return;
      const r = this.ranks.get(text[i])?.get(text[j]);
      if (r !== undefined) heap.push(r, i, j, version[i], version[j]);
    };
    for (let i = 0; i + 1 < n; i++) offer(i);
    while (heap.size > 0) {
      const [, i, j, vi, vj] = heap.pop();
      if (!alive[i] || !alive[j] || next[i] !== j || version[i] !== vi || version[j] !== vj) continue;
      text[i] += text[j];
      b[i] = b[j];
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      version[i]++;
      offer(prev[i]);
      offer(i);
    }
    const pieces: Piece[] = [];
    for (let i = 0; i >= 0 && i < n; i = next[i]) pieces.push({ text: text[i], a: a[i], b: b[i] });
    if (this.contSuffix) for (let k = 0; k + 1 < pieces.length; k++) pieces[k].text += this.contSuffix;
    if (word.length < 256) {
      if (this.cache.size >= 10000) this.cache.clear();
      this.cache.set(word, pieces);
    }
    return pieces;
  }
}

/** Min-heap of [rank, left, right, leftVersion, rightVersion], ordered by rank then left position. */
class PairHeap {
  private readonly items: Array<[number, number, number, number, number]> = [];

  get size(): number {
    return this.items.length;
  }

  push(rank: number, i: number, j: number, vi: number, vj: number): void {
    const h = this.items;
    h.push([rank, i, j, vi, vj]);
    let k = h.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!less(h[k], h[p])) break;
      [h[k], h[p]] = [h[p], h[k]];
      k = p;
    }
  }

  pop(): [number, number, number, number, number] {
    const h = this.items;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === k) break;
        [h[k], h[m]] = [h[m], h[k]];
        k = m;
      }
    }
    return top;
  }
}

function less(x: readonly number[], y: readonly number[]): boolean {
  return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);
}
