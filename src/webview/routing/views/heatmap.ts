/**
 * Token × expert heatmap of one layer on a <canvas>: one row per non-special token (label, K, one cell per expert),
 * gate weights (zero where the token did not use the expert) or router probabilities (chosen experts dotted).
 * Virtualised: a tall sizer gives the scroll range, a sticky viewport-sized canvas draws only the visible rows
 * (devicePixelRatio-aware), so 4,096 rows cost the same per frame as 20. Hover hit-tests rows and cells.
 */
import type { Ctx, View } from '../context';
import { el, fmtNum } from '../../shared/dom';
import { truncateToWidth } from './canvasText';
import { LUT_CSS, gradientCss, lutIndex, textOn } from '../../../shared/palette';
import type { ThemeTokens } from '../theme';
import { DROPPED_TEXT, isDropped, layerLabel } from '../../../shared/router-text';
import type { HeatmapValue } from '../store';
import { cellValue } from '../model';
import { figureToolbar } from '../figureTools';
import type { GridFigureSpec } from '../../shared/figure';
import { tokenDescription, tokenShownText } from '../../../shared/token-text';

/** What the heatmap shows, by measure (title, legend, help). */
export const HEATMAP_WHAT: Record<HeatmapValue, string> = {
  gateK: 'compute share (gate × K / K max)',
  gates: 'gate weights',
  routerProbs: 'router probabilities',
};
const HEATMAP_LEGEND: Record<HeatmapValue, string> = { gateK: 'gate × K / K max', gates: 'gate', routerProbs: 'probability' };
const HEATMAP_HELP: Record<HeatmapValue, string> = {
  gateK: "Each row sums to the token's K / K max, split among its experts by their gates: tokens that got more experts are hotter.",
  gates: 'The gates as the model output them; renormalised top-K gates give a K=1 token a single gate of 1.0.',
  routerProbs: "The router's softmax over all experts before top-K selection; the chosen experts are dotted.",
};

export const ROW_H = 18;
export const HEADER_H = 24;
const K_W = 30;
const MAX_VIEW_H = 440;

interface Layout {
  width: number;
  height: number;
  labelW: number;
  x0: number;
  cellW: number;
}

export class HeatmapView implements View {
  readonly root = el('section', { class: 'section heatmap-section', testid: 'heatmap', attrs: { 'aria-labelledby': 'heatmap-title' } });
  private readonly title = el('h2', { class: 'section-title', attrs: { id: 'heatmap-title' } });
  private readonly scroller = el('div', { class: 'heatmap-scroll', testid: 'heatmap-scroll', attrs: { tabindex: 0 } });
  private readonly sizer = el('div', { class: 'heatmap-sizer' });
  private readonly canvas = el('canvas', { class: 'heatmap-canvas', testid: 'heatmap-canvas', attrs: { role: 'img' } });
  private readonly tooltip = el('div', { class: 'tooltip', testid: 'heatmap-tooltip', attrs: { role: 'tooltip', hidden: true } });
  private readonly legendLabel = el('span', { class: 'muted' });
  private layout: Layout = { width: 0, height: 0, labelW: 120, x0: 150, cellW: 20 };
  private dpr = 1;
  private frame = 0;
  private draws = 0;
  private hoverCell: { row: number; col: number } | null = null;

  constructor(private readonly ctx: Ctx) {
    const ramp = el('span', { class: 'legend-ramp' });
    ramp.style.backgroundImage = gradientCss();
    const legend = el('div', { class: 'legend', attrs: { 'aria-hidden': 'true' } }, [
      this.legendLabel,
      el('span', { class: 'muted', text: '0' }),
      ramp,
      el('span', { class: 'muted', text: '1' }),
    ]);
    this.sizer.append(this.canvas);
    this.scroller.append(this.sizer);
    const tools = figureToolbar(ctx, 'heatmap', () => this.figure());
    this.root.append(el('div', { class: 'section-head' }, [this.title, legend, tools]), this.scroller, this.tooltip);

    this.scroller.addEventListener(
      'scroll',
      () => {
        this.tooltip.hidden = true;
        this.schedule();
      },
      { passive: true },
    );
    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => {
      this.hoverCell = null;
      this.tooltip.hidden = true;
      ctx.hover(null);
      this.schedule();
    });
    this.canvas.addEventListener('click', (e) => {
      const hit = this.hit(e.offsetX, e.offsetY);
      if (hit) ctx.reveal(hit.token);
    });
    new ResizeObserver(() => this.resize()).observe(this.scroller);
    const watchDpr = (): void => {
      const mq = matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
      mq.addEventListener(
        'change',
        () => {
          this.resize();
          watchDpr();
        },
        { once: true },
      );
    };
    watchDpr();
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    this.root.hidden = !d || s.view !== 'chart';
    if (!d) return;
    if (changed.has('analysis')) {
      this.root.dataset.rows = String(d.rows.length);
      this.root.dataset.cols = String(d.numExperts);
      const contentH = HEADER_H + d.rows.length * ROW_H;
      this.sizer.style.height = `${contentH}px`;
      this.scroller.style.height = `${Math.min(contentH, MAX_VIEW_H)}px`;
      this.scroller.scrollTop = 0;
      this.resize();
    }
    if (changed.has('view') && s.view === 'chart') this.resize();
    this.root.dataset.layer = String(s.layer);
    this.root.dataset.value = s.heatmapValue;
    const noGates = d.analysis.model.gatesAvailable === false;
    const what = noGates ? 'experts routed to (gates not recorded)' : HEATMAP_WHAT[s.heatmapValue];
    this.title.textContent = `Token × expert · layer ${s.layer} · ${what}`;
    this.legendLabel.textContent = noGates ? 'routed' : HEATMAP_LEGEND[s.heatmapValue];
    this.legendLabel.title = noGates ? 'The trace records which experts were chosen, not their gates.' : HEATMAP_HELP[s.heatmapValue];
    const a = d.analysis;
    this.canvas.setAttribute(
      'aria-label',
      `Heatmap of ${what} in layer ${s.layer}: ${d.rows.length} tokens by ${d.numExperts} experts, mean K ${fmtNum(a.stats.meanK.perLayer[s.layer] ?? NaN)}. ` +
        'The table view lists the same values.',
    );
    this.scroller.setAttribute('aria-label', `Heatmap, ${d.rows.length} rows; scroll with the arrow keys`);
    if (changed.has('cursorToken') && s.cursorToken !== null) this.scrollToToken(s.cursorToken);
    this.schedule();
  }

  /** Scrolls so that token t's row is visible (centred when it was not). */
  scrollToToken(t: number): void {
    const d = this.ctx.derived();
    if (!d) return;
    const row = d.rowOf[t] ?? -1;
    if (row < 0) return;
    const top = row * ROW_H;
    const viewRows = this.scroller.clientHeight - HEADER_H;
    if (top < this.scroller.scrollTop || top + ROW_H > this.scroller.scrollTop + viewRows) {
      this.scroller.scrollTop = Math.max(0, top - (viewRows - ROW_H) / 2);
    }
    this.schedule();
  }

  private resize(): void {
    const d = this.ctx.derived();
    if (!d || this.root.hidden) return;
    const width = this.scroller.clientWidth;
    const height = this.scroller.clientHeight;
    if (width === 0 || height === 0) return;
    this.dpr = window.devicePixelRatio || 1;
    const labelW = Math.round(Math.min(180, Math.max(70, width * 0.28)));
    const avail = width - labelW - K_W - 6;
    const cellW = Math.max(6, Math.min(44, Math.floor(avail / Math.max(1, d.numExperts))));
    this.layout = { width, height, labelW, x0: labelW + K_W, cellW };
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

  private hit(x: number, y: number): { row: number; col: number; token: number } | null {
    const d = this.ctx.derived();
    if (!d || y < HEADER_H) return null;
    const row = Math.floor((y - HEADER_H + this.scroller.scrollTop) / ROW_H);
    if (row < 0 || row >= d.rows.length) return null;
    const { x0, cellW } = this.layout;
    const col = x >= x0 ? Math.floor((x - x0) / cellW) : -1;
    return { row, col: col < d.numExperts ? col : -1, token: d.rows[row] };
  }

  private onMove(e: MouseEvent): void {
    const hit = this.hit(e.offsetX, e.offsetY);
    const prev = this.hoverCell;
    this.hoverCell = hit ? { row: hit.row, col: hit.col } : null;
    if (!prev || !hit || prev.row !== hit.row || prev.col !== hit.col) this.schedule();
    if (!hit) {
      this.tooltip.hidden = true;
      this.ctx.hover(null);
      return;
    }
    this.ctx.hover(hit.token);
    this.showTooltip(hit.token, hit.col, e.clientX, e.clientY);
  }

  private showTooltip(t: number, col: number, cx: number, cy: number): void {
    const d = this.ctx.derived()!;
    const s = this.ctx.store.get();
    const layer = d.analysis.layers[s.layer];
    const tok = d.analysis.tokens[t];
    const lines = [`#${t} “${tokenDescription(tok, d.analysis)}”`, `layer ${layerLabel(layer)} · K = ${layer.k[t]}`];
    if (isDropped(layer, t)) lines.push(DROPPED_TEXT);
    if (col >= 0) {
      const j = layer.experts[t].indexOf(col);
      if (d.analysis.model.gatesAvailable === false) {
        lines.push(`expert ${col}: ${j >= 0 ? 'routed' : 'not routed'} (gate and router probability not recorded)`);
      } else {
        const gate = j >= 0 ? layer.gates[t][j] : 0;
        const prob = layer.routerProbs[t]?.[col] ?? 0;
        lines.push(
          `expert ${col}: gate ${j >= 0 ? fmtNum(gate, 3) : '— (not routed)'}`,
          `compute share ${fmtNum(cellValue(d, 'gateK', s.layer, t, col), 3)}`,
          `router prob ${fmtNum(prob, 3)}`,
        );
      }
    } else {
      lines.push(`experts: ${layer.experts[t].map((e, j) => `E${e} ${fmtNum(layer.gates[t][j], 2)}`).join(', ') || 'none'}`);
    }
    if (tok.generated) lines.push('generated by the engine');
    if (tok.recorded === false) lines.push('routing not recorded by the engine');
    this.tooltip.textContent = lines.join('\n');
    this.tooltip.hidden = false;
    const w = this.tooltip.offsetWidth;
    const h = this.tooltip.offsetHeight;
    const left = cx + 14 + w > window.innerWidth ? cx - w - 10 : cx + 14;
    const top = cy + 16 + h > window.innerHeight ? cy - h - 8 : cy + 16;
    this.tooltip.style.left = `${Math.max(0, left)}px`;
    this.tooltip.style.top = `${Math.max(0, top)}px`;
  }

  private draw(): void {
    const d = this.ctx.derived();
    const c = this.canvas.getContext('2d');
    if (!d || !c || this.root.hidden || this.layout.width === 0) return;
    const t0 = performance.now();
    const s = this.ctx.store.get();
    const th: ThemeTokens = this.ctx.theme();
    const layer = d.analysis.layers[s.layer];
    const { width, height, labelW, x0, cellW } = this.layout;
    const E = d.numExperts;
    const scrollTop = this.scroller.scrollTop;
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    c.fillStyle = th.background;
    c.fillRect(0, 0, width, height);

    const first = Math.max(0, Math.floor(scrollTop / ROW_H));
    const last = Math.min(d.rows.length - 1, Math.floor((scrollTop + height - HEADER_H) / ROW_H));
    const fontPx = Math.max(10, Math.min(13, th.fontSize - 1));
    const empty = th.kind === 'light' || th.kind === 'hc-light' ? 'rgba(0,0,0,0.06)' : 'rgba(255,255,255,0.07)';
    // A routing trace has neither gates nor router probabilities: chosen experts are drawn at full strength.
    const noGates = d.analysis.model.gatesAvailable === false;
    const probs = s.heatmapValue === 'routerProbs' && !noGates;
    c.textBaseline = 'middle';
    c.save();
    c.beginPath();
    c.rect(0, HEADER_H, width, height - HEADER_H);
    c.clip();
    c.font = `${fontPx}px ${th.monoFamily}`;
    for (let r = first; r <= last; r++) {
      const t = d.rows[r];
      const y = HEADER_H + r * ROW_H - scrollTop;
      const isCursor = t === s.cursorToken;
      const isHover = t === s.hoverToken;
      if (isCursor || isHover) {
        // High contrast: outline only (the selection colour there is a full-strength fill).
        if (!th.highContrast) {
          c.fillStyle = isCursor ? th.selectionBackground : th.hoverBackground;
          c.fillRect(0, y, x0 + E * cellW, ROW_H);
        }
      }
      c.fillStyle = th.foreground;
      c.textAlign = 'right';
      c.fillText(truncateToWidth(c, tokenShownText(d.analysis.tokens[t], d.analysis), labelW - 10), labelW - 6, y + ROW_H / 2);
      c.textAlign = 'center';
      c.fillStyle = th.muted;
      c.fillText(String(layer.k[t]), labelW + K_W / 2, y + ROW_H / 2);
      const experts = layer.experts[t];
      const gates = layer.gates[t];
      if (probs) {
        const p = layer.routerProbs[t];
        for (let e = 0; e < E; e++) {
          c.fillStyle = LUT_CSS[lutIndex(p[e] ?? 0)];
          c.fillRect(x0 + e * cellW + 0.5, y + 0.5, cellW - 1, ROW_H - 1);
        }
        for (let j = 0; j < experts.length; j++) {
          const e = experts[j];
          c.fillStyle = textOn(p[e] ?? 0);
          c.beginPath();
          c.arc(x0 + e * cellW + cellW / 2, y + ROW_H / 2, Math.min(2.5, cellW / 5), 0, Math.PI * 2);
          c.fill();
        }
      } else {
        c.fillStyle = empty;
        for (let e = 0; e < E; e++) c.fillRect(x0 + e * cellW + 0.5, y + 0.5, cellW - 1, ROW_H - 1);
        const scale = s.heatmapValue === 'gateK' ? layer.k[t] / Math.max(1, d.kMax) : 1;
        for (let j = 0; j < experts.length; j++) {
          c.fillStyle = LUT_CSS[lutIndex((noGates ? 1 : gates[j]) * scale)];
          c.fillRect(x0 + experts[j] * cellW + 0.5, y + 0.5, cellW - 1, ROW_H - 1);
        }
      }
      if (th.highContrast) {
        c.strokeStyle = th.contrastBorder;
        c.lineWidth = 1;
        for (const e of experts) c.strokeRect(x0 + e * cellW + 1, y + 1, cellW - 2, ROW_H - 2);
      }
      if (isCursor || isHover) {
        c.strokeStyle = th.highContrast ? th.contrastActiveBorder : th.focus;
        c.lineWidth = isCursor ? 2 : 1;
        c.setLineDash(isCursor ? [] : [3, 2]);
        c.strokeRect(1, y + 1, x0 + E * cellW - 2, ROW_H - 2);
        c.setLineDash([]);
      }
    }
    if (this.hoverCell && this.hoverCell.col >= 0 && this.hoverCell.row >= first && this.hoverCell.row <= last) {
      const y = HEADER_H + this.hoverCell.row * ROW_H - scrollTop;
      c.strokeStyle = th.highContrast ? th.contrastActiveBorder : th.foreground;
      c.lineWidth = 2;
      c.strokeRect(x0 + this.hoverCell.col * cellW + 1, y + 1, cellW - 2, ROW_H - 2);
    }
    c.restore();

    // Header band (drawn over the rows).
    c.fillStyle = th.background;
    c.fillRect(0, 0, width, HEADER_H);
    c.fillStyle = th.muted;
    c.font = `${Math.max(10, fontPx - 1)}px ${th.fontFamily}`;
    c.textAlign = 'right';
    c.fillText('token', labelW - 6, HEADER_H / 2);
    c.textAlign = 'center';
    c.fillText('K', labelW + K_W / 2, HEADER_H / 2);
    const every = cellW >= 18 ? 1 : cellW >= 10 ? 2 : 4;
    for (let e = 0; e < E; e += every) c.fillText(cellW >= 24 ? `E${e}` : String(e), x0 + e * cellW + cellW / 2, HEADER_H / 2);
    c.fillStyle = th.border;
    c.fillRect(0, HEADER_H - 1, Math.min(width, x0 + E * cellW), 1);

    this.draws++;
    this.root.dataset.drawMs = (performance.now() - t0).toFixed(2);
    this.root.dataset.draws = String(this.draws);
    this.root.dataset.firstRow = String(first);
    this.root.dataset.visibleRows = String(Math.max(0, last - first + 1));
  }

  /** The whole heatmap of the selected layer (every row), for PNG / SVG export. */
  figure(): GridFigureSpec {
    const d = this.ctx.derived()!;
    const s = this.ctx.store.get();
    const a = d.analysis;
    return {
      title: `Layer ${s.layer} · ${HEATMAP_WHAT[s.heatmapValue]} · ${a.model.name}`,
      rowLabels: d.rows.map((t) => tokenShownText(a.tokens[t], a)),
      rowTitles: d.rows.map((t) => tokenDescription(a.tokens[t], a)),
      colLabels: Array.from({ length: d.numExperts }, (_, e) => `E${e}`),
      cellW: 22,
      cell: (r, e) => {
        const t = d.rows[r];
        const v = cellValue(d, s.heatmapValue, s.layer, t, e);
        if (s.heatmapValue !== 'routerProbs' && a.layers[s.layer].experts[t].indexOf(e) < 0) return null;
        return { fill: LUT_CSS[lutIndex(v)] };
      },
      legend: [0, 0.25, 0.5, 0.75, 1].map((v) => ({ label: `${HEATMAP_LEGEND[s.heatmapValue]} ${v}`, fill: LUT_CSS[lutIndex(v)] })),
    };
  }
}
