/**
 * The K grid, the panel's first chart: one row per text token, one column per layer, each cell the K the model
 * gave that token in that layer (colour and digit; K=0 padding is empty). The column of the selected layer is
 * outlined; a click on a column header selects that layer, a click on a row reveals the token. Virtualised like the
 * heatmap: a sticky viewport-sized canvas draws only the visible rows, so a long text costs what a short one does.
 */
import type { Ctx, View } from '../context';
import { el } from '../../shared/dom';
import { colourAt, kPosition, textOn } from '../../../shared/palette';
import { tokenDescription, tokenShownText } from '../../../shared/token-text';
import { truncateToWidth } from './canvasText';
import type { GridFigureSpec } from '../../shared/figure';
import { figureToolbar } from '../figureTools';

export const K_ROW_H = 18;
export const K_HEADER_H = 22;
const MAX_VIEW_H = 360;

export class KGridView implements View {
  readonly root = el('section', { class: 'section kgrid-section', testid: 'k-grid', attrs: { 'aria-labelledby': 'kgrid-title' } });
  private readonly title = el('h2', { class: 'section-title', text: 'K per token and layer', attrs: { id: 'kgrid-title' } });
  private readonly legend = el('div', { class: 'legend k-legend', testid: 'k-grid-legend', attrs: { 'aria-hidden': 'true' } });
  private readonly scroller = el('div', { class: 'kgrid-scroll', attrs: { tabindex: 0 } });
  private readonly sizer = el('div', { class: 'heatmap-sizer' });
  private readonly canvas = el('canvas', { class: 'heatmap-canvas', testid: 'k-grid-canvas', attrs: { role: 'img' } });
  private width = 0;
  private height = 0;
  private labelW = 100;
  private cellW = 28;
  private dpr = 1;
  private frame = 0;
  private draws = 0;

  constructor(private readonly ctx: Ctx) {
    this.sizer.append(this.canvas);
    this.scroller.append(this.sizer);
    const tools = figureToolbar(ctx, 'k-grid', () => this.figure());
    this.root.append(el('div', { class: 'section-head' }, [this.title, this.legend, tools]), this.scroller);
    this.scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.canvas.addEventListener('mousemove', (e) => {
      const t = this.rowToken(e.offsetY);
      ctx.hover(t);
    });
    this.canvas.addEventListener('mouseleave', () => ctx.hover(null));
    this.canvas.addEventListener('click', (e) => {
      if (e.offsetY < K_HEADER_H) {
        const l = Math.floor((e.offsetX - this.labelW) / this.cellW);
        if (l >= 0) ctx.selectLayer(l);
        return;
      }
      const t = this.rowToken(e.offsetY);
      if (t !== null) ctx.reveal(t);
    });
    new ResizeObserver(() => this.resize()).observe(this.scroller);
  }

  private rowToken(y: number): number | null {
    const d = this.ctx.derived();
    if (!d || y < K_HEADER_H) return null;
    const r = Math.floor((y - K_HEADER_H + this.scroller.scrollTop) / K_ROW_H);
    return r >= 0 && r < d.rows.length ? d.rows[r] : null;
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    this.root.hidden = !d || s.view !== 'chart';
    if (!d) return;
    if (changed.has('analysis')) {
      const contentH = K_HEADER_H + d.rows.length * K_ROW_H;
      this.sizer.style.height = `${contentH}px`;
      this.scroller.style.height = `${Math.min(contentH + 2, MAX_VIEW_H)}px`;
      this.scroller.scrollTop = 0;
      this.root.dataset.rows = String(d.rows.length);
      this.root.dataset.cols = String(d.analysis.layers.length);
      this.root.dataset.k = d.rows.map((t) => d.analysis.layers.map((l) => l.k[t]).join('')).join(',');
      this.buildLegend();
      this.resize();
    }
    if (changed.has('view') && s.view === 'chart') this.resize();
    this.root.dataset.layer = String(s.layer);
    const a = d.analysis;
    this.canvas.setAttribute(
      'aria-label',
      `K of ${d.rows.length} tokens in ${a.layers.length} layers; layer ${s.layer} selected. The table view lists the same values.`,
    );
    if (changed.has('cursorToken') && s.cursorToken !== null) this.scrollToToken(s.cursorToken);
    this.schedule();
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
  }

  private scrollToToken(t: number): void {
    const d = this.ctx.derived();
    const row = d ? (d.rowOf[t] ?? -1) : -1;
    if (row < 0) return;
    const top = row * K_ROW_H;
    const view = this.scroller.clientHeight - K_HEADER_H;
    if (top < this.scroller.scrollTop || top + K_ROW_H > this.scroller.scrollTop + view)
      this.scroller.scrollTop = Math.max(0, top - (view - K_ROW_H) / 2);
  }

  private resize(): void {
    const d = this.ctx.derived();
    if (!d || this.root.hidden) return;
    const width = this.scroller.clientWidth;
    const height = this.scroller.clientHeight;
    if (width === 0 || height === 0) return;
    this.dpr = window.devicePixelRatio || 1;
    const L = Math.max(1, d.analysis.layers.length);
    this.labelW = Math.round(Math.min(160, Math.max(64, width * 0.3)));
    this.cellW = Math.max(14, Math.min(40, Math.floor((width - this.labelW - 4) / L)));
    this.width = width;
    this.height = height;
    this.canvas.width = Math.round(width * this.dpr);
    this.canvas.height = Math.round(height * this.dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.draw();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const d = this.ctx.derived();
    const c = this.canvas.getContext('2d');
    if (!d || !c || this.root.hidden || this.width === 0) return;
    const s = this.ctx.store.get();
    const th = this.ctx.theme();
    const a = d.analysis;
    const L = a.layers.length;
    const { width, height, labelW, cellW } = this;
    const scrollTop = this.scroller.scrollTop;
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    c.fillStyle = th.background;
    c.fillRect(0, 0, width, height);
    const first = Math.max(0, Math.floor(scrollTop / K_ROW_H));
    const last = Math.min(d.rows.length - 1, Math.floor((scrollTop + height - K_HEADER_H) / K_ROW_H));
    const fontPx = Math.max(10, Math.min(13, th.fontSize - 1));
    c.textBaseline = 'middle';
    c.save();
    c.beginPath();
    c.rect(0, K_HEADER_H, width, height - K_HEADER_H);
    c.clip();
    for (let r = first; r <= last; r++) {
      const t = d.rows[r];
      const y = K_HEADER_H + r * K_ROW_H - scrollTop;
      const lit = t === s.cursorToken || t === s.hoverToken;
      if (lit && !th.highContrast) {
        c.fillStyle = t === s.cursorToken ? th.selectionBackground : th.hoverBackground;
        c.fillRect(0, y, labelW, K_ROW_H);
      }
      c.font = `${fontPx}px ${th.monoFamily}`;
      c.fillStyle = th.foreground;
      c.textAlign = 'right';
      c.fillText(truncateToWidth(c, tokenShownText(a.tokens[t], a), labelW - 10), labelW - 6, y + K_ROW_H / 2);
      c.textAlign = 'center';
      c.font = `${Math.max(10, fontPx - 1)}px ${th.fontFamily}`;
      for (let l = 0; l < L; l++) {
        const k = a.layers[l].k[t];
        const pos = kPosition(k, d.kMax);
        if (pos < 0) continue;
        const x = labelW + l * cellW;
        c.fillStyle = colourAt(pos);
        c.fillRect(x + 0.5, y + 0.5, cellW - 1, K_ROW_H - 1);
        c.fillStyle = textOn(pos);
        c.fillText(String(k), x + cellW / 2, y + K_ROW_H / 2 + 0.5);
      }
      if (lit) {
        c.strokeStyle = th.highContrast ? th.contrastActiveBorder : th.focus;
        c.lineWidth = t === s.cursorToken ? 2 : 1;
        c.strokeRect(1, y + 1, labelW + L * cellW - 2, K_ROW_H - 2);
      }
    }
    c.restore();
    // Header, and the selected layer's column outlined over the rows.
    c.fillStyle = th.background;
    c.fillRect(0, 0, width, K_HEADER_H);
    c.font = `${Math.max(10, fontPx - 1)}px ${th.fontFamily}`;
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
    this.draws++;
    this.root.dataset.draws = String(this.draws);
    this.root.dataset.firstRow = String(first);
    this.root.dataset.visibleRows = String(Math.max(0, last - first + 1));
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
