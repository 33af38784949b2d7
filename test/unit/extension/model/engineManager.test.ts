import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { EngineManager } from '../../../../src/extension/model/engineManager';
import type { Engine, EngineOptions } from '../../../../src/core/engine-api';
import { EngineError } from '../../../../src/core/engine-api';
import type { EngineSettings } from '../../../../src/extension/model/configLogic';
import { makeAnalysis } from '../fixtures';

function fakeEngine(options: EngineOptions, disposed: string[]): Engine {
  const a = makeAnalysis();
  return {
    model: { ...a.model, path: options.modelDir ?? '' },
    provider: a.provider!,
    analyze: async () => a,
    analyzeBatch: async (requests) => requests.map(() => a),
    routeBatch: async () => [],
    occludeBatch: async () => [],
    startBatchWorkers: async () => 0,
    releaseBatchWorkers: async () => undefined,
    workerRestarts: 0,
    dispose: async () => void disposed.push(options.modelDir ?? ''),
  };
}

describe('EngineManager', () => {
  it('creates lazily, once for concurrent callers, and re-creates (disposing the old) when settings change', async () => {
    let settings: EngineSettings = { modelDir: '/a', executionProvider: 'auto', threads: 0, maxTokens: 512, workerTimeoutSeconds: 20 };
    const created: EngineOptions[] = [];
    const disposed: string[] = [];
    const m = new EngineManager(
      async (o) => (created.push(o), fakeEngine(o, disposed)),
      () => settings,
      () => {},
    );
    assert.equal(created.length, 0);
    assert.equal(await m.peek(), null);
    const [e1, e2] = await Promise.all([m.get(), m.get()]);
    assert.equal(e1, e2);
    assert.equal(created.length, 1);
    assert.equal(created[0].modelDir, '/a');
    assert.equal(created[0].maxTokens, 512);
    assert.equal(await m.get(), e1);
    settings = { ...settings, threads: 2 };
    const e3 = await m.get();
    assert.notEqual(e3, e1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(disposed, ['/a']);
    await m.dispose();
    assert.deepEqual(disposed, ['/a', '/a']);
    await assert.rejects(m.get(), /shutting down/);
  });
  it('a failed creation is not cached: the next call retries (a broken model never sticks)', async () => {
    let fail = true;
    const disposed: string[] = [];
    const m = new EngineManager(
      async (o) => {
        if (fail) throw new EngineError('contract-violation', 'bad', ['x']);
        return fakeEngine(o, disposed);
      },
      () => ({ modelDir: '/b', executionProvider: 'cpu', threads: 0, maxTokens: 512, workerTimeoutSeconds: 20 }),
      () => {},
    );
    await assert.rejects(m.get(), (e: Error) => (e as EngineError).code === 'contract-violation');
    fail = false;
    const e = await m.get();
    assert.equal(e.model.path, '/b');
  });
  it('matches() tells whether the cached engine was made with the given settings', async () => {
    const base: EngineSettings = { modelDir: '/a', executionProvider: 'auto', threads: 0, maxTokens: 512, workerTimeoutSeconds: 20 };
    const m = new EngineManager(
      async (o) => fakeEngine(o, []),
      () => base,
      () => {},
    );
    assert.equal(m.matches(base), false, 'no engine yet');
    await m.get();
    assert.equal(m.matches({ ...base }), true);
    assert.equal(m.matches({ ...base, modelDir: '/b' }), false);
    m.invalidate();
    assert.equal(m.matches(base), false);
  });
  it('invalidate() drops the engine so the next call loads a fresh one', async () => {
    const disposed: string[] = [];
    let n = 0;
    const m = new EngineManager(
      async (o) => (n++, fakeEngine(o, disposed)),
      () => ({ modelDir: '/c', executionProvider: 'cpu', threads: 0, maxTokens: 512, workerTimeoutSeconds: 20 }),
      () => {},
    );
    await m.get();
    m.invalidate();
    await m.get();
    assert.equal(n, 2);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(disposed, ['/c']);
  });
  it('a modelPath that cannot be used (relative, from the user settings) rejects with invalid-option and loads nothing', async () => {
    let n = 0;
    const m = new EngineManager(
      async (o) => (n++, fakeEngine(o, [])),
      () => ({
        modelDir: 'models/mine',
        executionProvider: 'cpu',
        threads: 0,
        maxTokens: 512,
        workerTimeoutSeconds: 20,
        modelPathProblem: 'damoe.modelPath "models/mine" in your user settings is a relative path: use an absolute path',
      }),
      () => {},
    );
    await assert.rejects(
      m.get(),
      (e: Error) => e instanceof EngineError && e.code === 'invalid-option' && /use an absolute path/.test(e.message),
    );
    assert.equal(n, 0);
  });
});
