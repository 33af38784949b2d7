/**
 * `damoe trace` through the bin shim on responses in the documented vLLM / SGLang formats
 * (test/fixtures/traces/engine-responses.ts cites each source; no engine ran), with the shipped tokenizer's ids.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Tokenizer } from '../../src/core/tokenizer';
import { ROOT, SHIPPED_DAMOE_DIR } from '../unit/core/helpers';
import { sglangGenerate, syntheticRouting, vllm021Completion, type TraceSpec } from '../fixtures/traces/engine-responses';
import { startEngineServer } from '../fixtures/traces/engine-server';

/** The CLI without blocking this process (the loopback server it talks to runs here). */
function damoeAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const BIN = path.join(ROOT, 'bin', 'damoe.js');
const damoe = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const tokenizer = Tokenizer.fromFile(path.join(SHIPPED_DAMOE_DIR, 'tokenizer.json'));
const [L, K, E] = [2, 2, 8];
function spec(text: string, seed: number): TraceSpec {
  const promptIds = tokenizer.encode(text).ids;
  const generatedIds = tokenizer.encode('so good', undefined, { addSpecialTokens: false }).ids;
  return { promptIds, generatedIds, routing: syntheticRouting(promptIds.length + generatedIds.length, L, K, E, seed) };
}

describe('damoe trace', () => {
  let dir = '';
  let modelDir = '';
  const s = spec('A gorgeous, witty and moving film.', 3);
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-trace-cli-'));
    // The served model's folder: tokenizer.json (the shipped one) and a config.json as Hugging Face writes it.
    modelDir = path.join(dir, 'model');
    fs.mkdirSync(modelDir);
    fs.copyFileSync(path.join(SHIPPED_DAMOE_DIR, 'tokenizer.json'), path.join(modelDir, 'tokenizer.json'));
    fs.writeFileSync(path.join(modelDir, 'config.json'), JSON.stringify({ num_experts: E, num_experts_per_tok: K, num_hidden_layers: L }));
    fs.writeFileSync(path.join(dir, 'vllm.json'), JSON.stringify(vllm021Completion(s), null, 2));
    const lines = [0, 1, 2].map((i) => JSON.stringify(sglangGenerate(spec(['a fine film', 'dull and long', 'it moved me'][i], 10 + i))));
    fs.writeFileSync(path.join(dir, 'many.jsonl'), [...lines, '{"not": "a trace"}'].join('\n') + '\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints every prompt token with the expert ids of each layer, gates not recorded', () => {
    const r = damoe(['trace', path.join(dir, 'vllm.json'), '--tokenizer', modelDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /experts per layer \(L0 \| L1 \| \.\.\.; gates not recorded\)/);
    const rows = r.stdout.split('\n').filter((l) => /^ *\d+ /.test(l));
    assert.equal(rows.length, s.promptIds.length + s.generatedIds.length);
    s.promptIds.forEach((id, t) => {
      const want = s.routing[t].map((ids) => ids.join(' ')).join(' | ');
      assert.ok(rows[t].trimEnd().endsWith(want), `token ${t}: ${rows[t]} should end with ${want}`);
      assert.ok(rows[t].includes(tokenizer.idToToken(id)!.slice(0, 10)));
    });
    assert.match(rows[s.promptIds.length], /^ *\d+ +\+so/);
    assert.match(r.stdout, /Prediction: +none \(a routing trace has no classifier output\)/);
    assert.match(r.stdout, /Trace: +vllm-completions from .*vllm\.json \(engine model Qwen\/Qwen3-30B-A3B\)/);
    assert.match(r.stdout, /Gates: +not recorded/);
  });

  it('--json is the Analysis with nulls where nothing was recorded', () => {
    const r = damoe(['trace', path.join(dir, 'vllm.json'), '--tokenizer', modelDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(r.stdout);
    assert.equal(a.prediction, null);
    assert.equal(a.model.gatesAvailable, false);
    assert.equal(a.layers[0].gates[0][0], null);
    assert.equal(a.layers[0].importance[0], null);
    assert.deepEqual(a.layers[1].experts[2], s.routing[2][1]);
  });

  it('a JSONL of traces gives the spot-check report, the bad line skipped with its reason', () => {
    const html = path.join(dir, 'report.html');
    const r = damoe(['trace', path.join(dir, 'many.jsonl'), '--tokenizer', modelDir, '--json', '--html', html]);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.n, 3);
    assert.equal(rep.execution_provider, null);
    assert.equal(rep.skipped.count, 1);
    assert.equal(rep.skipped.first[0].line, 4);
    assert.match(rep.skipped.first[0].reason, /not a routing trace/);
    assert.equal(rep.expert_load.length, L);
    assert.equal(rep.co_activation[0].length, E);
    assert.equal(rep.examples[0].predicted, null);
    // Specialisation by token (lift), from the same builder as a dataset spot-check.
    assert.equal(rep.expert_specialisation.length, L);
    assert.ok(fs.readFileSync(html, 'utf8').includes('routing traces recorded by a serving engine'));
  });

  it('refuses a bad trace naming the field, the expected and the found shape (exit 1)', () => {
    const bad = vllm021Completion(s);
    (bad.prompt_routed_experts as number[][][])[1][0] = [E + 1, 0];
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(bad));
    const r = damoe(['trace', path.join(dir, 'bad.json'), '--tokenizer', modelDir]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^damoe: prompt_routed_experts\[1\]\[0\]\[0\]: expected an expert id in \[0, 8\) \(num_experts from config\.json\), found 9/,
    );
    assert.equal(r.stdout, '');
  });

  it('reads a Hugging Face hooks trace (test/fixtures/traces/hf-hooks.jsonl): gates derived, two sequences as statistics', () => {
    const fixture = path.join(ROOT, 'test', 'fixtures', 'traces', 'hf-hooks.jsonl');
    const expected = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'traces', 'hf-hooks.expected.json'), 'utf8'));
    const [head, first] = fs.readFileSync(fixture, 'utf8').split('\n');
    const one = path.join(dir, 'hf-one.jsonl');
    fs.writeFileSync(one, `${head}\n${first}\n`);
    const r = damoe(['trace', one, '--tokenizer', SHIPPED_DAMOE_DIR, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(r.stdout);
    assert.equal(a.model.trace.format, 'hf-hooks');
    assert.equal(a.model.gatesAvailable, true);
    assert.deepEqual(a.layers[1].experts, expected.sequences[0][1].experts);
    assert.ok(Math.abs(a.layers[1].gates[4][0] - expected.sequences[0][1].gates[4][0]) < 1e-6);
    const many = damoe(['trace', fixture, '--tokenizer', SHIPPED_DAMOE_DIR, '--json']);
    assert.equal(many.code, 0, many.stderr);
    assert.equal(JSON.parse(many.stdout).n, 2);
  });

  it('needs --tokenizer', () => {
    const r = damoe(['trace', path.join(dir, 'vllm.json')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--tokenizer DIR/);
  });

  it('analyze --remote sends the text to a (loopback) vLLM server with the key from DAMOE_REMOTE_API_KEY', async () => {
    const server = await startEngineServer({ kind: 'vllm', tokenizer, layers: L, topK: K, numExperts: E, behaviour: 'key', apiKey: 'k1' });
    try {
      const text = 'A gorgeous film.';
      const r = await damoeAsync(['analyze', '--remote', server.url, '--tokenizer', modelDir, '--json', text], {
        DAMOE_REMOTE_API_KEY: 'k1',
      });
      assert.equal(r.code, 0, r.stderr);
      const a = JSON.parse(r.stdout);
      assert.equal(a.text, text);
      assert.deepEqual(a.layers[1].experts[2], server.lastRouting![2][1]);
      const denied = await damoeAsync(['analyze', '--remote', server.url, '--tokenizer', modelDir, text], { DAMOE_REMOTE_API_KEY: '' });
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /HTTP 401/);
    } finally {
      await server.close();
    }
  });
});
