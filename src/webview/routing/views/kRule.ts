/**
 * What importance is and how K follows from it, as the model's metadata states them (docs/model-contract.md says
 * they are "shown to the user as given"): one line with the rule and where K steps up in the selected layer, and,
 * opened, the exporter's own words.
 */
import type { Ctx, View } from '../context';
import { el } from '../../shared/dom';
import { describeKRule } from '../../../shared/k-rule';

export class KRuleView implements View {
  readonly root = el('details', { class: 'k-rule', testid: 'k-rule' });
  private readonly summary = el('summary', { testid: 'k-rule-summary' });
  private readonly body = el('dl', { class: 'k-rule-body', testid: 'k-rule-body' });

  constructor(private readonly ctx: Ctx) {
    this.root.append(this.summary, this.body);
  }

  update(changed: ReadonlySet<string>): void {
    const d = this.ctx.derived();
    const s = this.ctx.store.get();
    this.root.hidden = !d;
    if (!d || !(changed.has('analysis') || changed.has('layer'))) return;
    const rule = d.rule;
    this.summary.replaceChildren(el('span', { class: 'k-rule-label', text: 'K rule' }), ` ${describeKRule(rule, s.layer)}`);
    if (!changed.has('analysis')) return;
    const m = d.analysis.model;
    const row = (term: string, value: string | null, testid: string): HTMLElement[] =>
      value === null ? [] : [el('dt', { text: term }), el('dd', { text: value, testid })];
    this.body.replaceChildren(
      ...row(
        'importance',
        rule.definition ?? (m.importanceAvailable === false ? 'not available for this model' : 'not stated by the model'),
        'k-rule-definition',
      ),
      ...row('normalised by', rule.normalization, 'k-rule-normalization'),
      ...row('K rule (as the model states it)', rule.rule, 'k-rule-text'),
      ...row('gates', m.gates ?? null, 'k-rule-gates'),
    );
  }
}
