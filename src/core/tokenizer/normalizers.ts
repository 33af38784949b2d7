/** tokenizer.json `normalizer` section -> an alignment-preserving transform. */
import { asObject, bool, compilePattern, Json, LoadContext, str, unsupported } from './config';
import { NormalizedString } from './normalizedString';
import { isChineseChar, lowercase, normalizeUnicode, removeNonspacingMarks } from './unicode';

export type Normalizer = (ns: NormalizedString) => NormalizedString;

export function createNormalizer(config: unknown, ctx: LoadContext): Normalizer | null {
  if (config === null || config === undefined) return null;
  const c = asObject(config, 'normalizer', ctx);
  switch (c.type) {
    case 'BertNormalizer':
      return bertNormalizer(c);
    case 'Sequence': {
      const list = Array.isArray(c.normalizers) ? c.normalizers : [];
      const steps = list.map((n) => createNormalizer(n, ctx)).filter((n): n is Normalizer => n !== null);
      return (ns) => steps.reduce((acc, step) => step(acc), ns);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = c.type;
      return (ns) => normalizeUnicode(ns, form);
    }
    case 'Lowercase':
      return lowercase;
    case 'StripAccents':
      return removeNonspacingMarks;
    case 'Strip': {
      const left = bool(c, 'strip_left', false);
      const right = bool(c, 'strip_right', false);
      return (ns) => ns.trim(left, right);
    }
    case 'Replace': {
      const re = compilePattern(c.pattern, ctx, 'Replace normalizer');
      const content = str(c, 'content', '')!;
      return (ns) => ns.replace(re, content);
    }
    case 'Prepend': {
      const p = str(c, 'prepend', '')!;
      return (ns) => ns.prepend(p);
    }
    case 'Precompiled':
      return precompiledApproximation;
    default:
      return unsupported('normalizer', c.type, ctx);
  }
}

const CONTROL_OR_FORMAT = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
// Cheap whole-string pre-checks so plain text skips the per-character passes.
const NEEDS_CLEANING = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\ufffd]|[^\S ]/u;
const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2fa1f}]/u;
// Deliberately the non-`u` JS class: a single-unit test, so astral chars are never "space".
const JS_SPACE = /^\s$/;

function bertNormalizer(c: Json): Normalizer {
  const cleanText = bool(c, 'clean_text', true);
  const chinese = bool(c, 'handle_chinese_chars', true);
  const lower = bool(c, 'lowercase', true);
  const strip = typeof c.strip_accents === 'boolean' ? c.strip_accents : lower;
  return (ns) => {
    if (cleanText && NEEDS_CLEANING.test(ns.text)) {
      ns = ns.transform((ch, s, e, out) => {
        const cp = ch.codePointAt(0)!;
        if (cp === 0 || cp === 0xfffd) return;
        if (ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL_OR_FORMAT.test(ch)) return;
        out.push(JS_SPACE.test(ch) ? ' ' : ch, s, e);
      });
    }
    if (chinese && CJK.test(ns.text)) {
      ns = ns.transform((ch, s, e, out) => {
        if (isChineseChar(ch.codePointAt(0)!)) {
          // Padding spaces are insertions: empty ranges so they never widen a token.
          out.push(' ', s, s);
          out.push(ch, s, e);
          out.push(' ', e, e);
        } else out.push(ch, s, e);
      });
    }
    if (lower) ns = lowercase(ns);
    if (strip) ns = removeNonspacingMarks(normalizeUnicode(ns, 'NFD'));
    return ns;
  };
}

// Control characters are what these two classes are about.
/* eslint-disable no-control-regex */
const PRECOMPILED_REMOVE = /^[\u0001-\u0008\u000B\u000E-\u001F\u007F\u008F\u009F]$/;
const PRECOMPILED_SPACE = /^[\u0009\u000A\u000C\u000D\u00A0\u1680\u2000-\u200F\u2028\u2029\u202F\u205F\u2581\u3000\uFEFF\uFFFD]$/;
/* eslint-enable no-control-regex */

/**
 * SentencePiece "Precompiled" charsmaps are a compiled trie we do not decode.
 * Approximation (same as the JS reference implementation): drop C0 controls,
 * map odd spaces to ' ', then NFKC, leaving U+FF5E (fullwidth tilde) alone.
 */
function precompiledApproximation(ns: NormalizedString): NormalizedString {
  ns = ns.transform((ch, s, e, out) => {
    if (PRECOMPILED_REMOVE.test(ch)) return;
    out.push(PRECOMPILED_SPACE.test(ch) ? ' ' : ch, s, e);
  });
  return normalizeUnicode(ns, 'NFKC', (ch) => ch === '\uFF5E');
}
