/**
 * The panels' charts: small SVG charts (themed by CSS classes, so theme changes need no redraw; text only via text
 * nodes) and the virtualised canvas rows of the K grid and the heatmap (CanvasRows).
 */
import { truncateToWidth } from './canvas-text';
import { el, fmtNum, svg } from './dom';

export interface KHistOptions {
  counts: number[];
  meanK: number;
  width: number;
  height: number;
  compact: boolean;
  label: string;
}

/**
 * K histogram: bars for K = 1..kMax (the counts also hold K = 0, padding, which the panels never have, so it is
 * not drawn), dashed reference lines at K = 1 (top-1) and K = 2 (top-2), a solid line at mean K. Large charts label
 * the lines in two rows above the plot (top-k row, mean row); the lines start below both rows and are cut around
 * every bar count they would cross, so no line runs through a label. Compact charts draw the lines only (the
 * section legend explains them).
 */
export function kHistogramSvg(o: KHistOptions): SVGSVGElement {
  const first = o.counts.length > 1 ? 1 : 0;
  const shown = o.counts.slice(first);
  const n = Math.max(1, shown.length);
  const padL = o.compact ? 4 : 34;
  const padR = o.compact ? 4 : 10;
  const padT = o.compact ? 4 : 40;
  const padB = o.compact ? 14 : 20;
  const w = o.width - padL - padR;
  const h = o.height - padT - padB;
  const max = Math.max(1, ...shown);
  // x of K = k (k >= first).
  const x = (k: number): number => padL + ((k - first + 0.5) / n) * w;
  const bw = Math.max(2, (w / n) * 0.72);
  const total = o.counts.reduce((a, b) => a + b, 0);
  const desc = shown.map((c, i) => `K=${i + first}: ${c}`).join(', ');
  const root = svg('svg', {
    class: 'chart khist' + (o.compact ? ' compact' : ''),
    width: o.width,
    height: o.height,
    viewBox: `0 0 ${o.width} ${o.height}`,
    role: 'img',
    'aria-label': `${o.label}: ${desc}; ${total} tokens; mean K ${fmtNum(o.meanK)}`,
  });
  root.append(svg('title', {}, [`${o.label}\n${desc}\nmean K ${fmtNum(o.meanK)}`]));
  root.append(svg('line', { class: 'axis', x1: padL, x2: padL + w, y1: padT + h + 0.5, y2: padT + h + 0.5 }));
  if (!o.compact) {
    root.append(svg('text', { class: 'tick', x: padL - 6, y: padT + 4, 'text-anchor': 'end' }, [String(max)]));
    root.append(svg('text', { class: 'tick', x: padL - 6, y: padT + h, 'text-anchor': 'end' }, ['0']));
  }
  /** Boxes of the bar counts (x0, x1, y0, y1): reference lines leave a gap there. */
  const labelBoxes: [number, number, number, number][] = [];
  shown.forEach((c, i) => {
    const k = i + first;
    const bh = (c / max) * h;
    const rect = svg('rect', {
      class: 'bar',
      x: x(k) - bw / 2,
      y: padT + h - bh,
      width: bw,
      height: Math.max(0, bh),
      'data-k': k,
      'data-count': c,
    });
    rect.append(svg('title', {}, [`K = ${k}: ${c} token${c === 1 ? '' : 's'}${total ? ` (${((100 * c) / total).toFixed(1)}%)` : ''}`]));
    root.append(rect);
    root.append(svg('text', { class: 'tick', x: x(k), y: padT + h + (o.compact ? 11 : 14), 'text-anchor': 'middle' }, [String(k)]));
    if (!o.compact && c > 0) {
      const y = padT + h - bh - 3;
      root.append(svg('text', { class: 'count', x: x(k), y, 'text-anchor': 'middle' }, [String(c)]));
      const half = 3.2 * String(c).length + 3;
      labelBoxes.push([x(k) - half, x(k) + half, y - 10, y + 2]);
    }
  });
  const refLayer = svg('g', { class: 'refs' });
  const top = o.compact ? padT : padT - 4;
  const ref = (k: number, cls: string, text: string, labelY: number): void => {
    if (!(k >= first - 0.5) || k > first + n - 0.5) return;
    const xx = x(k);
    // The line from `top` to the axis, minus the gaps of the counts it would cross.
    const gaps = labelBoxes.filter(([x0, x1]) => xx >= x0 && xx <= x1).sort((a, b) => a[2] - b[2]);
    let y = top;
    for (const [, , y0, y1] of gaps) {
      if (y0 > y) refLayer.append(svg('line', { class: `ref ${cls}`, x1: xx, x2: xx, y1: y, y2: y0 }));
      y = Math.max(y, y1);
    }
    if (y < padT + h) refLayer.append(svg('line', { class: `ref ${cls}`, x1: xx, x2: xx, y1: y, y2: padT + h, 'data-ref': text }));
    if (!o.compact) {
      const lx = Math.max(padL + 16, Math.min(padL + w - 16, xx));
      root.append(svg('text', { class: `ref-label ${cls}-label`, x: lx, y: labelY, 'text-anchor': 'middle' }, [text]));
    }
  };
  ref(1, 'ref-top', 'top-1', 10);
  ref(2, 'ref-top', 'top-2', 10);
  ref(o.meanK, 'ref-mean', `mean ${fmtNum(o.meanK)}`, 24);
  // Lines behind the bars (visible above them), labels on top of everything.
  root.insertBefore(refLayer, root.querySelector('rect.bar'));
  return root;
}

export interface LoadOptions {
  tokens: number[];
  utilisation: number[];
  gateMass: number[];
  dead: number[];
  maxTokens: number;
  width: number;
  height: number;
  label: string;
}

/** Expert load: one bar per expert (tokens routed), a dashed line at perfect balance, dead experts crossed. */
export function loadSvg(o: LoadOptions): SVGSVGElement {
  const E = Math.max(1, o.tokens.length);
  const padL = 4;
  const padR = 4;
  const padT = 6;
  const padB = 13;
  const w = o.width - padL - padR;
  const h = o.height - padT - padB;
  const max = Math.max(1, o.maxTokens);
  const slot = w / E;
  const bw = Math.max(1, slot * 0.74);
  const dead = new Set(o.dead);
  const total = o.tokens.reduce((a, b) => a + b, 0);
  const root = svg('svg', {
    class: 'chart load',
    width: o.width,
    height: o.height,
    viewBox: `0 0 ${o.width} ${o.height}`,
    role: 'img',
    'aria-label': `${o.label}: ${o.tokens.map((t, e) => `expert ${e} ${t}`).join(', ')}${o.dead.length ? `; dead: ${o.dead.join(', ')}` : ''}`,
  });
  root.append(svg('line', { class: 'axis', x1: padL, x2: padL + w, y1: padT + h + 0.5, y2: padT + h + 0.5 }));
  o.tokens.forEach((t, e) => {
    const bh = (t / max) * h;
    const x = padL + e * slot + (slot - bw) / 2;
    const tip = `expert ${e}: ${t} tokens, utilisation ${fmtNum(o.utilisation[e] ?? 0)}, gate mass ${Number.isNaN(o.gateMass[e]) || o.gateMass[e] === null ? 'not recorded' : fmtNum(o.gateMass[e] ?? 0, 1)}${dead.has(e) ? ' — dead' : ''}`;
    if (dead.has(e)) {
      const g = svg('g', { class: 'dead', 'data-expert': e });
      g.append(svg('title', {}, [tip]));
      g.append(svg('rect', { class: 'dead-slot', x, y: padT, width: bw, height: h }));
      const cx = x + bw / 2;
      const cy = padT + h - Math.min(bw, 8) / 2 - 1;
      const r = Math.min(bw, 8) / 2;
      g.append(svg('path', { class: 'dead-cross', d: `M${cx - r},${cy - r}L${cx + r},${cy + r}M${cx + r},${cy - r}L${cx - r},${cy + r}` }));
      root.append(g);
    } else {
      const rect = svg('rect', {
        class: 'bar',
        x,
        y: padT + h - bh,
        width: bw,
        height: Math.max(0, bh),
        'data-expert': e,
        'data-tokens': t,
      });
      rect.append(svg('title', {}, [tip]));
      root.append(rect);
    }
    if (E <= 16 || e % 4 === 0)
      root.append(svg('text', { class: 'tick', x: x + bw / 2, y: padT + h + 10, 'text-anchor': 'middle' }, [String(e)]));
  });
  if (total > 0) {
    const y = padT + h - (total / E / max) * h;
    root.append(svg('line', { class: 'ref ref-balance', x1: padL, x2: padL + w, y1: y, y2: y }));
  }
  return root;
}

export function figure(
  testid: string,
  caption: (Node | string)[],
  chart: Element,
  attrs: Record<string, string | number> = {},
): HTMLElement {
  const f = el('figure', { class: 'chart-figure', testid, attrs });
  f.append(chart, el('figcaption', {}, caption));
  return f;
}

// ---- virtualised canvas rows (the routing panel's K grid and heatmap) --------------------------------------------

/** What one draw covers: rows [first, last] are visible under the header band, scrolled by scrollTop (CSS px). */
export interface VisibleRows {
  first: number;
  last: number;
  scrollTop: number;
  width: number;
  height: number;
}

export interface CanvasRowsOptions {
  rowH: number;
  headerH: number;
  /** The scroller is as tall as its rows, up to this (CSS px). */
  maxViewH: number;
  /** Added to the rows' height for the scroller (its border). */
  borderH?: number;
  scrollerClass: string;
  scrollerTestId?: string;
  canvasTestId: string;
  /** Gets data-draws, data-draw-ms, data-first-row and data-visible-rows after every draw (tests read them). */
  stats: HTMLElement;
  /** Nothing is sized or drawn while this says so (the section is hidden). */
  hidden(): boolean;
  /** The page background, painted under rows and header. */
  background(): string;
  /** The canvas got a new CSS width (first layout, resize, zoom): recompute column widths. */
  layout(width: number): void;
  /** Draws the visible rows (clipped below the header band, transform already scaled by devicePixelRatio). */
  drawRows(c: CanvasRenderingContext2D, v: VisibleRows): void;
  /** Draws the header band over the rows. */
  drawHeader(c: CanvasRenderingContext2D, v: VisibleRows): void;
}

/**
 * Many rows on one canvas: a scroller holding a sizer as tall as every row, and a sticky, viewport-sized canvas
 * (devicePixelRatio-aware) that draws only the visible rows, so 4,096 rows cost a frame what 20 do. Draws are
 * coalesced to one per animation frame; the layout is read in that frame, never in the middle of a view update
 * (no forced layout while other views are still writing the DOM).
 */
export class CanvasRows {
  readonly scroller: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly sizer = el('div', { class: 'heatmap-sizer' });
  width = 0;
  height = 0;
  private dpr = 1;
  private rows = 0;
  private frame = 0;
  private sizeDirty = true;
  private draws = 0;
  private scrollToTop = false;

  constructor(private readonly o: CanvasRowsOptions) {
    this.scroller = el('div', { class: o.scrollerClass, testid: o.scrollerTestId, attrs: { tabindex: 0 } });
    this.canvas = el('canvas', { class: 'heatmap-canvas', testid: o.canvasTestId, attrs: { role: 'img' } });
    this.sizer.append(this.canvas);
    this.scroller.append(this.sizer);
    this.scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.invalidateSize()).observe(this.scroller);
    const watchDpr = (): void => {
      matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener(
        'change',
        () => {
          this.invalidateSize();
          watchDpr();
        },
        { once: true },
      );
    };
    watchDpr();
  }

  /** A new row count: the scroll range and the scroller's height follow it, scrolled back to the top. */
  setRows(n: number): void {
    this.rows = n;
    const contentH = this.o.headerH + n * this.o.rowH;
    this.sizer.style.height = `${contentH}px`;
    this.scroller.style.height = `${Math.min(contentH + (this.o.borderH ?? 0), this.o.maxViewH)}px`;
    // Scrolled back in the frame: setting scrollTop here would force a layout in the middle of the views' updates.
    this.scrollToTop = true;
    this.invalidateSize();
  }

  /** The canvas is sized again before the next draw (shown again, resized). */
  invalidateSize(): void {
    this.sizeDirty = true;
    this.schedule();
  }

  /** The row under y (the canvas's offsetY), or null on the header band or past the last row. */
  rowAt(y: number): number | null {
    if (y < this.o.headerH) return null;
    const r = Math.floor((y - this.o.headerH + this.scroller.scrollTop) / this.o.rowH);
    return r >= 0 && r < this.rows ? r : null;
  }

  /** Scrolls so that `row` is visible (centred when it was not). */
  scrollToRow(row: number): void {
    if (row < 0 || row >= this.rows) return;
    this.scrollToTop = false;
    const top = row * this.o.rowH;
    const view = this.scroller.clientHeight - this.o.headerH;
    if (top < this.scroller.scrollTop || top + this.o.rowH > this.scroller.scrollTop + view)
      this.scroller.scrollTop = Math.max(0, top - (view - this.o.rowH) / 2);
    this.schedule();
  }

  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private resize(): boolean {
    const width = this.scroller.clientWidth;
    const height = this.scroller.clientHeight;
    if (width === 0 || height === 0) return false;
    this.dpr = window.devicePixelRatio || 1;
    this.width = width;
    this.height = height;
    this.canvas.width = Math.round(width * this.dpr);
    this.canvas.height = Math.round(height * this.dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.sizeDirty = false;
    this.o.layout(width);
    return true;
  }

  private draw(): void {
    if (this.o.hidden()) return;
    if (this.scrollToTop) {
      this.scrollToTop = false;
      this.scroller.scrollTop = 0;
    }
    if (this.sizeDirty && !this.resize()) return;
    const c = this.canvas.getContext('2d');
    if (!c) return;
    const t0 = performance.now();
    const { width, height } = this;
    const { rowH, headerH } = this.o;
    const scrollTop = this.scroller.scrollTop;
    const first = Math.max(0, Math.floor(scrollTop / rowH));
    const last = Math.min(this.rows - 1, Math.floor((scrollTop + height - headerH) / rowH));
    const v: VisibleRows = { first, last, scrollTop, width, height };
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    c.fillStyle = this.o.background();
    c.fillRect(0, 0, width, height);
    c.textBaseline = 'middle';
    c.save();
    c.beginPath();
    c.rect(0, headerH, width, height - headerH);
    c.clip();
    this.o.drawRows(c, v);
    c.restore();
    c.fillStyle = this.o.background();
    c.fillRect(0, 0, width, headerH);
    this.o.drawHeader(c, v);
    this.draws++;
    const ds = this.o.stats.dataset;
    ds.drawMs = (performance.now() - t0).toFixed(2);
    ds.draws = String(this.draws);
    ds.firstRow = String(first);
    ds.visibleRows = String(Math.max(0, last - first + 1));
  }
}

/** A row's label, right-aligned before x = labelW and cut with … to fit (the caller sets font and fill). */
export function drawRowLabel(c: CanvasRenderingContext2D, text: string, labelW: number, y: number, rowH: number): void {
  c.textAlign = 'right';
  c.fillText(truncateToWidth(c, text, labelW - 10), labelW - 6, y + rowH / 2);
}
