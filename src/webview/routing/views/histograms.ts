/** Dynamic-K histograms: the selected layer and all layers together (large), and every layer (small, clickable). */
import type { Ctx, View } from '../context';
import { clear, el, fmtNum } from '../../shared/dom';
import { figure, kHistogramSvg } from '../../shared/charts';
import { figureToolbar } from '../figureTools';

export class HistogramsView implements View {
  readonly root = el('section', { class: 'section hist-section', testid: 'k-histograms', attrs: { 'aria-labelledby': 'hist-title' } });
  private readonly main = el('div', { class: 'hist-main' });
  private readonly grid = el('div', { class: 'hist-grid' });
  private layerFigures: HTMLElement[] = [];

  constructor(private readonly ctx: Ctx) {
    this.root.append(
      el('div', { class: 'section-head' }, [
        el('h2', { class: 'section-title', text: 'Dynamic K', attrs: { id: 'hist-title' } }),
        el('div', { class: 'legend', attrs: { 'aria-hidden': 'true' } }, [
          el('span', { class: 'swatch swatch-bar' }),
          el('span', { class: 'muted', text: 'tokens' }),
          el('span', { class: 'swatch-line ref-top' }),
          el('span', { class: 'muted', text: 'top-1 / top-2' }),
          el('span', { class: 'swatch-line ref-mean' }),
          el('span', { class: 'muted', text: 'mean K' }),
        ]),
      ]),
      this.main,
      this.grid,
    );
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    this.root.hidden = !d || s.view !== 'chart';
    if (!d) return;
    const a = d.analysis;
    const h = a.stats.kHistogram;
    if (changed.has('analysis')) {
      clear(this.grid);
      this.layerFigures = h.perLayer.map((counts, l) => {
        const chart = kHistogramSvg({
          counts,
          meanK: a.stats.meanK.perLayer[l] ?? NaN,
          width: 132,
          height: 56,
          compact: true,
          label: `Layer ${l} K histogram`,
        });
        const f = figure('k-histogram-layer', [el('strong', { text: `L${l}` }), ` K̄ ${fmtNum(a.stats.meanK.perLayer[l] ?? NaN)}`], chart, {
          'data-layer': l,
          'data-counts': counts.join(','),
          'data-total': counts.reduce((x, y) => x + y, 0),
        });
        f.classList.add('clickable');
        f.addEventListener('click', () => this.ctx.selectLayer(l));
        this.grid.append(f);
        return f;
      });
    }
    if (changed.has('analysis') || changed.has('layer')) {
      clear(this.main);
      const l = s.layer;
      const counts = h.perLayer[l] ?? [];
      const meanL = a.stats.meanK.perLayer[l] ?? NaN;
      const layerTotal = counts.reduce((x, y) => x + y, 0);
      const layerChart = kHistogramSvg({ counts, meanK: meanL, width: 300, height: 170, compact: false, label: `Layer ${l} K histogram` });
      const overallChart = kHistogramSvg({
        counts: h.overall,
        meanK: a.stats.meanK.overall,
        width: 300,
        height: 170,
        compact: false,
        label: 'All layers K histogram',
      });
      const layerFigure = figure(
        'k-histogram',
        [el('strong', { text: `Layer ${l}` }), ` · ${layerTotal} tokens · mean K ${fmtNum(meanL)}`],
        layerChart,
        {
          'data-layer': l,
          'data-counts': counts.join(','),
          'data-total': layerTotal,
        },
      );
      const overallFigure = figure(
        'k-histogram-overall',
        [
          el('strong', { text: 'All layers' }),
          ` · ${h.overall.reduce((x, y) => x + y, 0)} token-layers · mean K ${fmtNum(a.stats.meanK.overall)}`,
        ],
        overallChart,
        { 'data-counts': h.overall.join(','), 'data-total': h.overall.reduce((x, y) => x + y, 0), 'data-layers': h.perLayer.length },
      );
      layerFigure.querySelector('figcaption')!.append(figureToolbar(this.ctx, `k-histogram-L${l}`, { svg: () => layerChart }));
      overallFigure.querySelector('figcaption')!.append(figureToolbar(this.ctx, 'k-histogram-all-layers', { svg: () => overallChart }));
      this.main.append(layerFigure, overallFigure);
      this.layerFigures.forEach((f, i) => f.classList.toggle('selected', i === l));
    }
  }
}
