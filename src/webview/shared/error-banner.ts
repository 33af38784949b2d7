/**
 * What every panel (routing, spot-check, compare) does with an error from the host: the message in its banner with
 * the notification's buttons (Show Output, Select Model, Open Settings; a click sends `error/action`), and the result
 * shown before kept readable but dimmed and marked busy under it, since it does not answer the request that failed.
 * The next good result clears both.
 */
import { el } from './dom';

/** Fills `banner` (shown when `message` is not null); `onAction` gets the title of a pressed button. */
export function showErrorBanner(
  banner: HTMLElement,
  message: string | null,
  actions: readonly unknown[] | undefined,
  onAction: (action: string) => void,
): void {
  banner.hidden = message === null;
  banner.replaceChildren(el('span', { class: 'banner-text', text: message ?? '' }));
  // The webview draws only strings the host sent; what a button does is the host's (it checks the title again).
  const titles = message === null || !Array.isArray(actions) ? [] : actions.filter((a): a is string => typeof a === 'string');
  if (titles.length === 0) return;
  const buttons = el('span', { class: 'banner-actions' });
  for (const action of titles) {
    const b = el('vscode-button', { testid: 'error-action', text: action, attrs: { secondary: true } });
    b.addEventListener('click', () => onAction(action));
    buttons.append(b);
  }
  banner.append(buttons);
}

/**
 * Dims `regions` (the previous result) under an error, or un-dims them: `#app.under-error`, and on each region the
 * class `under-error-dimmed` (base.css) and aria-busy, so a screen reader too treats it as not current.
 */
export function markUnderError(app: HTMLElement, regions: Iterable<Element>, on: boolean): void {
  app.classList.toggle('under-error', on);
  for (const r of regions) {
    r.classList.toggle('under-error-dimmed', on);
    if (on) r.setAttribute('aria-busy', 'true');
    else r.removeAttribute('aria-busy');
  }
}
