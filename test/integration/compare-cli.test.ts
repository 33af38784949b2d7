/**
 * `damoe compare` end to end through the bin shim, with the three shipped models on the committed SST-2 fixture
 * (31 good rows; line 12 is an HTML-injection probe, line 23 a bad row).
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { CompareReport } from '../../src/shared/compare-report';
import { mcnemarExactP, wilsonInterval } from '../../src/shared/stats';
import { ROOT, TINY_MODEL_DIR } from '../unit/core/helpers';

const BIN = path.join(ROOT, 'bin', 'damoe.js');
const SST2 = path.join(ROOT, 'test', 'fixtures', 'datasets', 'sst2-sample.tsv');
const RUN = ['--provider', 'cpu', '--threads', '1'];

function damoe(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('damoe compare', () => {
  let tmp = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-compare-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('three shipped models on one sample: accuracies with Wilson CIs, paired stats against the first, disagreements, JSON and HTML', () => {
    const json = path.join(tmp, 'compare.json');
    const html = path.join(tmp, 'compare.html');
    const r = damoe(['compare', '--models', 'damoe-sst2,top2-sst2,switch-sst2', ...RUN, SST2, '--json', json, '--html', html]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /sample: 31 of 31 examples/);
    assert.match(r.stderr, /analysing \(top2-sst2\): 31\/31 examples/);
    assert.match(r.stdout, /damoe-sst2 +da-moe +\d+\.\d% \[\d+\.\d, \d+\.\d\] +\d+\/31/);
    assert.match(r.stdout, /damoe-sst2 − top2-sst2: [+-]\d+\.\d pts \[[+-]\d+\.\d, [+-]\d+\.\d\], McNemar p [=<] [\d.]+/);
    assert.match(r.stdout, /Disagreements: \d+ of 31 examples/);

    const rep = JSON.parse(fs.readFileSync(json, 'utf8')) as CompareReport;
    assert.equal(rep.kind, 'damoe-compare');
    assert.equal(rep.version, 1);
    assert.deepEqual(
      rep.models.map((m) => [m.name, m.router_kind, m.n]),
      [
        ['damoe-sst2', 'da-moe', 31],
        ['top2-sst2', 'top-k', 31],
        ['switch-sst2', 'top-k', 31],
      ],
    );
    for (const m of rep.models) {
      assert.equal(m.labelled, 31);
      assert.equal(m.accuracy, m.correct! / 31);
      assert.deepEqual(m.ci95, wilsonInterval(m.correct!, 31));
      assert.ok(m.ci95![0] < m.accuracy! && m.accuracy! < m.ci95![1]);
      assert.ok(m.expert_flops > 0 && m.mean_k >= 1 && m.mean_k_per_layer.length === 4);
    }
    // Fixed-K routers spend exactly K experts per token: top-2 is its own baseline, Switch half of it.
    assert.equal(rep.models[1].mean_k, 2);
    assert.equal(rep.models[1].expert_flops, rep.models[1].expert_flops_fixed_top_2);
    assert.equal(rep.models[2].mean_k, 1);

    // Paired statistics: each model against the first, on all 31 (every example has a label); `paired` is the first pair.
    assert.equal(rep.paired_with_first.length, 2);
    assert.deepEqual(rep.paired, rep.paired_with_first[0]);
    rep.paired_with_first.forEach((p, i) => {
      const other = rep.models[i + 1];
      assert.equal(p.first, 'damoe-sst2');
      assert.equal(p.second, other.name);
      assert.equal(p.n, 31);
      assert.ok(Math.abs(p.difference - (rep.models[0].accuracy! - other.accuracy!)) < 1e-12);
      // The discordant pairs are the difference: (b - c) / n.
      assert.ok(Math.abs(p.difference - (p.first_only_correct - p.second_only_correct) / 31) < 1e-12);
      assert.equal(p.mcnemar_p, mcnemarExactP(p.first_only_correct, p.second_only_correct));
      assert.ok(p.ci95[0] <= p.difference && p.difference <= p.ci95[1]);
      assert.deepEqual(p.bootstrap, { resamples: 10_000, seed: 42 });
    });

    // Disagreements: whole texts, one prediction per model, at least two different predictions each.
    assert.equal(rep.common, 31);
    assert.equal(rep.disagreements.length, rep.disagreements_total);
    for (const d of rep.disagreements) {
      assert.equal(d.predictions.length, 3);
      assert.ok(new Set(d.predictions).size > 1, JSON.stringify(d));
      assert.equal(d.correct.length, 3);
    }
    // The discordant pairs of the first two models are among the disagreements.
    const firstTwo = rep.disagreements.filter((d) => d.predictions[0] !== d.predictions[1]).length;
    assert.equal(firstTwo, rep.paired!.first_only_correct + rep.paired!.second_only_correct);
    assert.deepEqual(rep.skipped, { reader: 1, first: [{ line: 23, reason: 'expected 2 columns, found 3' }] });

    const page = fs.readFileSync(html, 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    assert.doesNotMatch(page, /https?:\/\//);
    assert.doesNotMatch(page, /<img src=x/);
    assert.match(page, /accuracy with its 95% Wilson score interval/);
    assert.match(page, /damoe-sst2 − top2-sst2/);
  });

  it('the same seed gives the same comparison; the bootstrap is seeded with --seed', () => {
    const args = ['compare', '--models', 'damoe-sst2,top2-sst2', ...RUN, SST2, '--sample', '20'];
    const a = path.join(tmp, 'a.json');
    const b = path.join(tmp, 'b.json');
    assert.equal(damoe([...args, '--json', a]).code, 0);
    assert.equal(damoe([...args, '--json', b]).code, 0);
    const ra = JSON.parse(fs.readFileSync(a, 'utf8')) as CompareReport;
    const rb = JSON.parse(fs.readFileSync(b, 'utf8')) as CompareReport;
    assert.deepEqual(ra.paired, rb.paired);
    assert.equal(ra.sample.size, 20);
    assert.equal(ra.paired!.n, 20);
  });

  const errors: [string, string[], RegExp][] = [
    ['one model', ['--models', 'damoe-sst2', SST2], /--models takes 2 or 3 models separated by commas, got 1/],
    ['four models', ['--models', 'damoe-sst2,top2-sst2,switch-sst2,damoe-sst2', SST2], /got 4/],
    ['no --models', [SST2], /compare needs --models A,B/],
    [
      'an unknown model',
      ['--models', 'damoe-sst2,nope-sst2', SST2],
      /No model 'nope-sst2': not a folder, nor a shipped model \(shipped: damoe-sst2/,
    ],
    ['the same model twice', ['--models', `damoe-sst2,${path.join(ROOT, 'models', 'damoe-sst2')}`, SST2], /names the same model twice/],
    ['--model (singular)', ['--model', TINY_MODEL_DIR, '--models', 'damoe-sst2,top2-sst2', SST2], /unknown option '--model'/],
    ['no FILE', ['--models', 'damoe-sst2,top2-sst2'], /compare needs a dataset FILE/],
  ];
  for (const [name, args, message] of errors) {
    it(`usage error: ${name} -> exit 2 before any model loads`, () => {
      const r = damoe(['compare', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }
});
