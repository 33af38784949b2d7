/**
 * The spot-check webview's side of the protocol: typed notifications, requests with ids and promise replies (with
 * timeouts), and dispatch of host notifications. Messages that are not spot-check host messages are dropped.
 */
import {
  PROTOCOL_VERSION,
  type ResponseMessage,
  type SpotCheckHostNotificationMethod,
  type SpotCheckHostNotifications,
  type SpotCheckWebviewMessage,
  type SpotCheckWebviewNotificationMethod,
  type SpotCheckWebviewNotifications,
  type SpotCheckWebviewRequestMethod,
  type SpotCheckWebviewRequests,
} from '../../shared/protocol';
import { isSpotCheckHostMessage, spotCheckWebviewNotification, spotCheckWebviewRequest } from '../../shared/validate';

export interface SpotCheckApi<S> {
  postMessage(message: SpotCheckWebviewMessage): void;
  getState(): S | undefined;
  setState(state: S): S;
}

type Handler<M extends SpotCheckHostNotificationMethod> = (params: SpotCheckHostNotifications[M]) => void;

export class SpotCheckClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }>();
  private readonly handlers = new Map<SpotCheckHostNotificationMethod, Set<(params: unknown) => void>>();

  constructor(
    private readonly api: SpotCheckApi<unknown>,
    target: Window = window,
  ) {
    target.addEventListener('message', (event: MessageEvent) => this.receive(event.data));
  }

  ready(): void {
    this.notify('ready', { protocolVersion: PROTOCOL_VERSION });
  }

  notify<M extends SpotCheckWebviewNotificationMethod>(method: M, params: SpotCheckWebviewNotifications[M]): void {
    this.api.postMessage(spotCheckWebviewNotification(method, params));
  }

  request<M extends SpotCheckWebviewRequestMethod>(method: M, params: SpotCheckWebviewRequests[M], timeoutMs = 30_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.api.postMessage(spotCheckWebviewRequest(id, method, params));
    });
  }

  on<M extends SpotCheckHostNotificationMethod>(method: M, handler: Handler<M>): void {
    let set = this.handlers.get(method);
    if (!set) this.handlers.set(method, (set = new Set()));
    set.add(handler as (params: unknown) => void);
  }

  receive(data: unknown): void {
    if (!isSpotCheckHostMessage(data)) return;
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
    else p.reject(new Error(r.error ?? 'request failed'));
  }
}
