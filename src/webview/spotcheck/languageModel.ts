/**
 * A causal LM's spot-check headline (SpotCheckReport.language_model), in the confusion matrix's place: the perplexity
 * and what it is computed over, and per layer the mean loss of the tokens with each K and the K–loss correlation,
 * cells coloured from the table's lowest to its highest mean loss. Clicking a layer's row selects that layer.
 */
import { correlationText, kLossColumns, kLossRows, perplexityBasis, perplexityText } from '../../shared/lm-report-text';
import { colourAt, textOn } from '../../shared/palette';
import { el, fmtNum } from '../shared/dom';
import { section, type SectionCtx } from './sections';

export class LanguageModelSection {
  private readonly s = section('spotcheck-language-model', 'Perplexity and loss by K');
  readonly root = this.s.root;

  constructor(private readonly ctx: SectionCtx) {}

  render(): void {
    const r = this.s.reset(this.ctx.report());
    const lm = r?.language_model;
    if (!r || !lm) {
      this.root.hidden = true;
      return;
    }
    this.s.body.append(
      el('p', { testid: 'spotcheck-perplexity-basis' }, [
        'Perplexity ',
        el('strong', { text: perplexityText(lm.perplexity) }),
        ` = ${perplexityBasis(lm, r.n)}. Each token is scored from the real tokens before it (teacher-forced).`,
      ]),
    );
    const rows = kLossRows(lm);
    const ks = kLossColumns(rows);
    const losses = rows.flatMap((row) => row.cells.flatMap((c) => (c.meanLoss === null ? [] : [c.meanLoss])));
    const lo = Math.min(...losses);
    const hi = Math.max(...losses);
    const table = el('table', { class: 'sc-kloss', testid: 'spotcheck-k-loss' });
    table.append(
      el('caption', {
        class: 'muted small',
        text: 'Mean loss (nats) of the scored tokens with each K, per layer; tokens in brackets. r: Pearson correlation of K and loss.',
      }),
      el('thead', {}, [
        el('tr', {}, [
          el('th', { attrs: { scope: 'col' }, text: 'layer' }),
          ...ks.map((k) => el('th', { class: 'num', attrs: { scope: 'col' }, text: `K=${k}` })),
          el('th', {
            class: 'num',
            attrs: { scope: 'col', title: "Pearson's r of a token's K and its loss in the layer" },
            text: 'K–loss r',
          }),
        ]),
      ]),
    );
    const tbody = el('tbody');
    const selected = this.ctx.layer();
    for (const row of rows) {
      const tr = el('tr', {
        testid: 'spotcheck-k-loss-row',
        class: row.layer === selected ? 'clickable selected' : 'clickable',
        attrs: { 'data-layer': row.layer, 'data-correlation': row.correlation === null ? '' : row.correlation.toFixed(6) },
      });
      tr.append(el('th', { attrs: { scope: 'row' }, text: `Layer ${row.layer}` }));
      for (const k of ks) {
        const c = row.cells.find((x) => x.k === k);
        if (!c || c.meanLoss === null) {
          tr.append(
            el('td', { class: 'num muted', text: '–', attrs: { 'data-k': k, title: `no scored token had K=${k} in layer ${row.layer}` } }),
          );
          continue;
        }
        const t = hi > lo ? (c.meanLoss - lo) / (hi - lo) : 0;
        const td = el('td', {
          class: 'num cell',
          attrs: {
            'data-k': k,
            'data-tokens': c.tokens,
            'data-mean-loss': c.meanLoss.toFixed(6),
            title: `layer ${row.layer}, K=${k}: ${c.tokens} tokens, mean loss ${c.meanLoss.toFixed(3)} nats (perplexity ${perplexityText(Math.exp(c.meanLoss))})`,
          },
        });
        td.append(fmtNum(c.meanLoss), el('span', { class: 'small', text: ` (${c.tokens})` }));
        td.style.backgroundColor = colourAt(t);
        td.style.color = textOn(t);
        tr.append(td);
      }
      tr.append(
        el('td', {
          class: 'num',
          text: row.correlation === null ? 'n/a' : row.correlation.toFixed(3),
          attrs: { title: correlationText(row.correlation) },
        }),
      );
      tr.addEventListener('click', () => this.ctx.selectLayer(row.layer));
      tbody.append(tr);
    }
    table.append(tbody);
    this.s.body.append(
      el('div', { class: 'sc-kloss-scroll' }, [table]),
      el('p', {
        class: 'muted small',
        text: 'r below 0: tokens given more experts are predicted better. DA-MoE sets K from a token’s attention importance, never from its loss.',
      }),
    );
  }
}
