/** The live source's settings and the API key's secret name (src/extension/traces/traceSettingsLogic.ts). */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DEFAULT_REMOTE_KIND, DEFAULT_REMOTE_TIMEOUT_SECONDS, MAX_REMOTE_TIMEOUT_SECONDS } from '../../../../src/shared/defaults';
import {
  apiKeySecretName,
  isTraceFileName,
  numExpertsProblem,
  sanitizeRemoteSettings,
  tokenizerChoices,
} from '../../../../src/extension/traces/traceSettingsLogic';
import { trustAwareSetting } from '../../../../src/extension/model/configLogic';

describe('damoe.remote settings', () => {
  it('no URL: the local model (null)', () => {
    assert.equal(sanitizeRemoteSettings({ url: '', kind: 'sglang', model: '', timeoutSeconds: 5 }), null);
    assert.equal(sanitizeRemoteSettings({ url: '   ', kind: undefined, model: undefined, timeoutSeconds: undefined }), null);
    assert.equal(sanitizeRemoteSettings({ url: 42, kind: undefined, model: undefined, timeoutSeconds: undefined }), null);
  });
  it('keeps valid values and replaces hand-edited nonsense by the defaults', () => {
    assert.deepEqual(sanitizeRemoteSettings({ url: ' http://gpu:8000 ', kind: 'sglang', model: ' m ', timeoutSeconds: 2.5 }), {
      url: 'http://gpu:8000',
      kind: 'sglang',
      model: 'm',
      timeoutSeconds: 2.5,
    });
    const bad = sanitizeRemoteSettings({ url: 'http://gpu:8000', kind: 'tgi', model: 3, timeoutSeconds: MAX_REMOTE_TIMEOUT_SECONDS + 1 })!;
    assert.equal(bad.kind, DEFAULT_REMOTE_KIND);
    assert.equal(bad.model, '');
    assert.equal(bad.timeoutSeconds, DEFAULT_REMOTE_TIMEOUT_SECONDS);
    assert.equal(
      sanitizeRemoteSettings({ url: 'http://x', kind: 'vllm', model: '', timeoutSeconds: 0 })!.timeoutSeconds,
      DEFAULT_REMOTE_TIMEOUT_SECONDS,
    );
  });
  it('an untrusted workspace cannot set the URL: only the user value counts there', () => {
    const inspected = { defaultValue: '', globalValue: 'http://mine:8000', workspaceValue: 'http://attacker.example' };
    assert.equal(trustAwareSetting(inspected, false).value, 'http://mine:8000');
    assert.equal(trustAwareSetting({ defaultValue: '', workspaceValue: 'http://attacker.example' }, false).value, '');
    assert.equal(trustAwareSetting(inspected, true).value, 'http://attacker.example');
  });
});

describe('the API key secret', () => {
  it('is one per server origin, so a key is never sent to another server', () => {
    assert.equal(apiKeySecretName('http://gpu-box:8000/v1'), 'damoe.remote.apiKey:http://gpu-box:8000');
    assert.equal(apiKeySecretName('http://gpu-box:8000'), apiKeySecretName('http://gpu-box:8000/'));
    assert.notEqual(apiKeySecretName('http://gpu-box:8000'), apiKeySecretName('https://gpu-box:8000'));
    assert.notEqual(apiKeySecretName('http://gpu-box:8000'), apiKeySecretName('http://gpu-box:8001'));
    assert.equal(apiKeySecretName('ftp://gpu-box'), null);
    assert.equal(apiKeySecretName('gpu-box:8000 x'), null);
  });
});

describe('Open Routing Trace choices', () => {
  it('offers the served model folder first, then the shipped tokenizers, the default first', () => {
    const c = tokenizerChoices(
      [
        { name: 'top2-sst2', dir: '/x/models/top2-sst2' },
        { name: 'damoe-sst2', dir: '/x/models/damoe-sst2' },
      ],
      'damoe-sst2',
    );
    assert.equal(c[0].path, null);
    assert.deepEqual(
      c.slice(1).map((x) => x.path),
      ['/x/models/damoe-sst2', '/x/models/top2-sst2'],
    );
    assert.match(c[1].description, /default/);
  });
  it('takes .json, .jsonl and .ndjson files as traces', () => {
    assert.ok(isTraceFileName('/a/b/response.json'));
    assert.ok(isTraceFileName('C:\\t\\TRACES.JSONL'));
    assert.ok(isTraceFileName('x.ndjson'));
    assert.ok(!isTraceFileName('/a/reviews.tsv'));
    assert.ok(!isTraceFileName('/a.json/readme'));
  });
  it('checks the number of experts typed in', () => {
    assert.equal(numExpertsProblem('128'), null);
    for (const bad of ['0', '-3', '2.5', 'many', '']) assert.ok(numExpertsProblem(bad), bad);
  });
});
