/**
 * The live source against a real HTTP server on loopback (test/fixtures/traces/engine-server.ts, answering in the
 * documented vLLM / SGLang formats; no engine ran): the request's fields, the routing of the prompt tokens, a real
 * timeout, a real cancellation, a 401, a server without routing, 404, 500, a non-JSON answer, connection refused.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { Tokenizer } from '../../../../src/core/tokenizer';
import { remoteAnalysis, remoteRequest } from '../../../../src/core/remote';
import { EngineError } from '../../../../src/core/errors';
import type { TraceReader } from '../../../../src/core/traces';
import { SHIPPED_DAMOE_DIR } from '../helpers';
import { startEngineServer, type EngineServer } from '../../../fixtures/traces/engine-server';

const tokenizer = Tokenizer.fromFile(path.join(SHIPPED_DAMOE_DIR, 'tokenizer.json'));
const [L, K, E] = [3, 2, 8];
const reader: TraceReader = {
  tokenizer,
  tokenizerPath: SHIPPED_DAMOE_DIR,
  config: { numExperts: E, topK: K, numLayers: L, source: { numExperts: 'config.json', topK: 'config.json', numLayers: 'config.json' } },
};
const PROMPT = 'A gorgeous, witty and moving film.';

async function rejects(p: Promise<unknown>, code: string, ...parts: (string | RegExp)[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof EngineError, String(e));
    assert.equal(e.code, code, e.message);
    for (const x of parts) {
      if (typeof x === 'string') assert.ok(e.message.includes(x), `message lacks ${JSON.stringify(x)}: ${e.message}`);
      else assert.match(e.message, x);
    }
    return true;
  });
}

for (const kind of ['vllm', 'sglang'] as const) {
  describe(`live source: ${kind}`, () => {
    let server: EngineServer;
    before(async () => {
      server = await startEngineServer({ kind, tokenizer, layers: L, topK: K, numExperts: E, apiKey: 'sekret' });
    });
    after(() => server.close());
    const opts = (over: Record<string, unknown> = {}) => ({ url: server.url, kind, timeoutSeconds: 5, ...over });

    it('sends the prompt with max_tokens 1 and the token ids requested, and shows the routing of every prompt token', async () => {
      server.setBehaviour('routing');
      const a = await remoteAnalysis(reader, PROMPT, opts());
      const req = server.requests[server.requests.length - 1];
      if (kind === 'vllm') {
        assert.equal(req.path, '/v1/completions');
        assert.deepEqual(req.body, { prompt: PROMPT, max_tokens: 1, temperature: 0, return_token_ids: true });
      } else {
        assert.equal(req.path, '/generate');
        assert.deepEqual(req.body, {
          text: PROMPT,
          sampling_params: { max_new_tokens: 1, temperature: 0 },
          return_routed_experts: true,
          return_prompt_token_ids: true,
        });
      }
      const ids = tokenizer.encode(PROMPT).ids;
      assert.equal(a.tokens.length, ids.length, 'the prompt tokens only');
      assert.equal(a.text, PROMPT);
      ids.forEach((id, t) => {
        assert.equal(a.tokens[t].id, id);
        for (let l = 0; l < L; l++) assert.deepEqual(a.layers[l].experts[t], server.lastRouting![t][l]);
      });
      const film = a.tokens.find((t) => t.text === 'film')!;
      assert.equal(PROMPT.slice(film.start!, film.end!), 'film', 'offsets into the prompt, for the editor link');
      assert.equal(a.model.trace?.source, `${server.url}${kind === 'vllm' ? '/v1/completions' : '/generate'}`);
      assert.ok(a.timings.inferenceMs > 0);
    });

    it('sends the API key as a Bearer token; without it a 401 says how to set one', async () => {
      server.setBehaviour('key');
      await rejects(remoteAnalysis(reader, PROMPT, opts()), 'remote-failed', 'HTTP 401', 'DAMOE_REMOTE_API_KEY');
      const a = await remoteAnalysis(reader, PROMPT, opts({ apiKey: 'sekret' }));
      assert.equal(server.requests[server.requests.length - 1].headers.authorization, 'Bearer sekret');
      assert.ok(a.tokens.length > 0);
    });

    it('a server without routing gets the flag to add', async () => {
      server.setBehaviour('no-routing');
      await rejects(
        remoteAnalysis(reader, PROMPT, opts()),
        'trace-no-routing',
        'answered without routing',
        '--enable-return-routed-experts',
      );
    });

    it('times out for real and closes the connection', async () => {
      server.setBehaviour('slow');
      const before = server.aborted;
      await rejects(
        remoteAnalysis(reader, PROMPT, opts({ timeoutSeconds: 0.3 })),
        'remote-failed',
        'did not answer within 0.3 s',
        '--remote-timeout',
      );
      await waitFor(() => server.aborted > before);
    });

    it('is cancelled by its signal, and the server sees the connection close', async () => {
      server.setBehaviour('slow');
      const before = server.aborted;
      const ac = new AbortController();
      const p = remoteAnalysis(reader, PROMPT, opts({ signal: ac.signal }));
      await waitFor(() => server.requests.length > 0 && server.requests[server.requests.length - 1].body !== undefined);
      setTimeout(() => ac.abort(), 50);
      await rejects(p, 'cancelled', 'cancelled');
      await waitFor(() => server.aborted > before);
    });

    it('HTTP 500, a non-JSON answer and a wrong endpoint are named', async () => {
      server.setBehaviour('error');
      await rejects(remoteAnalysis(reader, PROMPT, opts()), 'remote-failed', 'HTTP 500', 'CUDA out of memory');
      server.setBehaviour('not-json');
      await rejects(remoteAnalysis(reader, PROMPT, opts()), 'remote-failed', 'not JSON', '<html>');
      server.setBehaviour('routing');
      const other = kind === 'vllm' ? 'sglang' : 'vllm';
      await rejects(remoteAnalysis(reader, PROMPT, opts({ kind: other })), 'remote-failed', 'HTTP 404', '--remote-kind');
    });
  });
}

describe('live source: connection and URL', () => {
  it('connection refused is named', async () => {
    // A port that was just free: listen, take its number, close.
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await rejects(
      remoteAnalysis(reader, PROMPT, { url: `http://127.0.0.1:${port}`, kind: 'vllm', timeoutSeconds: 5 }),
      'remote-failed',
      'connection refused',
    );
  });
  it('a base URL with or without /v1, and a bad URL', () => {
    assert.equal(remoteRequest({ url: 'http://h:8000/v1/', kind: 'vllm' }, 'x').url.href, 'http://h:8000/v1/completions');
    assert.equal(remoteRequest({ url: 'http://h:8000', kind: 'sglang' }, 'x').url.href, 'http://h:8000/generate');
    assert.deepEqual(
      remoteRequest({ url: 'http://h:8000', kind: 'vllm', model: 'Qwen/Qwen3-30B-A3B' }, 'x').body.model,
      'Qwen/Qwen3-30B-A3B',
    );
    assert.throws(() => remoteRequest({ url: 'gpu-box:8000', kind: 'vllm' }, 'x'), /http:\/\/ or https:\/\//);
    assert.throws(() => remoteRequest({ url: 'not a url', kind: 'vllm' }, 'x'), /not a URL/);
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
