/**
 * The three encodings serving engines use for recorded expert ids, decoded to one [rows, layers, topK] int32 array
 * (docs/routing-traces.md says which engine version writes which):
 * - a JSON nested list (vLLM 0.21 `prompt_routed_experts` / `routed_experts`);
 * - base64 of raw little-endian int32 (SGLang `meta_info.routed_experts`, `sglext.routed_experts`): the bytes carry no
 *   shape, so layers and top_k come from the model's config.json;
 * - base64 of a NumPy `.npy` file (vLLM main `choices[].routed_experts`): the header carries dtype and shape.
 * Every failure names the field, the shape expected and the shape found.
 */
import { EngineError } from '../errors';

export interface ExpertIds {
  rows: number;
  layers: number;
  topK: number;
  /** [rows, layers, topK], row-major. */
  data: Int32Array;
}

export function badTrace(field: string, expected: string, found: string, hint = ''): EngineError {
  return new EngineError('bad-trace', `${field}: expected ${expected}, found ${found}${hint ? `. ${hint}` : ''}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** A JSON [rows][layers][topK] list of integers; `dims` names the axes for messages ("[prompt_len, num_moe_layers, top_k]"). */
export function nestedExpertIds(value: unknown, field: string, dims: string): ExpertIds {
  if (!Array.isArray(value)) throw badTrace(field, `a nested list ${dims} of expert ids`, describe(value));
  const rows = value.length;
  if (rows === 0) return { rows: 0, layers: 0, topK: 0, data: new Int32Array(0) };
  const first = value[0] as unknown;
  if (!Array.isArray(first) || first.length === 0)
    throw badTrace(`${field}[0]`, `a list of layers, each a list of top_k expert ids ${dims}`, describe(first));
  const layers = first.length;
  const firstLayer = first[0] as unknown;
  if (!Array.isArray(firstLayer) || firstLayer.length === 0)
    throw badTrace(`${field}[0][0]`, `a list of top_k expert ids ${dims}`, describe(firstLayer));
  const topK = firstLayer.length;
  const data = new Int32Array(rows * layers * topK);
  for (let t = 0; t < rows; t++) {
    const row = value[t] as unknown;
    if (!Array.isArray(row) || row.length !== layers) {
      throw badTrace(`${field}[${t}]`, `${layers} layers (shape ${dims} = [${rows}, ${layers}, ${topK}] from row 0)`, describe(row));
    }
    for (let l = 0; l < layers; l++) {
      const ids = row[l] as unknown;
      if (!Array.isArray(ids) || ids.length !== topK) {
        throw badTrace(`${field}[${t}][${l}]`, `${topK} expert ids (shape ${dims} = [${rows}, ${layers}, ${topK}])`, describe(ids));
      }
      for (let k = 0; k < topK; k++) {
        const e = ids[k] as unknown;
        if (typeof e !== 'number' || !Number.isInteger(e))
          throw badTrace(`${field}[${t}][${l}][${k}]`, 'an integer expert id', describe(e));
        data[(t * layers + l) * topK + k] = e;
      }
    }
  }
  return { rows, layers, topK, data };
}

function base64Bytes(value: unknown, field: string, what: string): Buffer {
  if (typeof value !== 'string') throw badTrace(field, what, describe(value));
  const s = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s) || s.length % 4 === 1) throw badTrace(field, what, 'a string that is not base64');
  return Buffer.from(s, 'base64');
}

/** Little-endian int32 values (NumPy's frombuffer on the x86/ARM servers these engines run on). */
function int32s(bytes: Buffer): Int32Array {
  const out = new Int32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt32LE(i * 4);
  return out;
}

/**
 * SGLang's base64 of raw int32 [rows, layers, topK]. `expectedRows` (prompt + generated - 1 - start) lets the
 * message say what was expected; layers and topK come from config.json (num_hidden_layers, num_experts_per_tok).
 */
export function base64Int32ExpertIds(value: unknown, field: string, layers: number, topK: number, expectedRows: number): ExpertIds {
  const what = `base64 of int32 [${expectedRows}, ${layers}, ${topK}] (tokens, layers, top_k)`;
  const bytes = base64Bytes(value, field, what);
  const per = layers * topK;
  if (bytes.length % 4 !== 0) throw badTrace(field, what, `${bytes.length} bytes, not a whole number of int32 values`);
  const n = bytes.length / 4;
  if (n % per !== 0) {
    throw badTrace(
      field,
      what,
      `${n} int32 values, not a multiple of layers × top_k = ${per}`,
      'Check num_hidden_layers and num_experts_per_tok in config.json (or --num-layers / --top-k)',
    );
  }
  return { rows: n / per, layers, topK, data: int32s(bytes) };
}

const NPY_MAGIC = '\x93NUMPY';

/** vLLM main's base64 `.npy` (uint8, uint16, int16 or int32 [rows, layers, topK]; C order). */
export function npyExpertIds(value: unknown, field: string): ExpertIds {
  const what = 'base64 of a .npy array [num_tokens - 1, num_layers, top_k]';
  const b = base64Bytes(value, field, what);
  if (b.length < 10 || b.toString('latin1', 0, 6) !== NPY_MAGIC) throw badTrace(field, what, 'bytes without the .npy magic');
  const major = b[6];
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + headerLen);
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined)
    throw badTrace(field, what, `a .npy header it cannot read (${JSON.stringify(header.trim())})`);
  const shape = shapeText
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .map(Number);
  if (shape.length !== 3 || shape.some((x) => !Number.isInteger(x) || x < 0)) throw badTrace(field, what, `shape (${shapeText})`);
  if (fortran === 'True') throw badTrace(field, 'a C-order .npy array', 'fortran_order True');
  const readers: Record<string, [number, (o: number) => number]> = {
    '|u1': [1, (o) => b.readUInt8(o)],
    '<u2': [2, (o) => b.readUInt16LE(o)],
    '<i2': [2, (o) => b.readInt16LE(o)],
    '<i4': [4, (o) => b.readInt32LE(o)],
  };
  const reader = readers[descr];
  if (!reader) throw badTrace(field, 'dtype uint8, uint16, int16 or int32 (little-endian)', `dtype ${descr}`);
  const [rows, layers, topK] = shape;
  const n = rows * layers * topK;
  const body = start + headerLen;
  if (b.length - body !== n * reader[0])
    throw badTrace(field, `${n * reader[0]} bytes of data for shape (${shape.join(', ')})`, `${b.length - body}`);
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = reader[1](body + i * reader[0]);
  return { rows, layers, topK, data };
}
