/**
 * The protobuf wire format, as much of it as reading an ONNX ModelProto needs: the fields of a message held in
 * memory, one level at a time (a length-delimited field's payload is walked again for a nested message). Used by
 * metadata.ts (the entries of metadata_props) and by bench/compute-limit.ts (the initializers' names and shapes);
 * ONNX's schema is proto2, so repeated scalars are usually unpacked, but packedVarints reads the packed form too.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** Malformed protobuf bytes; the message says what was wrong, the caller says where. */
export class ProtobufError extends Error {
  constructor(
    message: string,
    /** The bytes ended inside a varint (more bytes might have completed it). */
    readonly truncated = false,
  ) {
    super(message);
    this.name = 'ProtobufError';
  }
}

export interface ProtoField {
  /** Field number. */
  no: number;
  wire: number;
  /** The value of a varint field; the payload's length for a length-delimited one; 0 otherwise. */
  value: number;
  /** Payload bounds of a length-delimited field (start = end for other wire types). */
  start: number;
  end: number;
}

/** The varint at `pos` and the position after it. Exact up to 2^53, enough for lengths, keys and dimensions. */
export function readVarint(buf: Uint8Array, pos: number, end = buf.length): [number, number] {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ProtobufError('truncated varint', true);
    const b = buf[pos++];
    result += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [result, pos];
    scale *= 128;
  }
  throw new ProtobufError('malformed varint');
}

/** The fields of the message in buf[start, end), in order. Fixed-width fields are skipped (value 0). */
export function* protoFields(buf: Uint8Array, start = 0, end = buf.length): Generator<ProtoField> {
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = readVarint(buf, pos, end);
    pos = afterKey;
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (no === 0) throw new ProtobufError('field number 0');
    if (wire === WIRE_VARINT) {
      const [value, next] = readVarint(buf, pos, end);
      pos = next;
      yield { no, wire, value, start: pos, end: pos };
    } else if (wire === WIRE_LEN) {
      const [n, next] = readVarint(buf, pos, end);
      if (next + n > end) throw new ProtobufError('a field runs past the end of its message');
      pos = next + n;
      yield { no, wire, value: n, start: next, end: pos };
    } else if (wire === WIRE_I64 || wire === WIRE_I32) {
      pos += wire === WIRE_I64 ? 8 : 4;
      if (pos > end) throw new ProtobufError('a field runs past the end of its message');
      yield { no, wire, value: 0, start: pos, end: pos };
    } else throw new ProtobufError(`unexpected wire type ${wire}`);
  }
}

/** The varints of a packed repeated field's payload buf[start, end). */
export function packedVarints(buf: Uint8Array, start: number, end: number): number[] {
  const out: number[] = [];
  for (let pos = start; pos < end;) {
    const [v, next] = readVarint(buf, pos, end);
    out.push(v);
    pos = next;
  }
  return out;
}
