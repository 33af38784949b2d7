/** The compiled CLI through its bin shim, as a user runs it. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { MODEL_LISTING_VERSION, type ModelListing } from '../../src/shared/model-listing';
import { contractFixtureDir, ROOT, TINY_MODEL_DIR } from '../unit/core/helpers';

const BIN = path.join(ROOT, 'bin', 'damoe.js');

function damoe(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const M = ['--model', TINY_MODEL_DIR, '--provider', 'cpu', '--threads', '1'];

describe('damoe CLI', () => {
  it('analyze prints the token table and the summary', () => {
    const r = damoe(['analyze', ...M, 'The movie was great!']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ *#\s+token\s+importance L0\.\.L1\s+K per layer/);
    assert.match(r.stdout, /\[CLS\]/);
    assert.match(r.stdout, /Prediction: +(negative|positive) \(negative 0\.\d{3}, positive 0\.\d{3}\)/);
    assert.match(r.stdout, /K histogram: K=0: 0 +K=1: \d+/);
    assert.match(r.stdout, /Mean K: +\d\.\d\d/);
    assert.match(r.stdout, /Expert FLOPs: .* fixed top-3 .* fixed top-2/);
    assert.match(r.stdout, /Provider: +cpu \(requested cpu\)/);
    assert.match(r.stdout, /Latency: +[\d.]+ ms/);
  });

  it('--json is the full Analysis', () => {
    const r = damoe(['analyze', '--json', ...M, 'good']);
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of ['version', 'text', 'model', 'provider', 'tokens', 'layers', 'prediction', 'windowing', 'stats', 'timings']) {
      assert.ok(key in a, key);
    }
    assert.equal(a.text, 'good');
    // On cpu every node runs on the CPU: no placement is reported (docs/cli.md).
    assert.equal((a.provider as { placement?: unknown }).placement, undefined);
  });

  it("reads standard input with '-' and when piped without TEXT", () => {
    const dash = damoe(['analyze', '--json', ...M, '-'], 'from stdin\n');
    assert.equal(dash.code, 0, dash.stderr);
    assert.equal(JSON.parse(dash.stdout).text, 'from stdin\n');
    const piped = damoe(['analyze', '--json', ...M], 'piped text');
    assert.equal(JSON.parse(piped.stdout).text, 'piped text');
  });

  const userErrors: [string, string[], string | undefined, number, RegExp][] = [
    [
      'missing model dir',
      ['analyze', '--model', '/nonexistent/dir', 'x'],
      undefined,
      1,
      /^damoe: Model directory not found: \/nonexistent\/dir/,
    ],
    ['unknown option', ['analyze', '--colour', 'x'], undefined, 2, /^damoe: unknown option '--colour'/],
    ['empty text', ['analyze', ...M, '   '], undefined, 2, /^damoe: the text is empty/],
    ['empty stdin', ['analyze', ...M, '-'], '', 2, /^damoe: the text is empty/],
    [
      'bad provider',
      ['analyze', '--provider', 'tpu', 'x'],
      undefined,
      2,
      /^damoe: --provider must be one of auto, cpu, webgpu, cuda, got 'tpu'/,
    ],
    ['bad threads', ['analyze', '--threads', 'many', 'x'], undefined, 2, /^damoe: --threads must be a whole number >= 0/],
    ['unknown command', ['analyse', 'x'], undefined, 2, /^damoe: unknown command 'analyse'/],
  ];
  for (const [name, args, input, code, re] of userErrors) {
    it(`user error: ${name} -> stderr, exit ${code}, no stack trace`, () => {
      const r = damoe(args, input);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(r.stdout, '');
    });
  }

  it('a contract violation lists every message and exits 1', () => {
    const dir = contractFixtureDir('num-experts-mismatch');
    try {
      const r = damoe(['analyze', '--model', dir, '--provider', 'cpu', 'x']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /does not follow the model contract \(2 problems; see docs\/model-contract\.md\)/);
      assert.match(r.stderr, /- output "expert_gates": dimension 3 \(E\) must equal metadata num_experts = 6, found 4/);
      assert.match(r.stderr, /- output "router_probs": dimension 3 \(E\) must equal metadata num_experts = 6, found 4/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--help lists the commands', () => {
    const r = damoe(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /analyze\s+show how each token/);
    assert.match(r.stdout, /models\s+list the shipped models/);
  });

  it('models --json --model DIR describes a directory: router rule, task, sizes, providers', () => {
    const r = damoe(['models', '--json', '--model', TINY_MODEL_DIR]);
    assert.equal(r.code, 0, r.stderr);
    const [m] = JSON.parse(r.stdout) as ModelListing[];
    assert.equal(m.version, MODEL_LISTING_VERSION);
    assert.equal(m.name, 'tiny-damoe');
    assert.equal(m.ok, true);
    assert.equal((m.metadata as { k_max: number }).k_max, 3);
    assert.equal(m.task, 'sequence-classification');
    assert.deepEqual(
      { kind: m.router?.kind, k: m.router?.k, k_max: m.router?.k_max, k_scale: m.router?.k_scale, gates: m.router?.gates },
      { kind: 'da-moe', k: null, k_max: 3, k_scale: 0.5, gates: 'renormalized-top-k' },
    );
    assert.match(m.router?.rule ?? '', /^K = clamp\(ceil\(k_scale \* k_max \* importance\), 1, k_max\)/);
    assert.equal(m.metrics, null, 'the fixture has no metrics.json');
    assert.equal(m.size.model_bytes, fs.statSync(path.join(TINY_MODEL_DIR, 'model.onnx')).size);
    assert.equal(m.size.tokenizer_bytes, fs.statSync(path.join(TINY_MODEL_DIR, 'tokenizer.json')).size);
    assert.deepEqual(
      m.providers.map((p) => p.provider),
      ['cpu', 'webgpu', 'cuda'],
    );
    assert.equal(m.providers[0].status, 'available');
  });

  it('models lists the shipped models with the K rule, k_scale, accuracy from metrics.json and size', () => {
    const r = damoe(['models']);
    assert.equal(r.code, 0, r.stderr);
    const metrics = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'damoe-sst2', 'metrics.json'), 'utf8')) as { accuracy: number };
    const damoeBlock = r.stdout.split('\n\n').find((b) => b.startsWith('damoe-sst2 '));
    assert.ok(damoeBlock, r.stdout);
    assert.match(
      damoeBlock,
      /router +da-moe, K per token from its importance: K = clamp\(ceil\(k_scale \* k_max \* importance\), 1, k_max\).*k_max 4, k_scale 0\.375/,
    );
    assert.match(damoeBlock, /task +sequence-classification, labels negative, positive/);
    assert.match(damoeBlock, new RegExp(`accuracy +${(100 * metrics.accuracy).toFixed(1)}% on sentence-dev\\.tsv \\(\\d+ examples\\)`));
    assert.match(damoeBlock, /size +model 13\.\d MiB, tokenizer \d+ KiB, 3\.\d\dM parameters/);
    assert.match(r.stdout, /switch-sst2 .*\n.*\n +router +top-k, fixed K = 1 \(Switch\)/);
    assert.match(r.stdout, /Execution providers of this installation .*\n +cpu +yes: .*\n +webgpu .*\n +cuda /);
  });

  it('--version prints the package and onnxruntime-node versions; help COMMAND prints its help', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = damoe(['--version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(
      v.stdout,
      new RegExp(`^damoe-inspector ${manifest.version.replace(/\./g, '\\.')} \\(onnxruntime-node 1\\.\\d+\\.\\d+, Node v\\d+`),
    );
    const h = damoe(['help', 'spot-check']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^Usage: damoe spot-check \[options\] FILE/);
    const bad = damoe(['help', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no help for 'nope': unknown command \(commands: .*\bspot-check\b/);
  });
});
