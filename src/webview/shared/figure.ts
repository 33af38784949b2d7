/**
 * Figures out of the panels: every chart can be saved as PNG and SVG. Two kinds of chart:
 * - SVG charts (K histograms, expert load, legends): the element is cloned with its computed styles inlined (the
 *   panel themes them by CSS classes, which a saved file does not have), then rasterised for PNG;
 * - canvas grids (K grid, heatmap): the view describes the WHOLE grid (every row, not only the visible ones) as a
 *   GridFigureSpec, drawn once as SVG and once on a canvas, from the same description.
 * Colours are the current theme's (what the user sees is what is saved). The webview cannot write files: the
 * result goes to the host (`figure/save`), which asks where to save it. No innerHTML: SVG text is built with
 * XMLSerializer from DOM nodes.
 */
import { displayToken } from './dom';

export interface FigureTheme {
  background: string;
  foreground: string;
  muted: string;
  fontFamily: string;
  monoFamily: string;
}

export interface GridCell {
  fill: string;
  text?: string;
  textFill?: string;
}

export interface GridFigureSpec {
  title: string;
  rowLabels: string[];
  /** Longer descriptions of the rows (SVG <title>), optional. */
  rowTitles?: string[];
  colLabels: string[];
  /** Preferred cell width in CSS pixels. */
  cellW: number;
  cell(row: number, col: number): GridCell | null;
  legend?: { label: string; fill: string }[];
}

export interface RenderedFigure {
  format: 'png' | 'svg';
  /** base64 (png) or the SVG document text (svg). */
  data: string;
  width: number;
  height: number;
}

/** Rasters above this many pixels a side are refused by browsers; long grids shrink their rows to fit. */
export const MAX_FIGURE_PX = 16_000;
const TITLE_H = 24;
const HEADER_H = 20;
const LEGEND_H = 22;

interface GridGeometry {
  rowH: number;
  labels: boolean;
  labelW: number;
  cellW: number;
  width: number;
  height: number;
  top: number;
}

function geometry(spec: GridFigureSpec): GridGeometry {
  const n = spec.rowLabels.length;
  // 18 px rows with labels while they fit; beyond that thinner rows without labels (the axis says how many).
  const fitH = Math.floor((MAX_FIGURE_PX - TITLE_H - HEADER_H - LEGEND_H) / Math.max(1, n));
  const rowH = Math.max(1, Math.min(18, fitH));
  const labels = rowH >= 12;
  const longest = spec.rowLabels.reduce((m, l) => Math.max(m, displayToken(l).length), 4);
  const labelW = labels ? Math.min(220, 16 + longest * 7.2) : 64;
  const cellW = Math.max(6, Math.min(spec.cellW, Math.floor((MAX_FIGURE_PX - labelW) / Math.max(1, spec.colLabels.length))));
  const width = Math.ceil(Math.max(labelW + spec.colLabels.length * cellW + 8, 260));
  const top = TITLE_H + HEADER_H;
  const height = Math.ceil(top + n * rowH + LEGEND_H + 6);
  return { rowH, labels, labelW, cellW, width, height, top };
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function node(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function gridToSvg(spec: GridFigureSpec, th: FigureTheme): RenderedFigure {
  const g = geometry(spec);
  const root = node('svg', { xmlns: SVG_NS, width: g.width, height: g.height, viewBox: `0 0 ${g.width} ${g.height}` }) as SVGSVGElement;
  root.append(node('rect', { x: 0, y: 0, width: g.width, height: g.height, fill: th.background }));
  root.append(
    node('text', { x: 4, y: 16, fill: th.foreground, 'font-family': th.fontFamily, 'font-size': 13, 'font-weight': 600 }, spec.title),
  );
  spec.colLabels.forEach((label, c) =>
    root.append(
      node(
        'text',
        {
          x: g.labelW + c * g.cellW + g.cellW / 2,
          y: TITLE_H + 14,
          fill: th.muted,
          'font-family': th.fontFamily,
          'font-size': 10,
          'text-anchor': 'middle',
        },
        label,
      ),
    ),
  );
  const cells = node('g', {});
  spec.rowLabels.forEach((label, r) => {
    const y = g.top + r * g.rowH;
    if (g.labels) {
      const t = node(
        'text',
        {
          x: g.labelW - 6,
          y: y + g.rowH / 2 + 4,
          fill: th.foreground,
          'font-family': th.monoFamily,
          'font-size': 11,
          'text-anchor': 'end',
        },
        displayToken(label),
      );
      if (spec.rowTitles?.[r]) t.append(node('title', {}, spec.rowTitles[r]));
      root.append(t);
    }
    spec.colLabels.forEach((_, c) => {
      const cell = spec.cell(r, c);
      if (!cell) return;
      const x = g.labelW + c * g.cellW;
      cells.append(node('rect', { x: x + 0.5, y: y + 0.5, width: g.cellW - 1, height: Math.max(1, g.rowH - 1), fill: cell.fill }));
      if (cell.text && g.labels)
        cells.append(
          node(
            'text',
            {
              x: x + g.cellW / 2,
              y: y + g.rowH / 2 + 4,
              fill: cell.textFill ?? th.foreground,
              'font-family': th.fontFamily,
              'font-size': 10,
              'text-anchor': 'middle',
            },
            cell.text,
          ),
        );
    });
  });
  root.append(cells);
  if (!g.labels)
    root.append(
      node('text', { x: 4, y: g.top + 12, fill: th.muted, 'font-family': th.fontFamily, 'font-size': 10 }, `${spec.rowLabels.length} rows`),
    );
  legendSvg(root, spec, th, g);
  return { format: 'svg', data: serialise(root), width: g.width, height: g.height };
}

function legendSvg(root: SVGElement, spec: GridFigureSpec, th: FigureTheme, g: GridGeometry): void {
  let x = 4;
  const y = g.height - LEGEND_H + 4;
  for (const item of spec.legend ?? []) {
    root.append(node('rect', { x, y, width: 12, height: 12, fill: item.fill }));
    root.append(node('text', { x: x + 16, y: y + 10, fill: th.foreground, 'font-family': th.fontFamily, 'font-size': 10 }, item.label));
    x += 22 + item.label.length * 6.5;
  }
}

export async function gridToPng(spec: GridFigureSpec, th: FigureTheme, scale = 2): Promise<RenderedFigure> {
  const g = geometry(spec);
  const s = Math.max(1, Math.min(scale, Math.floor(MAX_FIGURE_PX / Math.max(g.width, g.height)) || 1));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(g.width * s);
  canvas.height = Math.round(g.height * s);
  const c = canvas.getContext('2d')!;
  c.scale(s, s);
  c.fillStyle = th.background;
  c.fillRect(0, 0, g.width, g.height);
  c.textBaseline = 'alphabetic';
  c.fillStyle = th.foreground;
  c.font = `600 13px ${th.fontFamily}`;
  c.fillText(spec.title, 4, 16);
  c.font = `10px ${th.fontFamily}`;
  c.textAlign = 'center';
  c.fillStyle = th.muted;
  spec.colLabels.forEach((label, col) => c.fillText(label, g.labelW + col * g.cellW + g.cellW / 2, TITLE_H + 14));
  for (let r = 0; r < spec.rowLabels.length; r++) {
    const y = g.top + r * g.rowH;
    if (g.labels) {
      c.textAlign = 'right';
      c.font = `11px ${th.monoFamily}`;
      c.fillStyle = th.foreground;
      c.fillText(displayToken(spec.rowLabels[r]), g.labelW - 6, y + g.rowH / 2 + 4);
    }
    c.textAlign = 'center';
    c.font = `10px ${th.fontFamily}`;
    for (let col = 0; col < spec.colLabels.length; col++) {
      const cell = spec.cell(r, col);
      if (!cell) continue;
      const x = g.labelW + col * g.cellW;
      c.fillStyle = cell.fill;
      c.fillRect(x + 0.5, y + 0.5, g.cellW - 1, Math.max(1, g.rowH - 1));
      if (cell.text && g.labels) {
        c.fillStyle = cell.textFill ?? th.foreground;
        c.fillText(cell.text, x + g.cellW / 2, y + g.rowH / 2 + 4);
      }
    }
  }
  c.textAlign = 'left';
  let x = 4;
  const y = g.height - LEGEND_H + 4;
  for (const item of spec.legend ?? []) {
    c.fillStyle = item.fill;
    c.fillRect(x, y, 12, 12);
    c.fillStyle = th.foreground;
    c.fillText(item.label, x + 16, y + 10);
    x += 22 + item.label.length * 6.5;
  }
  return { format: 'png', data: await canvasPng(canvas), width: canvas.width, height: canvas.height };
}

function serialise(root: Element): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(root)}\n`;
}

/** The properties that carry an SVG chart's look; copied from the computed style onto each cloned node (all are SVG presentation attributes). */
const SVG_STYLE_PROPS = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'stroke-linejoin',
  'opacity',
  'paint-order',
  'font-family',
  'font-size',
  'font-weight',
  'visibility',
  'display',
];

/** An SVG chart of the panel as a standalone document: computed styles inlined, the theme's background behind it. */
export function svgChartToSvg(chart: SVGSVGElement, th: FigureTheme): RenderedFigure {
  const width = Math.ceil(Number(chart.getAttribute('width')) || chart.getBoundingClientRect().width);
  const height = Math.ceil(Number(chart.getAttribute('height')) || chart.getBoundingClientRect().height);
  const clone = chart.cloneNode(true) as SVGSVGElement;
  const src = [chart, ...chart.querySelectorAll('*')];
  const dst = [clone, ...clone.querySelectorAll('*')];
  src.forEach((from, i) => {
    const to = dst[i] as SVGElement;
    // As presentation attributes, not a style attribute: the panels' CSP blocks inline style attributes.
    const cs = getComputedStyle(from);
    for (const p of SVG_STYLE_PROPS) {
      const v = cs.getPropertyValue(p);
      if (v) to.setAttribute(p, v);
    }
    to.removeAttribute('class');
  });
  clone.setAttribute('xmlns', SVG_NS);
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  const bg = document.createElementNS(SVG_NS, 'rect');
  for (const [k, v] of Object.entries({ x: 0, y: 0, width, height, fill: th.background })) bg.setAttribute(k, String(v));
  clone.insertBefore(bg, clone.firstChild);
  return { format: 'svg', data: serialise(clone), width, height };
}

/** The same chart rasterised (through an <img> of the SVG document: data: URLs are allowed by the panels' CSP). */
export async function svgChartToPng(chart: SVGSVGElement, th: FigureTheme, scale = 2): Promise<RenderedFigure> {
  const svgDoc = svgChartToSvg(chart, th);
  const img = new Image();
  const loaded = new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error('the chart could not be rasterised'));
  });
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgDoc.data)}`;
  await loaded;
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(svgDoc.width * scale);
  canvas.height = Math.round(svgDoc.height * scale);
  const c = canvas.getContext('2d')!;
  c.drawImage(img, 0, 0, canvas.width, canvas.height);
  return { format: 'png', data: await canvasPng(canvas), width: canvas.width, height: canvas.height };
}

async function canvasPng(canvas: HTMLCanvasElement): Promise<string> {
  const url = canvas.toDataURL('image/png');
  const comma = url.indexOf(',');
  return url.slice(comma + 1);
}
