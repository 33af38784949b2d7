/** Streaming line reader over raw bytes, so each line can be decoded strictly on its own. */
import * as fs from 'fs';

export interface RawLine {
  /** 1-based line number. */
  line: number;
  bytes: Buffer;
  /** The line was longer than the limit; its bytes were dropped (`bytes` is empty). */
  overlong: boolean;
}

/** Lines longer than this are reported as overlong instead of being held in memory whole. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

const UTF8_BOM = [0xef, 0xbb, 0xbf];

function hasBom(b: Buffer): boolean {
  return b.length >= 3 && b[0] === UTF8_BOM[0] && b[1] === UTF8_BOM[1] && b[2] === UTF8_BOM[2];
}

/**
 * Yields the file's lines split on LF; a trailing CR (CRLF files) and a leading UTF-8 BOM are removed. A final line
 * without a newline is yielded; an empty file yields nothing. Memory: one chunk plus the current line.
 */
export async function* readLines(file: string, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<RawLine> {
  const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  let line = 0;
  const finish = (tail: Buffer): RawLine => {
    let bytes = pending.length === 0 ? tail : Buffer.concat([...pending, tail] as unknown as Uint8Array[]);
    pending = [];
    pendingBytes = 0;
    line++;
    if (line === 1 && hasBom(bytes)) bytes = bytes.subarray(3);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    const out = { line, bytes, overlong };
    overlong = false;
    return out;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl < 0) break;
        yield finish(overlong ? Buffer.alloc(0) : chunk.subarray(start, nl));
        start = nl + 1;
      }
      if (start < chunk.length && !overlong) {
        const rest = chunk.subarray(start);
        if (pendingBytes + rest.length > maxLineBytes) {
          overlong = true;
          pending = [];
          pendingBytes = 0;
        } else {
          // Copy: the stream may reuse its buffers.
          pending.push(Buffer.from(rest as unknown as Uint8Array));
          pendingBytes += rest.length;
        }
      }
    }
    if (pendingBytes > 0 || overlong) yield finish(Buffer.alloc(0));
  } finally {
    stream.destroy();
  }
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as UTF-8, or null when they are not valid UTF-8. */
export function decodeUtf8(bytes: Buffer | Uint8Array): string | null {
  try {
    return strictDecoder.decode(bytes as unknown as Uint8Array);
  } catch {
    return null;
  }
}
