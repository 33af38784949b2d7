import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { EncodedToken, Tokenizer } from '../../../../src/core/tokenizer';
import { FAMILIES, Family, fixturePath, HOSTILE, randomStrings } from './helpers';

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
const splitsPair = (s: string, i: number): boolean => i > 0 && i < s.length && isHigh(s.charCodeAt(i - 1)) && isLow(s.charCodeAt(i));

/** UTF-8 bytes of text as a latin1 string, so byte containment is a substring test. */
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
/** Byte-level token text back to its raw bytes (latin1 string). */
function byteLevelBytes(tok: string): string {
  const table = new Map<string, number>();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table.set(printable ? String.fromCharCode(b) : String.fromCharCode(256 + n++), b);
  }
  return [...tok].map((c) => String.fromCharCode(table.get(c)!)).join('');
}

/** Comparable form of a WordPiece/Unigram string: final sigma depends on context, whitespace is dropped. */
const canon = (s: string): string => s.replace(/ς/g, 'σ').replace(/\s|\u2581/g, '');

function checkEncoding(fam: Family, tok: Tokenizer, text: string, tokens: EncodedToken[]): void {
  const ctx = JSON.stringify(text);
  let prev: EncodedToken | undefined;
  const unk = tok.specialTokens.unk?.id;
  tokens.forEach((t, k) => {
    assert.equal(t.special, false, `no specials without addSpecialTokens: ${ctx}`);
    const s = t.start!;
    const e = t.end!;
    assert.ok(Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s <= e && e <= text.length, `bounds ${s}-${e}: ${ctx}`);
    assert.ok(!splitsPair(text, s) && !splitsPair(text, e), `surrogate split ${s}-${e}: ${ctx}`);
    let overlaps = false;
    if (prev) {
      assert.ok(prev.start! <= s, `starts monotone: ${ctx}`);
      if (prev.end! > s) {
        overlaps = true;
        // Only one source character (or one base+marks cluster normalised as a unit) may be shared.
        const shared = text.slice(s, prev.end!);
        assert.ok([...shared].length <= 1 || /^[\s\S]\p{M}+$/u.test(shared), `overlap "${shared}" in ${ctx}`);
      }
    }
    const next = tokens[k + 1];
    if (next && next.start! < e) overlaps = true;
    prev = t;
    if (t.id === unk) return;
    const slice = text.slice(s, e);
    if (slice === t.text) return; // an added token matched verbatim
    if (fam === 'bpe') {
      const want = byteLevelBytes(t.text);
      const have = utf8(slice);
      // A prefix space added by the pre-tokenizer has no source character.
      const ok = have.includes(want) || (s === 0 && (' ' + have).includes(want));
      assert.ok(ok, `bytes of ${t.text} not in ${JSON.stringify(slice)}: ${ctx}`);
      if (!overlaps && !(s === 0 && want.startsWith(' ') && !have.startsWith(' '))) assert.equal(have, want, ctx);
      return;
    }
    const want = canon(fam === 'wordpiece' ? t.text.replace(/^##/, '') : t.text);
    const have = canon(tok.normalize(slice));
    assert.ok(have.includes(want), `${JSON.stringify(t.text)} not in normalize(${JSON.stringify(slice)})=${JSON.stringify(have)}: ${ctx}`);
    if (!overlaps) assert.equal(have, want, `${JSON.stringify(t.text)} vs ${JSON.stringify(slice)}: ${ctx}`);
  });
}

describe('offsets into the original text', () => {
  for (const fam of FAMILIES) {
    it(`${fam}: 3000 random + hostile strings keep every range exact`, () => {
      const tok = Tokenizer.fromFile(fixturePath(fam));
      for (const text of [...HOSTILE, ...randomStrings(3000, 42 + fam.length)]) {
        checkEncoding(fam, tok, text, tok.encode(text, undefined, { addSpecialTokens: false }).tokens);
      }
    });
  }

  it('wordpiece: ranges survive lower-casing, accents, CRLF, tabs and CJK padding', () => {
    const tok = Tokenizer.fromFile(fixturePath('wordpiece'));
    const text = 'CAFÉ\r\n\tnaïve 中文';
    const got = tok.encode(text).tokens.map((t) => [t.text, t.start === null ? null : text.slice(t.start, t.end!)]);
    assert.deepEqual(got[0], ['[CLS]', null]);
    assert.deepEqual(got[got.length - 1], ['[SEP]', null]);
    const joined = got
      .slice(1, -1)
      .map(([, s]) => s)
      .join('|');
    assert.equal(joined.replace(/\|/g, ''), 'CAFÉnaïve中文');
    assert.ok(got.some(([t, s]) => t === '中' && s === '中'));
  });

  it('wordpiece: decomposed accents map to the whole base+mark cluster', () => {
    const tok = Tokenizer.fromFile(fixturePath('wordpiece'));
    const text = 'cafe\u0301';
    const toks = tok.encode(text, undefined, { addSpecialTokens: false }).tokens;
    assert.equal(toks[toks.length - 1].end, text.length);
  });

  it('bpe: emoji bytes map to the whole emoji, never half a surrogate pair', () => {
    const tok = Tokenizer.fromFile(fixturePath('bpe'));
    const text = 'hi 👍🏽!';
    const toks = tok.encode(text, undefined, { addSpecialTokens: false }).tokens;
    for (const t of toks) assert.ok(!splitsPair(text, t.start!) && !splitsPair(text, t.end!));
    assert.ok(toks.some((t) => text.slice(t.start!, t.end!) === '👍'));
    assert.equal(toks[toks.length - 1].end, text.length);
  });

  it('literal special-token text in the input is one token with a real range', () => {
    const tok = Tokenizer.fromFile(fixturePath('wordpiece'));
    const text = 'a [CLS] b';
    const toks = tok.encode(text, undefined, { addSpecialTokens: false }).tokens;
    const cls = toks.find((t) => t.text === '[CLS]')!;
    assert.equal(text.slice(cls.start!, cls.end!), '[CLS]');
    assert.equal(cls.special, false);
  });

  it('pairs: ranges index into their own string', () => {
    const tok = Tokenizer.fromFile(fixturePath('wordpiece'));
    const a = 'first text';
    const b = 'SECOND one';
    const enc = tok.encode(a, b);
    for (const t of enc.tokens) {
      if (t.special) {
        assert.equal(t.sequenceIndex, null);
        assert.equal(t.start, null);
        continue;
      }
      const src = t.sequenceIndex === 0 ? a : b;
      assert.equal(canon(tok.normalize(src.slice(t.start!, t.end!))), canon(t.text.replace(/^##/, '')));
    }
    assert.ok(enc.tokens.some((t) => t.sequenceIndex === 1));
  });

  it('unigram: prepended ▁ has an empty range, NFKC ligatures map to their source', () => {
    const tok = Tokenizer.fromFile(fixturePath('unigram'));
    const text = 'ﬁne ①';
    const toks = tok.encode(text, undefined, { addSpecialTokens: false }).tokens;
    assert.equal(toks[0].start, 0);
    for (const t of toks) assert.ok(t.end! <= text.length);
    assert.equal(toks[toks.length - 1].end, text.length);
  });
});
