/**
 * Causal LMs through the real onnxruntime: the tiny fixture LM against PyTorch's losses and top-5
 * (test/fixtures/models/tiny-damoe-lm/reference.json, written by make-tiny-damoe.py from the same weights), the
 * full-logits export of the same weights (reduced in the worker) against the in-graph outputs, and long texts.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Analysis } from '../../src/shared/analysis';
import { createEngine, DamoeEngine } from '../../src/core/engine';
import { EngineError } from '../../src/core/engine-api';
import { spawnSync } from 'child_process';
import { ROOT, SHIPPED_LM_DIR, TINY_LM_DIR, TINY_LM_LOGITS_DIR } from '../unit/core/helpers';

interface ReferenceCase {
  text: string;
  input_ids: number[];
  token_loss: number[];
  top5_ids: number[][];
  top5_logprobs: number[][];
  expert_count: number[][];
}
const reference = JSON.parse(fs.readFileSync(path.join(TINY_LM_DIR, 'reference.json'), 'utf8')) as { cases: ReferenceCase[] };

/** What every causal-LM Analysis keeps: a loss on all tokens but the first, k predictions each, consistent. */
function checkCausal(a: Analysis, k: number): void {
  assert.equal(a.task, 'causal-lm');
  assert.equal(a.prediction, null);
  a.tokens.forEach((t, i) => {
    if (i === 0) assert.equal(t.loss, undefined);
    else assert.ok(Number.isFinite(t.loss) && t.loss! >= 0, `loss at ${i}`);
    assert.equal(t.predictions!.length, k);
    for (let j = 1; j < k; j++) assert.ok(t.predictions![j - 1].probability >= t.predictions![j].probability);
    // tokens[i].predictions is the distribution tokens[i + 1].loss was read from.
    const next = a.tokens[i + 1];
    const hit = next && t.predictions!.find((p) => p.id === next.id);
    if (hit) assert.ok(Math.abs(-Math.log(hit.probability) - next.loss!) < 1e-4, `token ${i + 1}: loss vs its predicted probability`);
  });
  const losses = a.tokens.slice(1).map((t) => t.loss!);
  const mean = losses.reduce((s, x) => s + x, 0) / losses.length;
  assert.ok(Math.abs(a.languageModel!.meanLoss - mean) < 1e-9);
  assert.ok(Math.abs(a.languageModel!.perplexity - Math.exp(mean)) < 1e-6 * Math.exp(mean));
}

describe('causal LM (tiny fixture) against PyTorch', () => {
  let inGraph: DamoeEngine;
  let logits: DamoeEngine;
  before(async () => {
    [inGraph, logits] = await Promise.all([
      createEngine({ modelDir: TINY_LM_DIR, threads: 1 }),
      createEngine({ modelDir: TINY_LM_LOGITS_DIR, threads: 1 }),
    ]);
  });
  after(async () => {
    await Promise.all([inGraph?.dispose(), logits?.dispose()]);
  });

  it('loss, predictions and K equal the reference (in-graph outputs and worker-reduced logits)', async () => {
    for (const engine of [inGraph, logits]) {
      assert.equal(engine.contract.nextTokenSource, engine === inGraph ? 'in-graph' : 'logits');
      for (const c of reference.cases) {
        const a = await engine.analyze({ text: c.text });
        checkCausal(a, 5);
        assert.deepEqual(
          a.tokens.map((t) => t.id),
          c.input_ids,
        );
        a.tokens.forEach((t, i) => {
          if (i > 0) assert.ok(Math.abs(t.loss! - c.token_loss[i]) < 1e-4, `${c.text} token ${i}: ${t.loss} vs ${c.token_loss[i]}`);
          assert.deepEqual(
            t.predictions!.map((p) => p.id),
            c.top5_ids[i],
          );
          t.predictions!.forEach((p, j) => assert.ok(Math.abs(Math.log(p.probability) - c.top5_logprobs[i][j]) < 1e-4));
        });
        assert.deepEqual(
          a.layers.map((l) => l.k),
          c.expert_count,
        );
      }
    }
  });

  it('a long text is scored window by window, each token in the window where it has the most context', async () => {
    const text = Array.from({ length: 40 }, (_, i) => `the movie ${i % 2 ? 'was' : 'is'} not bad at all`).join(' ');
    const a = await inGraph.analyze({ text });
    assert.ok(a.windowing && a.windowing.windows > 1);
    assert.equal(a.windowing.tokenSource, 'longest-context');
    assert.equal(a.windowing.predictionMerge, 'per-token');
    checkCausal(a, 5);
    const window = a.windowing.windowTokens;
    a.tokens.forEach((t, i) => {
      if (i <= window) assert.equal(t.context, i, 'the first window reads every token with all of its prefix');
      else assert.ok(t.context! >= a.windowing!.overlapTokens && t.context! <= window + 1, `context ${t.context} at ${i}`);
    });
  });

  it('a text pair is refused: a causal LM reads one text', async () => {
    await assert.rejects(
      inGraph.analyze({ text: 'a', textPair: 'b' }),
      (e: unknown) => e instanceof EngineError && /causal language model: it reads one text/.test(e.message),
    );
  });
});

describe('damoe analyze on the shipped causal LM (models/damoe-lm-sst2)', () => {
  const text = 'the movie was incredibly inspiring .';
  it('gives task causal-lm, a loss on every token but the first equal to PyTorch, and 5 predictions per token', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, 'bin', 'damoe.js'), 'analyze', '--model', SHIPPED_LM_DIR, '--provider', 'cpu', '--threads', '1', '--json', text],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const a = JSON.parse(r.stdout) as Analysis;
    checkCausal(a, 5);
    assert.equal(a.model.task, 'causal-lm');
    // The reference: PyTorch's -log p(actual next token) from the full model (training/export_lm.py's parity fixture).
    const parity = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'parity', 'damoe-lm-sst2.json'), 'utf8')) as {
      cases: ReferenceCase[];
    };
    const ref = parity.cases.find((c) => c.text === text)!;
    assert.deepEqual(
      a.tokens.map((t) => t.id),
      ref.input_ids,
    );
    a.tokens.forEach((t, i) => {
      if (i > 0)
        assert.ok(Math.abs(t.loss! - ref.token_loss[i]) < 1e-4, `token ${i} (${t.text}): loss ${t.loss} vs PyTorch ${ref.token_loss[i]}`);
      t.predictions!.forEach((p, j) => assert.ok(Math.abs(Math.log(p.probability) - ref.top5_logprobs[i][j]) < 1e-4));
    });
    assert.deepEqual(
      a.layers.map((l) => l.k),
      ref.expert_count,
    );
  });
});

describe('damoe spot-check on a plain-text file with a causal LM', () => {
  it('reports perplexity over the sample and K against loss per layer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-lm-'));
    const file = path.join(dir, 'texts.txt');
    fs.writeFileSync(file, reference.cases.map((c) => c.text).join('\n') + '\n');
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'bin', 'damoe.js'),
        'spot-check',
        '--model',
        TINY_LM_DIR,
        '--threads',
        '1',
        '--json',
        path.join(dir, 'report.json'),
        file,
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const lm = (
      JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as {
        language_model: {
          perplexity: number;
          mean_loss: number;
          scored_tokens: number;
          by_k: { tokens: number; mean_loss: number | null }[][];
          k_loss_correlation: (number | null)[];
        };
      }
    ).language_model;
    // Every text's tokens but its first are scored; the mean loss is PyTorch's over the same tokens.
    const losses = reference.cases.flatMap((c) => c.token_loss.slice(1));
    assert.equal(lm.scored_tokens, losses.length);
    assert.ok(Math.abs(lm.mean_loss - losses.reduce((s, x) => s + x, 0) / losses.length) < 1e-4);
    assert.ok(Math.abs(lm.perplexity - Math.exp(lm.mean_loss)) < 1e-9 * lm.perplexity);
    lm.by_k.forEach((row, l) => {
      assert.equal(
        row.reduce((s, b) => s + b.tokens, 0),
        losses.length,
        `layer ${l}: every scored token has one K`,
      );
      const ks = reference.cases.flatMap((c) => c.expert_count[l].slice(1));
      row.forEach((b, k) => assert.equal(b.tokens, ks.filter((x) => x === k).length));
    });
    assert.equal(lm.k_loss_correlation.length, 2);
  });

  it('on a labelled TSV: no accuracy, confusion or Predicted line; each example has its mean loss; the summary says what perplexity is over', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-lm-'));
    const file = path.join(dir, 'texts.tsv');
    fs.writeFileSync(file, 'sentence\tlabel\n' + reference.cases.map((c, i) => `${c.text}\t${i % 2}`).join('\n') + '\n');
    const out = path.join(dir, 'report.json');
    const html = path.join(dir, 'report.html');
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, 'bin', 'damoe.js'), 'spot-check', '--model', TINY_LM_DIR, '--threads', '1', '--json', out, '--html', html, file],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      accuracy: number | null;
      confusion: unknown;
      predicted_counts: unknown[];
      label_mapping: { strategy: string; note: string };
      routing_by_label: { label: string }[];
      examples: { line: number; mean_loss: number | null; predicted: string | null }[];
    };
    assert.equal(report.accuracy, null);
    assert.equal(report.confusion, null);
    assert.deepEqual(report.predicted_counts, []);
    assert.match(report.label_mapping.note, /causal LM predicts no class/);
    assert.deepEqual(
      report.routing_by_label.map((g) => g.label),
      ['0', '1'],
      'the labels still group the routing',
    );
    // Each example's mean loss is PyTorch's over its tokens after the first.
    report.examples.forEach((x) => {
      const c = reference.cases[x.line - 2];
      const losses = c.token_loss.slice(1);
      assert.ok(Math.abs(x.mean_loss! - losses.reduce((a, b) => a + b, 0) / losses.length) < 1e-4, `line ${x.line}`);
      assert.equal(x.predicted, null);
    });
    assert.match(
      r.stdout,
      /^Perplexity: {2}[\d.]+ \(e\^\(mean loss [\d.]+ nats\) over \d+ tokens of \d+ texts; each text's first token has no loss/m,
    );
    assert.match(r.stdout, /^Loss by K /m);
    assert.match(r.stdout, /^ {2}layer 0 .*(r = -?[\d.]+|n\/a \(K or loss constant\))$/m);
    assert.doesNotMatch(r.stdout, /^Predicted:/m);
    assert.doesNotMatch(r.stdout, /^Accuracy:/m);
    // The HTML report: the perplexity section with the loss-by-K table, examples with mean loss, no class lines.
    const page = fs.readFileSync(html, 'utf8');
    assert.match(page, /<h2>Perplexity and loss by K<\/h2>/);
    assert.match(page, /over \d+ tokens of 3 texts; each text&#39;s first token has no loss/);
    assert.equal((page.match(/<tr data-layer="\d+">/g) ?? []).length, 2, 'one loss-by-K row per layer');
    assert.match(page, /<button type="button" data-col="3" data-key="loss">mean loss \(nats\)<\/button>/);
    assert.doesNotMatch(page, /Predicted:|Accuracy and confusion|By predicted label|id="state"/);
  });
});
