/** tokenizer.json `pre_tokenizer` section -> splitter of a NormalizedString into word pieces. */
import { BYTE_TO_CHAR, utf8Bytes } from './byteLevel';
import { asObject, bool, compilePattern, Json, LoadContext, str, unsupported } from './config';
import { Builder, NormalizedString } from './normalizedString';

/** `sectionIndex` is the index of the added-token section, for Metaspace's prepend_scheme "first". */
export type PreTokenizer = (pieces: NormalizedString[], sectionIndex: number) => NormalizedString[];

type Behavior = 'removed' | 'isolated' | 'contiguous' | 'merged_with_previous' | 'merged_with_next';

const PUNCT = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
// Same classes as the reference implementations (JS `\s` for BERT, matching its cleaned text).
const BERT_RE = new RegExp(`[^\\s${PUNCT}]+|[${PUNCT}]`, 'gu');
const BYTE_LEVEL_RE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
// Rust's `\w` is Unicode-aware; so is this one.
const WHITESPACE_RE =
  /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}\p{White_Space}]+/gu;
const NON_SPACE_RE = /\P{White_Space}+/gu;
const PUNCT_CHAR_RE = new RegExp(`[${PUNCT}]`, 'gu');
const DIGITS_RE = /\p{N}+/gu;
const DIGIT_RE = /\p{N}/gu;

export function createPreTokenizer(config: unknown, ctx: LoadContext): PreTokenizer | null {
  if (config === null || config === undefined) return null;
  const c = asObject(config, 'pre_tokenizer', ctx);
  const each =
    (f: (ns: NormalizedString, sectionIndex: number) => NormalizedString[]): PreTokenizer =>
    (pieces, sectionIndex) =>
      pieces.flatMap((p) => f(p, sectionIndex));
  switch (c.type) {
    case 'Sequence': {
      const list = Array.isArray(c.pretokenizers) ? c.pretokenizers : [];
      const steps = list.map((p) => createPreTokenizer(p, ctx)).filter((p): p is PreTokenizer => p !== null);
      return (pieces, idx) => steps.reduce((acc, step) => step(acc, idx), pieces);
    }
    case 'BertPreTokenizer':
      return each((ns) => matches(ns, BERT_RE));
    case 'Whitespace':
      return each((ns) => matches(ns, WHITESPACE_RE));
    case 'WhitespaceSplit':
      return each((ns) => matches(ns, NON_SPACE_RE));
    case 'Punctuation': {
      const behavior = readBehavior(c, 'isolated', ctx);
      return each((ns) => splitWith(ns, PUNCT_CHAR_RE, behavior, false));
    }
    case 'Digits': {
      const re = bool(c, 'individual_digits', false) ? DIGIT_RE : DIGITS_RE;
      return each((ns) => splitWith(ns, re, 'isolated', false));
    }
    case 'Split': {
      const re = compilePattern(c.pattern, ctx, 'Split pre-tokenizer');
      const behavior = readBehavior(c, 'isolated', ctx);
      const invert = bool(c, 'invert', false);
      return each((ns) => splitWith(ns, re, behavior, invert));
    }
    case 'Metaspace':
      return metaspace(c, ctx);
    case 'ByteLevel':
      return byteLevel(c);
    default:
      return unsupported('pre-tokenizer', c.type, ctx);
  }
}

function readBehavior(c: Json, fallback: Behavior, ctx: LoadContext): Behavior {
  const raw = str(c, 'behavior');
  if (raw === undefined) return fallback;
  const b = raw.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  if (['removed', 'isolated', 'contiguous', 'merged_with_previous', 'merged_with_next'].includes(b)) return b as Behavior;
  return unsupported('split behavior', raw, ctx);
}

/** Keeps the non-empty matches only (what is between them is dropped). */
function matches(ns: NormalizedString, re: RegExp): NormalizedString[] {
  const out: NormalizedString[] = [];
  for (const m of ns.text.matchAll(re)) {
    if (m[0].length > 0) out.push(ns.slice(m.index!, m.index! + m[0].length));
  }
  return out;
}

/** The Rust `SplitDelimiterBehavior` semantics over the matches of `re`. */
function splitWith(ns: NormalizedString, re: RegExp, behavior: Behavior, invert: boolean): NormalizedString[] {
  const segs: Array<{ a: number; b: number; m: boolean }> = [];
  let prev = 0;
  for (const m of ns.text.matchAll(re)) {
    const a = m.index!;
    const b = a + m[0].length;
    if (a === b) continue;
    if (a > prev) segs.push({ a: prev, b: a, m: invert });
    segs.push({ a, b, m: !invert });
    prev = b;
  }
  if (prev < ns.length) segs.push({ a: prev, b: ns.length, m: invert });

  const merged: Array<{ a: number; b: number }> = [];
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    switch (behavior) {
      case 'removed':
        if (!s.m) merged.push(s);
        break;
      case 'isolated':
        merged.push(s);
        break;
      case 'contiguous':
        if (s.m && i > 0 && segs[i - 1].m) merged[merged.length - 1].b = s.b;
        else merged.push({ a: s.a, b: s.b });
        break;
      case 'merged_with_previous':
        if (s.m && merged.length > 0 && i > 0 && !segs[i - 1].m) merged[merged.length - 1].b = s.b;
        else merged.push({ a: s.a, b: s.b });
        break;
      case 'merged_with_next':
        if (i > 0 && segs[i - 1].m && merged.length > 0 && !s.m) merged[merged.length - 1].b = s.b;
        else merged.push({ a: s.a, b: s.b });
        break;
    }
  }
  return merged.map((r) => ns.slice(r.a, r.b));
}

function metaspace(c: Json, ctx: LoadContext): PreTokenizer {
  const replacement = str(c, 'replacement', '\u2581')!;
  let scheme = str(c, 'prepend_scheme');
  // Older files only carry add_prefix_space.
  if (scheme === undefined) scheme = bool(c, 'add_prefix_space', true) ? 'always' : 'never';
  if (!['always', 'first', 'never'].includes(scheme)) unsupported('Metaspace prepend_scheme', scheme, ctx);
  const split = bool(c, 'split', true);
  const splitRe = new RegExp(replacement.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
  return (pieces, sectionIndex) =>
    pieces.flatMap((ns) => {
      let t = ns.transform((ch, s, e, out) => out.push(ch === ' ' ? replacement : ch, s, e));
      const prepend = scheme === 'always' || (scheme === 'first' && sectionIndex === 0);
      if (prepend && !t.text.startsWith(replacement)) t = t.prepend(replacement);
      return split ? splitWith(t, splitRe, 'merged_with_next', false) : [t];
    });
}

function byteLevel(c: Json): PreTokenizer {
  const addPrefixSpace = bool(c, 'add_prefix_space', true);
  const useRegex = bool(c, 'use_regex', true);
  return (pieces) =>
    pieces.flatMap((ns) => {
      if (addPrefixSpace && ns.length > 0 && !ns.text.startsWith(' ')) ns = ns.prepend(' ');
      const words = useRegex ? matches(ns, BYTE_LEVEL_RE) : [ns];
      return words.map(toByteChars);
    });
}

/** Each UTF-8 byte becomes one printable char aligned to its whole source character. */
function toByteChars(ns: NormalizedString): NormalizedString {
  return ns.transform((ch, s, e, out: Builder) => {
    const cp = ch.charCodeAt(0);
    if (ch.length === 1 && cp < 0x80) {
      out.push(BYTE_TO_CHAR[cp], s, e);
      return;
    }
    for (const b of utf8Bytes(ch)) out.push(BYTE_TO_CHAR[b], s, e);
  });
}
