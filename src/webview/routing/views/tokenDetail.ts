/**
 * One token in words, under the token strip: the token under the pointer (else the one under the editor cursor) with
 * its importance and K in the selected layer, its experts (or dropped), and for a causal LM its loss, where it stood
 * among what the model expected there, what was expected, and what the model predicts next. The strip's chip
 * titles say the same in one line; this is the readable, copyable form (and what an e2e screenshot can show).
 */
import type { Ctx } from '../context';
import { clear, displayToken, el, fmtNum } from '../../shared/dom';
import type { TokenPrediction } from '../../../shared/analysis';
import { lossText, rankAmongExpected } from '../../../shared/next-token-text';
import { DROPPED_TEXT, isDropped, sharedExpertsDescription } from '../../../shared/router-text';
import { tokenDescription } from '../../../shared/token-text';

/** Predictions listed in the detail (the contract gives up to 5). */
export const DETAIL_PREDICTIONS = 5;

export class TokenDetail {
  readonly root = el('div', { class: 'token-detail', testid: 'token-detail', attrs: { 'aria-live': 'polite' } });

  constructor(private readonly ctx: Ctx) {}

  update(): void {
    const d = this.ctx.derived();
    clear(this.root);
    if (!d) return;
    const s = this.ctx.store.get();
    const t = s.hoverToken ?? s.cursorToken;
    const a = d.analysis;
    const token = t === null ? undefined : a.tokens[t];
    if (t === null || !token) {
      this.root.dataset.token = '';
      this.root.append(
        el('span', {
          class: 'muted',
          text: d.causal
            ? 'Point at a token to read its loss, what the model expected there and what it predicts next.'
            : 'Point at a token to read its importance, K and experts.',
        }),
      );
      return;
    }
    this.root.dataset.token = String(t);
    const layer = a.layers[s.layer];
    const line = (label: string, ...content: (Node | string)[]): HTMLElement =>
      el('div', { class: 'detail-line' }, [el('span', { class: 'detail-label', text: label }), ...content]);
    const routing: (Node | string)[] = [];
    if (layer) {
      routing.push(`layer ${s.layer}: K ${layer.k[t] ?? 0}`);
      if (a.model.routingSource !== 'trace' && a.model.importanceAvailable !== false)
        routing.push(` · importance ${fmtNum(layer.importance[t] ?? 0, 3)}`);
      if (isDropped(layer, t)) routing.push(` · ${DROPPED_TEXT}`);
      else {
        const gates = a.model.gatesAvailable !== false;
        const experts = (layer.experts[t] ?? []).map((e, j) => (gates ? `E${e} ${fmtNum(layer.gates[t][j])}` : `E${e}`));
        if (experts.length) routing.push(` · ${experts.join(', ')}`);
      }
      const shared = sharedExpertsDescription(a.model);
      if (shared) routing.push(` · + ${shared}`);
    }
    this.root.append(
      el('div', { class: 'detail-head' }, [
        el('strong', { text: `#${t} ` }),
        el('code', { class: 'detail-token', text: displayToken(tokenDescription(token, a)) }),
        el('span', { class: 'muted', text: token.special ? ' (special token)' : '' }),
        el('span', { class: 'detail-routing' }, [' · ', ...routing]),
      ]),
    );
    if (!d.causal) return;
    if (token.loss === undefined) {
      this.root.append(
        line('loss', el('span', { testid: 'detail-loss', class: 'muted', text: '— none: the first token (nothing predicts it)' })),
      );
    } else {
      const rank = rankAmongExpected(a.tokens, t);
      const windowed =
        token.context !== undefined && token.context !== t ? ` · scored with ${token.context} tokens of context (windowed)` : '';
      this.root.append(
        line(
          'loss',
          el('strong', { testid: 'detail-loss', text: lossText(token.loss) }),
          ` · ${rank ? `the model's choice #${rank}` : `not among its top ${a.languageModel?.predictionsPerToken ?? DETAIL_PREDICTIONS}`}${windowed}`,
        ),
      );
      const expected = a.tokens[t - 1]?.predictions;
      if (expected?.length) this.root.append(line('expected here', predictionList(expected, token.id, 'detail-expected')));
    }
    if (token.predictions?.length) {
      const next = a.tokens[t + 1];
      this.root.append(line('predicts next', predictionList(token.predictions, next?.id, 'detail-predictions')));
    }
  }
}

/** The predictions as chips "token 0.32", the one that actually came marked. */
function predictionList(predictions: readonly TokenPrediction[], actualId: number | undefined, testid: string): HTMLElement {
  const list = el('span', { class: 'prediction-list', testid });
  predictions.slice(0, DETAIL_PREDICTIONS).forEach((p, i) => {
    if (i > 0) list.append(' ');
    const hit = p.id === actualId;
    list.append(
      el(
        'span',
        {
          class: hit ? 'pred actual' : 'pred',
          attrs: { title: `${p.token}: p ${p.probability.toFixed(4)}${hit ? ' (the token that came)' : ''}`, 'data-id': p.id },
        },
        [el('code', { text: displayToken(p.token) }), el('span', { class: 'pred-p', text: ` ${p.probability.toFixed(2)}` })],
      ),
    );
  });
  return list;
}
