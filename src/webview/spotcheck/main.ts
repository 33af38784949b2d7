/**
 * Entry of the spot-check report webview (bundled to dist/webview/spotcheck.js + spotcheck.css). Same order as the
 * routing panel: acquire the API, install the listener, post `ready`, restore getState(), render. The state (report,
 * layer, filter, query, sort) is saved with setState so the serializer can bring the panel back after a reload.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '../shared/base.css';
import './styles.css';

import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { PROTOCOL_VERSION } from '../../shared/protocol/envelope';
import {
  type SpotCheckLinking,
  type SpotCheckPanelState,
  looksLikeSpotCheckReport,
  parseSpotCheckState,
} from '../../shared/protocol/spotcheck';
import { el } from '../shared/dom';
import { markUnderError, showErrorBanner } from '../shared/error-banner';
import { SpotCheckClient, type SpotCheckApi } from './client';
import { addFigureTools } from './figureTools';
import { ExamplesSection } from './examples';
import { LanguageModelSection } from './languageModel';
import type { ExampleView } from './filter';
import {
  CoActivationSection,
  ConfusionSection,
  ExpertLoadSection,
  HeaderSection,
  KHistogramSection,
  LabelRoutingSection,
  ImportanceCheckSection,
  SpecialisationSection,
  TokensSection,
  type SectionCtx,
} from './sections';

declare function acquireVsCodeApi<S>(): SpotCheckApi<S>;

interface State extends ExampleView {
  report: SpotCheckReport | null;
  linking: SpotCheckLinking;
  layer: number;
}

function main(): void {
  const api = acquireVsCodeApi<SpotCheckPanelState>();
  const client = new SpotCheckClient(api as SpotCheckApi<unknown>);
  const app = document.getElementById('app') ?? document.body.appendChild(el('div', { attrs: { id: 'app' } }));
  let state: State = {
    report: null,
    linking: { canOpen: false, note: null },
    layer: 0,
    filter: 'all',
    query: '',
    sort: { key: 'line', descending: false },
  };
  const save = (): void => {
    api.setState({
      protocol: PROTOCOL_VERSION,
      report: state.report,
      linking: state.linking,
      layer: state.layer,
      filter: state.filter,
      query: state.query,
      sort: state.sort,
    });
  };

  const ctx: SectionCtx = {
    report: () => state.report,
    linking: () => state.linking,
    layer: () => state.layer,
    selectLayer(layer) {
      const n = state.report?.model.num_layers ?? 0;
      if (layer < 0 || layer >= n || layer === state.layer) return;
      state = { ...state, layer };
      save();
      renderLayerViews();
    },
    async exportReport(format) {
      if (!state.report) return;
      try {
        const saved = await client.request('spotcheck/export', { format }, 300_000);
        setNotice(typeof saved === 'string' ? `Saved to ${saved}` : null);
      } catch (e) {
        setError(`Export failed: ${(e as Error).message}`);
      }
    },
  };
  const header = new HeaderSection(ctx);
  const confusion = new ConfusionSection(ctx);
  const languageModel = new LanguageModelSection(ctx);
  const hist = new KHistogramSection(ctx);
  const load = new ExpertLoadSection(ctx);
  const coact = new CoActivationSection(ctx);
  const specialisation = new SpecialisationSection(ctx);
  const byLabel = new LabelRoutingSection(ctx);
  const tokens = new TokensSection(ctx);
  const importanceCheck = new ImportanceCheckSection(ctx);
  const examples = new ExamplesSection({
    report: () => state.report,
    view: () => state,
    setView(patch) {
      state = { ...state, ...patch };
      save();
      examples.render();
    },
    open: (line) => client.notify('example/open', { line }),
    canOpen: () => state.linking.canOpen,
  });

  const setNotice = (text: string | null): void => {
    header.notice.hidden = !text;
    header.notice.textContent = text ?? '';
    if (text) setError(null);
  };
  /** The report: what an error from the host dims (not the header's banners and export buttons). */
  const reportRegions = (): Element[] => [...header.reportParts, ...[...app.children].filter((c) => c !== header.root)];
  /**
   * The banner; `dim`: the error is about the last request (a failed run, a malformed report), so the report shown
   * before is dimmed under it. A failed export or figure save leaves the report as current as it was.
   */
  const setError = (text: string | null, actions: readonly unknown[] = [], dim = false): void => {
    showErrorBanner(header.error, text, actions, (action) => client.notify('error/action', { action }));
    markUnderError(app, reportRegions(), text !== null && dim && state.report !== null);
  };
  const figureTools = (): void => addFigureTools(document, client, (ok, message) => (ok ? setNotice(message) : setError(message)));
  const renderLayerViews = (): void => {
    for (const v of [languageModel, hist, load, coact, specialisation, byLabel]) safe(() => v.render());
    figureTools();
  };
  const renderAll = (): void => {
    for (const v of [header, confusion, languageModel, hist, load, coact, specialisation, byLabel, tokens, importanceCheck, examples])
      safe(() => v.render());
    figureTools();
  };

  client.on('spotcheck/show', ({ report, linking }) => {
    if (!looksLikeSpotCheckReport(report)) {
      setError('Received a malformed spot-check report; nothing to show.', [], true);
      return;
    }
    const sameFile = state.report?.dataset.path === report.dataset.path;
    state = {
      ...state,
      report,
      linking: { canOpen: linking?.canOpen === true, note: typeof linking?.note === 'string' ? linking.note : null },
      layer: Math.min(state.layer, Math.max(0, report.model.num_layers - 1)),
      ...(sameFile ? {} : { query: '', filter: 'all' as const }),
    };
    header.progress.hidden = true;
    setError(null);
    setNotice(null);
    save();
    renderAll();
  });
  client.on('spotcheck/progress', ({ running, done, total, examplesPerSecond, message }) => {
    header.progress.hidden = !running;
    header.progress.textContent = running
      ? `${message ?? 'Running…'} ${done}/${total}${examplesPerSecond > 0 ? ` · ${examplesPerSecond.toFixed(1)} examples/s` : ''}`
      : '';
    if (running) setError(null);
  });
  client.on('spotcheck/error', ({ message, actions }) => {
    header.progress.hidden = true;
    setError(typeof message === 'string' ? message : 'The spot-check failed.', actions, true);
  });

  client.ready();

  app.classList.add('spotcheck');
  app.append(
    header.root,
    el('div', { class: 'sc-grid' }, [confusion.root, languageModel.root, tokens.root]),
    importanceCheck.root,
    hist.root,
    el('div', { class: 'sc-grid' }, [load.root, coact.root]),
    specialisation.root,
    byLabel.root,
    examples.root,
  );
  const restored = parseSpotCheckState(api.getState());
  if (restored) {
    state = {
      report: restored.report,
      linking: restored.linking,
      layer: restored.layer,
      filter: restored.filter,
      query: restored.query,
      sort: restored.sort,
    };
  }
  renderAll();
  app.setAttribute('aria-busy', 'false');
  app.dataset.ready = 'true';
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    console.error('[damoe] spot-check view failed', e);
  }
}

main();
