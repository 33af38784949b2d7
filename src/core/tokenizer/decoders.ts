/** tokenizer.json `decoder` section -> token strings back to text (for display, not offsets). */
import { byteLevelDecode } from './byteLevel';
import { asObject, bool, compilePattern, LoadContext, str, unsupported } from './config';

/** Rewrites a token list; the final text is the concatenation. */
export type Decoder = (tokens: string[]) => string[];

export function createDecoder(config: unknown, ctx: LoadContext): Decoder | null {
  if (config === null || config === undefined) return null;
  const c = asObject(config, 'decoder', ctx);
  switch (c.type) {
    case 'ByteLevel':
      return (tokens) => [byteLevelDecode(tokens.join(''))];
    case 'WordPiece': {
      const prefix = str(c, 'prefix', '##')!;
      const cleanup = bool(c, 'cleanup', true);
      return (tokens) =>
        tokens.map((t, i) => {
          let s = i > 0 ? (t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t) : t;
          if (cleanup) s = cleanupSpaces(s);
          return s;
        });
    }
    case 'Metaspace': {
      const rep = str(c, 'replacement', '\u2581')!;
      const scheme = str(c, 'prepend_scheme') ?? (bool(c, 'add_prefix_space', true) ? 'always' : 'never');
      return (tokens) =>
        tokens.map((t, i) => {
          const s = t.split(rep).join(' ');
          return i === 0 && scheme !== 'never' && s.startsWith(' ') ? s.slice(1) : s;
        });
    }
    case 'BPEDecoder': {
      const suffix = str(c, 'suffix', '</w>')!;
      return (tokens) => tokens.map((t, i) => t.split(suffix).join(i === tokens.length - 1 ? '' : ' '));
    }
    case 'Replace': {
      const re = compilePattern(c.pattern, ctx, 'Replace decoder');
      const content = str(c, 'content', '')!;
      return (tokens) => tokens.map((t) => t.replace(re, () => content));
    }
    case 'ByteFallback':
      return byteFallback;
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Strip': {
      const content = str(c, 'content', ' ')!;
      const start = typeof c.start === 'number' ? c.start : 0;
      const stop = typeof c.stop === 'number' ? c.stop : 0;
      return (tokens) =>
        tokens.map((t) => {
          let s = t;
          for (let k = 0; k < start && s.startsWith(content); k++) s = s.slice(content.length);
          for (let k = 0; k < stop && s.endsWith(content); k++) s = s.slice(0, s.length - content.length);
          return s;
        });
    }
    case 'Sequence': {
      const list = Array.isArray(c.decoders) ? c.decoders : [];
      const steps = list.map((d) => createDecoder(d, ctx)).filter((d): d is Decoder => d !== null);
      return (tokens) => steps.reduce((acc, step) => step(acc), tokens);
    }
    default:
      return unsupported('decoder', c.type, ctx);
  }
}

function cleanupSpaces(s: string): string {
  return s
    .replace(/ \./g, '.')
    .replace(/ \?/g, '?')
    .replace(/ !/g, '!')
    .replace(/ ,/g, ',')
    .replace(/ ' /g, "'")
    .replace(/ n't/g, "n't")
    .replace(/ 'm/g, "'m")
    .replace(/ 's/g, "'s")
    .replace(/ 've/g, "'ve")
    .replace(/ 're/g, "'re");
}

/** Consecutive <0xNN> tokens are UTF-8 bytes; invalid sequences become U+FFFD per byte. */
function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length === 0) return;
    try {
      out.push(new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes)));
    } catch {
      for (let i = 0; i < bytes.length; i++) out.push('\uFFFD');
    }
    bytes = [];
  };
  for (const t of tokens) {
    const m = /^<0x([0-9A-F]{2})>$/.exec(t);
    if (m) bytes.push(parseInt(m[1], 16));
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out;
}
