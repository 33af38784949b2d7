/** `damoe analyze --importance-check` and `damoe spot-check --importance-check` through the bin shim, shipped model. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Analysis } from '../../src/shared/analysis';
import type { SpotCheckReport } from '../../src/shared/spotcheck-report';
import { spearman } from '../../src/shared/stats';
import { ROOT, SHIPPED_DAMOE_DIR, TINY_LM_DIR } from '../unit/core/helpers';

const BIN = path.join(ROOT, 'bin', 'damoe.js');
const SST2 = path.join(ROOT, 'test', 'fixtures', 'datasets', 'sst2-sample.tsv');
const M = ['--model', SHIPPED_DAMOE_DIR, '--provider', 'cpu', '--threads', '1'];
const TEXT = 'the acting is wooden , but the story is not bad at all';

function damoe(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 2 ** 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('damoe analyze --importance-check', () => {
  it('--json: importance_check with a drop per token (null for specials) and a rho per layer from those drops', () => {
    const r = damoe(['analyze', ...M, '--json', '--importance-check', TEXT]);
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(r.stdout) as Analysis;
    const c = a.importance_check!;
    assert.equal(c.occlusion, 'deletion');
    assert.equal(c.measure, 'predicted-class-probability-drop');
    assert.equal(c.n, 13);
    assert.equal(c.texts, 1);
    assert.equal(c.sequences, 14);
    assert.equal(c.drops!.length, a.tokens.length);
    a.tokens.forEach((t, i) => assert.equal(c.drops![i] === null, t.special, `token ${i}`));
    assert.equal(c.predicted!.label, a.prediction!.label);
    // The check's own run of the text (padded in a batch with its variants) agrees with the analysis to float noise.
    assert.ok(Math.abs(c.predicted!.probability - a.prediction!.probabilities[a.prediction!.index]) < 1e-5);
    assert.equal(c.layers.length, a.layers.length);
    const ordinary = a.tokens.filter((t) => !t.special).map((t) => t.index);
    c.layers.forEach((l, layer) => {
      const rho = spearman(
        ordinary.map((t) => a.layers[layer].importance[t]),
        ordinary.map((t) => c.drops![t]!),
      );
      assert.ok(Math.abs(l.spearman! - rho!) < 1e-9, `layer ${layer}: ${l.spearman} vs ${rho}`);
      assert.equal(l.n, 13);
      assert.ok(l.ci95![0] < l.spearman! && l.spearman! < l.ci95![1]);
    });
  });

  it('table: the check after the summary, one line per layer', () => {
    const r = damoe(['analyze', ...M, '--importance-check', TEXT]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Importance vs occlusion: Spearman's rho .* over the 13 tokens of this text \(predicted \w+, p = 0\.\d{3}\)/);
    assert.match(r.stdout, /\n {2}layer 3: rho [+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\] \(n 13\)\n?$/);
  });

  it('refused clearly where it does not apply', () => {
    const lm = damoe(['analyze', '--model', TINY_LM_DIR, '--importance-check', 'the film']);
    assert.equal(lm.code, 1);
    assert.match(lm.stderr, /--importance-check: .* is a causal language model: it predicts no class/);
    const jsonl = damoe(['analyze', ...M, '--format', 'jsonl', '--importance-check', TEXT]);
    assert.equal(jsonl.code, 2);
    assert.match(jsonl.stderr, /--importance-check goes with the table or --json/);
    const remote = damoe(['analyze', '--remote', 'http://127.0.0.1:9', '--tokenizer', SHIPPED_DAMOE_DIR, '--importance-check', TEXT]);
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /routing trace from --remote records expert ids only/);
  });
});

describe('damoe spot-check --importance-check', () => {
  it('pools a seeded subset of the sample: JSON importance_check, a summary on stdout', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-occ-'));
    try {
      const json = path.join(tmp, 'r.json');
      const r = damoe(['spot-check', ...M, SST2, '--importance-check', '--importance-sample', '10', '--json', json]);
      assert.equal(r.code, 0, r.stderr);
      const c = (JSON.parse(fs.readFileSync(json, 'utf8')) as SpotCheckReport).importance_check!;
      assert.equal(c.requested, 10);
      assert.equal(c.texts, 10);
      assert.equal(c.skipped, 0);
      assert.equal(c.seed, 'importance:42');
      assert.equal(c.pooling, 'tokens');
      assert.equal(c.drops, undefined);
      assert.ok(c.n > 10 && c.sequences === c.n + 10, `${c.n} tokens, ${c.sequences} inputs`);
      for (const l of c.layers) {
        assert.equal(l.n, c.n);
        assert.ok(l.spearman !== null && Math.abs(l.spearman) <= 1);
        assert.ok(l.texts >= 1 && l.texts <= 10);
      }
      assert.match(r.stdout, /Importance vs occlusion: .* over \d+ tokens of 10 examples, pooled/);
      assert.match(r.stdout, /layer 0: rho [+-]\d\.\d{3} .*mean of per-example rhos/);
      assert.match(r.stderr, /analysing \(importance check\): 10\/10 examples/);
      // The same seed draws the same subset.
      const again = damoe(['spot-check', ...M, SST2, '--importance-check', '--importance-sample', '10', '--json', json]);
      assert.equal(again.code, 0);
      assert.deepEqual((JSON.parse(fs.readFileSync(json, 'utf8')) as SpotCheckReport).importance_check!.layers, c.layers);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('bad options are usage errors', () => {
    const r1 = damoe(['spot-check', ...M, SST2, '--importance-sample', '10']);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /--importance-sample goes with --importance-check/);
    const r2 = damoe(['spot-check', ...M, SST2, '--importance-check', '--importance-sample', '0']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--importance-sample must be a whole number >= 1, got '0'/);
  });
});
