/**
 * The report's sections (header and banners, accuracy + confusion matrix, K histograms, expert load, co-activation,
 * routing per label, important tokens), built from the routing panel's components: the SVG charts (kHistogramSvg,
 * loadSvg, figure), the DOM helpers (text only through text nodes) and the viridis palette.
 */
import type {
  SpotCheckExpertLoad,
  SpotCheckLanguageModel,
  SpotCheckReport,
  SpotCheckRoutingGroup,
  TokenImportanceEntry,
} from '../../shared/spotcheck-report';
import { perplexityBasis, perplexityText } from '../../shared/lm-report-text';
import type { SpotCheckExportFormat, SpotCheckLinking } from '../../shared/protocol/spotcheck';
import { formatLayerCheck, importanceCheckSummary } from '../../shared/importance-check';
import { clear, displayToken, el, fmtMs, fmtNum, fmtPct, svg } from '../shared/dom';
import { colourAt, gradientCss, textOn } from '../../shared/palette';
import { conditionalCoActivation, formatPercentWithCi, shareDifferences, wilsonInterval } from '../../shared/stats';
import { placementBrief, providerDetails, providerFields } from '../../shared/provider-text';
import { figure, kHistogramSvg, loadSvg } from '../shared/charts';

export interface SectionCtx {
  report(): SpotCheckReport | null;
  linking(): SpotCheckLinking;
  layer(): number;
  selectLayer(layer: number): void;
  exportReport(format: SpotCheckExportFormat): void;
}

const base = (p: string): string => p.split(/[\\/]/).pop() ?? p;

export interface Section {
  root: HTMLElement;
  body: HTMLElement;
  /** Empties the body and hides the section when there is no report; returns the report to draw, if any. */
  reset(report: SpotCheckReport | null): SpotCheckReport | null;
}

export function section(testid: string, title: string, extra: (Node | null)[] = []): Section {
  const id = `${testid}-title`;
  const root = el('section', { class: 'section', testid, attrs: { 'aria-labelledby': id } });
  const body = el('div', { class: 'section-body' });
  root.append(el('div', { class: 'section-head' }, [el('h2', { class: 'section-title', text: title, attrs: { id } }), ...extra]), body);
  return {
    root,
    body,
    reset: (report) => {
      clear(body);
      root.hidden = !report;
      return report;
    },
  };
}

// ---- header ----------------------------------------------------------------------------------------------------

export class HeaderSection {
  readonly root = el('header', { class: 'header sc-header', testid: 'spotcheck-header' });
  private readonly facts = el('div', { class: 'facts' });
  private readonly accuracy = el('div', { class: 'sc-accuracy', testid: 'spotcheck-accuracy' });
  readonly cancelled = el('div', {
    class: 'banner banner-warning',
    testid: 'spotcheck-cancelled',
    attrs: { role: 'status', hidden: true },
  });
  readonly progress = el('div', {
    class: 'banner banner-progress',
    testid: 'spotcheck-progress',
    attrs: { role: 'status', 'aria-live': 'polite', hidden: true },
  });
  readonly error = el('div', { class: 'banner banner-error', testid: 'spotcheck-error', attrs: { role: 'alert', hidden: true } });
  readonly notice = el('div', { class: 'banner banner-info', testid: 'spotcheck-notice', attrs: { role: 'status', hidden: true } });
  private readonly notes = el('div', { class: 'banners' });
  private readonly exportJson = el('vscode-button', {
    testid: 'spotcheck-export-json',
    text: 'Export JSON',
    attrs: { secondary: true, title: 'Save the report as JSON' },
  });
  private readonly exportHtml = el('vscode-button', {
    testid: 'spotcheck-export-html',
    text: 'Export HTML',
    attrs: { secondary: true, title: 'Save the report as one self-contained HTML file' },
  });
  private readonly exportParquet = el('vscode-button', {
    testid: 'spotcheck-export-parquet',
    text: 'Export routing',
    attrs: { secondary: true, title: 'Save the per-token routing of this run as Parquet: one row per example, token and layer' },
  });

  constructor(private readonly ctx: SectionCtx) {
    this.exportJson.addEventListener('click', () => ctx.exportReport('json'));
    this.exportHtml.addEventListener('click', () => ctx.exportReport('html'));
    this.exportParquet.addEventListener('click', () => ctx.exportReport('parquet'));
    this.root.append(
      el('div', { class: 'header-main' }, [
        this.facts,
        el('div', { class: 'sc-side' }, [
          this.accuracy,
          el('div', { class: 'sc-export' }, [this.exportJson, this.exportHtml, this.exportParquet]),
        ]),
      ]),
      el('div', { class: 'banners' }, [this.cancelled, this.progress, this.error, this.notice]),
      this.notes,
    );
  }

  /** What the header says about the report (dimmed under an error); not its banners or export buttons. */
  get reportParts(): Element[] {
    return [this.facts, this.accuracy, this.notes];
  }

  render(): void {
    const r = this.ctx.report();
    clear(this.facts);
    clear(this.accuracy);
    clear(this.notes);
    this.exportJson.hidden = this.exportHtml.hidden = this.exportParquet.hidden = !r;
    this.accuracy.hidden = !r;
    if (!r) {
      this.facts.append(
        el('h1', { class: 'model-name', text: 'DA-MoE spot-check' }),
        el('p', { class: 'muted', text: 'No report yet. Run “DA-MoE: Spot-Check Dataset” on a TSV, CSV, JSONL or text file.' }),
      );
      this.cancelled.hidden = true;
      return;
    }
    const fact = (label: string, value: string, testid?: string, title?: string): HTMLElement =>
      el('div', { class: 'fact', testid, attrs: { title } }, [
        el('span', { class: 'fact-label', text: label }),
        el('span', { class: 'fact-value', text: value }),
      ]);
    const ep = r.execution_provider;
    this.facts.append(
      el('div', { class: 'title-row' }, [
        el('h1', { class: 'model-name', testid: 'spotcheck-dataset', text: base(r.dataset.path), attrs: { title: r.dataset.path } }),
        el('span', { class: 'chip', text: r.dataset.format.toUpperCase() }),
        el('span', { class: 'chip', testid: 'spotcheck-model', text: r.model.name, attrs: { title: r.model.path } }),
      ]),
      el('div', { class: 'fact-row' }, [
        fact(
          'examples',
          `${r.n} of ${r.sample.size}`,
          'spotcheck-n',
          `${r.dataset.records} usable rows in the file; sample ${r.sample.requested === 'all' ? 'all' : r.sample.requested}${r.sample.stratified ? ', stratified by label' : ''}`,
        ),
        fact('seed', String(r.sample.seed)),
        fact(
          'columns',
          [r.dataset.text_column, r.dataset.pair_column, r.dataset.label_column].filter((c) => c !== null).join(' · '),
          undefined,
          `text: ${r.dataset.text_column}\npair: ${r.dataset.pair_column ?? 'none'}\nlabel: ${r.dataset.label_column ?? 'none'}`,
        ),
        ep
          ? fact(
              'provider',
              ep.placement ? `${ep.used} · ${placementBrief(ep.placement)}` : ep.used,
              'spotcheck-provider',
              providerDetails(providerFields(ep)).join('\n'),
            )
          : fact('source', 'routing traces', 'spotcheck-provider', 'recorded by a serving engine (docs/routing-traces.md)'),
        fact('throughput', `${fmtNum(r.examples_per_second, 1)} ex/s`, undefined, `${fmtMs(r.elapsed_ms)} in all`),
        fact('mean K', fmtNum(r.mean_k.overall), 'spotcheck-mean-k', `${r.tokens} tokens (special tokens included)`),
        // Against the shipped fixed-K baseline (top-2) first, then top-K max.
        r.flops.fixed_top_2 > 0
          ? fact(
              'expert compute',
              `${fmtNum((100 * r.flops.spent) / r.flops.fixed_top_2, 1)}% of top-2` +
                (r.model.k_max !== 2 && r.flops.fixed_top_k_max > 0
                  ? `, ${fmtNum((100 * r.flops.spent) / r.flops.fixed_top_k_max, 1)}% of top-${r.model.k_max}`
                  : ''),
              'spotcheck-compute',
              `${r.flops.spent.toLocaleString('en')} ${r.flops.unit === 'flops' ? 'FLOP' : 'expert evaluations'} spent; fixed top-2 ${r.flops.fixed_top_2.toLocaleString('en')}, fixed top-${r.model.k_max} ${r.flops.fixed_top_k_max.toLocaleString('en')}`,
            )
          : null,
      ]),
    );
    if (r.language_model) this.perplexityBox(r.language_model, r.n);
    else this.accuracyBox(r);
    this.cancelled.hidden = !r.cancelled && !r.partial;
    this.cancelled.textContent = r.cancelled
      ? `Cancelled: this report covers the ${r.n} of ${r.sample.size} sampled examples that finished before the run was stopped.`
      : r.partial
        ? `Partial: this report covers ${r.n} of ${r.sample.size} sampled examples; ${r.partial_reason ?? ''}.`
        : '';
    const note = (text: string | null, testid: string, cls = 'banner-info'): void => {
      if (text) this.notes.append(el('div', { class: `banner ${cls}`, testid, text }));
    };
    // A causal LM's labels cannot match (it has no classes): its note says what they are used for, as information.
    const labelsMismatch = r.label_mapping.strategy === 'none' && !r.language_model;
    note(
      labelsMismatch ? `Labels do not match the model's: ${r.label_mapping.note ?? ''}` : r.label_mapping.note,
      'spotcheck-label-note',
      labelsMismatch ? 'banner-warning' : 'banner-info',
    );
    note(r.sample.note, 'spotcheck-sample-note');
    if (r.worker_restarts > 0) {
      note(
        `${r.worker_restarts} model worker restart${r.worker_restarts === 1 ? '' : 's'}: a worker crashed or stopped responding, and the examples it was running were run again on a restarted worker.`,
        'spotcheck-worker-restarts',
        'banner-warning',
      );
    }
    if (r.skipped.count > 0) {
      const d = el('details', { class: 'banner banner-info', testid: 'spotcheck-skipped' }, [
        el('summary', {
          text: `${r.skipped.count} row${r.skipped.count === 1 ? '' : 's'} skipped (${r.skipped.reader} unreadable, ${r.skipped.run} the model could not take)`,
        }),
        el(
          'ul',
          {},
          r.skipped.first.map((s) => el('li', { text: `line ${s.line}: ${s.reason}` })),
        ),
      ]);
      this.notes.append(d);
    }
    note(
      this.ctx.linking().note
        ? this.ctx.linking().canOpen
          ? `Clicking an example opens its line and analyses it; ${this.ctx.linking().note}`
          : this.ctx.linking().note
        : null,
      'spotcheck-linking-note',
    );
  }

  private accuracyBox(r: SpotCheckReport): void {
    this.accuracy.title = '';
    delete this.accuracy.dataset.perplexity;
    this.accuracy.dataset.value = r.accuracy === null ? '' : String(r.accuracy);
    // Reports saved before accuracy_ci95 get it computed here (the same Wilson interval).
    const ci = r.accuracy === null || r.correct === null ? null : (r.accuracy_ci95 ?? wilsonInterval(r.correct, r.labelled));
    this.accuracy.append(
      el('span', { class: 'fact-label', text: 'accuracy' }),
      el('span', { class: 'sc-accuracy-value', text: r.accuracy === null ? 'n/a' : fmtPct(r.accuracy) }),
      ...(ci
        ? [
            el('span', {
              class: 'sc-accuracy-ci small',
              testid: 'spotcheck-accuracy-ci',
              text: `95% CI [${(100 * ci[0]).toFixed(1)}, ${(100 * ci[1]).toFixed(1)}]`,
              attrs: { title: 'Wilson score interval of the accuracy over the labelled examples' },
            }),
          ]
        : []),
      el('span', {
        class: 'muted small',
        text:
          r.accuracy === null
            ? r.labelled === 0
              ? 'no labels'
              : 'labels do not match the model'
            : `${r.correct} of ${r.labelled} labelled`,
      }),
    );
  }

  /** A causal LM's headline in the accuracy's place: the perplexity, and what it is computed over in the tooltip. */
  private perplexityBox(lm: SpotCheckLanguageModel, texts: number): void {
    this.accuracy.dataset.value = '';
    this.accuracy.dataset.perplexity = String(lm.perplexity);
    this.accuracy.title = `Perplexity = ${perplexityBasis(lm, texts)}.`;
    this.accuracy.append(
      el('span', { class: 'fact-label', text: 'perplexity' }),
      el('span', { class: 'sc-accuracy-value', testid: 'spotcheck-perplexity', text: perplexityText(lm.perplexity) }),
      el('span', {
        class: 'muted small',
        text: `over ${lm.scored_tokens.toLocaleString('en')} tokens · mean loss ${lm.mean_loss.toFixed(3)} nats`,
      }),
    );
  }
}

// ---- accuracy: confusion matrix and predictions ----------------------------------------------------------------

export class ConfusionSection {
  private readonly s = section('spotcheck-confusion-section', 'Confusion matrix');
  readonly root = this.s.root;

  constructor(private readonly ctx: SectionCtx) {}

  render(): void {
    const r = this.s.reset(this.ctx.report());
    if (!r) return;
    // A causal LM predicts no class: no confusion matrix and no predictions (LanguageModelSection instead).
    if (r.language_model) {
      this.root.hidden = true;
      return;
    }
    const c = r.confusion;
    if (!c) {
      this.s.body.append(
        el('p', {
          class: 'muted',
          testid: 'spotcheck-confusion',
          text: 'No labels in the sample: no confusion matrix.',
          attrs: { 'data-rows': 0 },
        }),
      );
    } else {
      const table = el('table', {
        class: 'sc-matrix',
        testid: 'spotcheck-confusion',
        attrs: { 'data-rows-are': c.rows_are, 'data-matrix': JSON.stringify(c.matrix) },
      });
      table.append(
        el('caption', {
          class: 'muted small',
          text: `rows: ${c.rows_are === 'model-labels' ? 'gold label' : 'dataset label (does not map to the model)'} · columns: predicted`,
        }),
      );
      table.append(
        el('thead', {}, [
          el('tr', {}, [
            el('th', { attrs: { scope: 'col' }, text: '' }),
            ...c.columns.map((col) => el('th', { attrs: { scope: 'col' }, text: col })),
            el('th', { attrs: { scope: 'col' }, class: 'muted', text: 'total' }),
          ]),
        ]),
      );
      const tbody = el('tbody');
      c.matrix.forEach((row, i) => {
        const total = row.reduce((a, b) => a + b, 0);
        tbody.append(
          el('tr', {}, [
            el('th', { attrs: { scope: 'row' }, text: c.rows[i] }),
            ...row.map((n, j) => {
              const t = total > 0 ? n / total : 0;
              const diag = c.rows_are === 'model-labels' && c.rows[i] === c.columns[j];
              const td = el('td', {
                class: `num cell${diag ? ' diag' : ''}`,
                text: String(n),
                attrs: {
                  'data-row': i,
                  'data-col': j,
                  'data-count': n,
                  title: `${c.rows[i]} → ${c.columns[j]}: ${n} (${fmtPct(t)} of the row)`,
                },
              });
              td.style.backgroundColor = colourAt(t);
              td.style.color = textOn(t);
              return td;
            }),
            el('td', { class: 'num muted', text: String(total) }),
          ]),
        );
      });
      table.append(tbody);
      this.s.body.append(table);
    }
    const preds = el('div', { class: 'sc-preds', testid: 'spotcheck-predicted' });
    const max = Math.max(1, ...r.predicted_counts.map((p) => p.count));
    for (const p of r.predicted_counts) {
      const fill = el('div', { class: 'pbar-fill predicted' });
      fill.style.width = `${(100 * p.count) / max}%`;
      preds.append(
        el('span', { class: 'pbar-label', text: p.label }),
        el('div', { class: 'pbar' }, [fill]),
        el('span', { class: 'pbar-value', text: String(p.count) }),
      );
    }
    this.s.body.append(el('h3', { class: 'sub-title', text: 'Predicted' }), preds);
  }
}

// ---- K histograms ----------------------------------------------------------------------------------------------

export class KHistogramSection {
  private readonly s = section('spotcheck-k-histograms', 'Dynamic K per layer', [
    el('div', { class: 'legend', attrs: { 'aria-hidden': 'true' } }, [
      el('span', { class: 'swatch swatch-bar' }),
      el('span', { class: 'muted', text: 'tokens' }),
      el('span', { class: 'swatch-line ref-top' }),
      el('span', { class: 'muted', text: 'top-1 / top-2' }),
      el('span', { class: 'swatch-line ref-mean' }),
      el('span', { class: 'muted', text: 'mean K' }),
    ]),
  ]);
  readonly root = this.s.root;

  constructor(private readonly ctx: SectionCtx) {}

  render(): void {
    const r = this.s.reset(this.ctx.report());
    if (!r) return;
    const h = r.k_histogram;
    const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
    const grid = el('div', { class: 'sc-hist-grid' });
    grid.append(
      figure(
        'spotcheck-k-histogram-overall',
        [el('strong', { text: 'All layers' }), ` · mean K ${fmtNum(r.mean_k.overall)}`],
        kHistogramSvg({
          counts: h.overall,
          meanK: r.mean_k.overall,
          width: 250,
          height: 150,
          compact: false,
          label: 'All layers K histogram',
        }),
        { 'data-counts': h.overall.join(','), 'data-total': sum(h.overall), 'data-layers': h.per_layer.length },
      ),
    );
    h.per_layer.forEach((counts, l) => {
      const meanK = r.mean_k.per_layer[l] ?? NaN;
      const f = figure(
        'spotcheck-k-histogram',
        [el('strong', { text: `Layer ${l}` }), ` · mean K ${fmtNum(meanK)}`],
        kHistogramSvg({ counts, meanK, width: 250, height: 150, compact: false, label: `Layer ${l} K histogram` }),
        { 'data-layer': l, 'data-counts': counts.join(','), 'data-total': sum(counts) },
      );
      f.classList.add('clickable');
      f.classList.toggle('selected', l === this.ctx.layer());
      f.addEventListener('click', () => this.ctx.selectLayer(l));
      grid.append(f);
    });
    this.s.body.append(grid);
  }
}

// ---- expert load -----------------------------------------------------------------------------------------------

function loadFigure(
  load: SpotCheckExpertLoad,
  maxTokens: number,
  width: number,
  height: number,
  testid: string,
  caption: (Node | string)[],
): HTMLElement {
  const chart = loadSvg({
    tokens: load.tokens,
    utilisation: load.utilisation,
    gateMass: load.gate_mass,
    dead: load.dead,
    maxTokens,
    width,
    height,
    label: `Layer ${load.layer} expert load`,
  });
  return figure(testid, caption, chart, {
    'data-layer': load.layer,
    'data-dead': load.dead.join(','),
    'data-tokens': load.tokens.join(','),
  });
}

export class ExpertLoadSection {
  private readonly s = section('spotcheck-expert-load', 'Expert load and utilisation', [
    el('div', { class: 'legend', attrs: { 'aria-hidden': 'true' } }, [
      el('span', { class: 'swatch swatch-load' }),
      el('span', { class: 'muted', text: 'tokens routed' }),
      el('span', { class: 'swatch-line ref-balance' }),
      el('span', { class: 'muted', text: 'balanced' }),
      el('span', { class: 'dead-mark', text: '✕' }),
      el('span', { class: 'muted', text: 'dead expert' }),
    ]),
  ]);
  readonly root = this.s.root;

  constructor(private readonly ctx: SectionCtx) {}

  render(): void {
    const r = this.s.reset(this.ctx.report());
    if (!r) return;
    const maxTokens = r.expert_load.reduce((m, l) => Math.max(m, ...l.tokens), 0);
    const grid = el('div', { class: 'load-grid' });
    for (const load of r.expert_load) {
      const util = load.utilisation;
      const f = loadFigure(load, maxTokens, 220, 72, 'spotcheck-expert-load-layer', [
        el('strong', { text: `L${load.layer}` }),
        ` cv ${fmtNum(load.cv)} · utilisation ${fmtNum(util.reduce((m, x) => Math.min(m, x), Infinity))}–${fmtNum(util.reduce((m, x) => Math.max(m, x), -Infinity))}×`,
        load.dead.length ? el('span', { class: 'dead-mark', text: ` · dead ${load.dead.map((e) => `E${e}`).join(' ')}` }) : '',
      ]);
      f.classList.add('clickable');
      f.classList.toggle('selected', load.layer === this.ctx.layer());
      f.addEventListener('click', () => this.ctx.selectLayer(load.layer));
      grid.append(f);
    }
    this.s.body.append(grid);
  }
}

// ---- co-activation ---------------------------------------------------------------------------------------------

export class CoActivationSection {
  private readonly select = el('vscode-single-select', {
    testid: 'spotcheck-layer-select',
    attrs: { 'aria-label': 'Layer' },
  }) as HTMLElement & { value: string };
  private readonly s = section('spotcheck-coactivation-section', 'Co-activation', [
    el('label', { class: 'control' }, [el('span', { class: 'control-label', text: 'Layer' }), this.select]),
  ]);
  readonly root = this.s.root;
  private layers = -1;

  constructor(private readonly ctx: SectionCtx) {
    this.select.addEventListener('change', () => {
      const l = Number(this.select.value);
      if (Number.isInteger(l)) ctx.selectLayer(l);
    });
  }

  render(): void {
    const r = this.s.reset(this.ctx.report());
    if (!r) return;
    const L = r.co_activation.length;
    if (L !== this.layers) {
      this.layers = L;
      clear(this.select);
      for (let l = 0; l < L; l++)
        this.select.append(
          el('vscode-option', { attrs: { value: String(l) }, text: `Layer ${l} (mean K ${fmtNum(r.mean_k.per_layer[l] ?? NaN)})` }),
        );
    }
    const layer = Math.min(this.ctx.layer(), Math.max(0, L - 1));
    this.select.value = String(layer);
    const m = r.co_activation[layer] ?? [];
    const p = conditionalCoActivation(m);
    const E = m.length;
    let max = 0;
    for (const row of p) for (const v of row) if (v !== null) max = Math.max(max, v);
    const cell = Math.max(10, Math.min(26, Math.floor(360 / Math.max(1, E))));
    const left = 44;
    const top = 36;
    const w = left + E * cell + 4;
    const h = top + E * cell + 4;
    const root = svg('svg', {
      class: 'chart coact',
      width: w,
      height: h,
      viewBox: `0 0 ${w} ${h}`,
      role: 'img',
      'aria-label': `Layer ${layer} co-activation of ${E} experts: P(expert j also chosen | expert i chosen)`,
    });
    root.append(svg('text', { class: 'axis-title', x: left + (E * cell) / 2, y: 11, 'text-anchor': 'middle' }, ['expert j (also chosen)']));
    const mid = top + (E * cell) / 2;
    root.append(
      svg('text', { class: 'axis-title', x: 11, y: mid, 'text-anchor': 'middle', transform: `rotate(-90 11 ${mid})` }, [
        'expert i (chosen)',
      ]),
    );
    for (let i = 0; i < E; i++) {
      root.append(svg('text', { class: 'tick', x: left - 4, y: top + i * cell + cell / 2 + 3, 'text-anchor': 'end' }, [String(i)]));
      root.append(svg('text', { class: 'tick', x: left + i * cell + cell / 2, y: top - 6, 'text-anchor': 'middle' }, [String(i)]));
      for (let j = 0; j < E; j++) {
        const v = p[i][j];
        const rect = svg('rect', {
          class: v === null ? 'coact-cell diag' : 'coact-cell',
          x: left + j * cell,
          y: top + i * cell,
          width: cell - 1,
          height: cell - 1,
          'data-i': i,
          'data-j': j,
          'data-count': m[i][j],
          'data-p': v === null ? '' : v.toFixed(6),
        });
        if (v !== null) rect.style.fill = colourAt(max > 0 ? v / max : 0);
        rect.append(
          svg('title', {}, [
            i === j
              ? `expert ${i}: ${m[i][i]} tokens routed to it (the diagonal, always 1, is left out)`
              : v === null
                ? `expert ${i} got no token`
                : `P(expert ${j} | expert ${i}) = ${fmtNum(v, 3)}: ${m[i][j]} of expert ${i}'s ${m[i][i]} tokens`,
          ]),
        );
        root.append(rect);
      }
    }
    const legend = el('div', { class: 'legend' }, [
      el('span', { class: 'muted', text: '0' }),
      el('span', { class: 'legend-ramp' }),
      el('span', { class: 'muted', text: fmtNum(max) }),
      el('span', { class: 'muted', text: "P(j | i): share of expert i's tokens also routed to j; diagonal left out" }),
    ]);
    (legend.children[1] as HTMLElement).style.backgroundImage = gradientCss();
    const f = figure('spotcheck-coactivation', [legend], root, { 'data-layer': layer, 'data-experts': E, 'data-max': max.toFixed(6) });
    this.s.body.append(f);
  }
}

// ---- expert specialisation -------------------------------------------------------------------------------------

/** The selected layer's experts with the tokens each receives most over chance (lift), as a table. */
export class SpecialisationSection {
  private readonly s = section('spotcheck-specialisation', 'Expert specialisation');
  readonly root = this.s.root;

  constructor(private readonly ctx: SectionCtx) {}

  render(): void {
    const r = this.s.reset(this.ctx.report());
    if (!r) return;
    const sp = r.expert_specialisation;
    if (!sp || sp.length === 0) {
      this.s.body.append(el('p', { class: 'muted', text: 'Not in this report (made before expert specialisation was computed).' }));
      return;
    }
    const layer = Math.min(this.ctx.layer(), sp.length - 1);
    const min = r.expert_specialisation_min_count ?? 0;
    this.s.body.append(
      el('p', {
        class: 'muted small',
        text:
          `Layer ${layer} (the layer chosen under Co-activation). Lift = the token's share of the expert's assignments ÷ its share ` +
          `of all tokens (×1 = chance), among tokens the expert received at least ${min} times; special tokens excluded.`,
      }),
    );
    const table = el('table', {
      class: 'routing-table sc-specialisation',
      testid: 'spotcheck-specialisation-table',
      attrs: { 'data-layer': String(layer) },
    });
    table.append(
      el('thead', {}, [
        el(
          'tr',
          {},
          ['expert', 'top tokens by lift (count)'].map((t) => el('th', { attrs: { scope: 'col' }, text: t })),
        ),
      ]),
    );
    const tbody = el('tbody');
    for (const x of sp[layer]) {
      const cell = el('td', { class: 'sc-spec-tokens' });
      if (x.tokens.length === 0) cell.append(el('span', { class: 'muted', text: '–' }));
      x.tokens.forEach((t, i) => {
        if (i > 0) cell.append(' · ');
        cell.append(
          el(
            'span',
            {
              class: 'sc-spec-token',
              attrs: { 'data-token': t.token, 'data-lift': t.lift.toFixed(4), title: `${t.count} times; lift ${fmtNum(t.lift, 3)}` },
            },
            [
              el('code', { text: displayToken(t.token) }),
              el('span', { class: 'sc-lift', text: ` ×${fmtNum(t.lift, 1)}` }),
              el('span', { class: 'muted', text: ` (${t.count})` }),
            ],
          ),
        );
      });
      tbody.append(
        el('tr', { testid: 'spotcheck-specialisation-row', attrs: { 'data-expert': String(x.expert) } }, [
          el('th', { attrs: { scope: 'row' }, text: String(x.expert) }),
          cell,
        ]),
      );
    }
    table.append(tbody);
    this.s.body.append(table);
  }
}

// ---- routing per label ---------------------------------------------------------------------------------------

/**
 * A group's expert load against the whole sample's, one bar per expert: up where the group sends a larger share of
 * its assignments to the expert than the sample does, down where smaller; `scale` is the largest |difference| drawn
 * in the table, so the groups' strips compare.
 */
function loadShiftSvg(diffs: readonly number[], scale: number, label: string, width = 160, height = 40): SVGSVGElement {
  const E = Math.max(1, diffs.length);
  const pad = 4;
  const mid = height / 2;
  const half = mid - pad;
  const slot = (width - 2 * pad) / E;
  const bw = Math.max(1, slot * 0.74);
  const root = svg('svg', {
    class: 'chart load-shift',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `${label}: ${diffs.map((d, e) => `expert ${e} ${fmtPoints(d)}`).join(', ')}`,
  });
  root.append(svg('line', { class: 'axis', x1: pad, x2: width - pad, y1: mid + 0.5, y2: mid + 0.5 }));
  diffs.forEach((d, e) => {
    const h = scale > 0 ? (Math.abs(d) / scale) * half : 0;
    const bar = svg('rect', {
      class: d >= 0 ? 'shift-over' : 'shift-under',
      x: pad + e * slot + (slot - bw) / 2,
      y: d >= 0 ? mid - h : mid + 1,
      width: bw,
      height: Math.max(h, 0.5),
      'data-expert': e,
    });
    bar.append(svg('title', {}, [`expert ${e}: ${fmtPoints(d)} of the assignments against the whole sample`]));
    root.append(bar);
  });
  return root;
}

/** A wide table in a narrow panel scrolls sideways inside its own box instead of being cut at the panel's edge. */
const scroller = (table: HTMLElement): HTMLElement => el('div', { class: 'table-scroll sc-groups-scroll' }, [table]);

/** A share difference in percentage points: "+8.1 pts". */
const fmtPoints = (d: number): string => `${d >= 0 ? '+' : '−'}${Math.abs(100 * d).toFixed(1)} pts`;

export class LabelRoutingSection {
  private readonly s = section('spotcheck-by-label', 'Routing per label');
  readonly root = this.s.root;

  constructor(private readonly ctx: SectionCtx) {}

  private table(
    groups: SpotCheckRoutingGroup[],
    what: string,
    layer: number,
    maxTokens: number,
    sample: SpotCheckExpertLoad | undefined,
    column = 'label',
  ): HTMLElement {
    const table = el('table', { class: 'routing-table sc-groups', attrs: { 'data-layer': String(layer) } });
    table.append(el('caption', { text: what }));
    // Reports saved before per-group accuracy and load shift have neither: their columns are left out.
    const withAccuracy = groups.some((g) => g.accuracy !== undefined && g.accuracy !== null);
    const withShift = sample !== undefined && groups.some((g) => g.expert_load_shift !== undefined);
    const diffs = groups.map((g) => (sample && g.expert_load[layer] ? shareDifferences(g.expert_load[layer].tokens, sample.tokens) : []));
    const scale = diffs.reduce((m, d) => Math.max(m, ...d.map(Math.abs)), 0);
    const heads = [
      column,
      'examples',
      'tokens',
      ...(withAccuracy ? ['accuracy (95% CI)'] : []),
      'mean K',
      'mean K per layer',
      `expert load (layer ${layer})`,
      ...(withShift ? [`load vs the sample (layer ${layer})`] : []),
    ];
    table.append(
      el('thead', {}, [
        el(
          'tr',
          {},
          heads.map((t) => el('th', { attrs: { scope: 'col' }, text: t })),
        ),
      ]),
    );
    const tbody = el('tbody');
    groups.forEach((g, gi) => {
      const load = g.expert_load[layer];
      const cells: HTMLElement[] = [
        el('th', {
          attrs: { scope: 'row' },
          text: g.model_label !== null && g.model_label !== g.label ? `${g.label} → ${g.model_label}` : g.label,
        }),
        el('td', { class: 'num', text: String(g.n) }),
        el('td', { class: 'num', text: String(g.tokens) }),
      ];
      if (withAccuracy) {
        const acc = g.accuracy ?? null;
        cells.push(
          el('td', {
            class: 'num sc-group-accuracy',
            attrs:
              acc === null
                ? {}
                : { 'data-accuracy': acc.toFixed(6), title: `${g.correct} of ${g.labelled} labelled examples predicted right` },
            text:
              acc === null
                ? g.labelled
                  ? 'labels do not map'
                  : 'no labels'
                : `${formatPercentWithCi(acc, g.accuracy_ci95 ?? null)} · ${g.correct}/${g.labelled}`,
          }),
        );
      }
      cells.push(
        el('td', { class: 'num', text: fmtNum(g.mean_k.overall) }),
        el('td', { class: 'num small', text: g.mean_k.per_layer.map((k) => fmtNum(k)).join(' · ') }),
        el('td', {}, [
          load
            ? loadSvg({
                tokens: load.tokens,
                utilisation: load.utilisation,
                gateMass: load.gate_mass,
                dead: load.dead,
                maxTokens,
                width: 160,
                height: 40,
                label: `${g.label} layer ${layer} expert load`,
              })
            : '',
        ]),
      );
      if (withShift) {
        const d = diffs[gi];
        const shift = g.expert_load_shift?.[layer];
        const top = d.reduce((best, x, e) => (Math.abs(x) > Math.abs(d[best] ?? 0) ? e : best), 0);
        cells.push(
          el('td', { class: 'sc-load-shift', attrs: shift === undefined ? {} : { 'data-shift': shift.toFixed(6) } }, [
            loadShiftSvg(d, scale, `${g.label} layer ${layer} expert load against the sample`),
            el('div', {
              class: 'small muted',
              text:
                shift === undefined || d.length === 0
                  ? '–'
                  : `${(100 * shift).toFixed(1)}% moved · most: expert ${top} ${fmtPoints(d[top])}`,
              attrs: {
                title:
                  "Total variation distance between the group's shares of expert assignments and the whole sample's: the share of the group's assignments that would have to move to other experts to match the sample (0% = the same load).",
              },
            }),
          ]),
        );
      }
      tbody.append(
        el('tr', { testid: 'spotcheck-label-row', attrs: { 'data-label': g.label, 'data-mean-k': g.mean_k.overall.toFixed(4) } }, cells),
      );
    });
    table.append(tbody);
    return table;
  }

  render(): void {
    const r = this.s.reset(this.ctx.report());
    if (!r) return;
    const layer = Math.min(this.ctx.layer(), Math.max(0, r.model.num_layers - 1));
    const groups = r.routing_by_group ?? [];
    const all = [...r.routing_by_label, ...r.routing_by_prediction, ...groups];
    const maxTokens = all.reduce((m, g) => Math.max(m, ...(g.expert_load[layer]?.tokens ?? [0])), 0);
    const sample = r.expert_load[layer];
    if (groups.length > 0) {
      const col = r.dataset.group_column ?? 'group';
      const t = this.table(groups, `By "${col}"`, layer, maxTokens, sample, col);
      t.dataset.testid = 'spotcheck-by-group';
      this.s.body.append(scroller(t));
    }
    if (r.routing_by_label.length > 0)
      this.s.body.append(scroller(this.table(r.routing_by_label, 'By dataset label', layer, maxTokens, sample)));
    // A causal LM has no predicted label to group by.
    if (!r.language_model)
      this.s.body.append(scroller(this.table(r.routing_by_prediction, 'By predicted label', layer, maxTokens, sample)));
    else if (r.routing_by_label.length === 0 && groups.length === 0) {
      this.root.hidden = true;
    }
  }
}

// ---- tokens ----------------------------------------------------------------------------------------------------

export class TokensSection {
  private readonly s = section('spotcheck-tokens', 'Most and least important tokens');
  readonly root = this.s.root;

  constructor(private readonly ctx: SectionCtx) {}

  private list(entries: TokenImportanceEntry[], title: string, testid: string, max: number): HTMLElement {
    const ol = el('ol', { class: 'sc-token-list', testid });
    for (const e of entries) {
      const bar = el('span', { class: 'sc-token-bar' });
      bar.style.width = `${max > 0 ? (100 * e.mean_importance) / max : 0}%`;
      ol.append(
        el('li', { attrs: { title: `${e.token}: mean importance ${e.mean_importance.toFixed(4)} over ${e.count} occurrences` } }, [
          el('code', { class: 'tok', text: displayToken(e.token) }),
          el('span', { class: 'sc-token-meter' }, [bar]),
          el('span', { class: 'num muted small', text: `${fmtNum(e.mean_importance, 3)} · ×${e.count}` }),
        ]),
      );
    }
    return el('div', { class: 'sc-token-col' }, [el('h3', { class: 'sub-title', text: title }), ol]);
  }

  render(): void {
    const r = this.s.reset(this.ctx.report());
    if (!r) return;
    const ti = r.token_importance;
    if (!ti.available) {
      this.s.body.append(el('p', { class: 'muted', text: 'The model does not report token importance.' }));
      return;
    }
    if (ti.most.length === 0) {
      this.s.body.append(el('p', { class: 'muted', text: `No token occurs at least ${ti.min_count} times in the sample.` }));
      return;
    }
    const max = [...ti.most, ...ti.least].reduce((m, e) => Math.max(m, e.mean_importance), -Infinity);
    this.s.body.append(
      el('p', {
        class: 'muted small',
        text: `Mean importance over layers, tokens seen at least ${ti.min_count} times (${ti.distinct_tokens} distinct; special tokens left out).`,
      }),
      el('div', { class: 'sc-token-cols' }, [
        this.list(ti.most, 'Most important', 'spotcheck-tokens-most', max),
        this.list(ti.least, 'Least important', 'spotcheck-tokens-least', max),
      ]),
    );
  }
}

// ---- importance vs occlusion -----------------------------------------------------------------------------------

/** Importance against occlusion on a subset of the sample (docs/importance-check.md): rho per layer, pooled over tokens. */
export class ImportanceCheckSection {
  private readonly s = section('spotcheck-importance-check', 'Importance vs occlusion');
  readonly root = this.s.root;

  constructor(private readonly ctx: SectionCtx) {}

  render(): void {
    const r = this.s.reset(this.ctx.report());
    if (!r) return;
    const c = r.importance_check;
    if (!c) {
      this.s.body.append(
        el('p', {
          class: 'muted',
          text: !r.token_importance.available
            ? 'Not available: the model reports no token importance.'
            : r.language_model
              ? 'Not available: a causal language model predicts no class whose probability could drop when a token is deleted.'
              : 'Not run for this report (setting damoe.spotCheck.importanceCheck, or damoe spot-check --importance-check).',
        }),
      );
      return;
    }
    this.s.body.append(el('p', { class: 'muted small', testid: 'spotcheck-importance-check-summary', text: importanceCheckSummary(c) }));
    const table = el('table', { class: 'routing-table sc-importance-check', testid: 'spotcheck-importance-check-table' });
    table.append(
      el('thead', {}, [
        el(
          'tr',
          {},
          ['layer', "Spearman's ρ [95% CI] (n), pooled over tokens", 'mean of per-example ρ (examples)'].map((t) =>
            el('th', { attrs: { scope: 'col' }, text: t }),
          ),
        ),
      ]),
    );
    const tbody = el('tbody');
    for (const l of c.layers) {
      tbody.append(
        el(
          'tr',
          { testid: 'spotcheck-importance-check-row', attrs: { 'data-layer': String(l.layer), 'data-spearman': String(l.spearman) } },
          [
            el('th', { attrs: { scope: 'row' }, text: `Layer ${l.layer}` }),
            el('td', { class: 'num', text: formatLayerCheck(l) }),
            el('td', { class: 'num', text: l.mean_text_spearman === null ? 'n/a' : `${fmtNum(l.mean_text_spearman, 3)} (${l.texts})` }),
          ],
        ),
      );
    }
    table.append(tbody);
    this.s.body.append(table);
  }
}
