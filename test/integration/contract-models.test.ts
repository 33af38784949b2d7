/** Broken models through the whole load path (worker + contract check): one specific message each. */
import { describe, it, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import { createEngine } from '../../src/core/engine';
import { EngineError } from '../../src/core/engine-api';
import { contractFixtureDir } from '../unit/core/helpers';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function violations(fixture: string, opts: { tokenizer?: boolean } = {}): Promise<string[]> {
  const dir = contractFixtureDir(fixture, opts);
  dirs.push(dir);
  try {
    const engine = await createEngine({ modelDir: dir, executionProvider: 'cpu', threads: 1 });
    await engine.dispose();
  } catch (e) {
    assert.ok(e instanceof EngineError, `unexpected ${String(e)}`);
    assert.equal(e.code, 'contract-violation', e.message);
    assert.ok(e.details && e.details.length > 0);
    for (const d of e.details) assert.match(d, /docs\/model-contract\.md/);
    return e.details;
  }
  return [];
}

const CASES: [string, RegExp][] = [
  ['missing-output', /^output "router_probs": expected float32 \[L, B, T, E\], found no output of that name/],
  ['wrong-dtype', /^output "expert_count": expected dtype int64, found float32/],
  ['wrong-rank', /^output "token_importance": expected rank 3 \[L, B, T\], found rank 2 \[batch, sequence\]/],
  ['missing-metadata', /^metadata: expected a metadata_props entry "moe\.contract"/],
  ['bad-json-metadata', /^metadata "moe\.contract": expected a JSON document, found malformed JSON/],
  ['kmax-too-large', /^metadata key "k_max": expected an integer in 1\.\.4, found number 9/],
  [
    'num-layers-mismatch',
    /^output "(token_importance|expert_count|expert_gates|router_probs)": dimension 0 \(L\) must equal metadata num_layers = 3, found 2/,
  ],
  ['labels-missing', /^metadata key "labels": expected an array of at least 2 strings/],
  ['unknown-router-kind', /^metadata key "router_kind": expected "da-moe" or "top-k", found "hash"/],
  ['wrong-contract-version', /^metadata key "contract_version": expected 1 or 2, found number 3/],
  ['topk-without-k', /^metadata key "k": expected an integer in 1\.\.4, found nothing/],
  ['router-logits-da-moe', /^output "router_logits": a model exposing only logits \+ router_logits must declare "router_kind": "top-k"/],
];

describe('contract check on broken models', () => {
  for (const [fixture, re] of CASES) {
    it(`${fixture}: one specific message`, async () => {
      const v = await violations(fixture);
      // num-layers-mismatch legitimately breaks all four routing outputs; everything else is exactly one message
      if (fixture === 'num-layers-mismatch') assert.equal(v.length, 4, v.join('\n'));
      else assert.equal(v.length, 1, v.join('\n'));
      assert.match(v[0], re);
    });
  }

  it('num-experts-mismatch: E of both [L,B,T,E] outputs against num_experts', async () => {
    const v = await violations('num-experts-mismatch');
    assert.deepEqual(
      v.map((m) => m.split(' (see')[0]),
      [
        'output "expert_gates": dimension 3 (E) must equal metadata num_experts = 6, found 4',
        'output "router_probs": dimension 3 (E) must equal metadata num_experts = 6, found 4',
      ],
    );
  });

  it('missing tokenizer file', async () => {
    const v = await violations('valid', { tokenizer: false });
    assert.equal(v.length, 1, v.join('\n'));
    assert.match(v[0], /^metadata key "tokenizer": expected the file tokenizer\.json in .*, found no such file/);
  });

  for (const [name, bytes] of [
    ['a truncated model.onnx', (b: Buffer) => b.subarray(0, Math.floor(b.length / 2))],
    ['a text file named model.onnx', () => Buffer.from('this is not a model\n')],
  ] as const) {
    it(`${name} is a contract violation that says what the file is and what to do (no worker is started)`, async () => {
      const dir = contractFixtureDir('valid');
      dirs.push(dir);
      fs.writeFileSync(`${dir}/model.onnx`, new Uint8Array(bytes(fs.readFileSync(`${dir}/model.onnx`))));
      await assert.rejects(createEngine({ modelDir: dir, executionProvider: 'cpu', threads: 1 }), (e: Error) => {
        assert.ok(e instanceof EngineError && e.code === 'contract-violation', String(e));
        assert.match(
          e.message,
          new RegExp(`^model\\.onnx: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/model\\.onnx is not a readable ONNX model: `),
        );
        assert.match(
          e.message,
          /The file is damaged, truncated or not an ONNX model: export the model again \(see docs\/model-contract\.md/,
        );
        return true;
      });
    });
  }

  it('a readable model with an operator onnxruntime lacks: model-load-failed naming the operator', async () => {
    const dir = contractFixtureDir('unknown-operator');
    dirs.push(dir);
    await assert.rejects(createEngine({ modelDir: dir, executionProvider: 'cpu', threads: 1 }), (e: Error) => {
      assert.ok(e instanceof EngineError && e.code === 'model-load-failed', String(e));
      assert.match(e.message, /^onnxruntime could not load .*unknown-operator-.*\/model\.onnx: .*DamoeNoSuchOperator/);
      return true;
    });
  });

  it('the valid fixtures load (the check is not refusing everything)', async () => {
    assert.deepEqual(await violations('valid'), []);
    assert.deepEqual(await violations('valid-router-logits'), []);
  });

  it('count-mismatch passes the static check and fails on the first run with the invariant', async () => {
    const dir = contractFixtureDir('count-mismatch');
    dirs.push(dir);
    const engine = await createEngine({ modelDir: dir, executionProvider: 'cpu', threads: 1 });
    try {
      await assert.rejects(engine.analyze({ text: 'hello world' }), (e: Error) => {
        return (
          e instanceof EngineError &&
          e.code === 'contract-violation' &&
          /"expert_count" \(layer 0, position 0\): expected the number of non-zero expert_gates \(1\), found 2/.test(e.message)
        );
      });
    } finally {
      await engine.dispose();
    }
  });

  it('router_logits model: routing derived, importance reported unavailable', async () => {
    const dir = contractFixtureDir('valid-router-logits');
    dirs.push(dir);
    const engine = await createEngine({ modelDir: dir, executionProvider: 'cpu', threads: 1 });
    try {
      const a = await engine.analyze({ text: 'hello world' });
      assert.equal(a.model.routingSource, 'router_logits');
      assert.equal(a.model.importanceAvailable, false);
      assert.ok(a.layers[0].importance.every(Number.isNaN));
      // router_logits = [4, 3, 2, 1] * mask: experts 0 and 1, k = 2, renormalised gates
      assert.deepEqual(a.layers[0].experts[1], [0, 1]);
      const e = Math.E;
      assert.ok(Math.abs(a.layers[0].gates[1][0] - e / (e + 1)) < 1e-5);
      assert.deepEqual(a.stats.kHistogram.overall, [0, 0, 2 * a.tokens.length]);
      assert.equal(JSON.parse(JSON.stringify(a)).layers[0].importance[0], null);
    } finally {
      await engine.dispose();
    }
  });
});
