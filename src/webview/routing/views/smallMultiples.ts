/**
 * All layers at a glance: per layer a mini heatmap (experts top to bottom, tokens left to right, averaged into at
 * most 120 pixel columns, shown relative to the layer's largest value) and a K strip (mean K per column). Each is a
 * button: click or Enter selects that layer.
 */
import type { Ctx, View } from '../context';
import { clear, el, fmtNum } from '../../shared/dom';
import type { Derived } from '../model';
import { LUT_RGB, lutIndex } from '../../../shared/palette';

const CSS_W = 132;
const EXPERT_PX = 3;
const K_PX = 5;
const MAX_COLS = 120;

export class SmallMultiplesView implements View {
  readonly root = el('section', {
    class: 'section multiples-section',
    testid: 'small-multiples',
    attrs: { 'aria-labelledby': 'multiples-title' },
  });
  private readonly grid = el('div', { class: 'multiples-grid' });
  private buttons: HTMLButtonElement[] = [];
  private canvases: HTMLCanvasElement[] = [];

  constructor(private readonly ctx: Ctx) {
    this.root.append(
      el('div', { class: 'section-head' }, [
        el('h2', { class: 'section-title', text: 'Layers', attrs: { id: 'multiples-title' } }),
        el('span', { class: 'muted small', text: 'experts ↓ · tokens → · K strip below' }),
      ]),
      this.grid,
    );
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    this.root.hidden = !d || s.view !== 'chart';
    if (!d) return;
    if (changed.has('analysis')) this.build(d);
    if (changed.has('analysis') || changed.has('heatmapValue') || changed.has('dpr')) this.paint(d);
    if (changed.has('analysis') || changed.has('layer')) {
      this.buttons.forEach((b, l) => {
        b.setAttribute('aria-pressed', String(l === s.layer));
        b.classList.toggle('selected', l === s.layer);
      });
    }
  }

  private build(d: Derived): void {
    clear(this.grid);
    const a = d.analysis;
    this.buttons = [];
    this.canvases = [];
    a.layers.forEach((layer, l) => {
      const canvas = el('canvas', { class: 'multiple-canvas', attrs: { 'aria-hidden': 'true' } });
      const load = a.stats.expertLoad[l];
      const mk = a.stats.meanK.perLayer[l];
      const dead = load?.dead.length ?? 0;
      const label = `Layer ${l}: mean K ${fmtNum(mk)}, ${dead} dead expert${dead === 1 ? '' : 's'}`;
      const button = el(
        'button',
        {
          class: 'multiple',
          testid: 'layer-multiple',
          attrs: { type: 'button', 'data-layer': l, 'aria-label': `${label}. Select layer ${l}.`, title: label },
          on: { click: () => this.ctx.selectLayer(l) },
        },
        [
          canvas,
          el('span', { class: 'multiple-label' }, [
            el('strong', { text: `L${layer.layer}` }),
            el('span', { class: 'muted', text: ` K̄ ${fmtNum(mk)}` }),
            dead > 0
              ? el('span', { class: 'dead-mark', text: ` ✕${dead}`, attrs: { title: `dead experts: ${load.dead.join(', ')}` } })
              : null,
          ]),
        ],
      );
      this.buttons.push(button);
      this.canvases.push(canvas);
      this.grid.append(button);
    });
  }

  private paint(d: Derived): void {
    const a = d.analysis;
    const noGates = a.model.gatesAvailable === false;
    const value = this.ctx.store.get().heatmapValue;
    const probs = value === 'routerProbs' && !noGates;
    const E = d.numExperts;
    const n = d.rows.length;
    const cols = Math.max(1, Math.min(MAX_COLS, n));
    const dpr = window.devicePixelRatio || 1;
    const cssH = E * EXPERT_PX + 3 + K_PX;
    a.layers.forEach((layer, l) => {
      const canvas = this.canvases[l];
      if (!canvas) return;
      const sums = new Float64Array(cols * E);
      const kSum = new Float64Array(cols);
      const count = new Float64Array(cols);
      for (let r = 0; r < n; r++) {
        const t = d.rows[r];
        const col = Math.min(cols - 1, Math.floor((r * cols) / n));
        count[col]++;
        kSum[col] += layer.k[t];
        if (probs) {
          const p = layer.routerProbs[t];
          for (let e = 0; e < E; e++) sums[col * E + e] += p[e] ?? 0;
        } else {
          const ex = layer.experts[t];
          const g = layer.gates[t];
          // No gates recorded (a routing trace): each chosen expert counts 1, so cells show routing frequency.
          const scale = value === 'gateK' && !noGates ? layer.k[t] / Math.max(1, d.kMax) : 1;
          for (let j = 0; j < ex.length; j++) sums[col * E + ex[j]] += (noGates ? 1 : g[j]) * scale;
        }
      }
      let max = 0;
      for (let i = 0; i < sums.length; i++) {
        const c = count[Math.floor(i / E)];
        if (c > 0) sums[i] /= c;
        if (sums[i] > max) max = sums[i];
      }
      const heat = new ImageData(cols, E);
      const kImg = new ImageData(cols, 1);
      for (let col = 0; col < cols; col++) {
        for (let e = 0; e < E; e++) {
          const li = lutIndex(max > 0 ? sums[col * E + e] / max : 0) * 3;
          const o = (e * cols + col) * 4;
          heat.data[o] = LUT_RGB[li];
          heat.data[o + 1] = LUT_RGB[li + 1];
          heat.data[o + 2] = LUT_RGB[li + 2];
          heat.data[o + 3] = 255;
        }
        const k = count[col] > 0 ? kSum[col] / count[col] : 0;
        const li = lutIndex(d.kMax > 0 ? k / d.kMax : 0) * 3;
        kImg.data[col * 4] = LUT_RGB[li];
        kImg.data[col * 4 + 1] = LUT_RGB[li + 1];
        kImg.data[col * 4 + 2] = LUT_RGB[li + 2];
        kImg.data[col * 4 + 3] = 255;
      }
      canvas.width = Math.round(CSS_W * dpr);
      canvas.height = Math.round(cssH * dpr);
      canvas.style.width = `${CSS_W}px`;
      canvas.style.height = `${cssH}px`;
      const c = canvas.getContext('2d');
      if (!c) return;
      const off = document.createElement('canvas');
      off.width = cols;
      off.height = E + 1;
      const oc = off.getContext('2d')!;
      oc.putImageData(heat, 0, 0);
      oc.putImageData(kImg, 0, E);
      c.imageSmoothingEnabled = false;
      c.clearRect(0, 0, canvas.width, canvas.height);
      c.drawImage(off, 0, 0, cols, E, 0, 0, canvas.width, E * EXPERT_PX * dpr);
      c.drawImage(off, 0, E, cols, 1, 0, (E * EXPERT_PX + 3) * dpr, canvas.width, K_PX * dpr);
    });
  }
}
