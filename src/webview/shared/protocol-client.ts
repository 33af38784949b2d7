/**
 * The webview side of a host↔webview protocol: typed notifications, requests with ids and promise replies (with
 * timeouts), and dispatch of host notifications. Each panel binds it to its own message set (the routing panel and
 * the spot-check report); messages that are not host messages of that set and protocol version are dropped.
 */
import type { ResponseMessage } from '../../shared/protocol/envelope';

export class RequestError extends Error {}
export class RequestTimeoutError extends RequestError {}

interface HostNotificationLike<HN> {
  kind: 'notification';
  method: keyof HN & string;
  params: unknown;
}

/** How one panel's messages are recognised and built (functions from src/shared/validate.ts). */
export interface ProtocolWire<HN, WN, WR, Out> {
  isHostMessage(raw: unknown): raw is HostNotificationLike<HN> | ResponseMessage;
  notification<M extends keyof WN & string>(method: M, params: WN[M]): Out;
  request<M extends keyof WR & string>(id: number, method: M, params: WR[M]): Out;
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ProtocolClient<HN, WN extends { ready: { protocolVersion: number } }, WR, Out> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<keyof HN & string, Set<(params: unknown) => void>>();
  private readonly listener = (event: MessageEvent): void => this.receive(event.data);

  constructor(
    private readonly api: { postMessage(message: Out): void },
    private readonly wire: ProtocolWire<HN, WN, WR, Out>,
    private readonly protocolVersion: number,
    private readonly target: Window = window,
    private readonly defaultTimeoutMs = 30_000,
  ) {
    target.addEventListener('message', this.listener);
  }

  /** The handshake: call once, after every `on` handler the first host message needs is installed. */
  ready(): void {
    this.notify('ready', { protocolVersion: this.protocolVersion } as WN['ready']);
  }

  notify<M extends keyof WN & string>(method: M, params: WN[M]): void {
    this.api.postMessage(this.wire.notification(method, params));
  }

  request<M extends keyof WR & string>(method: M, params: WR[M], timeoutMs = this.defaultTimeoutMs): Promise<unknown> {
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.api.postMessage(this.wire.request(id, method, params));
    });
  }

  on<M extends keyof HN & string>(method: M, handler: (params: HN[M]) => void): () => void {
    let set = this.handlers.get(method);
    if (!set) this.handlers.set(method, (set = new Set()));
    set.add(handler as (params: unknown) => void);
    return () => set!.delete(handler as (params: unknown) => void);
  }

  /** Exposed for tests; normally fed by window `message` events. */
  receive(data: unknown): void {
    if (!this.wire.isHostMessage(data)) return;
    if (data.kind === 'response') {
      this.settle(data);
      return;
    }
    for (const h of this.handlers.get(data.method) ?? []) {
      try {
        h(data.params);
      } catch (e) {
        console.error(`[damoe] handler for ${data.method} failed`, e);
      }
    }
  }

  private settle(r: ResponseMessage): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r.result);
    else p.reject(new RequestError(r.error ?? 'request failed'));
  }

  dispose(): void {
    this.target.removeEventListener('message', this.listener);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new RequestError('disposed'));
    }
    this.pending.clear();
  }
}
