import * as fs from 'fs';
import { readRegularTextFile } from '../model-files';
import { AddedToken, AddedTokenSplitter, readAddedTokens, Section } from './addedTokens';
import { asObject, LoadContext, TokenizerConfigError } from './config';
import { createDecoder, Decoder } from './decoders';
import { createModel, Model } from './models';
import { NormalizedString } from './normalizedString';
import { createNormalizer, Normalizer } from './normalizers';
import { createPostProcessor, PostProcessor } from './postProcessors';
import { createPreTokenizer, PreTokenizer } from './preTokenizers';

export interface EncodedToken {
  id: number;
  /** The vocabulary string for `id` (e.g. "##ing", "Ġthe", "▁the", "[UNK]"). */
  text: string;
  /** [start, end) in UTF-16 units of the input string this token came from; null for inserted specials. */
  start: number | null;
  end: number | null;
  /** True only for tokens inserted by the post-processor ([CLS], </s>...), which have no range. */
  special: boolean;
  /** Which input the range indexes into: 0 = text, 1 = pair; null for inserted specials. */
  sequenceIndex: 0 | 1 | null;
}

export interface Encoding {
  ids: number[];
  tokens: EncodedToken[];
  typeIds: number[];
  attentionMask: number[];
}

export interface EncodeOptions {
  /** Apply the post-processor template ([CLS] A [SEP] ...). Default true. */
  addSpecialTokens?: boolean;
}

export interface SpecialToken {
  token: string;
  id: number;
}

export type SpecialTokenRole = 'cls' | 'sep' | 'pad' | 'unk' | 'mask' | 'bos' | 'eos';

const ROLE_NAMES: Record<SpecialTokenRole, string[]> = {
  cls: ['[CLS]', '<s>', '<cls>'],
  sep: ['[SEP]', '</s>', '<sep>'],
  pad: ['[PAD]', '<pad>'],
  unk: ['[UNK]', '<unk>'],
  mask: ['[MASK]', '<mask>'],
  bos: ['<s>', '<bos>', '<|startoftext|>'],
  eos: ['</s>', '<eos>', '<|endoftext|>'],
};

export class Tokenizer {
  readonly vocabSize: number;
  readonly specialTokens: Readonly<Partial<Record<SpecialTokenRole, SpecialToken>>>;
  private readonly idToTokenTable: string[] = [];
  private readonly rawSplitter: AddedTokenSplitter;
  private readonly normSplitter: AddedTokenSplitter;
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly specialIdSet = new Set<number>();

  private constructor(
    private readonly normalizer: Normalizer | null,
    private readonly preTokenizer: PreTokenizer | null,
    private readonly model: Model,
    private readonly postProcessor: PostProcessor | null,
    private readonly decoder: Decoder | null,
    addedTokens: AddedToken[],
  ) {
    for (const [t, id] of model.vocab) this.idToTokenTable[id] ??= t;
    const raw: Array<[string, AddedToken]> = [];
    const norm: Array<[string, AddedToken]> = [];
    for (const t of addedTokens) {
      // Added tokens share the model's id space, and win over model pieces with the same text.
      model.vocab.set(t.content, t.id);
      this.idToTokenTable[t.id] = t.content;
      this.addedByContent.set(t.content, t);
      if (t.special) this.specialIdSet.add(t.id);
      if (t.normalized && normalizer) {
        const n = normalizer(NormalizedString.fromOriginal(t.content)).text;
        this.addedByContent.set(n, t);
        norm.push([n, t]);
      } else raw.push([t.content, t]);
    }
    this.rawSplitter = new AddedTokenSplitter(raw);
    this.normSplitter = new AddedTokenSplitter(norm);
    this.vocabSize = this.idToTokenTable.length;
    this.specialTokens = this.findSpecialTokens(addedTokens);
  }

  /** Loads a Hugging Face tokenizer.json; throws TokenizerConfigError naming the file on any problem. */
  static fromFile(path: string): Tokenizer {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (e) {
      throw readError(path, e);
    }
    return Tokenizer.fromText(text, path);
  }

  /**
   * fromFile without blocking the caller's thread on the read: the file is checked to be a regular file first (a
   * FIFO would block a read forever).
   */
  static async load(path: string): Promise<Tokenizer> {
    let text: string;
    try {
      text = await readRegularTextFile(path);
    } catch (e) {
      throw readError(path, e);
    }
    return Tokenizer.fromText(text, path);
  }

  /** A tokenizer.json's text, already read from `source` (named in errors). */
  static fromText(text: string, source = '<tokenizer.json>'): Tokenizer {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new TokenizerConfigError(`Malformed JSON in tokenizer file ${source}: ${(e as Error).message}`);
    }
    return Tokenizer.fromJSON(json, source);
  }

  static fromJSON(json: unknown, source = '<tokenizer.json>'): Tokenizer {
    const ctx: LoadContext = { source };
    const root = asObject(json, 'file (top level)', ctx);
    if (root.model === undefined) throw new TokenizerConfigError(`Malformed tokenizer file ${source}: no "model" section`);
    const normalizer = createNormalizer(root.normalizer, ctx);
    const preTokenizer = createPreTokenizer(root.pre_tokenizer, ctx);
    const model = createModel(root.model, ctx);
    const added = readAddedTokens(root.added_tokens, ctx);
    const lookup = (t: string): number | undefined => added.find((a) => a.content === t)?.id ?? model.vocab.get(t);
    const post = createPostProcessor(root.post_processor, ctx, lookup);
    const decoder = createDecoder(root.decoder, ctx);
    return new Tokenizer(normalizer, preTokenizer, model, post, decoder, added);
  }

  tokenToId(token: string): number | undefined {
    return this.model.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTokenTable[id];
  }

  /** True for the ids of added tokens marked special ([CLS], <|im_start|>...): what a decoder may skip. */
  isSpecialId(id: number): boolean {
    return this.specialIdSet.has(id);
  }

  /**
   * The text of each id once decoded, in order, so that their concatenation is the decoded text and each id's
   * [start, end) is known: token i is decoded after token i-1, and its piece is what it adds (the WordPiece and
   * Metaspace decoders treat a first token differently; a ByteLevel character split over two ids is U+FFFD in each).
   * Linear in the number of ids. Special ids give an empty piece: they are shown by their token string instead.
   */
  decodePieces(ids: readonly number[]): string[] {
    const out: string[] = [];
    let prev: string | null = null;
    for (const id of ids) {
      if (this.isSpecialId(id)) {
        out.push('');
        prev = null;
        continue;
      }
      const tok = this.idToToken(id) ?? '';
      if (!this.decoder) {
        out.push(prev === null ? tok : ' ' + tok);
      } else if (prev === null) {
        out.push(this.decoder([tok]).join(''));
      } else {
        const alone = this.decoder([prev]).join('');
        const both = this.decoder([prev, tok]).join('');
        out.push(both.startsWith(alone) ? both.slice(alone.length) : this.decoder([tok]).join(''));
      }
      prev = tok;
    }
    return out;
  }

  /** The normaliser alone, on a plain string (mainly for tests and diagnostics). */
  normalize(text: string): string {
    return this.normalizer ? this.normalizer(NormalizedString.fromOriginal(text)).text : text;
  }

  /** Tokens of one sequence, no specials; ranges index into `text`. */
  tokenize(text: string, sequenceIndex: 0 | 1 = 0): EncodedToken[] {
    const out: EncodedToken[] = [];
    const steps = this.tokenizeSteps(text, sequenceIndex, out);
    while (!steps.next().done) {
      // run every slice at once
    }
    return out;
  }

  /**
   * tokenize, in slices: `pause` is awaited every few thousand words (it resolves at once, or after the event loop
   * has run), so a long text never blocks the caller's thread for long. The tokens are exactly tokenize's.
   */
  async tokenizeAsync(text: string, sequenceIndex: 0 | 1, pause: () => Promise<void> | undefined): Promise<EncodedToken[]> {
    const out: EncodedToken[] = [];
    const steps = this.tokenizeSteps(text, sequenceIndex, out);
    while (!steps.next().done) await pause();
    return out;
  }

  /** The tokenisation of `text` into `out`, yielding between slices of words. */
  private *tokenizeSteps(text: string, sequenceIndex: 0 | 1, out: EncodedToken[]): Generator<void> {
    const sections = this.rawSplitter.split(text);
    for (let sectionIndex = 0; sectionIndex < sections.length; sectionIndex++) {
      const sec = sections[sectionIndex];
      if (sec.a >= sec.b) continue;
      if (sec.token) {
        out.push(this.rangeToken(sec.token.id, sec.token.content, sec.a, sec.b, sequenceIndex));
        continue;
      }
      const raw = text.slice(sec.a, sec.b);
      const whole = this.addedByContent.get(raw);
      if (whole) {
        out.push(this.rangeToken(whole.id, whole.content, sec.a, sec.b, sequenceIndex));
        continue;
      }
      let ns = NormalizedString.fromOriginal(raw, sec.a);
      if (this.normalizer) ns = this.normalizer(ns);
      if (ns.length === 0) continue;
      yield;
      for (const sub of this.normSplitter.split(ns.text)) yield* this.tokenizeNormalized(ns, sub, sectionIndex, sequenceIndex, out);
    }
  }

  private *tokenizeNormalized(ns: NormalizedString, sub: Section, sectionIndex: number, seq: 0 | 1, out: EncodedToken[]): Generator<void> {
    if (sub.a >= sub.b) return;
    const range = (a: number, b: number): [number, number] => ns.offsets(a, b) ?? [ns.starts[a] ?? 0, ns.starts[a] ?? 0];
    const added = sub.token ?? this.addedByContent.get(ns.text.slice(sub.a, sub.b));
    if (added) {
      const [s, e] = range(sub.a, sub.b);
      out.push(this.rangeToken(added.id, added.content, s, e, seq));
      return;
    }
    const piece = ns.slice(sub.a, sub.b);
    const words = this.preTokenizer ? this.preTokenizer([piece], sectionIndex) : [piece];
    const first = out.length;
    yield;
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      for (const t of this.model.tokenize(w.text)) {
        const [s, e] = w.offsets(t.a, t.b) ?? [w.starts[t.a], w.starts[t.a]];
        out.push(this.rangeToken(t.id, t.text, s, e, seq));
      }
      if ((i & 1023) === 1023) yield;
    }
    if (this.model.fuseUnk) fuseUnknowns(out, first, this.model.unkId);
  }

  private rangeToken(id: number, text: string, start: number, end: number, seq: 0 | 1): EncodedToken {
    return { id, text, start, end, special: false, sequenceIndex: seq };
  }

  /**
   * Encodes `text` (and optionally `pair`). Ranges of pair tokens index into
   * `pair`; tell them apart with `sequenceIndex`.
   */
  encode(text: string, pair?: string, opts: EncodeOptions = {}): Encoding {
    const a = this.tokenize(text, 0);
    const b = pair === undefined ? undefined : this.tokenize(pair, 1);
    return this.postProcess(a, b, opts.addSpecialTokens ?? true);
  }

  /**
   * Wraps already-tokenised sequences with the post-processor's specials
   * (e.g. one window of a long text). Without specials it still assigns the
   * template's type ids.
   */
  postProcess(a: readonly EncodedToken[], b?: readonly EncodedToken[], addSpecialTokens = true): Encoding {
    const tokens: EncodedToken[] = [];
    const typeIds: number[] = [];
    if (!this.postProcessor) {
      for (const t of a) {
        tokens.push(t);
        typeIds.push(0);
      }
      for (const t of b ?? []) {
        tokens.push(t);
        typeIds.push(1);
      }
    } else {
      for (const item of this.postProcessor.layout(b !== undefined)) {
        if (item.kind === 'sequence') {
          for (const t of item.seq === 0 ? a : (b ?? [])) {
            tokens.push(t);
            typeIds.push(item.typeId);
          }
        } else if (addSpecialTokens) {
          item.piece.ids.forEach((id, k) => {
            tokens.push({ id, text: item.piece.tokens[k] ?? '', start: null, end: null, special: true, sequenceIndex: null });
            typeIds.push(item.piece.typeId);
          });
        }
      }
    }
    return { ids: tokens.map((t) => t.id), tokens, typeIds, attentionMask: tokens.map(() => 1) };
  }

  /** How many specials postProcess adds (to size windows). */
  numSpecialTokensToAdd(pair = false): number {
    if (!this.postProcessor) return 0;
    return this.postProcessor.layout(pair).reduce((n, item) => n + (item.kind === 'special' ? item.piece.ids.length : 0), 0);
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    const specialIds = new Set(Object.values(this.specialTokens).map((s) => s!.id));
    const tokens = ids.filter((id) => !(opts.skipSpecialTokens && specialIds.has(id))).map((id) => this.idToToken(id) ?? '');
    return this.decoder ? this.decoder(tokens).join('') : tokens.join(' ');
  }

  private findSpecialTokens(added: AddedToken[]): Partial<Record<SpecialTokenRole, SpecialToken>> {
    const found: Partial<Record<SpecialTokenRole, SpecialToken>> = {};
    for (const role of Object.keys(ROLE_NAMES) as SpecialTokenRole[]) {
      for (const name of ROLE_NAMES[role]) {
        const t = added.find((x) => x.content === name);
        if (t) {
          found[role] = { token: t.content, id: t.id };
          break;
        }
      }
    }
    if (this.model.unkId !== undefined) {
      found.unk = { token: this.idToToken(this.model.unkId) ?? '', id: this.model.unkId };
    }
    // The template's first/last specials are what the model was trained to see around a sequence.
    const layout = this.postProcessor?.layout(false) ?? [];
    const firstSpecial = layout[0]?.kind === 'special' ? layout[0].piece : undefined;
    const last = layout[layout.length - 1];
    const lastSpecial = last?.kind === 'special' ? last.piece : undefined;
    if (firstSpecial && !found.cls) found.cls = { token: firstSpecial.tokens[0], id: firstSpecial.ids[0] };
    if (lastSpecial && !found.sep) found.sep = { token: lastSpecial.tokens[0], id: lastSpecial.ids[0] };
    return found;
  }
}

/** Collapses runs of unknown tokens (from `from` on) into one covering their union. */
function fuseUnknowns(out: EncodedToken[], from: number, unkId: number | undefined): void {
  if (unkId === undefined) return;
  let w = from;
  for (let r = from; r < out.length; r++) {
    const t = out[r];
    const prev = w > from ? out[w - 1] : undefined;
    if (prev && prev.id === unkId && t.id === unkId) {
      prev.start = Math.min(prev.start!, t.start!);
      prev.end = Math.max(prev.end!, t.end!);
      continue;
    }
    out[w++] = t;
  }
  out.length = w;
}

/** A failed read of the tokenizer file as the error the user sees (not found, or why it cannot be read). */
function readError(path: string, e: unknown): TokenizerConfigError {
  const code = (e as NodeJS.ErrnoException).code;
  return new TokenizerConfigError(
    code === 'ENOENT' ? `Tokenizer file not found: ${path}` : `Cannot read tokenizer file ${path}: ${(e as Error).message}`,
  );
}
