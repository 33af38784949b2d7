/**
 * The small PNG / SVG toolbar of a chart. The chart says how to render itself (an SVG element, or a grid spec of
 * all its rows); the toolbar renders on click and hands the result to `save` (the panel's request to its host,
 * which asks where to write it). Errors and the saved path are reported through `report`.
 */
import { el } from './dom';
import { gridToPng, gridToSvg, svgChartToPng, svgChartToSvg, type FigureTheme, type GridFigureSpec, type RenderedFigure } from './figure';

export type FigureSource = { grid: () => GridFigureSpec } | { svg: () => SVGSVGElement | null };

export interface SaveFigure {
  (figure: RenderedFigure & { name: string }): Promise<string | null>;
}

export async function renderFigure(source: FigureSource, format: 'png' | 'svg', th: FigureTheme): Promise<RenderedFigure | null> {
  if ('grid' in source) {
    const spec = source.grid();
    return format === 'png' ? gridToPng(spec, th) : gridToSvg(spec, th);
  }
  const chart = source.svg();
  if (!chart) return null;
  return format === 'png' ? svgChartToPng(chart, th) : svgChartToSvg(chart, th);
}

export function figureToolbar(
  name: string,
  source: FigureSource,
  deps: { save: SaveFigure; theme: () => FigureTheme; report: (ok: boolean, message: string) => void },
): HTMLElement {
  const bar = el('span', {
    class: 'fig-tools',
    testid: `figure-tools-${name}`,
    attrs: { role: 'group', 'aria-label': `Save the ${name} chart` },
  });
  for (const format of ['png', 'svg'] as const) {
    const b = el('button', {
      class: 'fig-button',
      testid: `figure-save-${format}`,
      text: format.toUpperCase(),
      attrs: { type: 'button', title: `Save this chart as ${format.toUpperCase()}`, 'data-figure': name },
    });
    b.addEventListener('click', (e) => {
      e.stopPropagation();
      void (async () => {
        try {
          const fig = await renderFigure(source, format, deps.theme());
          if (!fig) return;
          const path = await deps.save({ ...fig, name });
          if (path) deps.report(true, `Saved the ${name} chart to ${path}`);
        } catch (err) {
          deps.report(false, `Could not save the ${name} chart: ${(err as Error).message}`);
        }
      })();
    });
    bar.append(b);
  }
  return bar;
}
