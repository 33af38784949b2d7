import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import {
  engineKey,
  ModelPathError,
  resolveModelDir,
  resolveTrustAware,
  sanitizeEngineSettings,
  trustAwareSetting,
} from '../../../../src/extension/model/configLogic';

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
    assert.equal(resolveModelDir('./m', { ...ctx, source: 'workspace' }), path.join('/ws', 'm'));
    assert.equal(resolveModelDir('..', { ...ctx, source: 'workspace-folder' }), '/');
  });
  it('a relative modelPath from a trusted workspace resolves against that workspace', () => {
    const ctx = { extensionPath: '/ext', workspaceFolder: '/ws', homeDir: '/home/me' };
    const inspected = { defaultValue: '', globalValue: '/home/me/model', workspaceValue: 'models/mine' };
    const { value, source } = trustAwareSetting(inspected, true);
    assert.equal(source, 'workspace');
    assert.equal(resolveModelDir(value, { ...ctx, source }), path.join('/ws', 'models', 'mine'));
    assert.throws(
      () => resolveModelDir('models/mine', { extensionPath: '/ext', source: 'workspace' }),
      /no folder is open.*use an absolute path/,
    );
  });
  it('a relative user-level modelPath is refused with "use an absolute path" (never resolved against the open workspace)', () => {
    const ctx = { extensionPath: '/ext', workspaceFolder: '/untrusted-repo', homeDir: '/home/me' };
    const { value, source } = trustAwareSetting({ defaultValue: '', globalValue: 'models/mine' }, false);
    assert.equal(source, 'user');
    assert.throws(
      () => resolveModelDir(value, { ...ctx, source }),
      (e: Error) =>
        e instanceof ModelPathError && /"models\/mine" in your user settings is a relative path: use an absolute path/.test(e.message),
    );
    // the same in a trusted workspace: the user's value is the user's, whatever folder is open
    assert.throws(
      () => resolveModelDir('./m', { ...ctx, source: trustAwareSetting({ globalValue: './m' }, true).source }),
      /use an absolute path/,
    );
    // absolute, ~ and shipped names stay fine from the user settings
    assert.equal(resolveModelDir('/abs/m', { ...ctx, source: 'user' }), '/abs/m');
    assert.equal(resolveModelDir('~/m', { ...ctx, source: 'user' }), path.join('/home/me', 'm'));
    assert.equal(resolveModelDir('switch-sst2', { ...ctx, source: 'user' }), path.join('/ext', 'models', 'switch-sst2'));
  });
  it('an untrusted workspace value is ignored: the source is the user (or the default), never the workspace', () => {
    const inspected = { defaultValue: '', globalValue: undefined, workspaceValue: '../evil' };
    assert.deepEqual(trustAwareSetting(inspected, false), { value: '', source: 'default' });
    assert.deepEqual(trustAwareSetting(inspected, true), { value: '../evil', source: 'workspace' });
  });
  it('engine settings are sanitised, and the cache key changes with each', () => {
    const s = sanitizeEngineSettings({ modelDir: '/m', executionProvider: 'tpu', threads: -1, maxTokens: 1.5, workerTimeoutSeconds: -3 });
    assert.deepEqual(s, {
      modelDir: '/m',
      executionProvider: 'auto',
      threads: 0,
      maxTokens: 512,
      workerTimeoutSeconds: 20,
      modelPathProblem: null,
    });
    assert.equal(
      sanitizeEngineSettings({ modelDir: '/m', executionProvider: 'cpu', threads: 0, maxTokens: 512, workerTimeoutSeconds: 0 })
        .workerTimeoutSeconds,
      0,
    );
    const k = engineKey(s);
    assert.notEqual(engineKey({ ...s, workerTimeoutSeconds: 5 }), k);
    assert.notEqual(engineKey({ ...s, threads: 2 }), k);
    assert.notEqual(engineKey({ ...s, executionProvider: 'cpu' }), k);
    assert.notEqual(engineKey({ ...s, modelDir: '/n' }), k);
    assert.equal(engineKey({ ...s }), k);
  });
});
