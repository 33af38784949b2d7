/**
 * A string being normalised, remembering for every UTF-16 unit of the current
 * text which [start, end) range of the ORIGINAL text it came from.
 *
 * Alignments are always whole code points of the original (a transform sees a
 * code point and its full range), so no offset can ever land inside a
 * surrogate pair. Inserted characters (a prefix space, CJK padding) get an
 * empty range at their insertion point, so they widen no token's range.
 */
export class NormalizedString {
  private constructor(
    readonly text: string,
    /** Original start offset, per unit of `text`. */
    readonly starts: readonly number[],
    /** Original end offset, per unit of `text`. */
    readonly ends: readonly number[],
  ) {}

  /** Wraps `text`, which sits at `base` in the original. */
  static fromOriginal(text: string, base = 0): NormalizedString {
    const starts: number[] = new Array(text.length);
    const ends: number[] = new Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLow(text.charCodeAt(i + 1));
      if (pair) {
        starts[i] = starts[i + 1] = base + i;
        ends[i] = ends[i + 1] = base + i + 2;
        i++;
      } else {
        starts[i] = base + i;
        ends[i] = base + i + 1;
      }
    }
    return new NormalizedString(text, starts, ends);
  }

  get length(): number {
    return this.text.length;
  }

  /** Original [start, end) covered by units [a, b) of the current text; null when empty. */
  offsets(a: number, b: number): [number, number] | null {
    if (a >= b) return null;
    let s = this.starts[a];
    let e = this.ends[a];
    for (let i = a + 1; i < b; i++) {
      if (this.starts[i] < s) s = this.starts[i];
      if (this.ends[i] > e) e = this.ends[i];
    }
    return [s, e];
  }

  slice(a: number, b: number): NormalizedString {
    return new NormalizedString(this.text.slice(a, b), this.starts.slice(a, b), this.ends.slice(a, b));
  }

  /**
   * Rebuilds the string code point by code point. `fn` receives each code
   * point with its original range and emits replacement text via `out`;
   * emitting nothing deletes it.
   */
  transform(fn: (ch: string, start: number, end: number, out: Builder, index: number) => void): NormalizedString {
    const out = new Builder();
    const t = this.text;
    for (let i = 0; i < t.length;) {
      const n = codePointLength(t, i);
      const ch = n === 1 ? t[i] : t.slice(i, i + 2);
      const s = n === 1 ? this.starts[i] : Math.min(this.starts[i], this.starts[i + 1]);
      const e = n === 1 ? this.ends[i] : Math.max(this.ends[i], this.ends[i + 1]);
      fn(ch, s, e, out, i);
      i += n;
    }
    return out.build();
  }

  /** Replaces every non-empty match of the global regex `re` by `content`, literally. */
  replace(re: RegExp, content: string): NormalizedString {
    const out = new Builder();
    let prev = 0;
    for (const m of this.text.matchAll(re)) {
      const at = m.index ?? 0;
      if (m[0].length === 0) continue;
      out.copyFrom(this, prev, at);
      const r = this.offsets(at, at + m[0].length)!;
      out.push(content, r[0], r[1]);
      prev = at + m[0].length;
    }
    if (prev === 0) return this;
    out.copyFrom(this, prev, this.length);
    return out.build();
  }

  /** Prepends `s` with an empty range at the start of the first character. */
  prepend(s: string): NormalizedString {
    if (this.length === 0) return this;
    const at = this.starts[0];
    const out = new Builder();
    out.push(s, at, at);
    out.copyFrom(this, 0, this.length);
    return out.build();
  }

  /** Drops leading/trailing units whose text matches JS whitespace (like String#trim). */
  trim(left: boolean, right: boolean): NormalizedString {
    let a = 0;
    let b = this.length;
    if (left) {
      const l = this.text.length - this.text.trimStart().length;
      a = l;
    }
    if (right) b = this.text.trimEnd().length;
    if (a === 0 && b === this.length) return this;
    return this.slice(a, Math.max(a, b));
  }
}

/** Accumulates text with per-unit alignments. */
export class Builder {
  // String concatenation builds ropes in V8: cheaper than an array of one-char parts.
  private text = '';
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  push(s: string, start: number, end: number): void {
    if (s.length === 0) return;
    this.text += s;
    for (let i = 0; i < s.length; i++) {
      this.starts.push(start);
      this.ends.push(end);
    }
  }

  /** Pushes units whose alignment is given per unit (keeps existing fine-grained alignment). */
  copyFrom(src: NormalizedString, a: number, b: number): void {
    if (a >= b) return;
    this.text += src.text.slice(a, b);
    for (let i = a; i < b; i++) {
      this.starts.push(src.starts[i]);
      this.ends.push(src.ends[i]);
    }
  }

  /** Widens the last unit's range to `end`, so a dropped character still belongs to its neighbour. */
  extendLast(end: number): void {
    const k = this.ends.length - 1;
    if (k >= 0 && this.ends[k] <= end) this.ends[k] = end;
  }

  build(): NormalizedString {
    // The private constructor is reachable through this module-level helper only.
    return makeNormalized(this.text, this.starts, this.ends);
  }
}

function makeNormalized(text: string, starts: number[], ends: number[]): NormalizedString {
  return new (NormalizedString as unknown as new (t: string, s: number[], e: number[]) => NormalizedString)(text, starts, ends);
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** 2 for a well-formed surrogate pair at `i`, else 1 (lone surrogates count as one unit). */
export function codePointLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
}

/** Unit offsets of each code point start, plus s.length at the end. */
export function codePointBoundaries(s: string): number[] {
  const b: number[] = [];
  for (let i = 0; i < s.length; i += codePointLength(s, i)) b.push(i);
  b.push(s.length);
  return b;
}
