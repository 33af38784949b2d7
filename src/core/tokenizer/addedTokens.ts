/** Finding added tokens (e.g. a literal "[CLS]" or "<mask>") in text before normal tokenisation. */
import { asObject, LoadContext } from './config';

export interface AddedToken {
  id: number;
  content: string;
  lstrip: boolean;
  rstrip: boolean;
  special: boolean;
  /** Matched against normalised text rather than the raw input. */
  normalized: boolean;
}

export function readAddedTokens(v: unknown, ctx: LoadContext): AddedToken[] {
  if (!Array.isArray(v)) return [];
  return v.map((raw) => {
    const t = asObject(raw, 'added_tokens entry', ctx);
    const special = t.special === true;
    return {
      id: Number(t.id),
      content: String(t.content),
      lstrip: t.lstrip === true,
      rstrip: t.rstrip === true,
      special,
      normalized: typeof t.normalized === 'boolean' ? t.normalized : !special,
    };
  });
}

/** A span [a, b) of the scanned string; `token` is set when the span is an added token. */
export interface Section {
  a: number;
  b: number;
  token?: AddedToken;
}

interface Node {
  next: Map<string, Node>;
  token?: AddedToken;
}

/** Leftmost-longest matcher over UTF-16 units, as the reference implementations do. */
export class AddedTokenSplitter {
  private readonly root: Node = { next: new Map() };
  private readonly empty: boolean;

  constructor(entries: Array<[string, AddedToken]>) {
    for (const [content, token] of entries) {
      if (content.length === 0) continue;
      let node = this.root;
      for (let k = 0; k < content.length; k++) {
        let child = node.next.get(content[k]);
        if (!child) node.next.set(content[k], (child = { next: new Map() }));
        node = child;
      }
      node.token ??= token;
    }
    this.empty = this.root.next.size === 0;
  }

  split(text: string): Section[] {
    if (this.empty) return [{ a: 0, b: text.length }];
    const out: Section[] = [];
    let start = 0;
    for (let i = 0; i < text.length;) {
      let node: Node | undefined = this.root;
      let match: AddedToken | undefined;
      let matchEnd = i;
      for (let j = i; j < text.length; j++) {
        node = node.next.get(text[j]);
        if (!node) break;
        if (node.token) {
          match = node.token;
          matchEnd = j + 1;
        }
      }
      if (match) {
        if (i > start) out.push({ a: start, b: i });
        out.push({ a: i, b: matchEnd, token: match });
        i = start = matchEnd;
      } else i++;
    }
    if (start < text.length) out.push({ a: start, b: text.length });
    // lstrip/rstrip swallow the whitespace next to the token (it is dropped, not tokenised).
    for (let k = 0; k < out.length; k++) {
      const t = out[k].token;
      if (!t) continue;
      const prev = out[k - 1];
      const next = out[k + 1];
      if (t.lstrip && prev && !prev.token) prev.b = prev.a + text.slice(prev.a, prev.b).trimEnd().length;
      if (t.rstrip && next && !next.token) {
        next.a = next.b - text.slice(next.a, next.b).trimStart().length;
      }
    }
    return out;
  }
}
