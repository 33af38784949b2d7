/** The routing panel's chart toolbars: figure-tools.ts wired to this panel's host (`figure/save`) and banners. */
import type { Ctx } from './context';
import { figureToolbar as toolbar, type FigureSource } from '../shared/figure-tools';
import type { GridFigureSpec } from '../shared/figure';

export function figureToolbar(ctx: Ctx, name: string, source: FigureSource | (() => GridFigureSpec)): HTMLElement {
  return toolbar(name, typeof source === 'function' ? { grid: source } : source, {
    theme: () => ctx.theme(),
    save: async (fig) => {
      const path = await ctx.client.request(
        'figure/save',
        { name: fig.name, format: fig.format, data: fig.data, width: fig.width, height: fig.height },
        120_000,
      );
      return typeof path === 'string' ? path : null;
    },
    report: (ok, message) => ctx.store.update(ok ? { notice: message, error: null } : { error: message }),
  });
}
