/** The compare panel's protocol client: the shared ProtocolClient bound to the compare messages. */
import { PROTOCOL_VERSION } from '../../shared/protocol/envelope';
import {
  type CompareHostNotifications,
  type CompareWebviewMessage,
  type CompareWebviewNotifications,
  type CompareWebviewRequests,
  compareWebviewNotification,
  compareWebviewRequest,
  isCompareHostMessage,
} from '../../shared/protocol/compare';
import { ProtocolClient } from '../shared/protocol-client';

export interface CompareApi {
  postMessage(message: CompareWebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): unknown;
}

export class CompareClient extends ProtocolClient<
  CompareHostNotifications,
  CompareWebviewNotifications,
  CompareWebviewRequests,
  CompareWebviewMessage
> {
  constructor(api: CompareApi, target: Window = window) {
    super(
      api,
      { isHostMessage: isCompareHostMessage, notification: compareWebviewNotification, request: compareWebviewRequest },
      PROTOCOL_VERSION,
      target,
    );
  }
}
