/**
 * A dataset comparison: each model's accuracy with its 95% Wilson interval, mean K and expert FLOPs; the paired
 * difference of the first model and each other with its bootstrap interval and McNemar's p; and the disagreements,
 * each a button that asks the host to compare the models on that text. Export JSON / HTML save the comparison as
 * `damoe compare --json / --html` write it.
 */
import type { CompareReport } from '../../shared/compare-report';
import type { CompareExportFormat } from '../../shared/protocol/compare';
import { formatP, formatPercentWithCi, formatPointsWithCi } from '../../shared/stats';
import { clear, el, fmtNum } from '../shared/dom';

const base = (p: string): string => p.split(/[\\/]/).pop() ?? p;

function flops(x: number, unit: 'flops' | 'expert-evaluations'): string {
  const s = x >= 1e9 ? `${(x / 1e9).toFixed(2)} G` : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${Math.round(x)} `;
  return `${s}${unit === 'flops' ? 'FLOP' : ' expert evals'}`;
}

export class CompareDatasetSection {
  readonly root = el('section', { class: 'section', testid: 'compare-dataset', attrs: { 'aria-labelledby': 'compare-dataset-title' } });
  private readonly title = el('h2', { class: 'section-title', attrs: { id: 'compare-dataset-title' } });
  private readonly body = el('div', { class: 'section-body' });
  private readonly exportJson = el('vscode-button', {
    testid: 'compare-export-json',
    text: 'Export JSON',
    attrs: { secondary: true, title: 'Save the comparison as JSON (as damoe compare --json writes it)' },
  });
  private readonly exportHtml = el('vscode-button', {
    testid: 'compare-export-html',
    text: 'Export HTML',
    attrs: { secondary: true, title: 'Save the comparison as one self-contained HTML file' },
  });

  constructor(
    private readonly open: (line: number) => void,
    exportReport: (format: CompareExportFormat) => void,
  ) {
    this.exportJson.addEventListener('click', () => exportReport('json'));
    this.exportHtml.addEventListener('click', () => exportReport('html'));
    this.root.append(
      el('div', { class: 'section-head' }, [this.title, el('div', { class: 'cmp-actions' }, [this.exportJson, this.exportHtml])]),
      this.body,
    );
    this.root.hidden = true;
  }

  show(r: CompareReport): void {
    clear(this.body);
    this.root.hidden = false;
    this.title.textContent = `Dataset: ${base(r.dataset.path)}`;
    this.body.append(
      el('p', {
        class: 'muted small',
        text: `${r.sample.size} of ${r.dataset.records} examples (seed ${r.sample.seed}${r.sample.stratified ? ', stratified by label' : ''}), the same sample for every model.${r.partial ? ` ${r.partial_reason ?? ''}` : ''}`,
      }),
    );
    const models = el('table', { class: 'routing-table cmp-models', testid: 'compare-models-table' });
    models.append(
      el('thead', {}, [
        el(
          'tr',
          {},
          ['model', 'router', 'accuracy [95% CI]', 'correct', 'mean K', 'expert compute', 'vs top-2'].map((t) =>
            el('th', { attrs: { scope: 'col' }, text: t }),
          ),
        ),
      ]),
    );
    const mb = el('tbody');
    for (const m of r.models) {
      mb.append(
        el(
          'tr',
          { testid: 'compare-model-row', attrs: { 'data-model': m.name, 'data-accuracy': m.accuracy === null ? '' : String(m.accuracy) } },
          [
            el('th', { attrs: { scope: 'row' }, text: m.name }),
            el('td', { text: m.router_kind }),
            el('td', { class: 'num', text: m.accuracy === null ? 'n/a' : formatPercentWithCi(m.accuracy, m.ci95) }),
            el('td', { class: 'num', text: m.correct === null ? 'n/a' : `${m.correct}/${m.labelled}` }),
            el('td', { class: 'num', text: fmtNum(m.mean_k) }),
            el('td', { class: 'num', text: flops(m.expert_flops, m.flops_unit) }),
            el('td', {
              class: 'num',
              text: m.expert_flops_fixed_top_2 > 0 ? `${((100 * m.expert_flops) / m.expert_flops_fixed_top_2).toFixed(1)}%` : 'n/a',
            }),
          ],
        ),
      );
    }
    models.append(mb);
    this.body.append(el('div', { class: 'cmp-scroll' }, [models]));

    if (r.paired_with_first.length > 0) {
      const paired = el('table', { class: 'routing-table cmp-paired', testid: 'compare-paired-table' });
      paired.append(
        el('thead', {}, [
          el(
            'tr',
            {},
            ['difference', 'n', 'accuracy Δ [95% CI]', 'McNemar', 'only first right', 'only second right'].map((t) =>
              el('th', { attrs: { scope: 'col' }, text: t }),
            ),
          ),
        ]),
      );
      const pb = el('tbody');
      for (const p of r.paired_with_first) {
        pb.append(
          el('tr', { testid: 'compare-paired-row', attrs: { 'data-second': p.second, 'data-p': String(p.mcnemar_p) } }, [
            el('th', { attrs: { scope: 'row' }, text: `${p.first} − ${p.second}` }),
            el('td', { class: 'num', text: String(p.n) }),
            el('td', { class: 'num', text: formatPointsWithCi(p.difference, p.ci95) }),
            el('td', { class: 'num', text: formatP(p.mcnemar_p) }),
            el('td', { class: 'num', text: String(p.first_only_correct) }),
            el('td', { class: 'num', text: String(p.second_only_correct) }),
          ]),
        );
      }
      paired.append(pb);
      this.body.append(
        el('div', { class: 'cmp-scroll' }, [paired]),
        el('p', {
          class: 'muted small',
          text: `Accuracy Δ: first − second with its 95% paired bootstrap interval; McNemar: exact two-sided p on the discordant pairs. Paired on the ${r.paired_with_first[0].n} examples every model analysed with a label; ${r.paired_with_first[0].bootstrap.resamples.toLocaleString('en')} bootstrap resamples, seed ${r.paired_with_first[0].bootstrap.seed}.${r.paired_with_first.length > 1 ? ' Each model is paired against the first.' : ''}`,
        }),
      );
    } else {
      this.body.append(el('p', { class: 'muted', text: 'No paired statistics: no labels that map to the models’ labels.' }));
    }

    this.body.append(
      el('h3', {
        class: 'cmp-sub',
        text: `Disagreements: ${r.disagreements_total} of ${r.common} examples${r.disagreements_total > r.disagreements.length ? ` (first ${r.disagreements.length})` : ''}`,
      }),
    );
    if (r.disagreements.length === 0) {
      this.body.append(el('p', { class: 'muted', text: 'The models predict the same label on every example.' }));
      return;
    }
    this.body.append(el('p', { class: 'muted small', text: 'Click a row (or press Enter on it) to compare the models on its text.' }));
    const dis = el('table', { class: 'routing-table cmp-disagreements', testid: 'compare-disagreements' });
    dis.append(
      el('thead', {}, [
        el(
          'tr',
          {},
          ['line', 'text', 'label', ...r.models.map((m) => m.name)].map((t) => el('th', { attrs: { scope: 'col' }, text: t })),
        ),
      ]),
    );
    const db = el('tbody');
    for (const d of r.disagreements) {
      const row = el(
        'tr',
        {
          class: 'cmp-dis-row',
          testid: 'compare-disagreement',
          attrs: { 'data-line': String(d.line), tabindex: '0', role: 'button', title: 'Compare the models on this text' },
        },
        [
          el('td', { class: 'num', text: String(d.line) }),
          el('td', { class: 'cmp-dis-text', text: d.pair === null ? d.text : `${d.text} ‖ ${d.pair}` }),
          el('td', { text: d.label ?? '–' }),
          ...d.predictions.map((p, i) =>
            el('td', {
              class: d.correct[i] === null ? '' : d.correct[i] ? 'ok' : 'wrong',
              text: `${p}${d.correct[i] === null ? '' : d.correct[i] ? ' ✓' : ' ✗'}`,
            }),
          ),
        ],
      );
      row.addEventListener('click', () => this.open(d.line));
      row.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          this.open(d.line);
        }
      });
      db.append(row);
    }
    dis.append(db);
    this.body.append(el('div', { class: 'cmp-scroll' }, [dis]));
  }
}
