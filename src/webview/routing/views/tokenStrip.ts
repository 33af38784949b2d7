/** The tokens as text chips coloured by importance in the selected layer; special tokens outlined, not filled. */
import type { Ctx, View } from '../context';
import { clear, displayToken, el } from '../../shared/dom';
import { relImportance } from '../model';
import { colourAt, gradientCss, textOn } from '../../../shared/palette';
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

  constructor(private readonly ctx: Ctx) {
    const legend = el('div', { class: 'legend', attrs: { 'aria-hidden': 'true' } }, [
      el('span', { class: 'muted', text: 'low' }),
      el('span', { class: 'legend-ramp' }),
      el('span', { class: 'muted', text: 'high' }),
      el('span', { class: 'tok special legend-special', text: '[special]' }),
    ]);
    (legend.children[1] as HTMLElement).style.backgroundImage = gradientCss();
    this.root.append(el('div', { class: 'section-head' }, [this.title, legend]), this.strip);
    this.strip.addEventListener('mouseover', (e) => {
      const t = this.tokenOf(e.target);
      if (t !== null) ctx.hover(t);
    });
    this.strip.addEventListener('mouseleave', () => ctx.hover(null));
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
    if (changed.has('analysis') || changed.has('layer')) this.colour();
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
    const frag = document.createDocumentFragment();
    this.spans = a.tokens.map((t) => {
      const span = el('span', {
        class: t.special ? 'tok special' : t.unknown ? 'tok unknown' : 'tok',
        text: displayToken(tokenShownText(t, a)),
      });
      span.dataset.index = String(t.index);
      frag.appendChild(span);
      return span;
    });
    this.strip.appendChild(frag);
    this.strip.setAttribute('aria-label', `${a.tokens.length} tokens coloured by importance. Use the table view to read them one by one.`);
  }

  private colour(): void {
    const d = this.ctx.derived()!;
    const l = this.ctx.store.get().layer;
    this.title.textContent = `Tokens · importance in layer ${l}`;
    const tokens = d.analysis.tokens;
    const imp = d.analysis.layers[l]?.importance ?? [];
    const trace = d.analysis.model.routingSource === 'trace';
    if (trace) this.title.textContent = 'Tokens · importance not recorded (routing trace)';
    const impText = (i: number): string => (trace ? 'importance not recorded' : `importance ${(imp[i] ?? 0).toFixed(3)}`);
    for (let i = 0; i < this.spans.length; i++) {
      const span = this.spans[i];
      if (tokens[i].special) {
        span.title = `${tokens[i].text} (special token) · ${impText(i)}`;
        continue;
      }
      const r = relImportance(d, l, i);
      span.style.backgroundColor = colourAt(r);
      span.style.color = textOn(r);
      span.title =
        `#${i} ${tokenDescription(tokens[i], d.analysis)} · ${impText(i)}` +
        (tokens[i].generated ? ' · generated' : '') +
        (tokens[i].recorded === false ? ' · routing not recorded' : '');
      span.classList.toggle('generated', tokens[i].generated === true);
    }
  }

  private mark(cls: string, token: number | null): void {
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
