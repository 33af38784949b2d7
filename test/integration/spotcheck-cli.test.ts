/** `damoe spot-check` end to end through the bin shim, with the tiny fixture model (and the shipped model when present). */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_SPOTCHECK_SEED } from '../../src/shared/defaults';
import type { SpotCheckReport } from '../../src/shared/spotcheck-report';
import { wilsonInterval } from '../../src/shared/stats';
import { ROOT, SHIPPED_DAMOE_DIR, TINY_MODEL_DIR } from '../unit/core/helpers';

const BIN = path.join(ROOT, 'bin', 'damoe.js');
const DATA = path.join(ROOT, 'test', 'fixtures', 'datasets');
const SST2 = path.join(DATA, 'sst2-sample.tsv');
const RTE = path.join(DATA, 'rte-sample.tsv');
const M = ['--model', TINY_MODEL_DIR, '--provider', 'cpu', '--threads', '1'];

function damoe(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function readJson(file: string): SpotCheckReport {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SpotCheckReport;
}

/** Checks that an HTML report loads nothing from outside and escapes the probe row. */
function assertSelfContained(html: string): void {
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<(script|img|iframe|link|embed|object|audio|video|source)[^>]*\ssrc=/i);
  assert.doesNotMatch(html, /<link\b|@import|url\(/i);
}

describe('damoe spot-check', () => {
  let tmp = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-spotcheck-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('TSV with labels: summary on stdout, progress on stderr, JSON and HTML reports', () => {
    const json = path.join(tmp, 'report.json');
    const html = path.join(tmp, 'report.html');
    const r = damoe(['spot-check', ...M, SST2, '--json', json, '--html', html]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Accuracy: +\d+\.\d% \[\d+\.\d, \d+\.\d\] \(\d+ of 31 labelled; 95% Wilson CI in brackets\)/);
    assert.match(r.stdout, /Labels: +dataset labels mapped by index: 0 → negative, 1 → positive/);
    assert.match(
      r.stdout,
      /Confusion \(rows: label, columns: predicted\):\n +negative +positive\n +negative +\d+ +\d+\n +positive +\d+ +\d+/,
    );
    assert.match(r.stdout, /K histogram \(tokens per K\):\n +K=0 +K=1 +K=2 +K=3 +mean K\n +layer 0/);
    assert.match(r.stdout, /Expert load .*\n +layer 0: [\d. ]+ +CV \d/);
    assert.match(r.stdout, /Throughput: +[\d.]+ examples\/s/);
    assert.match(r.stdout, /Skipped: +1 row .*\n +line 23: expected 2 columns, found 3/);
    assert.match(r.stderr, /sample: 31 of 31 examples/);
    assert.match(r.stderr, /analysing: 31\/31 examples/);
    assert.doesNotMatch(r.stdout, /analysing/);

    const rep = readJson(json);
    assert.equal(rep.kind, 'damoe-spot-check');
    assert.equal(rep.n, 31);
    assert.equal(rep.cancelled, false);
    assert.deepEqual(rep.skipped, { count: 1, reader: 1, run: 0, first: [{ line: 23, reason: 'expected 2 columns, found 3' }] });
    assert.equal(typeof rep.accuracy, 'number');
    assert.deepEqual(rep.accuracy_ci95, wilsonInterval(rep.correct!, 31));
    assert.equal(rep.labelled, 31);
    assert.equal(
      rep.confusion!.matrix.flat().reduce((a, b) => a + b, 0),
      31,
    );
    assert.equal(rep.k_histogram.per_layer.length, 2);
    assert.equal(rep.k_histogram.overall.length, 4);
    assert.equal(
      rep.k_histogram.overall.reduce((a, b) => a + b, 0),
      rep.tokens * 2,
    );
    assert.equal(rep.expert_load.length, 2);
    assert.ok(rep.expert_load.every((l) => l.tokens.length === 4 && Array.isArray(l.dead)));
    assert.ok(rep.examples_per_second > 0);
    assert.equal(rep.model.name, 'tiny-damoe');
    assert.deepEqual(rep.model.labels, ['negative', 'positive']);
    assert.equal(rep.execution_provider!.used, 'cpu');
    assert.equal(rep.dataset.format, 'tsv');
    assert.equal(rep.dataset.text_column, 'sentence');
    // The default seed is VS Code's default too (src/shared/defaults.ts): the same file gives the same sample in both.
    assert.equal(rep.sample.seed, DEFAULT_SPOTCHECK_SEED);
    assert.equal(rep.sample.requested, 500);
    assert.equal(rep.examples.length, 31);
    assert.deepEqual(
      rep.routing_by_label.map((g) => g.label),
      ['0', '1'],
    );
    const probe = rep.examples.find((x) => x.line === 12)!;
    assert.match(probe.text, /^<img src=x onerror=alert\(1\)>/);

    const page = fs.readFileSync(html, 'utf8');
    assertSelfContained(page);
    assert.doesNotMatch(page, /<img/i);
    assert.match(page, /&lt;img src=x onerror=alert\(1\)&gt; a &quot;quoted&#39; &lt;b&gt;bold&lt;\/b&gt; &amp; odd film/);
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary files left behind',
    );
  });

  it('--group-column: routing per value of any column, and expert specialisation, in the JSON and the summary', () => {
    const file = path.join(tmp, 'domains.tsv');
    const rows = fs
      .readFileSync(SST2, 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.split('\t').length === 2);
    fs.writeFileSync(file, ['sentence\tlabel\tdomain', ...rows.map((l, i) => `${l}\t${i % 3 === 0 ? 'film' : 'books'}`)].join('\n') + '\n');
    const json = path.join(tmp, 'groups.json');
    const r = damoe(['spot-check', ...M, file, '--group-column', 'domain', '--json', json]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Routing by "domain"/);
    const rep = readJson(json);
    assert.equal(rep.dataset.group_column, 'domain');
    assert.deepEqual(
      rep.routing_by_group!.map((g) => [g.label, g.n]),
      [
        ['books', rows.length - Math.ceil(rows.length / 3)],
        ['film', Math.ceil(rows.length / 3)],
      ],
    );
    assert.equal(
      rep.routing_by_group!.reduce((t, g) => t + g.tokens, 0),
      rep.tokens,
    );
    // Accuracy per group adds up to the report's; each group's load shift is a distance in [0, 1] per layer.
    assert.equal(
      rep.routing_by_group!.reduce((t, g) => t + g.correct!, 0),
      rep.correct,
    );
    for (const g of rep.routing_by_group!) {
      // Row i of `rows` is line i + 2 of domains.tsv (after its header).
      const exs = rep.examples.filter((e) => ((e.line - 2) % 3 === 0 ? 'film' : 'books') === g.label);
      assert.equal(g.labelled, exs.length);
      assert.equal(g.correct, exs.filter((e) => e.correct).length);
      assert.ok(g.accuracy_ci95![0] <= g.accuracy! && g.accuracy! <= g.accuracy_ci95![1]);
      assert.equal(g.expert_load_shift!.length, rep.model.num_layers);
      assert.ok(g.expert_load_shift!.every((x) => x >= 0 && x <= 1));
    }
    assert.match(r.stdout, /books +\d+ +\d+ +\d+\.\d% \[\d+\.\d, \d+\.\d\]/);
    assert.equal(rep.expert_specialisation!.length, rep.model.num_layers);
    assert.ok(rep.expert_specialisation!.every((layer) => layer.length === rep.model.num_experts));
    assert.ok(rep.expert_specialisation!.flat().some((x) => x.tokens.length > 0));
    const bad = damoe(['spot-check', ...M, file, '--group-column', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown --group-column 'nope'/);
  });

  it('pairs (RTE): encoded as pairs; labels that do not map give accuracy null and a note', () => {
    const json = path.join(tmp, 'rte.json');
    const r = damoe(['spot-check', ...M, RTE, '--json', json]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Accuracy: +n\/a/);
    assert.match(r.stdout, /do not match the model's labels/);
    const rep = readJson(json);
    assert.equal(rep.dataset.pair_column, 'sentence2');
    assert.equal(rep.accuracy, null);
    assert.equal(rep.label_mapping.strategy, 'none');
    assert.equal(rep.confusion!.rows_are, 'dataset-labels');
    assert.ok(rep.examples.every((x) => typeof x.pair === 'string' && x.pair.length > 0));
  });

  it('the same seed gives the same sample, another seed another; stratified by label', () => {
    const lines = (seed: string): number[] => {
      const out = path.join(tmp, `seed-${seed}.json`);
      const r = damoe(['spot-check', ...M, SST2, '--sample', '10', '--seed', seed, '--json', out]);
      assert.equal(r.code, 0, r.stderr);
      const rep = readJson(out);
      assert.equal(rep.sample.stratified, true);
      assert.deepEqual(
        rep.sample.strata.map((s) => s.taken),
        [5, 5],
      );
      return rep.examples.map((x) => x.line);
    };
    const a = lines('7');
    assert.equal(a.length, 10);
    assert.deepEqual(lines('7'), a);
    assert.notDeepEqual(lines('8'), a);
  });

  it('--workers 2 spreads the run over two workers and gives the same report figures as one', () => {
    const run = (workers: string) => {
      const out = path.join(tmp, `workers-${workers}.json`);
      const r = damoe(['spot-check', ...M, SST2, '--workers', workers, '--json', out]);
      assert.equal(r.code, 0, r.stderr);
      return { stdout: r.stdout, rep: readJson(out) };
    };
    const one = run('1');
    const two = run('2');
    assert.equal(one.rep.workers, 1);
    assert.equal(two.rep.workers, 2);
    assert.equal(two.rep.threads, 1);
    assert.match(two.stdout, /Throughput: +[\d.]+ examples\/s \([\d.]+ s, 1 thread, 2 workers\)/);
    for (const key of [
      'n',
      'accuracy',
      'confusion',
      'k_histogram',
      'expert_load',
      'co_activation',
      'token_importance',
      'examples',
    ] as const) {
      assert.deepEqual(two.rep[key], one.rep[key], key);
    }
  });

  const errors: [string, string[], number, RegExp][] = [
    ['missing file', ['spot-check', ...M, '/nonexistent/data.tsv'], 1, /^damoe: dataset file not found: \/nonexistent\/data\.tsv/],
    [
      'unknown column',
      ['spot-check', ...M, SST2, '--text-column', 'review'],
      2,
      /^damoe: unknown --text-column 'review'; columns found: "sentence", "label"/,
    ],
    [
      'no text column',
      ['spot-check', ...M, path.join(DATA, 'malformed', 'no-text-column.tsv')],
      2,
      /columns found: "foo", "bar"\. Pass --text-column NAME/,
    ],
    ['empty dataset', ['spot-check', ...M, path.join(DATA, 'malformed', 'header-only.tsv')], 1, /^damoe: the dataset has no examples/],
    [
      'every row bad',
      ['spot-check', ...M, path.join(DATA, 'malformed', 'all-bad.tsv')],
      1,
      /^damoe: the dataset has no usable examples: all 2 rows were skipped \(line 2: empty text/,
    ],
    ['output is the dataset', ['spot-check', ...M, SST2, '--json', SST2], 2, /is the dataset file itself; refusing to overwrite it/],
    [
      'bad --sample',
      ['spot-check', ...M, SST2, '--sample', 'many'],
      2,
      /^damoe: --sample must be a whole number >= 1 or 'all', got 'many'/,
    ],
    ['no FILE', ['spot-check', ...M], 2, /^damoe: spot-check needs a dataset FILE/],
    ['bad --workers', ['spot-check', ...M, SST2, '--workers', '0'], 2, /^damoe: --workers must be a whole number >= 1, got '0'/],
  ];
  for (const [name, args, code, re] of errors) {
    it(`error: ${name} -> stderr, exit ${code}, no stack trace`, () => {
      const before = fs.readFileSync(SST2);
      const r = damoe(args);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(r.stdout, '');
      assert.ok(fs.readFileSync(SST2).equals(before as unknown as Uint8Array), 'the dataset is untouched');
    });
  }

  it('Ctrl-C (SIGINT) keeps the finished examples and writes a report that says cancelled', async () => {
    const big = path.join(tmp, 'big.tsv');
    const rows = Array.from({ length: 6000 }, (_, i) => `this is example number ${i} , a rather ${i % 2 ? 'good' : 'bad'} film\t${i % 2}`);
    fs.writeFileSync(big, `sentence\tlabel\n${rows.join('\n')}\n`);
    const json = path.join(tmp, 'cancelled.json');
    const child = spawn(process.execPath, [BIN, 'spot-check', ...M, big, '--sample', 'all', '--json', json], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Once the first chunk (750 examples: defaultChunkSize) is folded in; chunks in flight when cancelled are dropped.
      const done = [...stderr.matchAll(/analysing: (\d+)\/6000/g)].map((m) => Number(m[1]));
      if (!sent && done.some((n) => n > 750)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.ok(sent, stderr);
    assert.equal(code, 130, stderr);
    const rep = readJson(json);
    assert.equal(rep.cancelled, true);
    assert.ok(rep.n >= 750 && rep.n < 6000, `n = ${rep.n}`);
    assert.equal(rep.examples.length, rep.n);
    assert.match(stdout, /CANCELLED: +\d+ of 6000 examples analysed/);
  });

  it('the shipped damoe-sst2 model on the SST-2 sample', (t) => {
    if (!fs.existsSync(path.join(SHIPPED_DAMOE_DIR, 'model.onnx'))) {
      t.skip(`the shipped model is not there yet (${SHIPPED_DAMOE_DIR}/model.onnx); trained and exported separately`);
      return;
    }
    const json = path.join(tmp, 'shipped.json');
    const html = path.join(tmp, 'shipped.html');
    const r = damoe(['spot-check', '--provider', 'cpu', '--threads', '1', SST2, '--json', json, '--html', html]);
    assert.equal(r.code, 0, r.stderr);
    const rep = readJson(json);
    assert.equal(rep.model.name, 'damoe-sst2');
    assert.equal(rep.n, 31);
    assert.equal(rep.label_mapping.strategy, 'index');
    assert.ok(rep.accuracy !== null && rep.accuracy > 0.6, `accuracy ${rep.accuracy}`);
    assert.ok(rep.token_importance.available);
    assertSelfContained(fs.readFileSync(html, 'utf8'));
  });
});
