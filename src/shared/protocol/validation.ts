/**
 * Strict validation primitives for messages from a webview, and the envelope check both panels' parsers use.
 *
 * The webview renders untrusted text (the document, token strings), so the host treats everything it posts as
 * untrusted: a panel's parser accepts exactly the shapes of its WebviewMessage (protocol version, kind, known method,
 * params with exactly the documented fields, integers in range) and rejects everything else with a short reason,
 * never throwing. Pure: no `vscode`, no DOM; usable from the host, the webview and tests.
 */
import { PROTOCOL_VERSION, type ErrorActionParams, type ReadyParams } from './envelope';

/** Request ids are positive safe integers. */
export const MAX_REQUEST_ID = Number.MAX_SAFE_INTEGER;

export type ParseResultOf<M> = { ok: true; message: M } | { ok: false; error: string };

class Invalid extends Error {}

export function fail(message: string): never {
  throw new Invalid(message);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a string of length ${v.length}` : JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object') return 'an object';
  return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** A plain data object: not null, not an array, prototype Object.prototype or null (what structured clone yields). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function expectObject(v: unknown, where: string): Record<string, unknown> {
  if (!isPlainObject(v)) fail(`${where}: expected an object, got ${describe(v)}`);
  return v;
}

/** Exactly these keys: missing ones and extra ones are errors. */
export function expectKeys(o: Record<string, unknown>, where: string, required: readonly string[]): void {
  for (const k of required) if (!hasOwn(o, k)) fail(`${where}: missing field "${k}"`);
  for (const k of Object.keys(o)) if (!required.includes(k)) fail(`${where}: unexpected field ${JSON.stringify(k.slice(0, 40))}`);
}

export function expectInt(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${where}: expected an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

/** The `ready` handshake's params, the same for every panel: the webview must speak this protocol version. */
export function validateReady(p: Record<string, unknown>): ReadyParams {
  expectKeys(p, 'params', ['protocolVersion']);
  const v = expectInt(p.protocolVersion, 'params.protocolVersion', 0, 1_000_000);
  if (v !== PROTOCOL_VERSION) fail(`params.protocolVersion: webview speaks protocol ${v}, host speaks ${PROTOCOL_VERSION}`);
  return { protocolVersion: v };
}

/**
 * `error/action`'s params, the same for every panel: the title of a button. Whether the current error offered it is
 * the host's check (panels/panelError.ts), since only the host knows what it offered.
 */
export function validateErrorAction(p: Record<string, unknown>): ErrorActionParams {
  expectKeys(p, 'params', ['action']);
  if (typeof p.action !== 'string' || p.action.length === 0 || p.action.length > 100)
    fail(`params.action: expected the title of an action, got ${describe(p.action)}`);
  return { action: p.action };
}

export type ParamsValidators<Map, C> = { [M in keyof Map]: (params: Record<string, unknown>, ctx: C) => Map[M] };

/** Envelope, kind, method and params (through the method's validator), as one result that never throws. */
export function parseEnvelope<Message, C>(
  raw: unknown,
  ctx: C,
  notifications: Record<string, (params: Record<string, unknown>, ctx: C) => unknown>,
  requests: Record<string, (params: Record<string, unknown>, ctx: C) => unknown>,
): ParseResultOf<Message> {
  try {
    return { ok: true, message: parseOrThrow(raw, ctx, notifications, requests) as Message };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    return { ok: false, error: `invalid message: ${(e as Error)?.message ?? String(e)}` };
  }
}

function parseOrThrow<C>(
  raw: unknown,
  ctx: C,
  notifications: Record<string, (params: Record<string, unknown>, ctx: C) => unknown>,
  requests: Record<string, (params: Record<string, unknown>, ctx: C) => unknown>,
): unknown {
  const m = expectObject(raw, 'message');
  if (!hasOwn(m, 'protocol')) fail('message: missing field "protocol"');
  if (m.protocol !== PROTOCOL_VERSION)
    fail(`message.protocol: unsupported protocol version ${describe(m.protocol)} (expected ${PROTOCOL_VERSION})`);
  const kind = m.kind;
  if (kind === 'notification') {
    expectKeys(m, 'message', ['protocol', 'kind', 'method', 'params']);
    const method = m.method;
    if (typeof method !== 'string' || !hasOwn(notifications, method)) {
      fail(`message.method: unknown notification ${describe(method)}`);
    }
    const params = expectObject(m.params, 'params');
    return { protocol: PROTOCOL_VERSION, kind, method, params: notifications[method](params, ctx) };
  }
  if (kind === 'request') {
    expectKeys(m, 'message', ['protocol', 'kind', 'id', 'method', 'params']);
    const id = expectInt(m.id, 'message.id', 1, MAX_REQUEST_ID);
    const method = m.method;
    if (typeof method !== 'string' || !hasOwn(requests, method)) {
      fail(`message.method: unknown request ${describe(method)}`);
    }
    const params = expectObject(m.params, 'params');
    return { protocol: PROTOCOL_VERSION, kind, id, method, params: requests[method](params, ctx) };
  }
  fail(`message.kind: expected "notification" or "request", got ${describe(kind)}`);
}

/**
 * Whether `raw` looks like a host message of this protocol version with one of `methods` (envelope and method only,
 * params unchecked: the host is trusted, this only guards a webview against a foreign postMessage).
 */
export function looksLikeHostMessage(raw: unknown, methods: readonly string[]): boolean {
  if (!isPlainObject(raw) || raw.protocol !== PROTOCOL_VERSION) return false;
  if (raw.kind === 'notification') {
    return typeof raw.method === 'string' && methods.includes(raw.method) && isPlainObject(raw.params);
  }
  if (raw.kind === 'response') {
    return typeof raw.id === 'number' && Number.isInteger(raw.id) && typeof raw.ok === 'boolean';
  }
  return false;
}
