/**
 * The causal-LM spot-check wording (src/shared/lm-report-text.ts), and models/README.md's damoe-lm-sst2 row against
 * the model's own metrics.json (the figures its card gives), so the two cannot drift apart.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  correlationText,
  headlineText,
  kLossColumns,
  kLossRows,
  perplexityBasis,
  perplexityText,
} from '../../../src/shared/lm-report-text';
import type { SpotCheckLanguageModel } from '../../../src/shared/spotcheck-report';

const lm: SpotCheckLanguageModel = {
  perplexity: Math.exp(5.905),
  mean_loss: 5.905,
  scored_tokens: 1241,
  by_k: [
    [
      { tokens: 0, mean_loss: null },
      { tokens: 3, mean_loss: 5 },
      { tokens: 0, mean_loss: null },
      { tokens: 2, mean_loss: 4 },
    ],
    [
      { tokens: 1, mean_loss: 9 },
      { tokens: 4, mean_loss: 6 },
    ],
  ],
  k_loss_correlation: [-0.25, null],
};

describe('lm-report-text', () => {
  it('says the perplexity and what it is computed over', () => {
    assert.equal(perplexityText(366.93), '366.9');
    assert.equal(perplexityText(23.956), '23.96');
    assert.equal(perplexityText(Infinity), '∞');
    assert.equal(
      perplexityBasis(lm, 12),
      "e^(mean loss 5.905 nats) over 1,241 tokens of 12 texts; each text's first token has no loss (nothing predicts it)",
    );
    assert.match(perplexityBasis({ ...lm, scored_tokens: 4 }, 1), /over 4 tokens of 1 text;/);
  });
  it('lays out loss by K: K = 0 only where a token had it, K columns shared by the layers', () => {
    const rows = kLossRows(lm);
    assert.deepEqual(
      rows[0].cells.map((c) => [c.k, c.tokens, c.meanLoss]),
      [
        [1, 3, 5],
        [2, 0, null],
        [3, 2, 4],
      ],
    );
    assert.deepEqual(
      rows[1].cells.map((c) => c.k),
      [0, 1],
      'a dropped token (K = 0) keeps its column',
    );
    assert.deepEqual(kLossColumns(rows), [0, 1, 2, 3]);
    assert.equal(correlationText(rows[0].correlation), 'r = -0.250');
    assert.equal(correlationText(rows[1].correlation), 'n/a (K or loss constant)');
  });
  it('headline: perplexity for causal LMs, accuracy otherwise', () => {
    assert.equal(headlineText({ accuracy: null, language_model: lm }), 'perplexity 366.9');
    assert.equal(headlineText({ accuracy: 0.8125 }), 'accuracy 81.3%');
    assert.equal(headlineText({ accuracy: null }), 'no accuracy');
  });
});

describe('models/README.md on damoe-lm-sst2', () => {
  const root = path.resolve(__dirname, '..', '..', '..', '..');
  const readme = fs.readFileSync(path.join(root, 'models', 'README.md'), 'utf8');
  const metrics = JSON.parse(fs.readFileSync(path.join(root, 'models', 'damoe-lm-sst2', 'metrics.json'), 'utf8')) as {
    perplexity: number;
    mean_k: number;
    prefix: { perplexity: number };
    contract: { importance: { received_correction?: string } };
    compare: { perplexity: number; mean_k: number };
  };
  it('gives the perplexity, mean K and the top-2 baseline of metrics.json, and the received-attention correction', () => {
    const row = readme.split('\n').find((l) => l.startsWith('| `damoe-lm-sst2` |'));
    assert.ok(row, 'a damoe-lm-sst2 row');
    assert.ok(row.includes(`**${metrics.perplexity.toFixed(1)}**`), row);
    assert.ok(row.includes(metrics.prefix.perplexity.toFixed(1)), row);
    assert.ok(row.includes(metrics.mean_k.toFixed(3)), row);
    const base = readme.split('\n').find((l) => l.startsWith('| fixed top-2 LM'));
    assert.ok(base?.includes(metrics.compare.perplexity.toFixed(1)), base);
    assert.ok(base?.includes(metrics.compare.mean_k.toFixed(3)), base);
    const size = fs.statSync(path.join(root, 'models', 'damoe-lm-sst2', 'model.onnx')).size;
    assert.ok(row.includes(`${(size / 2 ** 20).toFixed(1)} MiB`), row);
    assert.ok(readme.includes(`\`received_correction: "${metrics.contract.importance.received_correction}"\``));
  });
});
