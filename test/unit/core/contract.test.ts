import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkModelIO, checkRoutingInvariants, parseContractMetadata } from '../../../src/core/contract';
import { OnnxFileError, readOnnxMetadata } from '../../../src/core/onnx/metadata';
import type { TensorInfo } from '../../../src/core/runtime/tensors';
import { CONTRACT_FIXTURES, TINY_MODEL_DIR } from './helpers';

const BASE = {
  contract_version: 1,
  router_kind: 'da-moe',
  num_layers: 2,
  num_experts: 4,
  k_max: 2,
  labels: ['neg', 'pos'],
  tokenizer: 'tokenizer.json',
  max_sequence_length: 32,
};

function meta(changes: Record<string, unknown>): string {
  const m: Record<string, unknown> = { ...BASE, ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete m[k];
  return JSON.stringify(m);
}

describe('readOnnxMetadata', () => {
  it('reads moe.contract from an exported model without parsing the graph', async () => {
    const props = await readOnnxMetadata(path.join(TINY_MODEL_DIR, 'model.onnx'));
    const m = JSON.parse(props.get('moe.contract')!) as Record<string, unknown>;
    assert.equal(m.router_kind, 'da-moe');
    assert.equal(m.num_experts, 4);
  });
  it('a model without metadata gives an empty map', async () => {
    assert.equal((await readOnnxMetadata(path.join(CONTRACT_FIXTURES, 'missing-metadata.onnx'))).size, 0);
  });
  it('a file that is not protobuf is refused with the file name', async () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-')), 'x.onnx');
    fs.writeFileSync(f, 'this is not a model\n');
    await assert.rejects(
      () => readOnnxMetadata(f),
      (e: Error) => e instanceof OnnxFileError && e.message.includes(f),
    );
  });
  it('a file that ends inside a varint reads as ending early; eleven continuation bytes as a malformed varint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-'));
    const cut = path.join(dir, 'cut.onnx');
    fs.writeFileSync(cut, Uint8Array.from([0x08, 0x96])); // field 1, varint 150 without its last byte
    await assert.rejects(
      () => readOnnxMetadata(cut),
      (e: Error) => e instanceof OnnxFileError && /unexpected end of file/.test(e.message),
    );
    const long = path.join(dir, 'long.onnx');
    fs.writeFileSync(long, Uint8Array.from([0x08, ...new Array<number>(11).fill(0xff)]));
    await assert.rejects(
      () => readOnnxMetadata(long),
      (e: Error) => e instanceof OnnxFileError && /malformed varint/.test(e.message),
    );
  });
});

describe('parseContractMetadata', () => {
  it('accepts the documented example', () => {
    const { metadata, violations } = parseContractMetadata(meta({ expert_flops_per_token: 10 }));
    assert.deepEqual(violations, []);
    assert.equal(metadata?.kMax, 2);
    assert.equal(metadata?.expertFlopsPerToken, 10);
  });
  it('top-k uses k as kMax', () => {
    const { metadata } = parseContractMetadata(meta({ router_kind: 'top-k', k_max: undefined, k: 1 }));
    assert.equal(metadata?.kMax, 1);
    assert.equal(metadata?.k, 1);
  });
  const cases: [string, string | undefined, RegExp][] = [
    ['missing metadata', undefined, /metadata_props entry "moe\.contract".*found none.*model-contract\.md/],
    ['malformed JSON', '{"a":', /expected a JSON document, found malformed JSON/],
    ['not an object', '[1]', /expected a JSON object, found an array of 1/],
    ['contract_version', meta({ contract_version: 3 }), /"contract_version": expected 1 or 2, found number 3/],
    ['router_kind', meta({ router_kind: 'hash' }), /"router_kind": expected "da-moe" or "top-k", found "hash"/],
    ['k_max > E', meta({ k_max: 9 }), /"k_max": expected an integer in 1\.\.4, found number 9/],
    ['top-k without k', meta({ router_kind: 'top-k' }), /"k": expected an integer in 1\.\.4, found nothing/],
    ['labels', meta({ labels: ['only'] }), /"labels": expected an array of at least 2 strings.*found an array of 1/],
    ['tokenizer outside', meta({ tokenizer: '../x.json' }), /"tokenizer": expected a file name inside the model directory/],
    ['num_layers', meta({ num_layers: 0 }), /"num_layers": expected an integer >= 1, found number 0/],
    ['flops', meta({ expert_flops_per_token: -1 }), /"expert_flops_per_token": expected a positive number/],
    ['gates', meta({ gates: 'softmax' }), /"gates": expected "renormalized-top-k" or "router-probability", found "softmax"/],
  ];
  for (const [name, raw, re] of cases) {
    it(`one specific message: ${name}`, () => {
      const { metadata, violations } = parseContractMetadata(raw);
      assert.equal(metadata, null);
      assert.equal(violations.length, 1, violations.join('\n'));
      assert.match(violations[0], re);
      assert.match(violations[0], /docs\/model-contract\.md/);
    });
  }
});

describe('checkModelIO', () => {
  const ok = parseContractMetadata(meta({})).metadata;
  const inputs: TensorInfo[] = [
    { name: 'input_ids', type: 'int64', shape: ['batch', 'sequence'] },
    { name: 'attention_mask', type: 'int64', shape: ['batch', 'sequence'] },
  ];
  const outputs: TensorInfo[] = [
    { name: 'logits', type: 'float32', shape: ['batch', 2] },
    { name: 'token_importance', type: 'float32', shape: [2, 'batch', 'sequence'] },
    { name: 'expert_count', type: 'int64', shape: [2, 'batch', 'sequence'] },
    { name: 'expert_gates', type: 'float32', shape: [2, 'batch', 'sequence', 4] },
    { name: 'router_probs', type: 'float32', shape: [2, 'batch', 'sequence', 4] },
  ];
  it('accepts conforming inputs and outputs', () => {
    assert.deepEqual(checkModelIO(inputs, outputs, ok), { routingSource: 'contract', nextTokenSource: null, violations: [] });
  });
  it('fixed axes, wrong label count and extra inputs are each reported', () => {
    const v = checkModelIO(
      [{ ...inputs[0], shape: [1, 128] }, inputs[1], { name: 'token_type_ids', type: 'int64', shape: ['b', 't'] }],
      [{ ...outputs[0], shape: ['batch', 3] }, ...outputs.slice(1)],
      ok,
    ).violations;
    assert.equal(v.length, 3, v.join('\n'));
    assert.match(v[0], /input "input_ids": expected dynamic B and T axes, found fixed shape \[1, 128\]/);
    assert.match(v[1], /input "token_type_ids": expected only input_ids and attention_mask/);
    assert.match(v[2], /output "logits": dimension 1 \(C\) must equal metadata labels \(count\) = 2, found 3/);
  });
});

describe('checkRoutingInvariants', () => {
  // 1 layer, 3 positions (last is a pad), 2 experts
  const good = {
    numLayers: 1,
    length: 3,
    numExperts: 2,
    mask: [1, 1, 0],
    count: [1, 2, 0],
    gates: [1, 0, 0.6, 0.4, 0, 0],
    probs: [0.7, 0.3, 0.5, 0.5, 0, 0],
  };
  it('passes a conforming routing', () => {
    assert.deepEqual(checkRoutingInvariants(good, 2, 'da-moe'), []);
  });
  it('count must equal the non-zero gates', () => {
    const v = checkRoutingInvariants({ ...good, count: [2, 2, 0] }, 2, 'da-moe');
    assert.equal(v.length, 1);
    assert.match(v[0], /"expert_count" \(layer 0, position 0\): expected the number of non-zero expert_gates \(1\), found 2/);
  });
  it('K above k_max on a real token', () => {
    const v = checkRoutingInvariants(good, 1, 'da-moe');
    assert.match(v.join('\n'), /position 1\): expected 1\.\.1 on a real token, found 2/);
  });
  it('pads must have K = 0 and no gates', () => {
    const v = checkRoutingInvariants({ ...good, count: [1, 2, 1], gates: [1, 0, 0.6, 0.4, 1, 0] }, 2, 'da-moe');
    assert.deepEqual(
      v.map((m) => m.split(' (see')[0]),
      [
        'output "expert_count" (layer 0, position 2): expected 0 on padding, found 1',
        'output "expert_gates" (layer 0, position 2): expected all 0 on padding, found 1 non-zero',
      ],
    );
  });
  it('router_probs rows of real tokens sum to 1', () => {
    const v = checkRoutingInvariants({ ...good, probs: [0.7, 0.2, 0.5, 0.5, 0, 0] }, 2, 'da-moe');
    assert.match(v[0], /"router_probs" \(layer 0, position 0\): expected a row summing to 1 \(±1e-3\), found 0\.9000/);
  });
  it('caps the list of messages', () => {
    const T = 30;
    const many = {
      numLayers: 1,
      length: T,
      numExperts: 1,
      mask: new Array(T).fill(1),
      count: new Array(T).fill(0),
      gates: new Array(T).fill(1),
      probs: new Array(T).fill(1),
    };
    const v = checkRoutingInvariants(many, 1, 'da-moe');
    assert.equal(v.length, 11);
    assert.match(v[10], /and 50 more invariant violations/);
  });
});
