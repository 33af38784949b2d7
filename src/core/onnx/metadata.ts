/**
 * Reads `metadata_props` of an ONNX ModelProto straight from the file's protobuf encoding.
 *
 * onnxruntime-node does not expose custom metadata, and a full protobuf library would parse the whole graph
 * (tens of MB of weights) to reach a few hundred bytes. ModelProto keeps metadata_props as field 14
 * (repeated StringStringEntryProto {key = 1, value = 2}); every other top-level field is skipped by seeking past
 * it, so only the small fields are ever read into memory.
 */
import * as fs from 'fs';

const METADATA_PROPS_FIELD = 14;
const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export class OnnxFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxFileError';
  }
}

/** Positional reads over an open file, so skipping a 16 MB graph costs nothing. */
class FileCursor {
  pos = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  byte(): number {
    if (this.pos >= this.size) throw new OnnxFileError('unexpected end of file');
    const b = new Uint8Array(1);
    fs.readSync(this.fd, b, 0, 1, this.pos++);
    return b[0];
  }

  /** Varints up to 2^53 are exact enough for lengths and field keys. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new OnnxFileError('malformed varint');
  }

  bytes(n: number): Uint8Array {
    if (this.pos + n > this.size) throw new OnnxFileError('field runs past the end of the file');
    const b = new Uint8Array(n);
    fs.readSync(this.fd, b, 0, n, this.pos);
    this.pos += n;
    return b;
  }

  skip(n: number): void {
    if (this.pos + n > this.size) throw new OnnxFileError('field runs past the end of the file');
    this.pos += n;
  }
}

/** Decodes one StringStringEntryProto held in memory. */
const utf8 = new TextDecoder('utf-8');

function decodeEntry(buf: Uint8Array): [string, string] {
  let pos = 0;
  let key = '';
  let value = '';
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new OnnxFileError('truncated metadata entry');
      const b = buf[pos++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new OnnxFileError('malformed varint in metadata entry');
  };
  while (pos < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire !== WIRE_LEN) throw new OnnxFileError(`unexpected wire type ${wire} in metadata entry`);
    const len = varint();
    if (pos + len > buf.length) throw new OnnxFileError('truncated metadata entry');
    const s = utf8.decode(buf.subarray(pos, pos + len));
    pos += len;
    if (field === 1) key = s;
    else if (field === 2) value = s;
  }
  return [key, value];
}

/** All metadata_props of the ONNX model at `file`, in file order. Throws OnnxFileError on an unreadable file. */
export function readOnnxMetadata(file: string): Map<string, string> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new OnnxFileError(`cannot open ${file}: ${(e as Error).message}`);
  }
  try {
    const cursor = new FileCursor(fd, fs.fstatSync(fd).size);
    const props = new Map<string, string>();
    while (cursor.pos < cursor.size) {
      const tag = cursor.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) throw new OnnxFileError('not an ONNX model (field number 0)');
      switch (wire) {
        case WIRE_VARINT:
          cursor.varint();
          break;
        case WIRE_I64:
          cursor.skip(8);
          break;
        case WIRE_I32:
          cursor.skip(4);
          break;
        case WIRE_LEN: {
          const len = cursor.varint();
          if (field === METADATA_PROPS_FIELD) {
            const [k, v] = decodeEntry(cursor.bytes(len));
            props.set(k, v);
          } else cursor.skip(len);
          break;
        }
        default:
          throw new OnnxFileError(`not an ONNX model (wire type ${wire})`);
      }
    }
    return props;
  } catch (e) {
    if (e instanceof OnnxFileError) throw new OnnxFileError(`${file} is not a readable ONNX model: ${e.message}`);
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}
