/** Unicode-aware transforms of a NormalizedString that keep alignments exact. */
import { Builder, NormalizedString } from './normalizedString';

export type NormalForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

const MARK = /^\p{M}/u;

/**
 * Whether `ch` may combine with `prev` under normalisation, so the two must be
 * normalised together. Marks cover canonical composition except Hangul, whose
 * V/T jamo are not marks (and compose only after L jamo / LV syllables); the
 * NFKD check catches compatibility characters that decompose to a combining
 * mark (e.g. the half-width voiced sound mark U+FF9E).
 */
function continuesChunk(prev: number, ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x300) return false;
  if (cp >= 0x1161 && cp <= 0x1175) return prev >= 0x1100 && prev <= 0x1112;
  if (cp >= 0x11a8 && cp <= 0x11c2) {
    return (prev >= 0x1161 && prev <= 0x1175) || (prev >= 0xac00 && prev <= 0xd7a3 && (prev - 0xac00) % 28 === 0);
  }
  return MARK.test(ch) || MARK.test(ch.normalize('NFKD'));
}

interface Cp {
  ch: string;
  s: number;
  e: number;
}

/**
 * Unicode normalisation with alignment. The text is cut into chunks (a
 * character plus everything that may combine with it); each chunk is
 * normalised on its own. Where each code point of a chunk normalises
 * independently to the same result, outputs keep their own code point's
 * range; otherwise (composition, reordering) the whole chunk's range.
 * `keepAsIs` marks characters that must not be touched.
 */
export function normalizeUnicode(ns: NormalizedString, form: NormalForm, keepAsIs?: (ch: string) => boolean): NormalizedString {
  if (!keepAsIs && ns.text.normalize(form) === ns.text) return ns;
  let chunk: Cp[] = [];
  let frozen = false;
  let prev = -1;
  const flush = (out: Builder): void => {
    const c = chunk;
    chunk = [];
    if (c.length === 0) return;
    if (frozen) {
      out.push(c[0].ch, c[0].s, c[0].e);
      return;
    }
    const text = c.length === 1 ? c[0].ch : c.map((x) => x.ch).join('');
    const norm = text.normalize(form);
    if (norm === text) {
      for (const x of c) out.push(x.ch, x.s, x.e);
      return;
    }
    if (c.length === 1) {
      out.push(norm, c[0].s, c[0].e);
      return;
    }
    const parts = c.map((x) => x.ch.normalize(form));
    if (parts.join('') === norm) {
      c.forEach((x, k) => out.push(parts[k], x.s, x.e));
      return;
    }
    let s = c[0].s;
    let e = c[0].e;
    for (const x of c) {
      s = Math.min(s, x.s);
      e = Math.max(e, x.e);
    }
    out.push(norm, s, e);
  };
  return ns.transform((ch, s, e, out, i) => {
    const last = i + ch.length === ns.length;
    const next = last ? 0 : ns.text.charCodeAt(i + ch.length);
    if (ch.length === 1 && ch.charCodeAt(0) < 0x80 && next < 0x300) {
      // ASCII is stable, and nothing below U+0300 combines with it.
      flush(out);
      out.push(ch, s, e);
      prev = ch.charCodeAt(0);
      frozen = false;
      return;
    }
    const keep = keepAsIs !== undefined && keepAsIs(ch);
    if (chunk.length > 0 && (keep || frozen || !continuesChunk(prev, ch))) flush(out);
    prev = ch.codePointAt(0)!;
    chunk.push({ ch, s, e });
    frozen = keep;
    if (last) flush(out);
  });
}

/**
 * Lower-casing with alignment. Whole-string toLowerCase applies the Greek
 * final-sigma rule, which per-character lower-casing would miss; since the
 * per-character results have the same lengths, the whole-string result can be
 * cut back into per-character pieces.
 */
export function lowercase(ns: NormalizedString): NormalizedString {
  const full = ns.text.toLowerCase();
  if (full === ns.text) return ns;
  let pos = 0;
  return ns.transform((ch, s, e, out) => {
    const n = ch.toLowerCase().length;
    out.push(full.slice(pos, pos + n), s, e);
    pos += n;
  });
}

const NONSPACING_MARK = /^\p{Mn}$/u;
const ANY_NONSPACING_MARK = /\p{Mn}/u;

/**
 * Removes non-spacing marks (callers decompose first when they mean "strip
 * accents"). A removed mark that directly follows the kept text is folded into
 * the previous character's range, so "e\u0301" highlights as one unit.
 */
export function removeNonspacingMarks(ns: NormalizedString): NormalizedString {
  if (!ANY_NONSPACING_MARK.test(ns.text)) return ns;
  let lastEnd = -1;
  return ns.transform((ch, s, e, out) => {
    if (!NONSPACING_MARK.test(ch)) {
      out.push(ch, s, e);
      lastEnd = e;
    } else if (s === lastEnd) {
      out.extendLast(e);
      lastEnd = e;
    }
  });
}

/** The CJK ideograph blocks that BERT isolates with spaces (same table as Google's BERT). */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}
