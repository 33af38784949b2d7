import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { engineKey, resolveModelDir, resolveTrustAware, sanitizeEngineSettings } from '../../../../src/extension/model/configLogic';

describe('trust-aware settings', () => {
  const inspected = { defaultValue: '', globalValue: '/home/me/model', workspaceValue: '/repo/evil', workspaceFolderValue: '/repo/evil2' };
  it('trusted: folder > workspace > global > default', () => {
    assert.equal(resolveTrustAware(inspected, true), '/repo/evil2');
    assert.equal(resolveTrustAware({ ...inspected, workspaceFolderValue: undefined }, true), '/repo/evil');
  });
  it('untrusted: workspace and folder values are ignored', () => {
    assert.equal(resolveTrustAware(inspected, false), '/home/me/model');
    assert.equal(resolveTrustAware({ defaultValue: '', workspaceValue: '/repo/evil' }, false), '');
    assert.equal(resolveTrustAware(undefined, false), undefined);
  });
  it('model dir: empty → shipped default, bare name → shipped, ~ → home, relative → workspace folder', () => {
    const ctx = { extensionPath: '/ext', workspaceFolder: '/ws', homeDir: '/home/me' };
    assert.equal(resolveModelDir('', ctx), path.join('/ext', 'models', 'damoe-sst2'));
    assert.equal(resolveModelDir('  ', ctx), path.join('/ext', 'models', 'damoe-sst2'));
    assert.equal(resolveModelDir('topk-sst2', ctx), path.join('/ext', 'models', 'topk-sst2'));
    assert.equal(resolveModelDir('~/m', ctx), path.join('/home/me', 'm'));
    assert.equal(resolveModelDir('/abs/m/', ctx), '/abs/m/');
    assert.equal(resolveModelDir('./m', ctx), path.join('/ws', 'm'));
    assert.equal(resolveModelDir('..', ctx), '/');
  });
  it('engine settings are sanitised, and the cache key changes with each', () => {
    const s = sanitizeEngineSettings({ modelDir: '/m', executionProvider: 'tpu', threads: -1, maxTokens: 1.5 });
    assert.deepEqual(s, { modelDir: '/m', executionProvider: 'auto', threads: 0, maxTokens: 512 });
    const k = engineKey(s);
    assert.notEqual(engineKey({ ...s, threads: 2 }), k);
    assert.notEqual(engineKey({ ...s, executionProvider: 'cpu' }), k);
    assert.notEqual(engineKey({ ...s, modelDir: '/n' }), k);
    assert.equal(engineKey({ ...s }), k);
  });
});
