/**
 * One text through 2-3 models side by side: a card per model (prediction, mean K, expert FLOPs), then a token table
 * whose columns are the models' K and chosen experts in the chosen layer (or K averaged over layers). A cell that
 * differs from the first model's is marked (class `diff`, and a "≠" for screen readers and high contrast).
 */
import type { Analysis } from '../../shared/analysis';
import type { CompareTextView } from '../../shared/protocol/compare';
import { clear, displayToken, el, fmtNum, fmtPct } from '../shared/dom';

/** -1: K averaged over the layers; otherwise a layer index. */
export type LayerChoice = number;

function flopsText(a: Analysis): string {
  const f = a.stats.flops;
  const v = f.spent;
  const unit = f.unit === 'expert-evaluations' ? ' expert evals' : 'FLOP';
  const scaled =
    v >= 1e9 ? `${(v / 1e9).toFixed(2)} G` : v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : `${v} `;
  return `${scaled}${unit}`;
}

/** The layer whose K varies most over the tokens (where dynamic routing shows); 0 when K is fixed. */
function mostDynamicLayer(a: Analysis): number {
  let best = 0;
  let bestVar = -1;
  a.layers.forEach((l, i) => {
    const n = l.k.length;
    const mean = l.k.reduce((s, k) => s + k, 0) / Math.max(1, n);
    const v = l.k.reduce((s, k) => s + (k - mean) ** 2, 0) / Math.max(1, n);
    if (v > bestVar + 1e-12) {
      bestVar = v;
      best = i;
    }
  });
  return best;
}

const sameTokens = (models: CompareTextView['models']): boolean =>
  models.every(
    (m) =>
      m.analysis.tokens.length === models[0].analysis.tokens.length &&
      m.analysis.tokens.every((t, i) => t.text === models[0].analysis.tokens[i].text),
  );

export class CompareTextSection {
  readonly root = el('section', { class: 'section', testid: 'compare-text', attrs: { 'aria-labelledby': 'compare-text-title' } });
  private readonly body = el('div', { class: 'section-body' });
  private readonly select = el('select', { class: 'cmp-layer', testid: 'compare-layer', attrs: { 'aria-label': 'Layer' } });
  private view: CompareTextView | null = null;
  private layer: LayerChoice = -1;
  /** The user chose a layer: keep it for the next texts; until then each text opens on its most dynamic layer. */
  private userPicked = false;

  constructor() {
    this.root.append(
      el('div', { class: 'section-head' }, [
        el('h2', { class: 'section-title', text: 'Text through each model', attrs: { id: 'compare-text-title' } }),
        el('label', { class: 'control' }, [el('span', { class: 'control-label', text: 'K in' }), this.select]),
      ]),
      this.body,
    );
    this.root.hidden = true;
    this.select.addEventListener('change', () => {
      this.layer = Number(this.select.value);
      this.userPicked = true;
      this.render();
    });
  }

  show(view: CompareTextView): void {
    this.view = view;
    const L = Math.min(...view.models.map((m) => m.analysis.layers.length));
    clear(this.select);
    this.select.append(el('option', { attrs: { value: '-1' }, text: 'mean over layers' }));
    for (let l = 0; l < L; l++) this.select.append(el('option', { attrs: { value: String(l) }, text: `layer ${l}` }));
    if (!this.userPicked) this.layer = mostDynamicLayer(view.models[0].analysis);
    if (this.layer >= L) this.layer = -1;
    this.select.value = String(this.layer);
    this.render();
  }

  private render(): void {
    clear(this.body);
    const v = this.view;
    this.root.hidden = !v;
    if (!v) return;
    const first = v.models[0].analysis;
    this.body.append(
      el('p', {
        class: 'muted small',
        testid: 'compare-source',
        text: `From ${v.source}: “${first.text.length > 160 ? `${first.text.slice(0, 159)}…` : first.text}”`,
      }),
    );
    const cards = el('div', { class: 'cmp-cards' });
    for (const m of v.models) {
      const a = m.analysis;
      // A causal LM has no class prediction (prediction null): its card says so and nothing is compared.
      const label = a.prediction?.label ?? null;
      const differs = label !== null && first.prediction !== null && label !== first.prediction.label;
      const top2 = a.stats.flops.fixedTop2;
      cards.append(
        el(
          'div',
          {
            class: `cmp-card${differs ? ' diff' : ''}`,
            testid: 'compare-model-card',
            attrs: { 'data-model': m.name, 'data-prediction': label ?? '' },
          },
          [
            el('div', { class: 'cmp-card-name', text: m.name }),
            el('div', { class: 'muted small', text: a.model.routerKind }),
            el('div', { class: 'cmp-card-pred' }, [
              el('span', { text: label ?? 'no class prediction' }),
              el('span', { class: 'muted', text: a.prediction ? ` ${fmtPct(a.prediction.probabilities[a.prediction.index] ?? 0)}` : '' }),
              ...(differs ? [el('span', { class: 'cmp-diff-badge', text: '≠ first model' })] : []),
            ]),
            el('div', {
              class: 'small',
              text: `mean K ${fmtNum(a.stats.meanK.overall)} · ${flopsText(a)}${top2 > 0 ? ` (${fmtPct(a.stats.flops.spent / top2)} of top-2)` : ''}`,
            }),
          ],
        ),
      );
    }
    this.body.append(cards);
    if (!sameTokens(v.models)) {
      this.body.append(
        el('p', {
          class: 'banner banner-info',
          text: 'The models tokenise this text differently: their tokens are listed one model after the other, without per-token differences.',
        }),
      );
      for (const m of v.models) this.body.append(this.table([m], m.name));
      return;
    }
    this.body.append(this.table(v.models, null));
  }

  private table(models: CompareTextView['models'], caption: string | null): HTMLElement {
    const layer = this.layer;
    const table = el('table', { class: 'routing-table cmp-tokens', testid: 'compare-token-table', attrs: { 'data-layer': String(layer) } });
    if (caption) table.append(el('caption', { text: caption }));
    const head = el('tr', {}, [el('th', { attrs: { scope: 'col' }, text: '#' }), el('th', { attrs: { scope: 'col' }, text: 'token' })]);
    const showExperts = layer >= 0;
    for (const m of models) {
      head.append(el('th', { attrs: { scope: 'col' }, text: `${m.name} K` }));
      if (showExperts) head.append(el('th', { attrs: { scope: 'col' }, text: `${m.name} experts` }));
    }
    table.append(el('thead', {}, [head]));
    const kOf = (a: Analysis, t: number): number =>
      layer < 0 ? a.layers.reduce((s, l) => s + l.k[t], 0) / a.layers.length : a.layers[layer].k[t];
    const expertsOf = (a: Analysis, t: number): string =>
      layer < 0 ? a.layers.map((l) => l.experts[t].join(',')).join(' | ') : a.layers[layer].experts[t].join(', ');
    const tbody = el('tbody');
    const a0 = models[0].analysis;
    let kDiffs = 0;
    for (let t = 0; t < a0.tokens.length; t++) {
      const tok = a0.tokens[t];
      const row = el('tr', { testid: 'compare-token-row', attrs: { 'data-index': String(t) } }, [
        el('td', { class: 'num muted', text: String(t) }),
        el('td', { class: tok.special ? 'muted' : '' }, [el('code', { text: displayToken(tok.text) })]),
      ]);
      models.forEach((m, i) => {
        const k = kOf(m.analysis, t);
        const ex = expertsOf(m.analysis, t);
        const kDiff = i > 0 && Math.abs(k - kOf(a0, t)) > 1e-9;
        const exDiff = i > 0 && ex !== expertsOf(a0, t);
        if (kDiff) kDiffs++;
        row.append(
          el(
            'td',
            {
              class: `num cmp-k${kDiff ? ' diff' : ''}`,
              attrs: { 'data-k': String(k), title: kDiff ? `K differs from ${models[0].name}` : '' },
            },
            [
              el('span', { text: layer < 0 ? fmtNum(k) : String(k) }),
              el('span', { class: 'cmp-pips', attrs: { 'aria-hidden': 'true' }, text: layer < 0 ? '' : '•'.repeat(Math.max(0, k)) }),
              ...(kDiff ? [el('span', { class: 'cmp-ne', text: ' ≠' })] : []),
            ],
          ),
        );
        if (showExperts) row.append(el('td', { class: `cmp-experts${exDiff ? ' diff' : ''}`, text: ex }));
      });
      tbody.append(row);
    }
    table.append(tbody);
    table.dataset.kDiffs = String(kDiffs);
    return el('div', { class: 'cmp-scroll' }, [table]);
  }
}
