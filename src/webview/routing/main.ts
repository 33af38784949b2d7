/**
 * Entry of the routing panel webview (bundled to dist/webview/routing.js + routing.css).
 *
 * Order matters: acquire the VS Code API, install the message listener, post `ready` (the host sends nothing
 * before it), then restore the previous PanelState (getState) and render it at once; a later `analysis/show`
 * replaces it. The state is saved (setState) whenever the analysis, layer, heatmap value or view changes.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '../shared/base.css';
import './styles.css';

import type { Analysis } from '../../shared/analysis';
import { type PanelState, looksLikeAnalysis, parsePanelState } from '../../shared/protocol/routing';
import { isPackedAnalysis, unpackAnalysis } from '../../shared/protocol/packed-analysis';
import { MessageClient } from './client';
import type { Ctx, View } from './context';
import { afterPaint, el } from '../shared/dom';
import { derive, type Derived } from './model';
import { Store, initialState, type StateKey } from './store';
import { readTheme, watchTheme, type ThemeTokens } from '../shared/theme';
import { ControlsView } from './views/controls';
import { ExpertLoadView } from './views/expertLoad';
import { HeaderView } from './views/header';
import { HeatmapView } from './views/heatmap';
import { HistogramsView } from './views/histograms';
import { ImportanceCheckView } from './views/importanceCheck';
import { KGridView } from './views/kGrid';
import { KRuleView } from './views/kRule';
import { SmallMultiplesView } from './views/smallMultiples';
import { TableView } from './views/table';
import { TokenStripView } from './views/tokenStrip';
import { vscodeApi } from './vscode';
import { markUnderError } from '../shared/error-banner';

function main(): void {
  const api = vscodeApi<PanelState>();
  const client = new MessageClient(api);
  const store = new Store(initialState(), (state) => api.setState(state));

  let derived: Derived | null = null;
  let theme: ThemeTokens = readTheme();
  let lastHover: number | null = null;

  const ctx: Ctx = {
    store,
    client,
    theme: () => theme,
    derived: () => derived,
    hover(tokenIndex) {
      store.update({ hoverToken: tokenIndex });
      if (tokenIndex !== lastHover) {
        lastHover = tokenIndex;
        client.notify('token/hover', { tokenIndex });
      }
    },
    reveal(tokenIndex) {
      client.notify('token/reveal', { tokenIndex });
    },
    selectLayer(layer) {
      const n = derived?.analysis.layers.length ?? 0;
      if (layer < 0 || layer >= n) return;
      store.update({ layerPinned: true });
      if (layer === store.get().layer) return;
      store.update({ layer });
      client.notify('view/layer', { layer });
    },
    setHighlightColorBy(colorBy) {
      store.update({ highlightColorBy: colorBy });
      client.notify('view/highlights', { colorBy });
    },
    errorAction(action) {
      client.notify('error/action', { action });
    },
  };

  // Host notifications.
  client.on('analysis/show', ({ analysis: wire, stale }) => {
    performance.mark('damoe:show');
    let received: unknown = wire;
    const packed = isPackedAnalysis(wire);
    try {
      if (packed) received = unpackAnalysis(wire);
      performance.measure('damoe:unpack', 'damoe:show');
    } catch (e) {
      console.error('[damoe] packed analysis', e);
      received = null;
    }
    if (!looksLikeAnalysis(received, packed)) {
      store.update({ error: 'Received a malformed analysis; nothing to show.', running: false });
      return;
    }
    const analysis = received as Analysis;
    performance.mark('damoe:derive');
    derived = derive(analysis);
    performance.measure('damoe:derive', 'damoe:derive');
    // A new analysis opens on its most dynamic layer, unless the user has picked one.
    const layer = store.get().layerPinned ? Math.min(store.get().layer, Math.max(0, analysis.layers.length - 1)) : derived.mostDynamicLayer;
    store.update({
      analysis,
      stale,
      layer,
      cursorToken: null,
      hoverToken: null,
      error: null,
      errorActions: [],
      notice: null,
      running: false,
      importanceCheck: analysis.importance_check ?? null,
      importanceRunning: false,
      importanceProgress: null,
    });
    client.notify('view/layer', { layer });
    performance.measure('damoe:show', 'damoe:show');
  });
  client.on('analysis/stale', ({ stale }) => store.update({ stale }));
  client.on('analysis/progress', ({ running, message }) =>
    store.update({ running, progressMessage: message ?? null, ...(running ? { error: null } : {}) }),
  );
  client.on('editor/cursorToken', ({ tokenIndex }) => {
    const n = derived?.analysis.tokens.length ?? 0;
    store.update({
      cursorToken: tokenIndex !== null && Number.isInteger(tokenIndex) && tokenIndex >= 0 && tokenIndex < n ? tokenIndex : null,
    });
  });
  client.on('host/error', ({ message, actions }) =>
    store.update({
      error: message,
      errorActions: Array.isArray(actions) ? actions.filter((a) => typeof a === 'string') : [],
      running: false,
    }),
  );
  client.on('importance/progress', ({ done, total }) => {
    if (store.get().importanceRunning && Number.isInteger(done) && Number.isInteger(total))
      store.update({ importanceProgress: { done, total } });
  });
  client.on('highlights/mode', ({ colorBy, enabled }) => store.update({ highlightColorBy: colorBy, highlightsEnabled: enabled !== false }));

  // Handshake: the listener is installed, the host may talk now.
  client.ready();

  // Layout.
  const app = document.getElementById('app') ?? document.body.appendChild(el('div', { attrs: { id: 'app' } }));
  const header = new HeaderView(ctx);
  const controls = new ControlsView(ctx);
  const rule = new KRuleView(ctx);
  const kGrid = new KGridView(ctx);
  const strip = new TokenStripView(ctx);
  const importanceCheck = new ImportanceCheckView(ctx);
  const heatmap = new HeatmapView(ctx);
  const multiples = new SmallMultiplesView(ctx);
  const histograms = new HistogramsView(ctx);
  const load = new ExpertLoadView(ctx);
  const table = new TableView(ctx);
  const empty = el('div', {
    class: 'empty',
    testid: 'empty',
    text: 'Select text in an editor and run “DA-MoE: Analyze Routing” to see how each token is routed.',
  });
  app.append(
    header.root,
    controls.root,
    rule.root,
    empty,
    el('div', { class: 'first-grid' }, [kGrid.root, el('div', { class: 'strip-column' }, [strip.root, importanceCheck.root])]),
    el('div', { class: 'main-grid' }, [heatmap.root, multiples.root]),
    el('div', { class: 'charts-grid' }, [histograms.root, load.root]),
    table.root,
  );
  const dimmed = [
    header.root.querySelector('.header-main'),
    ...[...app.children].filter((c) => c !== header.root && c !== controls.root),
  ].filter((e): e is Element => e !== null);
  const views: [string, View][] = Object.entries({
    header,
    controls,
    rule,
    kGrid,
    strip,
    importanceCheck,
    heatmap,
    multiples,
    histograms,
    load,
    table,
  });
  // The histograms and the expert load (below the heatmap, off screen when an analysis arrives) and the layer
  // thumbnails beside the heatmap are built in the task after the first frame is painted, so that the K grid, the
  // token strip and the heatmap are not kept waiting (bench/paint.ts); they follow one frame later.
  const afterFirstPaint = new Set<View>([multiples, histograms, load]);
  const deferredKeys = new Set<string>();
  const update = (name: string, v: View, changed: ReadonlySet<string>, timed: boolean): void => {
    try {
      if (timed) performance.mark('damoe:update');
      v.update(changed);
      // A new analysis: each view's update is a performance measure (`damoe:update:name`; bench/paint.ts reads them).
      if (timed) performance.measure(`damoe:update:${name}`, 'damoe:update');
    } catch (e) {
      console.error('[damoe] view update failed', e);
    }
  };
  const runDeferred = (): void => {
    const changed = new Set(deferredKeys);
    deferredKeys.clear();
    for (const [name, v] of views) if (afterFirstPaint.has(v)) update(name, v, changed, changed.has('analysis'));
  };
  const render = (changed: ReadonlySet<string>): void => {
    const st = store.get();
    empty.hidden = !!st.analysis;
    // Under an error the previous analysis stays readable but dimmed: it is not the answer to the last request. The
    // header's banners and the controls stay as they are.
    markUnderError(app, dimmed, !!st.error && !!st.analysis);
    const timed = changed.has('analysis');
    // Deferred views get later changes in the same deferred run, in order.
    const defer = changed.has('analysis') || deferredKeys.size > 0;
    if (defer) {
      if (deferredKeys.size === 0) afterPaint(runDeferred);
      for (const k of changed) deferredKeys.add(k);
    }
    for (const [name, v] of views) if (!defer || !afterFirstPaint.has(v)) update(name, v, changed, timed);
  };
  // Restore (before subscribing: one full render below).
  const restored = parsePanelState(api.getState());
  if (restored?.analysis) derived = derive(restored.analysis);
  const all = new Set<StateKey>(Object.keys(initialState()) as StateKey[]);
  if (restored)
    store.update({
      analysis: restored.analysis,
      layer: restored.layer,
      layerPinned: restored.layerPinned === true,
      heatmapValue: restored.heatmapValue,
      view: restored.view,
      stripColorBy: restored.stripColorBy ?? 'importance',
      importanceCheck: restored.analysis?.importance_check ?? null,
    });
  store.subscribe((_s, changed) => render(changed));
  render(all);
  watchTheme((t) => {
    theme = t;
    render(new Set(['theme']));
  });

  app.setAttribute('aria-busy', 'false');
  app.dataset.ready = 'true';
}

main();
