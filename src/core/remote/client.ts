/**
 * The live source: one prompt sent to a running vLLM or SGLang server that records routing, and its answer read as
 * a routing trace (src/core/traces). The request asks for one generated token (max_tokens 1) and for the prompt's
 * token ids, so the prompt tokens are exactly the rows recorded.
 *
 * Node's http/https: inside VS Code the extension host hands extensions patched copies of these modules
 * (src/vs/workbench/api/node/proxyResolver.ts, @vscode/proxy-agent's createHttpPatch/createTlsPatch), so the request
 * follows `http.proxy` / `http.proxySupport` and the system certificates (`http.systemCertificates`) without code
 * here. In the CLI they are Node's own modules: no proxy unless the platform adds one.
 */
import * as http from 'http';
import * as https from 'https';
import type { Analysis } from '../../shared/analysis';
import { MAX_TRACE_FILE_BYTES, REMOTE_API_KEY_ENV, type RemoteKind } from '../../shared/defaults';
import { EngineError } from '../errors';
import type { TraceReader } from '../traces/open';
import { ROUTING_FLAG } from '../traces/formats';
import { traceAnalysis } from '../traces/trace-analysis';

export interface RemoteOptions {
  /** The server's base URL (`http://host:8000`; a trailing `/v1` is accepted). */
  url: string;
  kind: RemoteKind;
  /** Sent as `Authorization: Bearer KEY` when given. */
  apiKey?: string;
  /** The `model` field of a vLLM request (the served model's name); vLLM's default when absent. */
  model?: string;
  timeoutSeconds: number;
  signal?: AbortSignal;
  /**
   * Where the user changes what a message is about, in the caller's words: the CLI's options by default
   * (`--remote-timeout`, `--remote-kind`, the DAMOE_REMOTE_API_KEY variable); VS Code names its settings and commands.
   */
  hints?: RemoteHints;
}

export interface RemoteHints {
  /** How to give the API key (a sentence). */
  apiKey: string;
  timeout: string;
  kind: string;
}

export const CLI_REMOTE_HINTS: RemoteHints = {
  apiKey: `Give the key in the ${REMOTE_API_KEY_ENV} environment variable`,
  timeout: '--remote-timeout',
  kind: '--remote-kind',
};

/** The endpoint and body of the request for `kind`: documented in docs/routing-traces.md ("Live source"). */
export function remoteRequest(
  o: Pick<RemoteOptions, 'url' | 'kind' | 'model'>,
  prompt: string,
): { url: URL; body: Record<string, unknown> } {
  let base: URL;
  try {
    base = new URL(o.url);
  } catch {
    throw new EngineError('remote-failed', `the remote URL ${JSON.stringify(o.url)} is not a URL (expected e.g. http://gpu-box:8000)`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new EngineError('remote-failed', `the remote URL must be http:// or https://, got ${base.protocol}`);
  }
  const root = base.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  if (o.kind === 'vllm') {
    // vLLM has no per-request routing switch (the server flag alone); return_token_ids adds the prompt's ids.
    return {
      url: new URL(`${root}/v1/completions`, base),
      body: { ...(o.model ? { model: o.model } : {}), prompt, max_tokens: 1, temperature: 0, return_token_ids: true },
    };
  }
  return {
    url: new URL(`${root}/generate`, base),
    body: {
      text: prompt,
      sampling_params: { max_new_tokens: 1, temperature: 0 },
      return_routed_experts: true,
      return_prompt_token_ids: true,
    },
  };
}

function httpMessage(status: number, url: URL, body: string, kind: RemoteKind, hints: RemoteHints): string {
  const detail = serverDetail(body);
  const said = detail ? `: ${detail}` : '';
  if (status === 401 || status === 403) {
    return `${url.origin} refused the request (HTTP ${status}${said}): the API key is missing or wrong. ${hints.apiKey}`;
  }
  if (status === 404) {
    return (
      `${url.href} was not found (HTTP 404${said}): is the server kind right (${hints.kind})? (${kind} answers ` +
      `${kind === 'vllm' ? '/v1/completions; SGLang answers /generate' : '/generate; vLLM answers /v1/completions'}) and is the URL the server's base?`
    );
  }
  if (status >= 500) return `the server at ${url.origin} failed (HTTP ${status}${said})`;
  return `the server at ${url.origin} refused the request (HTTP ${status}${said})`;
}

/** The error message an OpenAI-style or FastAPI error body carries, cut short. */
function serverDetail(body: string): string {
  let text = body.trim();
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const e = j.error;
    const m = (e && typeof e === 'object' ? (e as Record<string, unknown>).message : e) ?? j.message ?? j.detail;
    if (typeof m === 'string') text = m;
  } catch {
    /* not JSON: the text itself */
  }
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

function networkMessage(e: NodeJS.ErrnoException, url: URL): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${url.host} (connection refused): is the server running there, and is the remote URL right?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host ${url.hostname} was not found (${e.code}): check the remote URL`;
    case 'ECONNRESET':
      return `${url.host} closed the connection before answering (ECONNRESET)`;
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `the TLS certificate of ${url.host} is not trusted (${e.code})`;
    default:
      return `the request to ${url.host} failed: ${e.message}`;
  }
}

/** POSTs `body` as JSON and resolves to the parsed JSON answer, or rejects with a specific EngineError. */
export function postJson(
  url: URL,
  body: unknown,
  o: Pick<RemoteOptions, 'apiKey' | 'timeoutSeconds' | 'signal' | 'kind' | 'hints'>,
): Promise<unknown> {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const mod = url.protocol === 'https:' ? https : http;
  const hints = o.hints ?? CLI_REMOTE_HINTS;
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(new EngineError('cancelled', 'the request was cancelled'));
      return;
    }
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': payload.length,
          ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
        },
      },
      (res) => {
        // Decoded as UTF-8 as it arrives (a character split between chunks is kept whole).
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c: string) => {
          text += c;
          if (text.length > MAX_TRACE_FILE_BYTES) {
            req.destroy();
            finish(() =>
              reject(new EngineError('remote-failed', `the answer of ${url.origin} is larger than ${MAX_TRACE_FILE_BYTES} bytes`)),
            );
            return;
          }
        });
        res.on('error', (e) => finish(() => reject(new EngineError('remote-failed', networkMessage(e, url)))));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            finish(() => reject(new EngineError('remote-failed', httpMessage(status, url, text, o.kind, hints))));
            return;
          }
          try {
            const json = JSON.parse(text) as unknown;
            finish(() => resolve(json));
          } catch {
            const start = text.trim().slice(0, 80);
            finish(() =>
              reject(
                new EngineError(
                  'remote-failed',
                  `${url.href} answered HTTP ${status} with something that is not JSON (${start ? JSON.stringify(start) : 'an empty body'}): is the remote URL a vLLM or SGLang server?`,
                ),
              ),
            );
          }
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(() =>
        reject(new EngineError('remote-failed', `${url.origin} did not answer within ${o.timeoutSeconds} s (${hints.timeout})`)),
      );
    }, o.timeoutSeconds * 1000);
    const onAbort = (): void => {
      req.destroy();
      finish(() => reject(new EngineError('cancelled', 'the request was cancelled')));
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e: NodeJS.ErrnoException) => finish(() => reject(new EngineError('remote-failed', networkMessage(e, url)))));
    req.end(payload);
  });
}

/** Sends `prompt` to the server and returns the routing of its prompt tokens (and the one generated token). */
export async function remoteAnalysis(reader: TraceReader, prompt: string, o: RemoteOptions): Promise<Analysis> {
  const t0 = performance.now();
  const { url, body } = remoteRequest(o, prompt);
  const json = await postJson(url, body, o);
  const requestMs = performance.now() - t0;
  try {
    return traceAnalysis(json, { ...reader, prompt, source: url.href, startedAt: performance.now(), requestMs, promptOnly: true });
  } catch (e) {
    // A server without the flag answers normally, without routing: say which flag, for this server's kind.
    if (e instanceof EngineError && e.code === 'trace-no-routing') {
      throw new EngineError(
        'trace-no-routing',
        `${url.origin} answered without routing: start the ${o.kind === 'vllm' ? 'vLLM' : 'SGLang'} server with ${ROUTING_FLAG}` +
          ` (${o.kind === 'vllm' ? 'vllm serve MODEL ' : 'python -m sglang.launch_server --model-path MODEL '}${ROUTING_FLAG})`,
        [e.message],
      );
    }
    throw e;
  }
}
