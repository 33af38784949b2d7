/** Layer selector, heatmap value toggle, chart/table toggle and export, built from @vscode-elements controls. */
import type { Ctx, View } from '../context';
import { afterPaint, el } from '../../shared/dom';
import type { HeatmapValue, ViewMode } from '../store';
import type { HighlightColorBy } from '../../../shared/protocol/routing';

/** vscode-single-select: its options as data (label, value, …), not as children. */
interface SelectElement extends ValueElement {
  options: { label: string; value: string; description: string; selected: boolean; disabled: boolean }[];
}

interface ValueElement extends HTMLElement {
  value: string;
  checked?: boolean;
}

export function radioGroup(
  name: string,
  label: string,
  testid: string,
  options: [string, string][],
  onChange: (v: string) => void,
): {
  root: HTMLElement;
  radios: ValueElement[];
} {
  const radios = options.map(
    ([value, text]) => el('vscode-radio', { testid: `${testid}-${value}`, attrs: { name, value, label: text } }) as unknown as ValueElement,
  );
  const group = el('vscode-radio-group', { testid, attrs: { 'aria-label': label } }, radios);
  group.addEventListener('change', (e) => {
    const t = e.target as ValueElement | null;
    if (t && t.tagName === 'VSCODE-RADIO' && t.checked) onChange(t.value);
  });
  const root = el('div', { class: 'control' }, [
    el('span', { class: 'control-label', text: label, attrs: { 'aria-hidden': 'true' } }),
    group,
  ]);
  return { root, radios };
}

export class ControlsView implements View {
  readonly root = el('div', { class: 'controls', testid: 'controls', attrs: { role: 'toolbar', 'aria-label': 'Routing view options' } });
  private readonly layerSelect = el('vscode-single-select', {
    testid: 'layer-select',
    attrs: { 'aria-label': 'Layer' },
  }) as unknown as SelectElement;
  private readonly valueRadios: ValueElement[];
  private readonly viewRadios: ValueElement[];
  private readonly highlightRadios: ValueElement[];
  private readonly highlightControl: HTMLElement;
  private readonly valueControl: HTMLElement;
  private readonly exportButton = el('vscode-button', {
    testid: 'export',
    text: 'Export JSON',
    attrs: { secondary: true, title: 'Save this analysis as JSON' },
  });

  /** Counts new analyses: options scheduled for one are dropped when the next has arrived. */
  private selectGeneration = 0;

  constructor(private readonly ctx: Ctx) {
    this.layerSelect.addEventListener('change', () => {
      const l = Number(this.layerSelect.value);
      if (Number.isInteger(l)) ctx.selectLayer(l);
    });
    const value = radioGroup(
      'heatmap-value',
      'Heatmap',
      'heatmap-value',
      [
        ['gateK', 'Gate × K (compute)'],
        ['gates', 'Gate'],
        ['routerProbs', 'Router probability'],
      ],
      (v) => ctx.store.update({ heatmapValue: v as HeatmapValue }),
    );
    const view = radioGroup(
      'view-mode',
      'View',
      'view-mode',
      [
        ['chart', 'Charts'],
        ['table', 'Table'],
      ],
      (v) => ctx.store.update({ view: v as ViewMode }),
    );
    const highlights = radioGroup(
      'highlight-color',
      'Editor',
      'highlight-color',
      [
        ['importance', 'Importance'],
        ['k', 'K'],
        ['expert', 'Top expert'],
      ],
      (v) => ctx.setHighlightColorBy(v as HighlightColorBy),
    );
    highlights.root.title = "What the editor's token highlights show, in the selected layer";
    this.valueRadios = value.radios;
    this.viewRadios = view.radios;
    this.highlightRadios = highlights.radios;
    this.highlightControl = highlights.root;
    this.valueControl = value.root;
    this.exportButton.addEventListener('click', () => void this.export());
    this.root.append(
      el('label', { class: 'control' }, [el('span', { class: 'control-label', text: 'Layer' }), this.layerSelect]),
      value.root,
      view.root,
      highlights.root,
      el('span', { class: 'spacer' }),
      this.exportButton,
    );
  }

  /** The layer select's options (this analysis's mean K per layer) and value. */
  private setLayerOptions(): void {
    const s = this.ctx.store.get();
    const n = s.analysis?.layers.length ?? 0;
    // Set anew for every analysis: the option texts carry this analysis's mean K (a kept option would show the
    // last one's). Through the `options` property, not <vscode-option> children: on a slot change the element
    // reads every option's innerText, a forced layout of the whole panel.
    const dynamic = this.ctx.derived()?.mostDynamicLayer ?? -1;
    const fixed = s.analysis?.model.routerKind !== 'da-moe';
    const options = [];
    for (let l = 0; l < n; l++) {
      const mk = s.analysis!.stats.meanK.perLayer[l];
      const label = `Layer ${l}${mk !== undefined ? ` (mean K ${mk.toFixed(2)})` : ''}${l === dynamic && !fixed && n > 1 ? ' · most dynamic' : ''}`;
      options.push({ label, value: String(l), description: '', selected: l === s.layer, disabled: false });
    }
    this.layerSelect.options = options;
    const v = String(s.layer);
    this.layerSelect.value = v;
    this.layerSelect.style.visibility = '';
    // The element takes its options after this task: set the value again once it has them.
    setTimeout(() => (this.layerSelect.value = String(this.ctx.store.get().layer)), 0);
  }

  private async export(): Promise<void> {
    if (!this.ctx.store.get().analysis) return;
    try {
      const path = await this.ctx.client.request('analysis/export', { format: 'json' }, 120_000);
      this.ctx.store.update({ notice: typeof path === 'string' ? `Saved to ${path}` : null, error: null });
    } catch (e) {
      this.ctx.store.update({ error: `Export failed: ${(e as Error).message}` });
    }
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    if (changed.has('analysis')) {
      this.root.hidden = !s.analysis;
      // A new analysis's options and value are set in the task after its first paint: every render of the select
      // (a Lit microtask) reads its getBoundingClientRect, and the one that takes new options forced a layout of the
      // whole panel before the first frame, which then laid it out again (about 20 ms of a fresh panel's first paint,
      // bench/paint.ts). The select shows its options one frame after the charts.
      // Until then it is hidden rather than showing the previous analysis's layer and mean K (a style change, no
      // layout: the frame lays the panel out once either way).
      this.layerSelect.style.visibility = 'hidden';
      const generation = ++this.selectGeneration;
      afterPaint(() => {
        if (generation === this.selectGeneration) this.setLayerOptions();
      });
    } else if (changed.has('layer')) this.layerSelect.value = String(s.layer);
    if (changed.has('analysis') || changed.has('layer')) this.layerSelect.dataset.layer = String(s.layer);
    if (changed.has('highlightColorBy') || changed.has('analysis'))
      for (const r of this.highlightRadios) r.checked = r.value === s.highlightColorBy;
    if (changed.has('highlightsEnabled')) this.highlightControl.hidden = !s.highlightsEnabled;
    // A trace of expert ids has no gates and no router probabilities: offering them would draw the same picture
    // three times under three names.
    if (changed.has('analysis')) this.valueControl.hidden = s.analysis?.model.gatesAvailable === false;
    if (changed.has('heatmapValue') || changed.has('analysis')) for (const r of this.valueRadios) r.checked = r.value === s.heatmapValue;
    if (changed.has('view') || changed.has('analysis')) for (const r of this.viewRadios) r.checked = r.value === s.view;
  }
}
