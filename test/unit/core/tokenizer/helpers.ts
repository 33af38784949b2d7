import * as fs from 'fs';
import * as path from 'path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '../../../../src/core/tokenizer';

/** Repo root, found by walking up: tests run both from sources and from out/. */
export const ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'out') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repo root not found');
    dir = up;
  }
  return dir;
})();

export type Family = 'wordpiece' | 'bpe' | 'unigram';
export const FAMILIES: Family[] = ['wordpiece', 'bpe', 'unigram'];

export function fixturePath(name: string): string {
  return path.join(ROOT, 'test', 'fixtures', 'tokenizers', `${name}.tokenizer.json`);
}

export function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export interface Pair {
  ours: Tokenizer;
  oracle: HfTokenizer;
  json: Record<string, unknown>;
}

/** Our tokenizer and the JS reference built from the same (optionally edited) JSON. */
export function load(json: Record<string, unknown>, source = 'test'): Pair {
  return { ours: Tokenizer.fromJSON(json, source), oracle: new HfTokenizer(structuredClone(json), {}), json };
}

/** The shipped model tokenizer, when it is present in the tree. */
export const SHIPPED = path.join(ROOT, 'models', 'damoe-sst2', 'tokenizer.json');

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const HOSTILE: string[] = [
  '',
  ' ',
  '     ',
  '\t\t',
  'line one\r\nline two\r\n',
  'tab\there',
  'nul\u0000in\u0000side',
  'ctrl\u0001\u0002\u0007\u001b\u007f\u0085chars',
  'zero\u200bwidth\u200cjoin\u200dnon\ufeffbom',
  'family 👩‍👩‍👧‍👦 and 👍🏽 thumbs',
  'flags 🇫🇷🇯🇵🏳️‍🌈',
  'combining e\u0301 a\u0308\u0304 o\u0323\u0302 Z\u0335\u0321a\u0336lgo',
  'precomposed é Å ñ ǅ ﬁ ﬂ ㎏ ① ²',
  'Hangul 한국어 텍스트 and jamo \u1100\u1161\u11a8',
  'CJK 中文字符 日本語のテキスト カタカナ ｶﾞｷﾞ',
  'RTL שלום עולם مرحبا بالعالم',
  'Greek ΟΔΟΣ Σίσυφος ΣΑΣ',
  'Turkish İstanbul ıi',
  'German STRASSE Straße ẞ',
  'literal [CLS] and [SEP] and [MASK] and [UNK]',
  'roberta <s> and </s> and <mask> here <pad>',
  '##hash ## #',
  'a'.repeat(101),
  'supercalifragilisticexpialidocious'.repeat(4),
  'numbers 3.14159 1,000,000 10/10 #1',
  "Don't can't won't y'all're it's",
  'fullwidth ＡＢＣ～ｘ',
  'math 𝐀𝐁𝐂 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'weird spaces\u00a0\u2003\u3000\u2028\u2029end',
  'lone \ud800 high and \udc00 low',
  '   leading and trailing   ',
  'MiXeD CaSe WoRdS',
  'I loved this movie! It was GREAT.',
  'The café on the corner serves crêpes à la carte.',
];

/** Random strings mixing the hostile fragments, random code points and plain words. */
export function randomStrings(count: number, seed: number): string[] {
  const r = rng(seed);
  const words = ['the', 'model', 'token', 'routing', 'expert', 'attention', 'a', 'I', 'Hello', 'WORLD', 'naïve'];
  const frags = [
    ' ',
    '  ',
    '\t',
    '\n',
    '\r\n',
    '\u00a0',
    '\u3000',
    '\u0000',
    '\u0001',
    '\u200d',
    '\ufeff',
    '\u0301',
    '\u0308',
    '👍',
    '🏽',
    '👩‍👧',
    '🇫🇷',
    'é',
    'e\u0301',
    'ﬁ',
    '①',
    '한',
    '\u1100\u1161',
    '中',
    '語',
    '𠀀',
    'ש',
    'م',
    'Σ',
    'İ',
    'ß',
    '[CLS]',
    '<mask>',
    '</s>',
    '##',
    '.',
    ',',
    '!',
    "'s",
    '～',
    '\ud800',
    '\udfff',
    '𝐀',
    'ｶﾞ',
    '...',
  ];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    const n = Math.floor(r() * 12);
    for (let k = 0; k < n; k++) {
      const p = r();
      if (p < 0.35) s += words[Math.floor(r() * words.length)];
      else if (p < 0.75) s += frags[Math.floor(r() * frags.length)];
      else if (p < 0.9) s += String.fromCodePoint(0x20 + Math.floor(r() * 0x2fe0));
      else s += String.fromCodePoint(0x10000 + Math.floor(r() * 0x20000));
    }
    out.push(s);
  }
  return out;
}
