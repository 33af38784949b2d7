/**
 * package.json repeats the shared defaults for VS Code's Settings editor and menus (VS Code reads only the manifest):
 * this keeps the manifest and src/shared/defaults.ts / src/shared/dataset.ts from drifting apart.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { DATASET_EXTENSIONS } from '../../../src/shared/dataset';
import * as D from '../../../src/shared/defaults';
import { ROOT } from '../core/helpers';

interface Manifest {
  contributes: {
    configuration: { properties: Record<string, { default?: unknown; minimum?: number; maximum?: number; enum?: string[] }> };
    menus: Record<string, { command: string; when?: string }[]>;
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
const setting = (key: string) => {
  const s = manifest.contributes.configuration.properties[key];
  assert.ok(s, `package.json has no setting ${key}`);
  return s;
};

describe('package.json agrees with src/shared/defaults.ts', () => {
  it('engine settings: provider choices and default, threads, maxTokens (default, minimum, maximum)', () => {
    assert.deepEqual(setting('damoe.executionProvider').enum, [...D.EXECUTION_PROVIDER_CHOICES]);
    assert.equal(setting('damoe.executionProvider').default, D.DEFAULT_EXECUTION_PROVIDER);
    assert.equal(setting('damoe.threads').default, D.DEFAULT_THREADS);
    assert.equal(setting('damoe.threads').maximum, D.MAX_THREADS);
    assert.equal(setting('damoe.maxTokens').default, D.DEFAULT_MAX_TOKENS);
    assert.equal(setting('damoe.maxTokens').minimum, D.MIN_MAX_TOKENS);
    assert.equal(setting('damoe.maxTokens').maximum, D.MAX_MAX_TOKENS);
    assert.equal(setting('damoe.highlights.enabled').default, D.DEFAULT_HIGHLIGHTS_ENABLED);
    assert.equal(setting('damoe.highlights.colorBy').default, D.DEFAULT_HIGHLIGHT_COLOR_BY);
    assert.deepEqual(setting('damoe.highlights.colorBy').enum, [...D.HIGHLIGHT_COLOR_BY_CHOICES]);
    assert.equal(setting('damoe.workerTimeoutSeconds').default, D.DEFAULT_WORKER_TIMEOUT_SECONDS);
    assert.equal(setting('damoe.workerTimeoutSeconds').minimum, 0);
    assert.equal(setting('damoe.workerTimeoutSeconds').maximum, D.MAX_WORKER_TIMEOUT_SECONDS);
  });

  it('spot-check settings: sample size and seed, the same defaults the CLI uses', () => {
    assert.equal(setting('damoe.spotCheck.sampleSize').default, D.DEFAULT_SPOTCHECK_SAMPLE_SIZE);
    assert.equal(setting('damoe.spotCheck.sampleSize').maximum, D.MAX_SPOTCHECK_SAMPLE_SIZE);
    assert.equal(setting('damoe.spotCheck.seed').default, D.DEFAULT_SPOTCHECK_SEED);
    assert.equal(setting('damoe.spotCheck.importanceCheck').default, D.DEFAULT_IMPORTANCE_CHECK_SAMPLE);
    assert.equal(setting('damoe.spotCheck.importanceCheck').maximum, D.MAX_SPOTCHECK_SAMPLE_SIZE);
  });

  it('every Spot-Check menu offers exactly the dataset extensions the readers know', () => {
    const whens = Object.values(manifest.contributes.menus)
      .flat()
      .filter((m) => m.command === 'damoe.spotCheck')
      .map((m) => m.when ?? '');
    assert.equal(whens.length, 3);
    for (const when of whens) {
      const m = /resourceExtname =~ \/\^\\\.\(([a-z|]+)\)\$\/i/.exec(when);
      assert.ok(m, `no extension list in ${when}`);
      assert.deepEqual(m[1].split('|').sort(), Object.keys(DATASET_EXTENSIONS).sort(), when);
    }
  });
});
