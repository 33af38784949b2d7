import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { PanelChannel } from '../../../../src/extension/panels/panelChannel';
import {
  PROTOCOL_VERSION,
  type HostMessageOf,
  type NotificationMessage,
  type WebviewMessageOf,
} from '../../../../src/shared/protocol/envelope';
import { parseEnvelope, validateReady, expectKeys, expectInt } from '../../../../src/shared/protocol/validation';

/** A made-up panel protocol: the channel is generic over it. */
interface HostN {
  'x/show': { value: number };
  'x/error': { message: string };
}
type Incoming = WebviewMessageOf<{ ready: { protocolVersion: number }; 'x/poke': { n: number } }, { 'x/save': { n: number } }>;

function harness(
  opts: {
    onRequest?: (n: number) => unknown;
    onPoke?: (n: number) => void;
    port?: (m: HostMessageOf<HostN>) => boolean | Promise<boolean>;
  } = {},
) {
  const posted: HostMessageOf<HostN>[] = [];
  const logs: string[] = [];
  let state = { value: 0, error: null as string | null };
  const channel: PanelChannel<HostN, Incoming> = new PanelChannel<HostN, Incoming>({
    what: 'test panel',
    port: { postMessage: opts.port ?? ((m) => (posted.push(m), true)) },
    log: (level, m) => logs.push(`${level}: ${m}`),
    parse: (raw) =>
      parseEnvelope<Incoming, null>(
        raw,
        null,
        {
          ready: (p) => validateReady(p),
          'x/poke': (p) => (expectKeys(p, 'params', ['n']), { n: expectInt(p.n, 'params.n', 0, 9) }),
        },
        { 'x/save': (p) => (expectKeys(p, 'params', ['n']), { n: expectInt(p.n, 'params.n', 0, 9) }) },
      ),
    snapshot: () => {
      const out: NotificationMessage<HostN>[] = [channel.notification('x/show', { value: state.value })];
      if (state.error !== null) out.push(channel.notification('x/error', { message: state.error }));
      return out;
    },
    onNotification: (m) => {
      if (m.method === 'x/poke') opts.onPoke?.(m.params.n);
    },
    onRequest: (m) => (opts.onRequest ?? ((n: number) => `saved ${n}`))(m.params.n),
  });
  const set = (value: number, error: string | null = null) => {
    state = { value, error };
    channel.notify('x/show', { value });
  };
  return { channel, posted, logs, set };
}

const msg = (kind: 'notification' | 'request', method: string, params: object, id?: number) => ({
  protocol: PROTOCOL_VERSION,
  kind,
  method,
  params,
  ...(id ? { id } : {}),
});
const ready = msg('notification', 'ready', { protocolVersion: PROTOCOL_VERSION });

describe('PanelChannel', () => {
  it('posts nothing before ready, then the snapshot; after ready, notifications go out at once', async () => {
    const h = harness();
    h.set(1);
    h.set(2, 'boom');
    assert.equal(h.posted.length, 0);
    await h.channel.receive(ready);
    assert.deepEqual(h.posted, [
      { protocol: PROTOCOL_VERSION, kind: 'notification', method: 'x/show', params: { value: 2 } },
      { protocol: PROTOCOL_VERSION, kind: 'notification', method: 'x/error', params: { message: 'boom' } },
    ]);
    h.set(3);
    assert.deepEqual(h.posted.at(-1), { protocol: PROTOCOL_VERSION, kind: 'notification', method: 'x/show', params: { value: 3 } });
  });

  it('answers every ready (a reloaded webview) with the full state again; notReady() holds messages', async () => {
    const h = harness();
    await h.channel.receive(ready);
    h.channel.notReady();
    h.set(5);
    assert.equal(h.posted.length, 1);
    await h.channel.receive(ready);
    assert.deepEqual(
      h.posted.map((m) => (m.kind === 'notification' ? m.params : null)),
      [{ value: 0 }, { value: 5 }],
    );
  });

  it('drops invalid messages with a log line and never calls a handler for them', async () => {
    let pokes = 0;
    const h = harness({ onPoke: () => pokes++ });
    for (const bad of [
      null,
      'x',
      { ...ready, protocol: 99 },
      msg('notification', 'x/poke', { n: 10 }),
      msg('notification', 'x/other', {}),
      msg('request', 'x/save', { n: 1 }),
    ]) {
      await h.channel.receive(bad);
    }
    assert.equal(pokes, 0);
    assert.equal(h.logs.filter((l) => l.startsWith('warn: Dropped an invalid message from the test panel')).length, 6);
    await h.channel.receive(msg('notification', 'x/poke', { n: 4 }));
    assert.equal(pokes, 1);
  });

  it('answers a request with its result, or with the error the handler threw (sync or async)', async () => {
    const h = harness({
      onRequest: (n) => {
        if (n === 1) throw new Error('no such thing');
        if (n === 2) return Promise.reject(new Error('disk full'));
        return Promise.resolve(`/tmp/${n}.json`);
      },
    });
    await h.channel.receive(ready);
    h.posted.length = 0;
    await h.channel.receive(msg('request', 'x/save', { n: 3 }, 7));
    await h.channel.receive(msg('request', 'x/save', { n: 1 }, 8));
    await h.channel.receive(msg('request', 'x/save', { n: 2 }, 9));
    assert.deepEqual(h.posted, [
      { protocol: PROTOCOL_VERSION, kind: 'response', id: 7, ok: true, result: '/tmp/3.json' },
      { protocol: PROTOCOL_VERSION, kind: 'response', id: 8, ok: false, error: 'no such thing' },
      { protocol: PROTOCOL_VERSION, kind: 'response', id: 9, ok: false, error: 'disk full' },
    ]);
  });

  it('a failing notification handler or port is logged, and the channel keeps working', async () => {
    let fail = true;
    const h = harness({
      onPoke: () => {
        throw new Error('handler bug');
      },
      port: () => {
        if (fail) throw new Error('disposed');
        return Promise.resolve(false);
      },
    });
    await h.channel.receive(ready);
    await h.channel.receive(msg('notification', 'x/poke', { n: 1 }));
    assert.match(h.logs.join('\n'), /warn: Posting x\/show failed: Error: disposed/);
    assert.match(h.logs.join('\n'), /error: Test panel message x\/poke failed: Error: handler bug/);
    fail = false;
    h.set(1);
    await new Promise((r) => setImmediate(r));
    assert.match(h.logs.join('\n'), /debug: Test panel did not take x\/show \(not live\)/);
  });
});
