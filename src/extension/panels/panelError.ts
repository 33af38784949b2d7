/**
 * The error a panel's banner shows, kept by each panel's logic (routing, spot-check, compare) so that a webview that
 * reloads gets it again, and the check on its buttons: the webview is untrusted, so an `error/action` runs only when
 * it names a button the host offered with the current error. vscode-free (unit-tested with the panel logics).
 */
import type { ErrorBannerParams } from '../../shared/protocol/envelope';
import type { PanelLog } from './panelChannel';

interface Shown {
  message: string;
  actions: string[];
  settingsQuery?: string;
}

export class PanelError {
  private shown: Shown | null = null;

  constructor(
    /** What the log calls the panel ("Spot-check panel"). */
    private readonly what: string,
    private readonly log: PanelLog,
  ) {}

  get current(): string | null {
    return this.shown?.message ?? null;
  }

  /** `settingsQuery`: what Open Settings searches for (the host's, never sent to the webview). */
  set(message: string, actions: readonly string[] = [], settingsQuery?: string): ErrorBannerParams {
    this.shown = settingsQuery === undefined ? { message, actions: [...actions] } : { message, actions: [...actions], settingsQuery };
    return this.params()!;
  }

  clear(): void {
    this.shown = null;
  }

  /** What the banner is sent (no `actions` when there are none), or null when there is no error. */
  params(): ErrorBannerParams | null {
    if (!this.shown) return null;
    return this.shown.actions.length ? { message: this.shown.message, actions: [...this.shown.actions] } : { message: this.shown.message };
  }

  /** Runs `action` through `run` when the current error offered it; anything else is logged and dropped. */
  act(action: string, run: ((action: string, settingsQuery?: string) => void) | undefined): void {
    if (this.shown?.actions.includes(action)) run?.(action, this.shown.settingsQuery);
    else this.log('debug', `${this.what} asked for error action "${action}", which the current error does not offer.`);
  }
}
