/** GPT-2's reversible byte <-> printable-character table. */

export const BYTE_TO_CHAR: readonly string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table: string[] = new Array(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  return table;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const encoder = new TextEncoder();

/** UTF-8 bytes of one code point; lone surrogates become U+FFFD like TextEncoder does. */
export function utf8Bytes(ch: string): Uint8Array {
  return encoder.encode(ch);
}

/** Decodes byte-level characters back to text; unknown characters are kept as they are. */
export function byteLevelDecode(s: string): string {
  const bytes: number[] = [];
  let out = '';
  const dec = new TextDecoder('utf-8', { fatal: false });
  for (const ch of s) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b !== undefined) bytes.push(b);
    else {
      out += dec.decode(new Uint8Array(bytes)) + ch;
      bytes.length = 0;
    }
  }
  return out + dec.decode(new Uint8Array(bytes));
}
