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
      // Colour (LUT index) of every cell: experts × columns, then the K strip's columns.
      const heatLut = new Int32Array(cols * E);
      const kLut = new Int32Array(cols);
      for (let col = 0; col < cols; col++) {
        for (let e = 0; e < E; e++) heatLut[e * cols + col] = lutIndex(max > 0 ? sums[col * E + e] / max : 0) * 3;
        const k = count[col] > 0 ? kSum[col] / count[col] : 0;
        kLut[col] = lutIndex(d.kMax > 0 ? k / d.kMax : 0) * 3;
      }
      const W = Math.round(CSS_W * dpr);
      const H = Math.round(cssH * dpr);
      if (canvas.width !== W || canvas.height !== H) {
        canvas.width = W;
        canvas.height = H;
        canvas.style.width = `${CSS_W}px`;
        canvas.style.height = `${cssH}px`;
      }
      const c = canvas.getContext('2d');
      if (!c) return;
      // The device pixels written directly (nearest cell), one putImageData a layer: no scaled drawImage, which in
      // a software-rendered webview costs more than the whole computation.
      const img = new ImageData(W, H);
      const px = img.data;
      const heatH = E * EXPERT_PX * dpr;
      const kTop = (E * EXPERT_PX + 3) * dpr;
      const colOf = new Int32Array(W);
      for (let x = 0; x < W; x++) colOf[x] = Math.min(cols - 1, Math.floor((x * cols) / W));
      for (let y = 0; y < H; y++) {
        const row = y < heatH ? Math.min(E - 1, Math.floor(y / (EXPERT_PX * dpr))) * cols : y >= kTop ? -1 : -2;
        if (row === -2) continue; // the gap between heatmap and K strip stays transparent
        const lut = row >= 0 ? heatLut : kLut;
        const base = row >= 0 ? row : 0;
        for (let x = 0, o = y * W * 4; x < W; x++, o += 4) {
          const li = lut[base + colOf[x]];
          px[o] = LUT_RGB[li];
          px[o + 1] = LUT_RGB[li + 1];
          px[o + 2] = LUT_RGB[li + 2];
          px[o + 3] = 255;
        }
      }
      c.putImageData(img, 0, 0);
    });
  }
}
