/** The routing panel's protocol client: the shared ProtocolClient bound to the routing messages. */
import { PROTOCOL_VERSION } from '../../shared/protocol/envelope';
import {
  type HostNotifications,
  type WebviewMessage,
  type WebviewNotifications,
  type WebviewRequests,
  isHostMessage,
  webviewNotification,
  webviewRequest,
} from '../../shared/protocol/routing';
import { ProtocolClient } from '../shared/protocol-client';
import type { VsCodeApi } from './vscode';

export { RequestError, RequestTimeoutError } from '../shared/protocol-client';

export class MessageClient extends ProtocolClient<HostNotifications, WebviewNotifications, WebviewRequests, WebviewMessage> {
  constructor(api: VsCodeApi<unknown>, target: Window = window, defaultTimeoutMs = 30_000) {
    super(api, { isHostMessage, notification: webviewNotification, request: webviewRequest }, PROTOCOL_VERSION, target, defaultTimeoutMs);
  }
}
