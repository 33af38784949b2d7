/** The slice of the VS Code webview API the panel uses (`acquireVsCodeApi()` may be called only once). */
import type { WebviewMessage } from '../../shared/protocol/routing';

export interface VsCodeApi<S = unknown> {
  postMessage(message: WebviewMessage): void;
  getState(): S | undefined;
  setState(state: S): S;
}

declare global {
  // Provided by VS Code in every webview.
  function acquireVsCodeApi<S = unknown>(): VsCodeApi<S>;
}

let api: VsCodeApi<unknown> | undefined;

/** Returns the API, acquiring it on first use. */
export function vscodeApi<S>(): VsCodeApi<S> {
  if (!api) api = acquireVsCodeApi<unknown>();
  return api as VsCodeApi<S>;
}
