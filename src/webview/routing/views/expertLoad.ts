/** Expert load per layer: tokens routed to each expert, balance line, dead experts crossed out. */
import type { Ctx, View } from '../context';
import { clear, el, fmtNum } from '../../shared/dom';
import { figure, loadSvg } from '../../shared/charts';
import { figureToolbar } from '../figureTools';

export class ExpertLoadView implements View {
  readonly root = el('section', { class: 'section load-section', testid: 'expert-load', attrs: { 'aria-labelledby': 'load-title' } });
  private readonly grid = el('div', { class: 'load-grid' });
  private figures: HTMLElement[] = [];

  constructor(private readonly ctx: Ctx) {
    this.root.append(
      el('div', { class: 'section-head' }, [
        el('h2', { class: 'section-title', text: 'Expert load', attrs: { id: 'load-title' } }),
        el('div', { class: 'legend', attrs: { 'aria-hidden': 'true' } }, [
          el('span', { class: 'swatch swatch-load' }),
          el('span', { class: 'muted', text: 'tokens routed' }),
          el('span', { class: 'swatch-line ref-balance' }),
          el('span', { class: 'muted', text: 'balanced' }),
          el('span', { class: 'dead-mark', text: '✕' }),
          el('span', { class: 'muted', text: 'dead expert' }),
        ]),
      ]),
      this.grid,
    );
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    this.root.hidden = !d || s.view !== 'chart';
    if (!d) return;
    if (changed.has('analysis')) {
      clear(this.grid);
      const loads = d.analysis.stats.expertLoad;
      const maxTokens = loads.reduce((m, l) => Math.max(m, ...l.tokens), 0);
      this.figures = loads.map((load) => {
        const chart = loadSvg({ ...load, maxTokens, width: 180, height: 64, label: `Layer ${load.layer} expert load` });
        const f = figure(
          'expert-load-layer',
          [
            el('strong', { text: `L${load.layer}` }),
            ` cv ${fmtNum(load.cv)}`,
            load.dead.length ? el('span', { class: 'dead-mark', text: ` · dead ${load.dead.map((e) => `E${e}`).join(' ')}` }) : null,
          ].filter((x): x is HTMLElement | string => x !== null),
          chart,
          {
            'data-layer': load.layer,
            'data-dead': load.dead.join(','),
            'data-tokens': load.tokens.join(','),
          },
        );
        f.querySelector('figcaption')!.append(figureToolbar(this.ctx, `expert-load-L${load.layer}`, { svg: () => chart }));
        f.classList.add('clickable');
        f.addEventListener('click', () => this.ctx.selectLayer(load.layer));
        this.grid.append(f);
        return f;
      });
    }
    if (changed.has('analysis') || changed.has('layer')) this.figures.forEach((f, i) => f.classList.toggle('selected', i === s.layer));
  }
}
