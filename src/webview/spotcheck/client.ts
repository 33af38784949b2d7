/** The spot-check report's protocol client: the shared ProtocolClient bound to the spot-check messages. */
import { PROTOCOL_VERSION } from '../../shared/protocol/envelope';
import {
  type SpotCheckHostNotifications,
  type SpotCheckWebviewMessage,
  type SpotCheckWebviewNotifications,
  type SpotCheckWebviewRequests,
  isSpotCheckHostMessage,
  spotCheckWebviewNotification,
  spotCheckWebviewRequest,
} from '../../shared/protocol/spotcheck';
import { ProtocolClient } from '../shared/protocol-client';

export interface SpotCheckApi<S> {
  postMessage(message: SpotCheckWebviewMessage): void;
  getState(): S | undefined;
  setState(state: S): S;
}

export class SpotCheckClient extends ProtocolClient<
  SpotCheckHostNotifications,
  SpotCheckWebviewNotifications,
  SpotCheckWebviewRequests,
  SpotCheckWebviewMessage
> {
  constructor(api: SpotCheckApi<unknown>, target: Window = window) {
    super(
      api,
      { isHostMessage: isSpotCheckHostMessage, notification: spotCheckWebviewNotification, request: spotCheckWebviewRequest },
      PROTOCOL_VERSION,
      target,
    );
  }
}
