import { invalid, Json, LoadContext } from '../config';
import { codePointBoundaries } from '../normalizedString';
import { Model, ModelToken } from './types';

interface TrieNode {
  next: Map<string, TrieNode>;
  id: number;
}

/**
 * SentencePiece Unigram: Viterbi over every vocab piece that matches at each
 * character. A character no single-character piece covers becomes an unknown
 * node scored (min score - 10); ties keep the earliest candidate, as the
 * reference implementations do.
 */
export class UnigramModel implements Model {
  readonly vocab = new Map<string, number>();
  readonly unkId: number;
  readonly fuseUnk = true;
  private readonly pieces: string[] = [];
  private readonly scores: number[] = [];
  private readonly unkScore: number;
  private readonly root: TrieNode = { next: new Map(), id: -1 };

  constructor(c: Json, ctx: LoadContext) {
    if (!Array.isArray(c.vocab)) invalid('Unigram model (vocab must be an array of [piece, score])', ctx);
    c.vocab.forEach((entry: unknown, id: number) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
        invalid(`Unigram vocab entry #${id}`, ctx);
      }
      this.pieces.push(entry[0]);
      this.scores.push(entry[1]);
      if (!this.vocab.has(entry[0])) this.vocab.set(entry[0], id);
    });
    if (typeof c.unk_id !== 'number' || c.unk_id < 0 || c.unk_id >= this.pieces.length) {
      invalid('Unigram model (unk_id missing or out of range)', ctx);
    }
    this.unkId = c.unk_id;
    // reduce, not Math.min(...scores): a 250k-piece vocabulary is more arguments than a call can take.
    this.unkScore = this.scores.reduce((m, x) => Math.min(m, x), Infinity) - 10;
    this.scores[this.unkId] = this.unkScore;
    this.pieces.forEach((p, id) => {
      let node = this.root;
      for (const ch of p) {
        let child = node.next.get(ch);
        if (!child) node.next.set(ch, (child = { next: new Map(), id: -1 }));
        node = child;
      }
      if (node.id < 0) node.id = id;
    });
  }

  tokenize(word: string): ModelToken[] {
    const bounds = codePointBoundaries(word);
    const n = bounds.length - 1;
    if (n === 0) return [];
    const chars: string[] = [];
    for (let i = 0; i < n; i++) chars.push(word.slice(bounds[i], bounds[i + 1]));
    // best[p]: score of the best path ending at char p; from/via: its last node.
    const best = new Float64Array(n + 1).fill(-Infinity);
    const fromPos = new Int32Array(n + 1).fill(-1);
    const viaId = new Int32Array(n + 1).fill(-1);
    best[0] = 0;
    const relax = (p: number, len: number, score: number, id: number): void => {
      const s = best[p] + score;
      if (fromPos[p + len] < 0 || s > best[p + len]) {
        best[p + len] = s;
        fromPos[p + len] = p;
        viaId[p + len] = id;
      }
    };
    for (let p = 0; p < n; p++) {
      if (p > 0 && fromPos[p] < 0) continue;
      let node: TrieNode | undefined = this.root;
      let single = false;
      for (let q = p; q < n; q++) {
        node = node.next.get(chars[q]);
        if (!node) break;
        if (node.id >= 0) {
          relax(p, q - p + 1, this.scores[node.id], node.id);
          if (q === p) single = true;
        }
      }
      if (!single) relax(p, 1, this.unkScore, this.unkId);
    }
    const out: ModelToken[] = [];
    for (let e = n; e > 0; e = fromPos[e]) {
      const s = fromPos[e];
      const id = viaId[e];
      const a = bounds[s];
      const b = bounds[e];
      out.push({ id, text: this.pieces[id], a, b });
    }
    return out.reverse();
  }
}
