/**
 * The K thresholds the panel draws (src/shared/k-rule.ts, read from the model's metadata) against the K the shipped
 * models actually gave: on real analyses of the e2e fixture's SST-2 lines, every token's expert_count is the K that
 * its importance falls into. A token within 1e-4 of a threshold (a float tie between the graph and this check) is
 * counted, not failed.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { createEngine, type DamoeEngine } from '../../src/core/engine';
import { kFromRule, kRuleOf, kThresholds } from '../../src/shared/k-rule';
import { ROOT } from '../unit/core/helpers';

const LINES = fs
  .readFileSync(path.join(ROOT, 'test', 'e2e', 'fixtures', 'workspace', 'sst2-sample.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t')[0])
  .filter((l) => l.trim() !== '');

describe('K thresholds from the metadata agree with the shipped models', () => {
  const engines = new Map<string, DamoeEngine>();
  before(async () => {
    for (const name of ['damoe-sst2', 'top2-sst2'])
      engines.set(name, await createEngine({ modelDir: path.join(ROOT, 'models', name), executionProvider: 'cpu', threads: 1 }));
  });
  after(async () => {
    for (const e of engines.values()) await e.dispose();
  });

  it('damoe-sst2: K steps at 0.667, 1.333, 2.000, and every token of 30 sentences sits in its own K band', async () => {
    const engine = engines.get('damoe-sst2')!;
    let checked = 0;
    let ties = 0;
    const seenK = new Set<number>();
    for (const text of LINES) {
      const a = await engine.analyze({ text });
      const rule = kRuleOf(a.model);
      assert.equal(rule.kind, 'dynamic');
      assert.deepEqual(
        kThresholds(rule, 0).map((t) => +t.toFixed(3)),
        [0.667, 1.333, 2],
      );
      for (const layer of a.layers) {
        const th = kThresholds(rule, layer.layer);
        layer.k.forEach((k, t) => {
          const imp = layer.importance[t];
          seenK.add(k);
          if (th.some((x) => Math.abs(x - imp) < 1e-4)) {
            ties++;
            return;
          }
          assert.equal(k, kFromRule(rule, layer.layer, imp), `"${a.tokens[t].text}" layer ${layer.layer}: importance ${imp}, K ${k}`);
          checked++;
        });
      }
    }
    assert.ok(checked > 500, `${checked} token-layers checked`);
    assert.ok(ties <= checked / 100, `${ties} ties`);
    assert.deepEqual([...seenK].sort(), [1, 2, 3, 4], 'the sample exercises every K band');
  });

  it('top2-sst2: a fixed rule, no thresholds', async () => {
    const a = await engines.get('top2-sst2')!.analyze({ text: LINES[0] });
    const rule = kRuleOf(a.model);
    assert.equal(rule.kind, 'fixed');
    assert.deepEqual(kThresholds(rule, 0), []);
  });
});
