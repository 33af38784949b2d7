import { asObject, invalid, Json, LoadContext, str } from '../config';
import { codePointBoundaries } from '../normalizedString';
import { Model, ModelToken } from './types';

const WORD_CACHE_SIZE = 20_000;

/** Greedy longest-match-first WordPiece; an unmatchable or over-long word is one unknown token. */
export class WordPieceModel implements Model {
  readonly vocab: Map<string, number>;
  readonly unkId: number;
  readonly fuseUnk = false;
  private readonly unkToken: string;
  private readonly prefix: string;
  private readonly maxChars: number;
  /** Word -> pieces. Natural text repeats words, and a dataset spot-check tokenises thousands of texts. */
  private readonly cache = new Map<string, readonly ModelToken[]>();

  constructor(c: Json, ctx: LoadContext) {
    this.vocab = new Map(Object.entries(asObject(c.vocab, 'WordPiece vocab', ctx)) as Array<[string, number]>);
    this.unkToken = str(c, 'unk_token', '[UNK]')!;
    const unk = this.vocab.get(this.unkToken);
    if (unk === undefined) invalid(`WordPiece model (unk_token ${this.unkToken} not in vocab)`, ctx);
    this.unkId = unk;
    this.prefix = str(c, 'continuing_subword_prefix', '##')!;
    this.maxChars = typeof c.max_input_chars_per_word === 'number' ? c.max_input_chars_per_word : 100;
  }

  tokenize(word: string): readonly ModelToken[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const pieces = Object.freeze(this.split(word));
    if (this.cache.size >= WORD_CACHE_SIZE) this.cache.clear();
    this.cache.set(word, pieces);
    return pieces;
  }

  private split(word: string): ModelToken[] {
    const bounds = codePointBoundaries(word);
    const n = bounds.length - 1;
    const whole = [{ id: this.unkId, text: this.unkToken, a: 0, b: word.length }];
    if (n > this.maxChars) return whole;
    const out: ModelToken[] = [];
    let start = 0;
    while (start < n) {
      let end = n;
      let found: ModelToken | null = null;
      while (start < end) {
        const a = bounds[start];
        const b = bounds[end];
        const sub = start > 0 ? this.prefix + word.slice(a, b) : word.slice(a, b);
        const id = this.vocab.get(sub);
        if (id !== undefined) {
          found = { id, text: sub, a, b };
          break;
        }
        end--;
      }
      if (found === null) return whole;
      out.push(found);
      start = end;
    }
    return out;
  }
}
