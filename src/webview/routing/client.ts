/**
 * The webview side of the protocol: typed notifications, requests with ids and promise replies (with timeouts), and
 * dispatch of host notifications. Messages that do not look like host messages of this protocol version are dropped.
 */
import type {
  HostNotificationMethod,
  HostNotifications,
  ResponseMessage,
  WebviewNotificationMethod,
  WebviewNotifications,
  WebviewRequestMethod,
  WebviewRequests,
} from '../../shared/protocol';
import { PROTOCOL_VERSION } from '../../shared/protocol';
import { isHostMessage, webviewNotification, webviewRequest } from '../../shared/validate';
import type { VsCodeApi } from './vscode';

export class RequestError extends Error {}
export class RequestTimeoutError extends RequestError {}

type Handler<M extends HostNotificationMethod> = (params: HostNotifications[M]) => void;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class MessageClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<HostNotificationMethod, Set<(params: unknown) => void>>();
  private readonly listener = (event: MessageEvent): void => this.receive(event.data);

  constructor(
    private readonly api: VsCodeApi<unknown>,
    private readonly target: Window = window,
    private readonly defaultTimeoutMs = 30_000,
  ) {
    target.addEventListener('message', this.listener);
  }

  /** The handshake: call once, after every `on` handler the first host message needs is installed. */
  ready(): void {
    this.notify('ready', { protocolVersion: PROTOCOL_VERSION });
  }

  notify<M extends WebviewNotificationMethod>(method: M, params: WebviewNotifications[M]): void {
    this.api.postMessage(webviewNotification(method, params));
  }

  request<M extends WebviewRequestMethod>(method: M, params: WebviewRequests[M], timeoutMs = this.defaultTimeoutMs): Promise<unknown> {
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.api.postMessage(webviewRequest(id, method, params));
    });
  }

  on<M extends HostNotificationMethod>(method: M, handler: Handler<M>): () => void {
    let set = this.handlers.get(method);
    if (!set) this.handlers.set(method, (set = new Set()));
    set.add(handler as (params: unknown) => void);
    return () => set!.delete(handler as (params: unknown) => void);
  }

  /** Exposed for tests; normally fed by window `message` events. */
  receive(data: unknown): void {
    if (!isHostMessage(data)) return;
    if (data.kind === 'response') {
      this.settle(data);
      return;
    }
    const set = this.handlers.get(data.method);
    if (!set) return;
    for (const h of set) {
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
