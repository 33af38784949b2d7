/**
 * The spot-check panel's chart toolbars: every chart of the report (a `figure.chart-figure` holding an SVG chart)
 * gets the routing panel's PNG / SVG buttons (shared/figure-tools.ts), in the colours of the current theme, saved by
 * the host through `figure/save` (validated there, written through a save dialog).
 */
import { figureToolbar } from '../shared/figure-tools';
import { readTheme } from '../shared/theme';
import type { SpotCheckClient } from './client';

/** Adds a toolbar to each chart figure under `root` that has none yet (the sections rebuild their figures). */
export function addFigureTools(root: ParentNode, client: SpotCheckClient, report: (ok: boolean, message: string) => void): void {
  for (const f of root.querySelectorAll<HTMLElement>('figure.chart-figure')) {
    const chart = f.querySelector<SVGSVGElement>(':scope > svg.chart');
    if (!chart || f.querySelector('.fig-tools')) continue;
    const layer = f.dataset.layer;
    const name = (f.dataset.testid ?? 'chart').replace(/^spotcheck-/, '') + (layer !== undefined ? `-L${layer}` : '');
    const bar = figureToolbar(
      name,
      { svg: () => chart },
      {
        theme: readTheme,
        save: async (fig) => {
          const path = await client.request(
            'figure/save',
            { name: fig.name, format: fig.format, data: fig.data, width: fig.width, height: fig.height },
            120_000,
          );
          return typeof path === 'string' ? path : null;
        },
        report,
      },
    );
    (f.querySelector(':scope > figcaption') ?? f).append(bar);
  }
}
