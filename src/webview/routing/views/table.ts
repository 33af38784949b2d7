/**
 * The accessible alternative to the charts: a real <table> (one row per non-special token, like the heatmap) with
 * column and row headers. Keyboard: one row is in the tab order (roving tabindex); ↑/↓ move, PageUp/PageDown move
 * by 10, Home/End jump, Enter reveals the token in the editor. Focusing a row highlights the token like hovering.
 * Long texts are paged (PAGE_ROWS rows per page, aria-rowcount / aria-rowindex give the position in the whole
 * table); moving past a page edge with the keyboard turns the page, so every row stays reachable.
 */
import type { Ctx, View } from '../context';
import type { AnalysisToken } from '../../../shared/analysis';
import { clear, displayToken, el, fmtNum } from '../../shared/dom';
import { DROPPED_TEXT, isDropped, layerLabel, sharedExpertsDescription } from '../../../shared/router-text';
import { lossText } from '../../../shared/next-token-text';
import { DETAIL_PREDICTIONS } from './tokenDetail';
import { tokenDescription, tokenShownText } from '../../../shared/token-text';
import { kPips } from './tokenStrip';

export const PAGE_ROWS = 500;

export class TableView implements View {
  readonly root = el('section', { class: 'section table-section', testid: 'table-view', attrs: { 'aria-labelledby': 'table-title' } });
  private readonly scroller = el('div', { class: 'table-scroll' });
  private readonly table = el('table', { class: 'routing-table', testid: 'routing-table' });
  /** The caption's text, shown above the scroller so that it wraps instead of being cut at the table's width. */
  private readonly intro = el('p', { class: 'table-intro muted', testid: 'table-intro', attrs: { 'aria-hidden': 'true' } });
  private readonly tbody = el('tbody');
  private readonly pager = el('div', { class: 'pager', testid: 'table-pager' });
  private readonly pagerText = el('span', { class: 'muted', attrs: { 'aria-live': 'polite' } });
  private readonly prevButton = el('vscode-button', { testid: 'table-prev', text: 'Previous rows', attrs: { secondary: true } });
  private readonly nextButton = el('vscode-button', { testid: 'table-next', text: 'Next rows', attrs: { secondary: true } });
  /** Row elements of the current page, by row index (other pages: undefined). */
  private rows: HTMLTableRowElement[] = [];
  private page = 0;
  private rowTokens: number[] = [];
  private active = 0;
  private dirty = true;
  private builtLayer = -1;
  private lit = new Map<string, number>();

  constructor(private readonly ctx: Ctx) {
    this.root.append(
      el('div', { class: 'section-head' }, [el('h2', { class: 'section-title', text: 'Routing table', attrs: { id: 'table-title' } })]),
      this.intro,
      this.scroller,
    );
    this.scroller.append(this.table);
    this.pager.append(this.prevButton, this.pagerText, this.nextButton);
    this.root.append(this.pager);
    this.prevButton.addEventListener('click', () => this.showPage(this.page - 1, true));
    this.nextButton.addEventListener('click', () => this.showPage(this.page + 1, true));
    this.table.addEventListener('keydown', (e) => this.onKey(e));
    this.table.addEventListener('focusin', (e) => {
      const i = this.indexOf(e.target);
      if (i >= 0) {
        this.setActive(i, false);
        ctx.hover(this.rowTokens[i]);
      }
    });
    this.table.addEventListener('focusout', (e) => {
      if (!this.table.contains(e.relatedTarget as Node | null)) ctx.hover(null);
    });
    this.table.addEventListener('mouseover', (e) => {
      const i = this.indexOf(e.target);
      if (i >= 0) ctx.hover(this.rowTokens[i]);
    });
    this.table.addEventListener('mouseleave', () => ctx.hover(null));
    this.table.addEventListener('click', (e) => {
      const i = this.indexOf(e.target);
      if (i >= 0) {
        this.setActive(i, true);
        ctx.reveal(this.rowTokens[i]);
      }
    });
  }

  private indexOf(target: EventTarget | null): number {
    const tr = target instanceof Element ? target.closest<HTMLTableRowElement>('tr[data-row]') : null;
    return tr ? Number(tr.dataset.row) : -1;
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    if (changed.has('analysis')) {
      this.dirty = true;
      this.active = 0;
    }
    this.root.hidden = !d || s.view !== 'table';
    if (!d || this.root.hidden) return;
    if (this.dirty) this.build();
    else if (this.builtLayer !== s.layer) this.refreshLayerColumns();
    if (changed.has('cursorToken') || changed.has('hoverToken') || changed.has('view') || changed.has('analysis')) {
      this.mark('is-cursor', s.cursorToken);
      this.mark('is-hover', s.hoverToken);
      if (s.cursorToken !== null && (changed.has('cursorToken') || changed.has('view'))) {
        const r = d.rowOf[s.cursorToken] ?? -1;
        if (r >= 0) {
          this.setActive(r, false);
          this.scrollRowIntoView(r);
        }
      }
    }
  }

  private build(): void {
    const d = this.ctx.derived()!;
    const a = d.analysis;
    const l = this.ctx.store.get().layer;
    clear(this.table);
    this.lit.clear();
    const specials = a.tokens.length - d.rows.length;
    const caption =
      `Routing of ${d.rows.length} tokens (${specials} special tokens omitted) through ${a.layers.length} layers of ${a.model.numExperts} experts. ` +
      (d.causal
        ? "Loss: the token's loss in nats given the tokens before it (— for the first: nothing predicts it); Next: the model's most probable following tokens. "
        : '') +
      'Arrow keys move between rows, Enter selects the token in the editor.';
    this.intro.textContent = caption;
    this.table.append(el('caption', { class: 'sr-only', text: caption }));
    const head = el('tr', {}, [
      el('th', { text: '#', attrs: { scope: 'col' } }),
      el('th', { text: 'Token', attrs: { scope: 'col' } }),
      el('th', {
        class: 'layer-col imp-col',
        text: `Imp. (L${l})`,
        attrs: { scope: 'col', title: `Importance in layer ${l}, the selected layer` },
      }),
      el('th', { class: 'layer-col', text: `K (L${l})`, attrs: { scope: 'col', title: `K in layer ${l}, the selected layer` } }),
      // A causal LM's token: its loss (none for the first) and the model's top predictions for the token after it.
      ...(d.causal
        ? [
            el('th', { class: 'num', text: 'Loss', attrs: { scope: 'col', title: 'Loss of this token given the tokens before it, nats' } }),
            el('th', {
              text: `Next (top ${DETAIL_PREDICTIONS})`,
              attrs: { scope: 'col', title: 'The most probable tokens after this one, with their probabilities' },
            }),
          ]
        : []),
      ...a.layers.map((ly) =>
        el('th', {
          class: 'experts-head',
          text: `L${layerLabel(ly)} experts`,
          attrs: { scope: 'col', title: `Layer ${layerLabel(ly)}: K, then each chosen expert and its gate` },
        }),
      ),
    ]);
    this.table.append(el('thead', {}, [head]));
    this.rowTokens = d.rows.slice();
    this.table.setAttribute('aria-rowcount', String(d.rows.length + 1));
    // A model without importance (router_logits only) gets no importance column: it would say "–" on every row.
    this.table.classList.toggle('no-importance', a.model.importanceAvailable === false);
    head.setAttribute('aria-rowindex', '1');
    this.table.append(this.tbody);
    this.page = -1;
    this.showPage(Math.floor(this.active / PAGE_ROWS), false);
    this.dirty = false;
  }

  private pageCount(): number {
    return Math.max(1, Math.ceil(this.rowTokens.length / PAGE_ROWS));
  }

  /** Renders page p's rows (and their layer columns). */
  private showPage(p: number, focusFirst: boolean): void {
    const d = this.ctx.derived();
    if (!d) return;
    p = Math.max(0, Math.min(this.pageCount() - 1, p));
    if (p !== this.page) {
      this.page = p;
      const a = d.analysis;
      clear(this.tbody);
      this.lit.clear();
      this.rows = [];
      const frag = document.createDocumentFragment();
      const from = p * PAGE_ROWS;
      const to = Math.min(this.rowTokens.length, from + PAGE_ROWS);
      for (let r = from; r < to; r++) {
        const t = this.rowTokens[r];
        const tr = el('tr', {
          testid: 'table-row',
          attrs: { tabindex: r === this.active ? 0 : -1, 'data-row': r, 'data-token': t, 'aria-rowindex': r + 2 },
        });
        tr.append(
          el('td', { class: 'num', text: String(t) }),
          el('th', {
            class: 'tok-cell',
            text: displayToken(tokenShownText(a.tokens[t], a)),
            attrs: { scope: 'row', title: tokenDescription(a.tokens[t], a) },
          }),
          el('td', { class: 'num imp' }),
          el('td', { class: 'num k' }),
        );
        if (d.causal) tr.append(...causalCells(a.tokens[t]));
        const shared = sharedExpertsDescription(a.model);
        // A routing trace records expert ids only: its cells list the experts, without a gate per expert.
        const gates = a.model.gatesAvailable !== false;
        for (const ly of a.layers) {
          // One expert per line, so that every layer's column fits the panel's width.
          const parts = isDropped(ly, t)
            ? [DROPPED_TEXT]
            : ly.experts[t].map((e, j) => (gates ? `E${e} ${fmtNum(ly.gates[t][j])}` : `E${e}`));
          // Shared experts run on every token: said in every routed cell, beside the routed experts.
          if (shared && !isDropped(ly, t)) parts.push(`+ ${a.model.sharedExperts!.count} shared`);
          const text = a.tokens[t].recorded === false ? 'not recorded' : `K=${ly.k[t]}:\n${parts.join('\n')}`;
          tr.append(el('td', { class: 'experts', text }));
        }
        this.rows[r] = tr;
        frag.append(tr);
      }
      this.tbody.append(frag);
      if (this.active < from || this.active >= to) {
        this.active = from;
        this.rows[from]?.setAttribute('tabindex', '0');
      }
      this.builtLayer = -1;
      const n = this.rowTokens.length;
      this.pager.hidden = n <= PAGE_ROWS;
      this.pagerText.textContent = `Rows ${from + 1}–${to} of ${n}`;
      this.prevButton.toggleAttribute('disabled', p === 0);
      this.nextButton.toggleAttribute('disabled', p >= this.pageCount() - 1);
      const s = this.ctx.store.get();
      this.mark('is-cursor', s.cursorToken);
      this.mark('is-hover', s.hoverToken);
    }
    if (this.builtLayer !== this.ctx.store.get().layer) this.refreshLayerColumns();
    if (focusFirst) this.setActive(p * PAGE_ROWS, true);
  }

  private refreshLayerColumns(): void {
    const d = this.ctx.derived()!;
    const l = this.ctx.store.get().layer;
    const layer = d.analysis.layers[l];
    const heads = this.table.querySelectorAll<HTMLElement>('thead th.layer-col');
    if (heads[0]) heads[0].textContent = `Imp. (L${l})`;
    if (heads[1]) heads[1].textContent = `K (L${l})`;
    this.rows.forEach((tr, r) => {
      if (!tr) return;
      const t = this.rowTokens[r];
      (tr.children[2] as HTMLElement).textContent =
        d.analysis.model.routingSource === 'trace' ? 'not recorded' : fmtNum(layer.importance[t], 3);
      (tr.children[3] as HTMLElement).replaceChildren(String(layer.k[t]), kPips(layer.k[t]));
    });
    this.builtLayer = l;
  }

  private setActive(i: number, focus: boolean): void {
    if (i < 0 || i >= this.rowTokens.length) return;
    if (!this.rows[i]) this.showPage(Math.floor(i / PAGE_ROWS), false);
    this.rows[this.active]?.setAttribute('tabindex', '-1');
    this.active = i;
    const tr = this.rows[i];
    tr.setAttribute('tabindex', '0');
    if (focus) tr.focus({ preventScroll: false });
  }

  private scrollRowIntoView(i: number): void {
    const tr = this.rows[i];
    if (!tr) return;
    const top = tr.offsetTop + this.table.offsetTop; // rows are offset from the table, the table from .table-scroll
    const headH = this.table.tHead?.offsetHeight ?? 0;
    if (top - headH < this.scroller.scrollTop || top + tr.offsetHeight > this.scroller.scrollTop + this.scroller.clientHeight) {
      this.scroller.scrollTop = Math.max(0, top - this.scroller.clientHeight / 2);
    }
  }

  private onKey(e: KeyboardEvent): void {
    const i = this.indexOf(e.target);
    if (i < 0) return;
    const n = this.rowTokens.length;
    let next = -1;
    switch (e.key) {
      case 'ArrowDown':
        next = Math.min(n - 1, i + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, i - 1);
        break;
      case 'PageDown':
        next = Math.min(n - 1, i + 10);
        break;
      case 'PageUp':
        next = Math.max(0, i - 10);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = n - 1;
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.ctx.reveal(this.rowTokens[i]);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.setActive(next, true);
  }

  private mark(cls: string, token: number | null): void {
    const d = this.ctx.derived();
    const prev = this.lit.get(cls);
    if (prev !== undefined) this.rows[prev]?.classList.remove(cls);
    const r = token === null || !d ? -1 : (d.rowOf[token] ?? -1);
    if (r >= 0 && this.rows[r]) {
      this.rows[r].classList.add(cls);
      this.lit.set(cls, r);
    } else this.lit.delete(cls);
  }
}

/** A causal LM token's loss cell ("—" for the first token: no loss, not 0) and its predictions, one per line. */
function causalCells(token: AnalysisToken): HTMLElement[] {
  const loss =
    token.loss === undefined
      ? el('td', { class: 'num muted loss', text: '—', attrs: { title: 'No loss: the first token (nothing predicts it)' } })
      : el('td', { class: 'num loss', text: token.loss.toFixed(2), attrs: { title: lossText(token.loss), 'data-loss': token.loss } });
  const preds = (token.predictions ?? []).slice(0, DETAIL_PREDICTIONS);
  const next = el('td', {
    class: 'preds',
    text: preds.map((p) => `${displayToken(p.token)} ${p.probability.toFixed(2)}`).join('\n'),
  });
  return [loss, next];
}
