/**
 * Token × expert heatmap of one layer on a <canvas>: one row per non-special token (label, K, one cell per expert),
 * gate weights (zero where the token did not use the expert) or router probabilities (chosen experts dotted).
 * Virtualised (shared/charts.ts CanvasRows): only the visible rows are drawn, so 4,096 rows cost the same per frame
 * as 20. Hover hit-tests rows and cells.
 */
import type { Ctx, View } from '../context';
import { el, fmtNum } from '../../shared/dom';
import { CanvasRows, drawRowLabel, type VisibleRows } from '../../shared/charts';
import { LUT_CSS, gradientCss, lutIndex, textOn } from '../../../shared/palette';
import type { ThemeTokens } from '../../shared/theme';
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

export class HeatmapView implements View {
  readonly root = el('section', { class: 'section heatmap-section', testid: 'heatmap', attrs: { 'aria-labelledby': 'heatmap-title' } });
  private readonly title = el('h2', { class: 'section-title', attrs: { id: 'heatmap-title' } });
  private readonly tooltip = el('div', { class: 'tooltip', testid: 'heatmap-tooltip', attrs: { role: 'tooltip', hidden: true } });
  private readonly legendLabel = el('span', { class: 'muted' });
  private readonly grid: CanvasRows;
  private labelW = 120;
  private x0 = 150;
  private cellW = 20;
  private hoverCell: { row: number; col: number } | null = null;

  constructor(private readonly ctx: Ctx) {
    this.grid = new CanvasRows({
      rowH: ROW_H,
      headerH: HEADER_H,
      maxViewH: MAX_VIEW_H,
      scrollerClass: 'heatmap-scroll',
      scrollerTestId: 'heatmap-scroll',
      canvasTestId: 'heatmap-canvas',
      stats: this.root,
      hidden: () => this.root.hidden || !ctx.derived(),
      background: () => ctx.theme().background,
      layout: (width) => {
        this.labelW = Math.round(Math.min(180, Math.max(70, width * 0.28)));
        const avail = width - this.labelW - K_W - 6;
        this.cellW = Math.max(6, Math.min(44, Math.floor(avail / Math.max(1, ctx.derived()?.numExperts ?? 1))));
        this.x0 = this.labelW + K_W;
      },
      drawRows: (c, v) => this.drawRows(c, v),
      drawHeader: (c, v) => this.drawHeader(c, v),
    });
    const ramp = el('span', { class: 'legend-ramp' });
    ramp.style.backgroundImage = gradientCss();
    const legend = el('div', { class: 'legend', attrs: { 'aria-hidden': 'true' } }, [
      this.legendLabel,
      el('span', { class: 'muted', text: '0' }),
      ramp,
      el('span', { class: 'muted', text: '1' }),
    ]);
    const tools = figureToolbar(ctx, 'heatmap', () => this.figure());
    this.root.append(el('div', { class: 'section-head' }, [this.title, legend, tools]), this.grid.scroller, this.tooltip);

    this.grid.scroller.addEventListener('scroll', () => (this.tooltip.hidden = true), { passive: true });
    const canvas = this.grid.canvas;
    canvas.addEventListener('mousemove', (e) => this.onMove(e));
    canvas.addEventListener('mouseleave', () => {
      this.hoverCell = null;
      this.tooltip.hidden = true;
      ctx.hover(null);
      this.grid.schedule();
    });
    canvas.addEventListener('click', (e) => {
      const hit = this.hit(e.offsetX, e.offsetY);
      if (hit) ctx.reveal(hit.token);
    });
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    this.root.hidden = !d || s.view !== 'chart';
    if (!d) return;
    if (changed.has('analysis')) {
      this.root.dataset.rows = String(d.rows.length);
      this.root.dataset.cols = String(d.numExperts);
      this.grid.setRows(d.rows.length);
    }
    if (changed.has('view') && s.view === 'chart') this.grid.invalidateSize();
    this.root.dataset.layer = String(s.layer);
    this.root.dataset.value = s.heatmapValue;
    const noGates = d.analysis.model.gatesAvailable === false;
    const what = noGates ? 'experts routed to (gates not recorded)' : HEATMAP_WHAT[s.heatmapValue];
    this.title.textContent = `Token × expert · layer ${s.layer} · ${what}`;
    this.legendLabel.textContent = noGates ? 'routed' : HEATMAP_LEGEND[s.heatmapValue];
    this.legendLabel.title = noGates ? 'The trace records which experts were chosen, not their gates.' : HEATMAP_HELP[s.heatmapValue];
    const a = d.analysis;
    this.grid.canvas.setAttribute(
      'aria-label',
      `Heatmap of ${what} in layer ${s.layer}: ${d.rows.length} tokens by ${d.numExperts} experts, mean K ${fmtNum(a.stats.meanK.perLayer[s.layer] ?? NaN)}. ` +
        'The table view lists the same values.',
    );
    this.grid.scroller.setAttribute('aria-label', `Heatmap, ${d.rows.length} rows; scroll with the arrow keys`);
    if (changed.has('cursorToken') && s.cursorToken !== null) this.scrollToToken(s.cursorToken);
    this.grid.schedule();
  }

  /** Scrolls so that token t's row is visible (centred when it was not). */
  scrollToToken(t: number): void {
    const d = this.ctx.derived();
    if (d) this.grid.scrollToRow(d.rowOf[t] ?? -1);
  }

  private hit(x: number, y: number): { row: number; col: number; token: number } | null {
    const d = this.ctx.derived();
    const row = this.grid.rowAt(y);
    if (!d || row === null) return null;
    const { x0, cellW } = this;
    const col = x >= x0 ? Math.floor((x - x0) / cellW) : -1;
    return { row, col: col < d.numExperts ? col : -1, token: d.rows[row] };
  }

  private onMove(e: MouseEvent): void {
    const hit = this.hit(e.offsetX, e.offsetY);
    const prev = this.hoverCell;
    this.hoverCell = hit ? { row: hit.row, col: hit.col } : null;
    if (!prev || !hit || prev.row !== hit.row || prev.col !== hit.col) this.grid.schedule();
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

  private drawRows(c: CanvasRenderingContext2D, { first, last, scrollTop }: VisibleRows): void {
    const d = this.ctx.derived()!;
    const s = this.ctx.store.get();
    const th: ThemeTokens = this.ctx.theme();
    const layer = d.analysis.layers[s.layer];
    const { labelW, x0, cellW } = this;
    const E = d.numExperts;
    const fontPx = Math.max(10, Math.min(13, th.fontSize - 1));
    const empty = th.kind === 'light' || th.kind === 'hc-light' ? 'rgba(0,0,0,0.06)' : 'rgba(255,255,255,0.07)';
    // A routing trace has neither gates nor router probabilities: chosen experts are drawn at full strength.
    const noGates = d.analysis.model.gatesAvailable === false;
    const probs = s.heatmapValue === 'routerProbs' && !noGates;
    c.font = `${fontPx}px ${th.monoFamily}`;
    // The hovered and the cursor's rows (high contrast: outlined only, the selection colour there is a full fill).
    if (!th.highContrast)
      for (const [t, bg] of [
        [s.hoverToken, th.hoverBackground],
        [s.cursorToken, th.selectionBackground],
      ] as const) {
        const r = t === null ? -1 : (d.rowOf[t] ?? -1);
        if (r < first || r > last) continue;
        c.fillStyle = bg;
        c.fillRect(0, HEADER_H + r * ROW_H - scrollTop, x0 + E * cellW, ROW_H);
      }
    // Empty cells of every visible row in one fill style (gates / compute share: unrouted experts).
    if (!probs) {
      c.fillStyle = empty;
      for (let r = first; r <= last; r++) {
        const y = HEADER_H + r * ROW_H - scrollTop;
        for (let e = 0; e < E; e++) c.fillRect(x0 + e * cellW + 0.5, y + 0.5, cellW - 1, ROW_H - 1);
      }
    }
    for (let r = first; r <= last; r++) {
      const t = d.rows[r];
      const y = HEADER_H + r * ROW_H - scrollTop;
      const isCursor = t === s.cursorToken;
      const isHover = t === s.hoverToken;
      c.fillStyle = th.foreground;
      drawRowLabel(c, tokenShownText(d.analysis.tokens[t], d.analysis), labelW, y, ROW_H);
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
  }

  /** Column names over the rows. */
  private drawHeader(c: CanvasRenderingContext2D, { width }: VisibleRows): void {
    const th = this.ctx.theme();
    const { labelW, x0, cellW } = this;
    const E = this.ctx.derived()!.numExperts;
    c.fillStyle = th.muted;
    c.font = `${Math.max(10, Math.max(10, Math.min(13, th.fontSize - 1)) - 1)}px ${th.fontFamily}`;
    c.textAlign = 'right';
    c.fillText('token', labelW - 6, HEADER_H / 2);
    c.textAlign = 'center';
    c.fillText('K', labelW + K_W / 2, HEADER_H / 2);
    const every = cellW >= 18 ? 1 : cellW >= 10 ? 2 : 4;
    for (let e = 0; e < E; e += every) c.fillText(cellW >= 24 ? `E${e}` : String(e), x0 + e * cellW + cellW / 2, HEADER_H / 2);
    c.fillStyle = th.border;
    c.fillRect(0, HEADER_H - 1, Math.min(width, x0 + E * cellW), 1);
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
