/**
 * Entry of the Compare Models webview (bundled to dist/webview/compare.js + compare.css): install the listener, post
 * `ready`, then draw what the host sends: the dataset comparison (its disagreements clickable, Export JSON / HTML)
 * and the text view. An error from the host is shown in the banner with the notification's buttons (error-banner.ts)
 * and dims what is shown instead of replacing it; the next result clears it. What is shown is
 * saved with setState, so the serializer (and this page, from getState) brings it back after a reload.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '../shared/base.css';
import './styles.css';

import type { CompareReport } from '../../shared/compare-report';
import { PROTOCOL_VERSION } from '../../shared/protocol/envelope';
import { type ComparePanelState, type CompareTextView, parseComparePanelState } from '../../shared/protocol/compare';
import { el } from '../shared/dom';
import { markUnderError, showErrorBanner } from '../shared/error-banner';
import { CompareClient, type CompareApi } from './client';
import { CompareDatasetSection } from './datasetView';
import { CompareTextSection } from './textView';

declare function acquireVsCodeApi(): CompareApi;

function main(): void {
  const api = acquireVsCodeApi();
  const client = new CompareClient(api);
  const app = document.getElementById('app') ?? document.body.appendChild(el('div', { attrs: { id: 'app' } }));
  const progress = el('div', { class: 'muted small', testid: 'compare-progress', attrs: { role: 'status' } });
  const error = el('div', { class: 'banner banner-error', testid: 'compare-error', attrs: { role: 'alert' } });
  const notice = el('div', { class: 'banner banner-info', testid: 'compare-notice', attrs: { role: 'status' } });
  notice.hidden = true;
  let saved: { report: CompareReport | null; text: CompareTextView | null } = { report: null, text: null };
  const save = (): void => {
    const state: ComparePanelState = { protocol: PROTOCOL_VERSION, ...saved };
    api.setState(state);
  };
  const exportReport = async (format: 'json' | 'html'): Promise<void> => {
    notice.hidden = true;
    try {
      const path = await client.request('compare/export', { format }, 300_000);
      if (typeof path === 'string') {
        notice.textContent = `Saved to ${path}`;
        notice.hidden = false;
      }
    } catch (e) {
      // The comparison is still the current one: the banner without dimming it.
      showErrorBanner(error, `Export failed: ${(e as Error).message}`, [], onAction);
    }
  };
  const empty = el('p', {
    class: 'muted',
    testid: 'compare-empty',
    text: 'Run “DA-MoE: Compare Models” on a selection, or “Compare Models on Dataset” on a dataset file.',
  });
  progress.hidden = true;
  error.hidden = true;
  const dataset = new CompareDatasetSection(
    (line) => client.notify('disagreement/open', { line }),
    (format) => void exportReport(format),
  );
  const text = new CompareTextSection();
  const views = el('div', { class: 'cmp-views' }, [text.root, dataset.root]);
  const onAction = (action: string): void => client.notify('error/action', { action });
  const shown = (): void => {
    empty.hidden = true;
    showErrorBanner(error, null, [], onAction);
    progress.hidden = true;
    markUnderError(app, [views], false);
  };
  client.on('compare/text', (view) => {
    shown();
    text.show(view);
    saved = { ...saved, text: view };
    save();
    text.root.scrollIntoView({ block: 'start' });
  });
  client.on('compare/dataset', ({ report }) => {
    shown();
    notice.hidden = true;
    dataset.show(report);
    saved = { ...saved, report };
    save();
  });
  client.on('compare/progress', ({ running, message }) => {
    progress.hidden = !running;
    progress.textContent = running ? message : '';
    // A new run: the last error is no longer the news (as in the other panels).
    if (running) {
      showErrorBanner(error, null, [], onAction);
      markUnderError(app, [views], false);
    }
  });
  client.on('compare/error', ({ message, actions }) => {
    progress.hidden = true;
    showErrorBanner(error, typeof message === 'string' ? message : 'The comparison failed.', actions, onAction);
    // Dimmed only when there is something shown before (the empty panel has nothing to dim).
    markUnderError(app, [views], empty.hidden);
  });
  client.ready();
  app.classList.add('compare');
  app.append(el('h1', { class: 'cmp-title', text: 'Compare models' }), progress, error, notice, empty, views);
  // After a reload: what was shown, at once (the host sends the same again once it has restored the panel).
  const restored = parseComparePanelState(api.getState());
  if (restored) {
    saved = { report: restored.report, text: restored.text };
    shown();
    if (restored.report) dataset.show(restored.report);
    if (restored.text) text.show(restored.text);
  }
  app.setAttribute('aria-busy', 'false');
  app.dataset.ready = 'true';
}

main();
