/**
 * The examples table: sortable by every numeric column (click or Enter on a header), filtered by outcome and by
 * text. Clicking a row (or Enter on it) asks the host to open the dataset at that line and analyse the example.
 * Long samples show MAX_ROWS rows at a time ("Show more").
 */
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import type { SpotCheckExampleFilter, SpotCheckSortKey } from '../../shared/protocol/spotcheck';
import { clear, el, fmtNum, fmtPct } from '../shared/dom';
import { filterAndSort, type ExampleView } from './filter';
import { perplexityText } from '../../shared/lm-report-text';

export const MAX_ROWS = 500;

interface ValueElement extends HTMLElement {
  value: string;
  checked?: boolean;
}

export interface ExamplesCtx {
  report(): SpotCheckReport | null;
  view(): ExampleView;
  setView(patch: Partial<ExampleView>): void;
  open(line: number): void;
  canOpen(): boolean;
}

interface Column {
  key: SpotCheckSortKey | null;
  label: string;
  title: string;
  num?: boolean;
  /** Only for classifiers ('class') or only for causal LMs ('lm'); both when absent. */
  only?: 'class' | 'lm';
}

const COLUMNS: Column[] = [
  { key: 'line', label: 'line', title: 'Line in the dataset file', num: true },
  { key: null, label: 'text', title: 'The example (cut to 300 characters)' },
  { key: null, label: 'label', title: 'Label in the dataset (→ model label)' },
  { key: null, label: 'predicted', title: 'Predicted label', only: 'class' },
  { key: 'confidence', label: 'confidence', title: 'Probability of the predicted label', num: true, only: 'class' },
  {
    key: 'mean_loss',
    label: 'mean loss',
    title: "Mean loss (nats) of the example's tokens after its first: how surprised the model was",
    num: true,
    only: 'lm',
  },
  { key: null, label: 'perplexity', title: 'e^(mean loss): the perplexity of this example', num: true, only: 'lm' },
  { key: 'mean_k', label: 'mean K', title: 'Mean K over tokens and layers (special tokens included)', num: true },
  {
    key: 'importance_entropy',
    label: 'importance entropy',
    title: 'Entropy (bits) of the content tokens’ importance: low = a few tokens dominate',
    num: true,
  },
  { key: 'correct', label: '✓/✗', title: 'Correct or wrong (blank: no mapped label)', only: 'class' },
];

export class ExamplesSection {
  readonly root = el('section', { class: 'section', testid: 'spotcheck-examples', attrs: { 'aria-labelledby': 'sc-examples-title' } });
  private readonly radios: ValueElement[];
  private readonly search = el('input', {
    class: 'sc-search',
    testid: 'spotcheck-search',
    attrs: { type: 'search', placeholder: 'Filter by text, label or prediction', 'aria-label': 'Filter examples by text' },
  });
  private readonly count = el('span', { class: 'muted small', testid: 'spotcheck-example-count', attrs: { 'aria-live': 'polite' } });
  private readonly table = el('table', { class: 'routing-table sc-examples', testid: 'spotcheck-examples-table' });
  private readonly thead = el('thead');
  private readonly tbody = el('tbody');
  private readonly more = el('vscode-button', { testid: 'spotcheck-more', text: 'Show more', attrs: { secondary: true } });
  /** The correct / wrong filter (hidden for causal LMs: no class, no outcome). */
  private readonly outcomeControl = el('div', { class: 'control' });
  private limit = MAX_ROWS;
  private searchTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ctx: ExamplesCtx) {
    this.radios = (['all', 'correct', 'wrong'] as const).map(
      (v) =>
        el('vscode-radio', {
          testid: `spotcheck-filter-${v}`,
          attrs: { name: 'sc-filter', value: v, label: v === 'all' ? 'All' : v === 'correct' ? 'Correct' : 'Wrong' },
        }) as unknown as ValueElement,
    );
    const group = el('vscode-radio-group', { testid: 'spotcheck-filter', attrs: { 'aria-label': 'Show' } }, this.radios);
    this.outcomeControl.append(el('span', { class: 'control-label', text: 'Show', attrs: { 'aria-hidden': 'true' } }), group);
    group.addEventListener('change', (e) => {
      const t = e.target as ValueElement | null;
      if (t && t.tagName === 'VSCODE-RADIO' && t.checked) {
        this.limit = MAX_ROWS;
        ctx.setView({ filter: t.value as SpotCheckExampleFilter });
      }
    });
    this.search.addEventListener('input', () => {
      if (this.searchTimer) clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => {
        this.limit = MAX_ROWS;
        ctx.setView({ query: this.search.value.slice(0, 500) });
      }, 120);
    });
    this.more.addEventListener('click', () => {
      this.limit += MAX_ROWS;
      this.render();
    });
    this.table.append(
      el('caption', { class: 'muted small', text: 'Click an example (or press Enter) to open its line and analyse it' }),
      this.thead,
      this.tbody,
    );
    this.root.append(
      el('div', { class: 'section-head' }, [
        el('h2', { class: 'section-title', text: 'Examples', attrs: { id: 'sc-examples-title' } }),
        this.count,
      ]),
      el('div', { class: 'controls sc-example-controls', attrs: { role: 'toolbar', 'aria-label': 'Example filters' } }, [
        this.outcomeControl,
        this.search,
      ]),
      el('div', { class: 'table-scroll sc-examples-scroll' }, [this.table]),
      this.more,
    );
    this.tbody.addEventListener('click', (e) => this.activate(e.target));
    this.tbody.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this.activate(e.target);
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        const tr = (e.target as Element).closest('tr');
        const next = (e.key === 'ArrowDown' ? tr?.nextElementSibling : tr?.previousElementSibling) as HTMLElement | null;
        if (next) {
          e.preventDefault();
          next.focus();
        }
      }
    });
  }

  private activate(target: EventTarget | null): void {
    const tr = target instanceof Element ? target.closest<HTMLElement>('tr[data-line]') : null;
    if (!tr || !this.ctx.canOpen()) return;
    for (const r of this.tbody.querySelectorAll('tr.is-cursor')) r.classList.remove('is-cursor');
    tr.classList.add('is-cursor');
    this.ctx.open(Number(tr.dataset.line));
  }

  render(): void {
    const r = this.ctx.report();
    this.root.hidden = !r;
    if (!r) return;
    const v = this.ctx.view();
    for (const radio of this.radios) radio.checked = radio.value === v.filter;
    if (this.search.value !== v.query && document.activeElement !== this.search) this.search.value = v.query;
    const hasOutcome = r.examples.some((e) => e.correct !== null);
    this.outcomeControl.hidden = !!r.language_model;
    for (const radio of this.radios) if (radio.value !== 'all') radio.toggleAttribute('disabled', !hasOutcome);

    // A causal LM predicts no class: its examples show their loss where a classifier's show the prediction.
    const causal = !!r.language_model;
    const columns = COLUMNS.filter((c) => !c.only || c.only === (causal ? 'lm' : 'class'));
    clear(this.thead);
    const head = el('tr');
    for (const c of columns) {
      const sorted = c.key !== null && v.sort.key === c.key;
      const th = el('th', {
        class: c.num ? 'num' : undefined,
        attrs: {
          scope: 'col',
          title: c.title,
          'aria-sort': sorted ? (v.sort.descending ? 'descending' : 'ascending') : c.key ? 'none' : undefined,
        },
      });
      if (c.key) {
        const key = c.key;
        const b = el('button', {
          class: 'sort-button',
          testid: `spotcheck-sort-${key}`,
          text: `${c.label}${sorted ? (v.sort.descending ? ' ▼' : ' ▲') : ''}`,
        });
        b.addEventListener('click', () =>
          this.ctx.setView({ sort: { key, descending: v.sort.key === key ? !v.sort.descending : key !== 'line' } }),
        );
        th.append(b);
      } else th.textContent = c.label;
      head.append(th);
    }
    this.thead.append(head);

    const rows = filterAndSort(r.examples, v);
    clear(this.tbody);
    const shown = rows.slice(0, this.limit);
    const canOpen = this.ctx.canOpen();
    for (const e of shown) {
      const mark = e.correct === null ? '' : e.correct ? '✓' : '✗';
      const textCell = el('td', { class: 'sc-text' }, [el('span', { text: e.text })]);
      if (e.pair !== null) textCell.append(el('span', { class: 'muted sc-pair', text: ` ⟂ ${e.pair}` }));
      const labelText = e.label === null ? '' : e.gold !== null && e.gold !== e.label ? `${e.label} → ${e.gold}` : e.label;
      this.tbody.append(
        el(
          'tr',
          {
            testid: 'spotcheck-example-row',
            class: e.correct === false ? 'wrong' : e.correct === true ? 'correct' : undefined,
            attrs: {
              'data-line': e.line,
              'data-correct': e.correct === null ? 'unknown' : String(e.correct),
              tabindex: canOpen ? 0 : undefined,
              title: canOpen ? `Open line ${e.line} and analyse it` : undefined,
            },
          },
          [
            el('td', { class: 'num', text: String(e.line) }),
            textCell,
            el('td', { text: labelText }),
            ...(causal
              ? [
                  el('td', { class: 'num', text: e.mean_loss === null || e.mean_loss === undefined ? '–' : fmtNum(e.mean_loss, 3) }),
                  el('td', {
                    class: 'num',
                    text: e.mean_loss === null || e.mean_loss === undefined ? '–' : perplexityText(Math.exp(e.mean_loss)),
                  }),
                ]
              : [
                  el('td', { text: e.predicted ?? '–' }),
                  el('td', { class: 'num', text: e.confidence === null ? '–' : fmtPct(e.confidence) }),
                ]),
            el('td', { class: 'num', text: fmtNum(e.mean_k) }),
            el('td', { class: 'num', text: e.importance_entropy === null ? '–' : fmtNum(e.importance_entropy) }),
            ...(causal
              ? []
              : [
                  el('td', {
                    class: `outcome ${e.correct === false ? 'is-wrong' : 'is-correct'}`,
                    text: mark,
                    attrs: { 'aria-label': e.correct === null ? 'no label' : e.correct ? 'correct' : 'wrong' },
                  }),
                ]),
          ],
        ),
      );
    }
    this.count.textContent = `${rows.length} of ${r.examples.length} examples${rows.length > shown.length ? ` (showing ${shown.length})` : ''}`;
    this.more.hidden = rows.length <= shown.length;
  }
}
