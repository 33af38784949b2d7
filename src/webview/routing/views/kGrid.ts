/**
 * The K grid, the panel's first chart: one row per text token, one column per layer, each cell the K the model
 * gave that token in that layer (colour and digit; K=0 padding is empty). The column of the selected layer is
 * outlined; a click on a column header selects that layer, a click on a row reveals the token. Virtualised like the
 * heatmap (shared/charts.ts CanvasRows): only the visible rows are drawn, so a long text costs what a short one does.
 */
import type { Ctx, View } from '../context';
import { el } from '../../shared/dom';
import { colourAt, kPosition, textOn } from '../../../shared/palette';
import { tokenDescription, tokenShownText } from '../../../shared/token-text';
import { CanvasRows, drawRowLabel, type VisibleRows } from '../../shared/charts';
import { DROPPED_TEXT, isDropped } from '../../../shared/router-text';
import type { GridFigureSpec } from '../../shared/figure';
import { figureToolbar } from '../figureTools';

export const K_ROW_H = 18;
export const K_HEADER_H = 22;
const MAX_VIEW_H = 360;

export class KGridView implements View {
  readonly root = el('section', { class: 'section kgrid-section', testid: 'k-grid', attrs: { 'aria-labelledby': 'kgrid-title' } });
  private readonly title = el('h2', { class: 'section-title', text: 'K per token and layer', attrs: { id: 'kgrid-title' } });
  private readonly legend = el('div', { class: 'legend k-legend', testid: 'k-grid-legend', attrs: { 'aria-hidden': 'true' } });
  private readonly grid: CanvasRows;
  private labelW = 100;
  private cellW = 28;

  constructor(private readonly ctx: Ctx) {
    this.grid = new CanvasRows({
      rowH: K_ROW_H,
      headerH: K_HEADER_H,
      maxViewH: MAX_VIEW_H,
      borderH: 2,
      scrollerClass: 'kgrid-scroll',
      canvasTestId: 'k-grid-canvas',
      stats: this.root,
      hidden: () => this.root.hidden || !ctx.derived(),
      background: () => ctx.theme().background,
      layout: (width) => {
        const L = Math.max(1, ctx.derived()?.analysis.layers.length ?? 1);
        this.labelW = Math.round(Math.min(160, Math.max(64, width * 0.3)));
        this.cellW = Math.max(14, Math.min(40, Math.floor((width - this.labelW - 4) / L)));
      },
      drawRows: (c, v) => this.drawRows(c, v),
      drawHeader: (c, v) => this.drawHeader(c, v),
    });
    const canvas = this.grid.canvas;
    const tools = figureToolbar(ctx, 'k-grid', () => this.figure());
    this.root.append(el('div', { class: 'section-head' }, [this.title, this.legend, tools]), this.grid.scroller);
    canvas.addEventListener('mousemove', (e) => ctx.hover(this.rowToken(e.offsetY)));
    canvas.addEventListener('mouseleave', () => ctx.hover(null));
    canvas.addEventListener('click', (e) => {
      if (e.offsetY < K_HEADER_H) {
        const l = Math.floor((e.offsetX - this.labelW) / this.cellW);
        if (l >= 0) ctx.selectLayer(l);
        return;
      }
      const t = this.rowToken(e.offsetY);
      if (t !== null) ctx.reveal(t);
    });
  }

  private rowToken(y: number): number | null {
    const d = this.ctx.derived();
    const r = this.grid.rowAt(y);
    return d && r !== null ? d.rows[r] : null;
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    this.root.hidden = !d || s.view !== 'chart';
    if (!d) return;
    if (changed.has('analysis')) {
      this.grid.setRows(d.rows.length);
      this.root.dataset.dropped = String(d.analysis.layers.reduce((n, l) => n + (l.dropped?.length ?? 0), 0));
      this.root.dataset.rows = String(d.rows.length);
      this.root.dataset.cols = String(d.analysis.layers.length);
      this.root.dataset.k = d.rows.map((t) => d.analysis.layers.map((l) => l.k[t]).join('')).join(',');
      this.buildLegend();
    }
    if (changed.has('view') && s.view === 'chart') this.grid.invalidateSize();
    this.root.dataset.layer = String(s.layer);
    const a = d.analysis;
    this.grid.canvas.setAttribute(
      'aria-label',
      `K of ${d.rows.length} tokens in ${a.layers.length} layers; layer ${s.layer} selected. The table view lists the same values.`,
    );
    if (changed.has('cursorToken') && s.cursorToken !== null) this.grid.scrollToRow(d.rowOf[s.cursorToken] ?? -1);
    this.grid.schedule();
  }

  private buildLegend(): void {
    const d = this.ctx.derived()!;
    this.legend.replaceChildren(el('span', { class: 'muted', text: 'K' }));
    for (let k = 1; k <= d.kMax; k++) {
      const sw = el('span', { class: 'k-swatch', text: String(k) });
      sw.style.backgroundColor = colourAt(kPosition(k, d.kMax));
      sw.style.color = textOn(kPosition(k, d.kMax));
      this.legend.append(sw);
    }
    if (d.analysis.layers.some((l) => (l.dropped?.length ?? 0) > 0))
      this.legend.append(
        el('span', { class: 'k-swatch k-dropped', text: '✕', attrs: { title: DROPPED_TEXT } }),
        el('span', { class: 'muted', text: 'dropped' }),
      );
  }

  private fontPx(): number {
    return Math.max(10, Math.min(13, this.ctx.theme().fontSize - 1));
  }

  private drawRows(c: CanvasRenderingContext2D, { first, last, scrollTop }: VisibleRows): void {
    const d = this.ctx.derived()!;
    const s = this.ctx.store.get();
    const th = this.ctx.theme();
    const a = d.analysis;
    const L = a.layers.length;
    const { labelW, cellW } = this;
    const fontPx = this.fontPx();
    const cellFont = `${Math.max(10, fontPx - 1)}px ${th.fontFamily}`;
    const labelFont = `${fontPx}px ${th.monoFamily}`;
    // One colour string per K value, computed once per draw.
    const fills = Array.from({ length: d.kMax + 1 }, (_, k) => colourAt(Math.max(0, kPosition(k, d.kMax))));
    const inks = Array.from({ length: d.kMax + 1 }, (_, k) => textOn(Math.max(0, kPosition(k, d.kMax))));
    for (let r = first; r <= last; r++) {
      const t = d.rows[r];
      const y = K_HEADER_H + r * K_ROW_H - scrollTop;
      const lit = t === s.cursorToken || t === s.hoverToken;
      if (lit && !th.highContrast) {
        c.fillStyle = t === s.cursorToken ? th.selectionBackground : th.hoverBackground;
        c.fillRect(0, y, labelW, K_ROW_H);
      }
      c.font = labelFont;
      c.fillStyle = th.foreground;
      drawRowLabel(c, tokenShownText(a.tokens[t], a), labelW, y, K_ROW_H);
      for (let l = 0; l < L; l++) {
        const k = a.layers[l].k[t];
        if (isDropped(a.layers[l], t)) {
          // Dropped by the router's capacity: no expert at all, unlike padding (K = 0 too), which is left empty.
          const x = labelW + l * cellW;
          c.save();
          c.strokeStyle = th.muted;
          c.lineWidth = 1;
          c.setLineDash([2, 2]);
          c.strokeRect(x + 1.5, y + 1.5, cellW - 3, K_ROW_H - 3);
          c.fillStyle = th.foreground;
          c.font = cellFont;
          c.textAlign = 'center';
          c.fillText('✕', x + cellW / 2, y + K_ROW_H / 2 + 0.5);
          c.restore();
          continue;
        }
        if (kPosition(k, d.kMax) < 0) continue;
        c.fillStyle = fills[k];
        c.fillRect(labelW + l * cellW + 0.5, y + 0.5, cellW - 1, K_ROW_H - 1);
      }
      if (lit) {
        c.strokeStyle = th.highContrast ? th.contrastActiveBorder : th.focus;
        c.lineWidth = t === s.cursorToken ? 2 : 1;
        c.strokeRect(1, y + 1, labelW + L * cellW - 2, K_ROW_H - 2);
      }
    }
    // The digits after the cells, one fill colour at a time.
    c.textAlign = 'center';
    c.font = cellFont;
    for (let k = 1; k <= d.kMax; k++) {
      c.fillStyle = inks[k];
      for (let r = first; r <= last; r++) {
        const t = d.rows[r];
        const y = K_HEADER_H + r * K_ROW_H - scrollTop + K_ROW_H / 2 + 0.5;
        for (let l = 0; l < L; l++) if (a.layers[l].k[t] === k) c.fillText(String(k), labelW + l * cellW + cellW / 2, y);
      }
    }
  }

  /** Layer names, and the selected layer's column outlined over the rows. */
  private drawHeader(c: CanvasRenderingContext2D, { first, last, height }: VisibleRows): void {
    const s = this.ctx.store.get();
    const th = this.ctx.theme();
    const L = this.ctx.derived()!.analysis.layers.length;
    const { labelW, cellW } = this;
    c.font = `${Math.max(10, this.fontPx() - 1)}px ${th.fontFamily}`;
    c.textAlign = 'right';
    c.fillStyle = th.muted;
    c.fillText('token', labelW - 6, K_HEADER_H / 2);
    c.textAlign = 'center';
    for (let l = 0; l < L; l++) {
      c.fillStyle = l === s.layer ? th.foreground : th.muted;
      c.fillText(`L${l}`, labelW + l * cellW + cellW / 2, K_HEADER_H / 2);
    }
    const sel = labelW + s.layer * cellW;
    c.strokeStyle = th.highContrast ? th.contrastActiveBorder : th.focus;
    c.lineWidth = 2;
    c.strokeRect(sel + 1, 1, cellW - 2, Math.min(height, K_HEADER_H + (last - first + 1) * K_ROW_H) - 2);
  }

  /** The whole grid (every row), for PNG / SVG export. */
  figure(): GridFigureSpec {
    const d = this.ctx.derived()!;
    const a = d.analysis;
    return {
      title: `K per token and layer · ${a.model.name}`,
      rowLabels: d.rows.map((t) => tokenShownText(a.tokens[t], a)),
      rowTitles: d.rows.map((t) => tokenDescription(a.tokens[t], a)),
      colLabels: a.layers.map((l) => `L${l.layer}`),
      cellW: 28,
      cell: (r, c) => {
        const k = a.layers[c].k[d.rows[r]];
        const pos = kPosition(k, d.kMax);
        return pos < 0 ? null : { fill: colourAt(pos), text: String(k), textFill: textOn(pos) };
      },
      legend: Array.from({ length: d.kMax }, (_, i) => ({ label: `K=${i + 1}`, fill: colourAt(kPosition(i + 1, d.kMax)) })),
    };
  }
}
