/**
 * The Hugging Face hooks trace format (src/core/traces/hf-hooks.ts) on a generated fixture:
 * test/fixtures/traces/hf-hooks.jsonl was written by training/damoe/hf_trace.py (record_hf_trace.py's writer) for a
 * stand-in Mixtral (no transformers here; make-hf-hooks-trace.py says how), and hf-hooks.expected.json holds our
 * PyTorch router's experts and gates (damoe/hf_routers.py). The reader derives them with deriveRouting.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openedTrace, openTraceReader, readTraceFile } from '../../../../src/core/traces';
import { EngineError } from '../../../../src/core/errors';
import { ROOT, SHIPPED_DAMOE_DIR } from '../helpers';
import type { SpotCheckExpertLoad } from '../../../../src/shared/spotcheck-report';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'traces', 'hf-hooks.jsonl');
const EXPECTED = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'traces', 'hf-hooks.expected.json'), 'utf8')) as {
  sequences: { experts: number[][]; gates: number[][] }[][];
};

async function open(file: string) {
  const reader = await openTraceReader({ tokenizer: SHIPPED_DAMOE_DIR });
  return openedTrace(reader, await readTraceFile(file), file);
}

function oneSequenceFile(lineIndex: number, edit?: (rec: Record<string, unknown>) => void): string {
  const [head, ...recs] = fs.readFileSync(FIXTURE, 'utf8').trim().split('\n');
  const rec = JSON.parse(recs[lineIndex]) as Record<string, unknown>;
  edit?.(rec);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-hf-hooks-')), 'one.jsonl');
  fs.writeFileSync(file, `${head}\n${JSON.stringify(rec)}\n`);
  return file;
}

describe('Hugging Face hooks traces', () => {
  it('one sequence: the experts and gates of our PyTorch router, derived by the convention; importance absent', async () => {
    const o = await open(oneSequenceFile(0));
    assert.equal(o.kind, 'analysis');
    if (o.kind !== 'analysis') return;
    const a = o.analysis;
    const want = EXPECTED.sequences[0];
    assert.equal(a.model.trace?.format, 'hf-hooks');
    assert.equal(a.model.gatesAvailable, true);
    assert.equal(a.model.importanceAvailable, false);
    assert.equal(a.model.router?.convention, 'softmax-topk-renorm');
    assert.equal(a.model.name, 'stand-in-mixtral');
    assert.deepEqual(
      a.tokens.map((t) => t.text),
      ['[CLS]', 'a', 'gorgeous', ',', 'witty', 'and', 'moving', 'film', '.', '[SEP]'],
    );
    assert.deepEqual(
      a.tokens.map((t) => t.generated === true),
      [false, false, false, false, false, false, false, false, true, true],
      'tokens after prompt_tokens (8) are generated',
    );
    a.layers.forEach((layer, l) => {
      assert.deepEqual(layer.experts, want[l].experts, `layer ${l} experts`);
      layer.gates.forEach((g, t) => g.forEach((x, j) => assert.ok(Math.abs(x - want[l].gates[t][j]) < 1e-6, `layer ${l} token ${t}`)));
      assert.ok(
        layer.importance.every((x) => Number.isNaN(x)),
        'importance not recorded',
      );
      assert.ok(layer.k.every((k) => k === 2));
    });
  });

  it('several sequences: spot-check statistics over all of them, labels kept', async () => {
    const o = await open(FIXTURE);
    assert.equal(o.kind, 'report');
    if (o.kind !== 'report') return;
    const report = o.report;
    assert.equal(report.n, 2);
    assert.equal(o.report.skipped.count, 0);
    // Expert load per layer: every chosen expert of both sequences, counted from the PyTorch reference; gate mass too.
    for (let l = 0; l < 2; l++) {
      const counts = [0, 0, 0, 0];
      const mass = [0, 0, 0, 0];
      for (const seq of EXPECTED.sequences)
        seq[l].experts.forEach((row, t) => row.forEach((e, j) => ((counts[e] += 1), (mass[e] += seq[l].gates[t][j]))));
      const got: SpotCheckExpertLoad = report.expert_load.find((x) => x.layer === l)!;
      assert.deepEqual(got.tokens, counts, `layer ${l} load`);
      got.gate_mass.forEach((m, e) => assert.ok(Math.abs(m - mass[e]) < 1e-5, `layer ${l} expert ${e} gate mass ${m} vs ${mass[e]}`));
    }
    assert.deepEqual(o.report.routing_by_label.map((g) => g.label).sort(), ['neutral', 'positive']);
  });

  it('refuses a bad line with the field, the expected and the found shape', async () => {
    const shapes = oneSequenceFile(0, (r) => ((r.router_logits as Record<string, unknown>).shape = [2, 9, 4]));
    await assert.rejects(open(shapes), (e: unknown) => {
      assert.ok(e instanceof EngineError);
      assert.match(e.message, /router_logits\.shape: expected \[2, 10, 4\] \(num_layers, tokens, num_experts\), found \[2,9,4\]/);
      return true;
    });
    const ids = oneSequenceFile(0, (r) => ((r.input_ids as number[])[3] = 10_000_000));
    await assert.rejects(open(ids), /input_ids\[3\]: expected a token id of tokenizer\.json/);
    const prompt = oneSequenceFile(0, (r) => (r.prompt_tokens = 11));
    await assert.rejects(open(prompt), /prompt_tokens: expected an integer in 0\.\.10/);
  });
});
