/**
 * JSON output that never builds the whole document in memory: the same text as JSON.stringify(value, null, 2),
 * written to the stream in 64 KB pieces, waiting for 'drain' when the stream is full. An Analysis of a 2 MB text
 * (about 420k tokens) is several hundred MB of JSON, past what one V8 string can hold.
 */
const CHUNK_CHARS = 1 << 16;

/** Pieces of JSON.stringify(value, null, 2), in order (toJSON, undefined and function members as stringify does). */
export function* jsonPieces(value: unknown, indent = ''): Generator<string> {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON: () => unknown }).toJSON();
  }
  if (v === null || typeof v !== 'object') {
    yield JSON.stringify(v) ?? 'null';
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return void (yield '[]');
    for (let i = 0; i < v.length; i++) {
      yield i === 0 ? `[\n${inner}` : `,\n${inner}`;
      const item: unknown = v[i];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') yield 'null';
      else yield* jsonPieces(item, inner);
    }
    yield `\n${indent}]`;
    return;
  }
  let first = true;
  for (const key of Object.keys(v)) {
    const item: unknown = (v as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    yield `${first ? '{\n' : ',\n'}${inner}${JSON.stringify(key)}: `;
    first = false;
    yield* jsonPieces(item, inner);
  }
  yield first ? '{}' : `\n${indent}}`;
}

function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      out.removeListener('drain', done);
      out.removeListener('error', fail);
      resolve();
    };
    const fail = (e: Error): void => {
      out.removeListener('drain', done);
      reject(e);
    };
    out.once('drain', done);
    out.once('error', fail);
  });
}

/** Writes `pieces` to `out` in CHUNK_CHARS writes, waiting for 'drain' when the stream is full. */
async function writePieces(out: NodeJS.WritableStream, pieces: Iterable<string>): Promise<void> {
  let buffer = '';
  for (const piece of pieces) {
    buffer += piece;
    if (buffer.length >= CHUNK_CHARS) {
      const ok = out.write(buffer);
      buffer = '';
      if (!ok) await drained(out);
    }
  }
  if (buffer !== '' && !out.write(buffer)) await drained(out);
}

/** Writes `value` as indented JSON and a newline to `out`, in bounded memory. */
export async function writeJson(out: NodeJS.WritableStream, value: unknown): Promise<void> {
  await writePieces(
    out,
    (function* () {
      yield* jsonPieces(value);
      yield '\n';
    })(),
  );
}

/** Writes each item as one line of compact JSON (JSON Lines), in bounded memory. */
export async function writeJsonLines(out: NodeJS.WritableStream, items: Iterable<unknown>): Promise<void> {
  await writePieces(
    out,
    (function* () {
      for (const item of items) yield `${JSON.stringify(item)}\n`;
    })(),
  );
}
