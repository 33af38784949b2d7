/** Shared helpers for reading untyped tokenizer.json sections with clear errors. */

export type Json = Record<string, unknown>;

export class TokenizerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerConfigError';
  }
}

/** Where a config came from, so every error can name the file. */
export interface LoadContext {
  source: string;
}

export function unsupported(kind: string, type: unknown, ctx: LoadContext, detail = ''): never {
  throw new TokenizerConfigError(`Unsupported ${kind} type "${String(type)}" in ${ctx.source}${detail ? `: ${detail}` : ''}`);
}

export function invalid(what: string, ctx: LoadContext): never {
  throw new TokenizerConfigError(`Malformed tokenizer ${what} in ${ctx.source}`);
}

export function asObject(v: unknown, what: string, ctx: LoadContext): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) invalid(`${what} (expected an object)`, ctx);
  return v as Json;
}

export function str(o: Json, key: string, fallback?: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : fallback;
}

export function bool(o: Json, key: string, fallback: boolean): boolean {
  const v = o[key];
  return typeof v === 'boolean' ? v : fallback;
}

/** Builds the JS RegExp for an HF `{String: ...}` / `{Regex: ...}` pattern. */
export function compilePattern(pattern: unknown, ctx: LoadContext, owner: string): RegExp {
  const p = asObject(pattern, `${owner} pattern`, ctx);
  if (typeof p.String === 'string') {
    return new RegExp(p.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
  }
  if (typeof p.Regex === 'string') {
    try {
      return new RegExp(p.Regex, 'gu');
    } catch (e) {
      // Oniguruma-only syntax (inline flags, possessive quantifiers...) is not translated.
      throw new TokenizerConfigError(
        `Unsupported regex in ${owner} in ${ctx.source}: ${JSON.stringify(p.Regex)} (${(e as Error).message})`,
      );
    }
  }
  return invalid(`${owner} pattern`, ctx);
}
