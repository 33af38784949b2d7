/**
 * Reads `metadata_props` of an ONNX ModelProto straight from the file's protobuf encoding.
 *
 * onnxruntime-node does not expose custom metadata, and a full protobuf library would parse the whole graph
 * (tens of MB of weights) to reach a few hundred bytes. ModelProto keeps metadata_props as field 14
 * (repeated StringStringEntryProto {key = 1, value = 2}); every other top-level field is skipped by seeking past
 * it, so only the small fields are ever read into memory.
 */
import * as fs from 'fs';
import { openRegularFile } from '../model-files';
import { ProtobufError, protoFields, readVarint, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT } from './protobuf';

const METADATA_PROPS_FIELD = 14;

export class OnnxFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxFileError';
  }
}

/**
 * Positional reads over an open file through a 64 KB window, so skipping a 16 MB graph costs nothing and reading
 * the small fields costs a few reads. Asynchronous: the caller's thread never waits on the disk.
 */
class FileCursor {
  pos = 0;
  private window = new Uint8Array(0);
  private windowStart = 0;
  constructor(
    private readonly handle: fs.promises.FileHandle,
    readonly size: number,
  ) {}

  private async fill(n: number): Promise<void> {
    const inWindow = this.pos >= this.windowStart && this.pos + n <= this.windowStart + this.window.length;
    if (inWindow) return;
    const want = Math.min(Math.max(n, WINDOW_BYTES), this.size - this.pos);
    const buf = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(buf, got, want - got, this.pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < n) throw new OnnxFileError('unexpected end of file');
    this.window = buf.subarray(0, got);
    this.windowStart = this.pos;
  }

  /** A varint at the cursor, decoded by protobuf.ts from the window (at most 10 bytes). */
  async varint(): Promise<number> {
    const n = Math.min(10, this.size - this.pos);
    if (n <= 0) throw new OnnxFileError('unexpected end of file');
    await this.fill(n);
    const at = this.pos - this.windowStart;
    try {
      const [value, next] = readVarint(this.window, at, at + n);
      this.pos += next - at;
      return value;
    } catch (e) {
      if (!(e instanceof ProtobufError)) throw e;
      // A varint cut off by the end of the file reads as the file ending, like every other short read here.
      throw new OnnxFileError(e.truncated ? 'unexpected end of file' : e.message);
    }
  }

  async bytes(n: number): Promise<Uint8Array> {
    if (this.pos + n > this.size) throw new OnnxFileError('field runs past the end of the file');
    await this.fill(n);
    const from = this.pos - this.windowStart;
    this.pos += n;
    return this.window.slice(from, from + n);
  }

  skip(n: number): void {
    if (this.pos + n > this.size) throw new OnnxFileError('field runs past the end of the file');
    this.pos += n;
  }
}

const WINDOW_BYTES = 64 * 1024;

/** Decodes one StringStringEntryProto held in memory. */
const utf8 = new TextDecoder('utf-8');

function decodeEntry(buf: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  try {
    for (const f of protoFields(buf)) {
      if (f.wire !== WIRE_LEN) throw new ProtobufError(`unexpected wire type ${f.wire}`);
      const s = utf8.decode(buf.subarray(f.start, f.end));
      if (f.no === 1) key = s;
      else if (f.no === 2) value = s;
    }
  } catch (e) {
    if (e instanceof ProtobufError) throw new OnnxFileError(`${e.message} in a metadata entry`);
    throw e;
  }
  return [key, value];
}

/**
 * All metadata_props of the ONNX model at `file`, in file order. Throws OnnxFileError on an unreadable file, and on
 * one that is not a regular file (a FIFO is opened non-blocking and refused, never waited on) or is empty.
 */
export async function readOnnxMetadata(file: string): Promise<Map<string, string>> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await openRegularFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new OnnxFileError(err.code ? `cannot open ${file}: ${err.message}` : err.message);
  }
  try {
    const size = (await handle.stat()).size;
    if (size === 0) throw new OnnxFileError(`${file} is empty (0 bytes)`);
    const cursor = new FileCursor(handle, size);
    const props = new Map<string, string>();
    while (cursor.pos < cursor.size) {
      const tag = await cursor.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) throw new OnnxFileError('not an ONNX model (field number 0)');
      switch (wire) {
        case WIRE_VARINT:
          await cursor.varint();
          break;
        case WIRE_I64:
          cursor.skip(8);
          break;
        case WIRE_I32:
          cursor.skip(4);
          break;
        case WIRE_LEN: {
          const len = await cursor.varint();
          if (field === METADATA_PROPS_FIELD) {
            const [k, v] = decodeEntry(await cursor.bytes(len));
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
    if (e instanceof OnnxFileError && !e.message.startsWith(file)) {
      throw new OnnxFileError(`${file} is not a readable ONNX model: ${e.message}`);
    }
    throw e;
  } finally {
    await handle.close();
  }
}
