/**
 * Entry of the Compare Models webview (bundled to dist/webview/compare.js + compare.css): install the listener, post
 * `ready`, then draw what the host sends: the dataset comparison (its disagreements clickable) above the text view.
 * An error dims what is shown instead of replacing it; the next result clears it.
 */
import '../shared/base.css';
import './styles.css';

import { el } from '../shared/dom';
import { CompareClient, type CompareApi } from './client';
import { CompareDatasetSection } from './datasetView';
import { CompareTextSection } from './textView';

declare function acquireVsCodeApi(): CompareApi;

function main(): void {
  const api = acquireVsCodeApi();
  const client = new CompareClient(api);
  const progress = el('div', { class: 'muted small', testid: 'compare-progress', attrs: { role: 'status' } });
  const error = el('div', { class: 'banner banner-error', testid: 'compare-error', attrs: { role: 'alert' } });
  const empty = el('p', {
    class: 'muted',
    testid: 'compare-empty',
    text: 'Run “DA-MoE: Compare Models” on a selection, or “Compare Models on Dataset” on a dataset file.',
  });
  progress.hidden = true;
  error.hidden = true;
  const dataset = new CompareDatasetSection((line) => client.notify('disagreement/open', { line }));
  const text = new CompareTextSection();
  const views = el('div', { class: 'cmp-views' }, [text.root, dataset.root]);
  const shown = (): void => {
    empty.hidden = true;
    error.hidden = true;
    progress.hidden = true;
    views.classList.remove('stale');
  };
  client.on('compare/text', (view) => {
    shown();
    text.show(view);
    text.root.scrollIntoView({ block: 'start' });
  });
  client.on('compare/dataset', ({ report }) => {
    shown();
    dataset.show(report);
  });
  client.on('compare/progress', ({ running, message }) => {
    progress.hidden = !running;
    progress.textContent = running ? message : '';
    if (running) error.hidden = true;
  });
  client.on('compare/error', ({ message }) => {
    progress.hidden = true;
    error.hidden = false;
    error.textContent = message;
    views.classList.add('stale');
  });
  client.ready();
  const app = document.getElementById('app') ?? document.body.appendChild(el('div', { attrs: { id: 'app' } }));
  app.classList.add('compare');
  app.append(el('h1', { class: 'cmp-title', text: 'Compare models' }), progress, error, empty, views);
  app.setAttribute('aria-busy', 'false');
  app.dataset.ready = 'true';
}

main();
