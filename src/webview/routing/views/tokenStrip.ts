/**
 * The tokens as text chips coloured by importance in the selected layer, each with its K in that layer as pips
 * (special tokens outlined, not filled). The legend is the importance axis of the layer, 0 to its largest value,
 * with the importance values where the model's K rule steps K up marked on it (src/shared/k-rule.ts).
 * A causal LM's chips can be coloured by the token's loss instead (surprisal: 0 to the text's largest loss; the
 * first token has none and is outlined); their titles give the loss and the top predictions, and the token detail
 * under the strip (tokenDetail.ts) spells them out for the token under the pointer or the editor cursor.
 */
import type { Ctx, View } from '../context';
import type { AnalysisToken } from '../../../shared/analysis';
import { afterPaint, clear, displayToken, el, svg } from '../../shared/dom';
import { relImportance, relLoss, type Derived } from '../model';
import { radioGroup } from './controls';
import { TokenDetail } from './tokenDetail';
import type { StripColorBy } from '../store';
import { lossText, predictionsText } from '../../../shared/next-token-text';
import { DROPPED_TEXT, isDropped } from '../../../shared/router-text';
import { STOPS_CSS } from '../../../shared/palette';
import { colourAt, textOn } from '../../../shared/palette';
import { kThresholds } from '../../../shared/k-rule';
import { TOKEN_STRIP_CHUNK } from '../../../shared/defaults';

/** More K than this is written as a digit instead of pips. */
const MAX_PIPS = 6;

/**
 * Chips built before a new analysis's first paint: about what the strip's visible lines hold in a window this wide
 * (59 are visible at 1,280 px, 152 at 2,560). Every chip costs that frame its style, layout and paint (240 chips
 * were half of the first paint's time, bench/paint.ts); the animation frame adds more while the strip's end is still
 * in view, and the rest of the first TOKEN_STRIP_CHUNK follows in the task after the paint.
 */
function firstPaintChips(): number {
  return Math.min(TOKEN_STRIP_CHUNK, Math.max(48, Math.ceil(window.innerWidth / 16)));
}

/** K as pips (or a digit when K is large), for the strip and the table. */
export function kPips(k: number): HTMLElement {
  const box = el('span', { class: 'pips', attrs: { 'data-k': k, 'aria-label': `K ${k}` } });
  if (k > MAX_PIPS) box.append(el('span', { class: 'pip-digit', text: `×${k}` }));
  else for (let i = 0; i < k; i++) box.append(el('span', { class: 'pip' }));
  return box;
}
import { tokenDescription, tokenShownText } from '../../../shared/token-text';

export class TokenStripView implements View {
  readonly root = el('section', {
    class: 'section strip-section',
    testid: 'token-strip-section',
    attrs: { 'aria-labelledby': 'strip-title' },
  });
  private readonly title = el('h2', { class: 'section-title', attrs: { id: 'strip-title' } });
  private readonly strip = el('div', { class: 'token-strip', testid: 'token-strip' });
  private spans: HTMLElement[] = [];
  private lit = new Map<string, number>();
  private readonly ramp = el('span', { class: 'importance-legend', testid: 'importance-legend' });
  private pips: HTMLElement[] = [];
  /** Chips built so far (tokens [0, built)). */
  private built = 0;
  /** Counts the analyses built: a fill scheduled for one analysis is dropped when the next has arrived. */
  private generation = 0;
  /** Builds the next chips when `more` comes near the strip's visible lines. */
  private readonly nearEnd: IntersectionObserver;
  /** After the built chips: builds the next ones when scrolled into view or clicked. */
  private readonly more = el('button', { class: 'strip-more muted', testid: 'token-strip-more', attrs: { type: 'button' } });
  private readonly detail: TokenDetail;
  /** Causal LMs only: colour the chips by importance or by loss. */
  private readonly colorBy: { root: HTMLElement; radios: (HTMLElement & { value: string; checked?: boolean })[] };
  private readonly noLossLegend = el('span', {
    class: 'tok no-loss legend-special',
    text: 'no loss',
    attrs: { 'aria-hidden': 'true', title: 'The first token: nothing predicts it, so it has no loss' },
  });

  constructor(private readonly ctx: Ctx) {
    this.detail = new TokenDetail(ctx);
    this.colorBy = radioGroup(
      'strip-color',
      'Colour by',
      'strip-color-by',
      [
        ['importance', 'Importance'],
        ['loss', 'Loss'],
      ],
      (v) => ctx.store.update({ stripColorBy: v as StripColorBy }),
    );
    this.colorBy.root.title =
      "What colours the tokens: importance in the selected layer, or the token's loss (how surprised the model was)";
    const legend = el('div', { class: 'legend' }, [
      this.colorBy.root,
      this.ramp,
      this.noLossLegend,
      el('span', { class: 'pips-legend muted', attrs: { 'aria-hidden': 'true' } }, [kPips(2), ' K']),
      el('span', { class: 'tok special legend-special', text: '[special]', attrs: { 'aria-hidden': 'true' } }),
    ]);
    this.root.append(el('div', { class: 'section-head' }, [this.title, legend]), this.strip, this.detail.root);
    this.strip.addEventListener('mouseover', (e) => {
      const t = this.tokenOf(e.target);
      if (t !== null) ctx.hover(t);
    });
    this.strip.addEventListener('mouseleave', () => ctx.hover(null));
    this.more.addEventListener('click', () => this.buildUpTo(this.built + TOKEN_STRIP_CHUNK));
    // Up to the end of the next chunk (the first paint built part of the first one).
    this.nearEnd = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !this.more.hidden)
          this.buildUpTo((Math.floor(this.built / TOKEN_STRIP_CHUNK) + 1) * TOKEN_STRIP_CHUNK);
      },
      { root: this.strip, rootMargin: '0px 0px 160px 0px' },
    );
    this.nearEnd.observe(this.more);
    this.strip.addEventListener('click', (e) => {
      const t = this.tokenOf(e.target);
      if (t !== null && !ctx.derived()?.analysis.tokens[t]?.special) ctx.reveal(t);
    });
  }

  private tokenOf(target: EventTarget | null): number | null {
    const node = target instanceof HTMLElement ? target.closest<HTMLElement>('.tok') : null;
    if (!node || node.dataset.index === undefined) return null;
    return Number(node.dataset.index);
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    this.root.hidden = !d || s.view !== 'chart';
    if (!d) return;
    if (changed.has('analysis')) this.build();
    if (changed.has('analysis') || changed.has('layer') || changed.has('stripColorBy')) this.colour();
    if (['analysis', 'layer', 'cursorToken', 'hoverToken'].some((k) => changed.has(k))) this.detail.update();
    if (changed.has('analysis') || changed.has('cursorToken') || changed.has('hoverToken')) {
      this.mark('is-cursor', s.cursorToken);
      this.mark('is-hover', s.hoverToken);
      if (changed.has('cursorToken') && s.cursorToken !== null) this.scrollTo(s.cursorToken);
    }
  }

  private build(): void {
    clear(this.strip);
    this.lit.clear();
    const a = this.ctx.derived()!.analysis;
    this.spans = new Array<HTMLElement>(a.tokens.length);
    this.pips = new Array<HTMLElement>(a.tokens.length);
    this.built = 0;
    this.more.hidden = true;
    this.strip.append(this.more);
    this.strip.setAttribute(
      'aria-label',
      `${a.tokens.length} tokens coloured by importance, with their K as pips. Use the table view to read them one by one.`,
    );
    this.buildUpTo(firstPaintChips());
    const generation = ++this.generation;
    requestAnimationFrame(() => {
      if (generation === this.generation) this.fillVisible();
    });
    afterPaint(() => {
      if (generation === this.generation) this.buildUpTo(TOKEN_STRIP_CHUNK);
    });
  }

  /**
   * In the animation frame before the first paint (the K grid's draw has laid the panel out by then): while the
   * strip's end shows within its visible lines (a wide panel, short tokens), build more chips, so that the painted
   * strip is full.
   */
  private fillVisible(): void {
    for (let i = 0; i < 8 && !this.more.hidden && this.more.offsetTop < this.strip.scrollTop + this.strip.clientHeight; i++)
      this.buildUpTo(this.built + 48);
  }

  /**
   * Builds the chips up to token `end` (exclusive). A long text gets its chips TOKEN_STRIP_CHUNK at a time, as the
   * strip is scrolled to its end (or the cursor moves past the built ones): thousands of chips would cost the first
   * paint a long layout for tokens that sit below the strip's few visible lines.
   */
  private buildUpTo(end: number): void {
    const d = this.ctx.derived();
    if (!d) return;
    const a = d.analysis;
    const to = Math.min(a.tokens.length, end);
    if (to <= this.built) return;
    const frag = document.createDocumentFragment();
    for (let i = this.built; i < to; i++) {
      const t = a.tokens[i];
      const span = el('span', {
        class: t.special ? 'tok special' : t.unknown ? 'tok unknown' : 'tok',
        text: displayToken(tokenShownText(t, a)),
      });
      span.dataset.index = String(t.index);
      const pips = el('span', { class: 'tok-k' });
      span.append(pips);
      this.spans[i] = span;
      this.pips[i] = pips;
      frag.appendChild(span);
    }
    const from = this.built;
    this.built = to;
    this.strip.insertBefore(frag, this.more);
    this.colourRange(from, to);
    const left = a.tokens.length - to;
    this.more.hidden = left === 0;
    this.more.textContent = `${left} more token${left === 1 ? '' : 's'}…`;
    // Observed anew, so that the next frame reports whether `more` is still near the visible lines: an observer
    // only calls back when that changes, and a strip that still shows its end after these chips needs the next ones.
    this.nearEnd.unobserve(this.more);
    this.nearEnd.observe(this.more);
  }

  private colour(): void {
    const d = this.ctx.derived()!;
    const s = this.ctx.store.get();
    const l = s.layer;
    const noImportance = d.analysis.model.importanceAvailable === false;
    const byLoss = colourByLoss(d, s.stripColorBy);
    this.colorBy.root.hidden = !d.causal;
    for (const r of this.colorBy.radios) {
      const off = r.value === 'importance' && noImportance;
      r.toggleAttribute('disabled', off);
      r.title = off ? 'This model reports no token importance' : '';
    }
    for (const r of this.colorBy.radios) r.checked = r.value === (byLoss ? 'loss' : 'importance');
    this.noLossLegend.hidden = !byLoss;
    this.strip.dataset.colorBy = byLoss ? 'loss' : 'importance';
    this.title.textContent = byLoss ? `Tokens · loss, and K in layer ${l}` : `Tokens · importance and K in layer ${l}`;
    if (d.analysis.model.routingSource === 'trace') this.title.textContent = 'Tokens · importance not recorded (routing trace)';
    this.colourRange(0, this.built);
    if (byLoss) this.drawLossLegend(d.maxLoss);
    else if (d.analysis.model.routingSource === 'trace') this.traceLegend(d.analysis.tokens.some((t) => t.generated === true));
    else this.drawLegend(d.maxImportance[l] ?? 0, kThresholds(d.rule, l));
  }

  /** A routing trace has no importance axis: say so, and show how generated tokens are marked. */
  private traceLegend(generated: boolean): void {
    this.ramp.dataset.thresholds = '';
    this.ramp.dataset.max = '';
    this.ramp.replaceChildren(
      el('span', { class: 'muted', text: 'importance not recorded: tokens are not coloured' }),
      ...(generated ? [el('span', { class: 'tok no-importance generated legend-chip', text: 'generated' })] : []),
    );
  }

  /** Colours, K pips and titles of the built chips [from, to) in the selected layer. */
  private colourRange(from: number, to: number): void {
    const d = this.ctx.derived()!;
    const s = this.ctx.store.get();
    const l = s.layer;
    const byLoss = colourByLoss(d, s.stripColorBy);
    const noImportance = d.analysis.model.importanceAvailable === false;
    const tokens = d.analysis.tokens;
    const imp = d.analysis.layers[l]?.importance ?? [];
    const trace = d.analysis.model.routingSource === 'trace';
    const impText = (i: number): string =>
      trace ? 'importance not recorded' : noImportance ? 'no importance' : `importance ${(imp[i] ?? 0).toFixed(3)}`;
    const layer = d.analysis.layers[l];
    const ks = layer?.k ?? [];
    for (let i = from; i < to; i++) {
      const span = this.spans[i];
      const k = String(ks[i] ?? 0);
      if (span.dataset.k !== k) {
        this.pips[i].replaceChildren(kPips(ks[i] ?? 0));
        span.dataset.k = k;
      }
      const dropped = layer !== undefined && isDropped(layer, i) ? ` · ${DROPPED_TEXT}` : '';
      const lm = d.causal ? causalTitle(d.analysis.tokens[i]) : '';
      if (tokens[i].special) {
        span.title = `${tokens[i].text} (special token) · ${impText(i)} · K ${k}${dropped}${lm}`;
        continue;
      }
      // A routing trace recorded no importance: its chips stay uncoloured rather than showing every token at 0.
      const r = trace && !byLoss ? null : byLoss ? relLoss(d, i) : relImportance(d, l, i);
      span.classList.toggle('no-loss', byLoss && r === null);
      span.classList.toggle('no-importance', trace && !byLoss);
      span.style.backgroundColor = r === null ? '' : colourAt(r);
      span.style.color = r === null ? '' : textOn(r);
      span.title =
        `#${i} ${tokenDescription(tokens[i], d.analysis)} · ${impText(i)} · K ${k}${dropped}${lm}` +
        (tokens[i].generated ? ' · generated' : '') +
        (tokens[i].recorded === false ? ' · routing not recorded' : '');
      span.classList.toggle('generated', tokens[i].generated === true);
    }
  }

  /** The loss axis (0 .. the text's largest loss, in nats) in the chips' colours. */
  private drawLossLegend(max: number): void {
    const label = `Token loss, 0 to ${max.toFixed(2)} nats (the text's largest): brighter = more surprising`;
    this.ramp.dataset.thresholds = '';
    this.ramp.dataset.max = max.toFixed(3);
    this.ramp.replaceChildren(colourAxis(max, max > 0 ? `${max.toFixed(1)} nats` : '–', [], label));
  }

  /** The layer's importance axis (0 .. its largest value, the colours of the chips) with the K steps marked. */
  private drawLegend(max: number, thresholds: number[]): void {
    const shown = thresholds.map((t, i) => ({ t, k: i + 2 })).filter((m) => max > 0 && m.t < max);
    const words = shown.map((m) => `K=${m.k} above ${m.t.toFixed(3)}`).join(', ');
    const label = `Importance in this layer, 0 to ${max.toFixed(3)}${words ? `; ${words}` : thresholds.length ? '' : '; K does not follow importance in this model'}`;
    this.ramp.dataset.thresholds = shown.map((m) => m.t.toFixed(3)).join(',');
    this.ramp.dataset.max = max.toFixed(3);
    this.ramp.replaceChildren(
      el('span', { class: 'muted', text: 'importance', attrs: { 'aria-hidden': 'true' } }),
      colourAxis(
        max,
        max > 0 ? max.toFixed(2) : '–',
        shown.map((m) => ({ at: m.t, text: `K${m.k}` })),
        label,
      ),
    );
  }

  private mark(cls: string, token: number | null): void {
    // The editor cursor may be on a chip not built yet: build up to it (a hover elsewhere never builds).
    if (cls === 'is-cursor' && token !== null && token >= this.built) this.buildUpTo(token + TOKEN_STRIP_CHUNK);
    const prev = this.lit.get(cls);
    if (prev !== undefined) this.spans[prev]?.classList.remove(cls);
    if (token !== null && this.spans[token]) {
      this.spans[token].classList.add(cls);
      this.lit.set(cls, token);
    } else this.lit.delete(cls);
  }

  private scrollTo(token: number): void {
    const span = this.spans[token];
    if (!span) return;
    const top = span.offsetTop; // .token-strip is position: relative
    if (top < this.strip.scrollTop || top + span.offsetHeight > this.strip.scrollTop + this.strip.clientHeight) {
      this.strip.scrollTop = Math.max(0, top - this.strip.clientHeight / 2);
    }
  }
}

/** The palette as an SVG gradient (id imp-ramp) for the strip's legends. */
function rampGradient(): SVGLinearGradientElement {
  const grad = svg('linearGradient', { id: 'imp-ramp', x1: 0, x2: 1, y1: 0, y2: 0 });
  STOPS_CSS.forEach((c, i) => grad.append(svg('stop', { offset: i / (STOPS_CSS.length - 1), 'stop-color': c })));
  return grad;
}

/** A causal LM token's loss and top predictions, for its chip's title: " · loss 3.57 nats (p 0.028) · next: a 0.12 · …". */
function causalTitle(t: AnalysisToken): string {
  const loss = t.loss === undefined ? ' · no loss (first token)' : ` · loss ${lossText(t.loss)}`;
  const next = t.predictions?.length ? ` · next: ${predictionsText(t.predictions, 5)}` : '';
  return loss + next;
}

/** A 0..max colour ramp in the palette, its end labelled `maxText`, with marks (K steps) along it. */
function colourAxis(max: number, maxText: string, marks: { at: number; text: string }[], label: string): SVGSVGElement {
  const W = 220;
  const H = 30;
  const x0 = 6;
  const w = W - 12;
  const root = svg('svg', { class: 'chart importance-axis', width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  root.append(svg('defs', {}, [rampGradient()]), svg('rect', { x: x0, y: 12, width: w, height: 7, rx: 2, fill: 'url(#imp-ramp)' }));
  root.append(svg('text', { class: 'tick', x: x0, y: 29, 'text-anchor': 'start' }, ['0']));
  root.append(svg('text', { class: 'tick', x: x0 + w, y: 29, 'text-anchor': 'end' }, [maxText]));
  for (const m of marks) {
    const x = x0 + (m.at / max) * w;
    root.append(svg('line', { class: 'k-step', x1: x, x2: x, y1: 9, y2: 21 }));
    root.append(svg('text', { class: 'k-step-label', x, y: 8, 'text-anchor': 'middle' }, [m.text]));
  }
  root.setAttribute('role', 'img');
  root.setAttribute('aria-label', label);
  root.append(svg('title', {}, [label]));
  return root;
}

/** Whether the chips show the loss: a causal LM whose user chose it, or that has no importance to show (router_logits only). */
function colourByLoss(d: Derived, choice: StripColorBy): boolean {
  return d.causal && (choice === 'loss' || d.analysis.model.importanceAvailable === false);
}
