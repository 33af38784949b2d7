/** The routing panel's protocol client: the shared ProtocolClient bound to the routing messages. */
import type { HostNotifications, WebviewMessage, WebviewNotifications, WebviewRequests } from '../../shared/protocol';
import { PROTOCOL_VERSION } from '../../shared/protocol';
import { isHostMessage, webviewNotification, webviewRequest } from '../../shared/validate';
import { ProtocolClient } from '../shared/protocol-client';
import type { VsCodeApi } from './vscode';

export { RequestError, RequestTimeoutError } from '../shared/protocol-client';

export class MessageClient extends ProtocolClient<HostNotifications, WebviewNotifications, WebviewRequests, WebviewMessage> {
  constructor(api: VsCodeApi<unknown>, target: Window = window, defaultTimeoutMs = 30_000) {
    super(api, { isHostMessage, notification: webviewNotification, request: webviewRequest }, PROTOCOL_VERSION, target, defaultTimeoutMs);
  }
}
