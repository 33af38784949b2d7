import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initializerShapes } from '../../../../bench/compute-limit';
import {
  packedVarints,
  ProtobufError,
  protoFields,
  readVarint,
  WIRE_I32,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
} from '../../../../src/core/onnx/protobuf';
import { TINY_MODEL_DIR } from '../helpers';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('protobuf wire format', () => {
  it('reads varints, one and several bytes (300 = 0xAC 0x02)', () => {
    assert.deepEqual(readVarint(bytes(0x01), 0), [1, 1]);
    assert.deepEqual(readVarint(bytes(0xac, 0x02), 0), [300, 2]);
    assert.deepEqual(readVarint(bytes(0xff, 0xff, 0xff, 0xff, 0x0f), 0), [2 ** 32 - 1, 5]);
  });

  it('walks a message: varint, length-delimited, fixed64 and fixed32 fields in order', () => {
    // field 1 varint 150; field 2 "hi"; field 3 fixed64; field 4 fixed32
    const msg = bytes(0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x25, 9, 9, 9, 9);
    const fields = [...protoFields(msg)];
    assert.deepEqual(
      fields.map((f) => [f.no, f.wire, f.value]),
      [
        [1, WIRE_VARINT, 150],
        [2, WIRE_LEN, 2],
        [3, WIRE_I64, 0],
        [4, WIRE_I32, 0],
      ],
    );
    assert.equal(new TextDecoder().decode(msg.subarray(fields[1].start, fields[1].end)), 'hi');
  });

  it('reads a packed repeated field', () => {
    assert.deepEqual(packedVarints(bytes(0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05), 0, 6), [3, 270, 86942]);
  });

  it('refuses truncated fields, field number 0 and the group wire types, naming the problem', () => {
    assert.throws(() => [...protoFields(bytes(0x12, 0x05, 0x61))], /runs past the end/);
    assert.throws(() => [...protoFields(bytes(0x08, 0x96))], /truncated varint/);
    assert.throws(() => [...protoFields(bytes(0x00, 0x01))], /field number 0/);
    assert.throws(
      () => [...protoFields(bytes(0x0b))],
      (e: unknown) => e instanceof ProtobufError && /wire type 3/.test(e.message),
    );
    assert.throws(() => [...protoFields(bytes(0x0d, 1, 2))], /runs past the end/);
  });

  it("reads a real model's initializer shapes (the bench's compute limit): the tiny fixture's embedding and first expert", () => {
    const shapes = initializerShapes(path.join(TINY_MODEL_DIR, 'model.onnx'));
    const tok = shapes.get('model.tok.weight');
    const fc1 = shapes.get('model.blocks.0.moe.experts.0.fc1.weight');
    assert.ok(tok && fc1, `initializers found: ${[...shapes.keys()].slice(0, 5).join(', ')}`);
    assert.equal(tok.length, 2);
    assert.equal(fc1.length, 2);
    assert.equal(fc1[1], tok[1], 'fc1 maps d to the expert hidden size');
  });
});
