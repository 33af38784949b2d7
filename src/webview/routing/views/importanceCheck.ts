/**
 * Importance against occlusion (docs/importance-check.md), next to the token strip and its importance legend: a
 * button asks the host to delete each token in turn and re-run the model; the result is Spearman's rho per layer
 * (with its 95% interval and n) between the tokens' importance and the drop in the predicted class's probability,
 * a bar per layer on a -1..+1 axis, and the tokens whose deletion moved the prediction most. While it runs: the
 * inputs done and a Cancel button. A model it does not apply to (a trace, a causal LM) gets the reason instead.
 */
import type { Ctx, View } from '../context';
import { el } from '../../shared/dom';
import { formatLayerCheck, importanceCheckUnavailable, type ImportanceCheck } from '../../../shared/importance-check';
import { tokenShownText } from '../../../shared/token-text';

/** The check runs on the host; a long text takes a while (T + 1 model inputs). */
const CHECK_TIMEOUT_MS = 30 * 60_000;
/** Tokens listed under "largest drops". */
const TOP_DROPS = 5;

export class ImportanceCheckView implements View {
  readonly root = el('section', {
    class: 'section importance-check-section',
    testid: 'importance-check',
    attrs: { 'aria-labelledby': 'importance-check-title' },
  });
  private readonly title = el('h2', { class: 'section-title', text: 'Importance vs occlusion', attrs: { id: 'importance-check-title' } });
  private readonly button = el('vscode-button', {
    testid: 'importance-check-run',
    text: 'Check importance (occlusion)',
    attrs: {
      secondary: true,
      title: "Delete each token in turn, re-run the model and rank the drop in the predicted class's probability against importance",
    },
  });
  private readonly cancel = el('vscode-button', { testid: 'importance-check-cancel', text: 'Cancel', attrs: { secondary: true } });
  private readonly status = el('div', { class: 'muted small', testid: 'importance-check-status', attrs: { 'aria-live': 'polite' } });
  private readonly result = el('div', { class: 'importance-check-result', testid: 'importance-check-result' });

  constructor(private readonly ctx: Ctx) {
    this.cancel.hidden = true;
    this.button.addEventListener('click', () => void this.run());
    this.cancel.addEventListener('click', () => ctx.client.notify('importance/cancel', {}));
    this.root.append(
      el('div', { class: 'section-head' }, [this.title, el('span', { class: 'importance-check-actions' }, [this.button, this.cancel])]),
      this.status,
      this.result,
    );
  }

  private async run(): Promise<void> {
    const s = this.ctx.store.get();
    if (!s.analysis || s.importanceRunning) return;
    const analysis = s.analysis;
    this.ctx.store.update({ importanceRunning: true, importanceProgress: null, error: null, notice: null });
    try {
      const check = (await this.ctx.client.request('importance/check', {}, CHECK_TIMEOUT_MS)) as ImportanceCheck | null;
      if (this.ctx.store.get().analysis !== analysis) return;
      if (check === null) {
        this.ctx.store.update({ importanceRunning: false, notice: 'Importance check cancelled.' });
        return;
      }
      // Kept with the analysis (the host keeps it on its copy too), so a restored panel shows it.
      analysis.importance_check = check;
      this.ctx.store.update({ importanceRunning: false, importanceCheck: check });
    } catch (e) {
      if (this.ctx.store.get().analysis !== analysis) return;
      this.ctx.store.update({ importanceRunning: false, error: `Importance check failed: ${(e as Error).message}` });
    }
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    const d = this.ctx.derived();
    this.root.hidden = !d || !s.analysis;
    if (!d || !s.analysis) return;
    const unavailable = importanceCheckUnavailable(s.analysis.model);
    this.button.toggleAttribute('disabled', unavailable !== null || s.importanceRunning);
    this.cancel.hidden = !s.importanceRunning;
    const check = s.importanceCheck;
    if (unavailable) this.status.textContent = `Not available: ${unavailable}`;
    else if (s.importanceRunning) {
      const p = s.importanceProgress;
      this.status.textContent = p ? `Running the model on the text without each token: ${p.done} of ${p.total} inputs…` : 'Starting…';
    } else if (!check)
      this.status.textContent =
        "Does importance pick out the tokens the prediction depends on? The check deletes each token in turn and ranks the drop in the predicted class's probability against importance, per layer.";
    else this.status.textContent = '';
    if (changed.has('importanceCheck') || changed.has('analysis') || changed.has('layer') || changed.has('theme'))
      this.renderResult(check, s.layer);
  }

  private renderResult(check: ImportanceCheck | null, layer: number): void {
    if (!check) {
      this.result.replaceChildren();
      return;
    }
    const head = check.predicted
      ? `Spearman's ρ of importance and the drop in p(${check.predicted.label}) (${check.predicted.probability.toFixed(3)} on the whole text) when the token is deleted; ${check.n} tokens, ${check.sequences} model inputs.`
      : `Spearman's ρ over ${check.n} tokens of ${check.texts} texts.`;
    const rows = check.layers.map((l) =>
      el('tr', { class: l.layer === layer ? 'selected' : undefined, testid: `importance-check-layer-${l.layer}` }, [
        el('th', { text: `Layer ${l.layer}`, attrs: { scope: 'row' } }),
        el('td', { class: 'num', text: formatLayerCheck(l), testid: 'importance-check-rho' }),
        el('td', { class: 'rho-bar-cell' }, [rhoBar(l.spearman, l.ci95)]),
      ]),
    );
    const table = el('table', { class: 'importance-check-table', testid: 'importance-check-table' }, [
      el('caption', { class: 'muted small', text: head }),
      el('thead', {}, [
        el('tr', {}, [
          el('th', { text: 'layer', attrs: { scope: 'col' } }),
          el('th', { text: 'ρ [95% CI] (n)', attrs: { scope: 'col' } }),
          el('th', { text: '−1 · 0 · +1', attrs: { scope: 'col' } }),
        ]),
      ]),
      el('tbody', {}, rows),
    ]);
    this.result.replaceChildren(table, this.topDrops(check, layer));
  }

  /** The tokens whose deletion lowered the prediction most, with their importance in the selected layer. */
  private topDrops(check: ImportanceCheck, layer: number): HTMLElement {
    const a = this.ctx.store.get().analysis;
    if (!a || !check.drops) return el('div');
    const ranked = check.drops
      .map((drop, i) => ({ drop, i }))
      .filter((x): x is { drop: number; i: number } => x.drop !== null)
      .sort((x, y) => y.drop - x.drop)
      .slice(0, TOP_DROPS);
    const imp = a.layers[layer]?.importance ?? [];
    return el('p', { class: 'small importance-check-drops', testid: 'importance-check-drops' }, [
      el('span', { class: 'muted', text: `Largest drops of p(${check.predicted?.label ?? 'the predicted class'}) when deleted: ` }),
      ranked
        .map(({ drop, i }) => `${tokenShownText(a.tokens[i], a)} ${drop.toFixed(4)} (importance ${(imp[i] ?? NaN).toFixed(2)})`)
        .join(' · '),
    ]);
  }
}

/** rho on a -1..+1 track: a bar from 0, its interval as a whisker. Colours from the theme's chart colours (CSS). */
function rhoBar(rho: number | null, ci: [number, number] | null): HTMLElement {
  const pos = (x: number): string => `${((x + 1) / 2) * 100}%`;
  const track = el('div', { class: 'rho-track', attrs: { 'aria-hidden': 'true' } }, [el('span', { class: 'rho-zero' })]);
  if (rho === null) return track;
  const bar = el('span', { class: `rho-fill ${rho >= 0 ? 'positive' : 'negative'}` });
  bar.style.left = pos(Math.min(0, rho));
  bar.style.width = `${(Math.abs(rho) / 2) * 100}%`;
  track.append(bar);
  if (ci) {
    const whisker = el('span', { class: 'rho-ci' });
    whisker.style.left = pos(ci[0]);
    whisker.style.width = `${((ci[1] - ci[0]) / 2) * 100}%`;
    track.append(whisker);
  }
  return track;
}
