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
import { TRACE_EXTENSIONS } from '../../../src/extension/traces/traceSettingsLogic';
import { ROOT } from '../core/helpers';

interface Manifest {
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
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

  it('live-source settings: kinds, default kind and the request timeout (default, minimum above 0, maximum)', () => {
    assert.deepEqual(setting('damoe.remote.kind').enum, [...D.REMOTE_KINDS]);
    assert.equal(setting('damoe.remote.kind').default, D.DEFAULT_REMOTE_KIND);
    assert.equal(setting('damoe.remote.timeoutSeconds').default, D.DEFAULT_REMOTE_TIMEOUT_SECONDS);
    assert.equal(setting('damoe.remote.timeoutSeconds').maximum, D.MAX_REMOTE_TIMEOUT_SECONDS);
    assert.ok(setting('damoe.remote.timeoutSeconds').minimum! > 0);
    assert.equal(setting('damoe.remote.url').default, '');
  });

  it('an untrusted workspace cannot set the model, the remote server or the trace tokenizer', () => {
    const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const key of ['damoe.modelPath', 'damoe.remote.url', 'damoe.trace.tokenizer']) {
      setting(key);
      assert.ok(restricted.includes(key), `${key} is not in restrictedConfigurations`);
    }
  });

  it('every Open Routing Trace menu offers the trace extensions Open Routing Trace knows', () => {
    const whens = Object.values(manifest.contributes.menus)
      .flat()
      .filter((m) => m.command === 'damoe.openRoutingTrace')
      .map((m) => m.when ?? '');
    assert.equal(whens.length, 2);
    for (const when of whens) {
      const m = /resourceExtname =~ \/\^\\\.\(([a-z|]+)\)\$\/i/.exec(when);
      assert.ok(m, `no extension list in ${when}`);
      assert.deepEqual(m[1].split('|'), [...TRACE_EXTENSIONS], when);
    }
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
