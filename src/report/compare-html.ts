/**
 * Self-contained HTML for a CompareReport (`damoe compare --html`, VS Code's export): the models' accuracies with
 * their 95% intervals drawn on one axis, the paired differences with theirs against zero, and the disagreements.
 * Every string from the dataset or a model is escaped; no external loads (the document of ./html.ts).
 */
import type { CompareReport } from '../shared/compare-report';
import { hexAt } from '../shared/palette';
import { formatP, formatPercentWithCi, formatPointsWithCi } from '../shared/stats';
import { baseName, big, escapeHtml as e, htmlDocument, int, type RenderOptions } from './html';

interface Interval {
  label: string;
  value: number;
  ci: [number, number];
  title: string;
}

/**
 * A forest plot: one row per interval on a shared horizontal axis from `lo` to `hi` (the value a dot, the interval
 * a bar), with a reference line at `reference` when given (0 for differences).
 */
function forestPlot(
  rows: readonly Interval[],
  axis: { lo: number; hi: number; reference?: number; unit: (x: number) => string; caption: string },
): string {
  const labelW = 150;
  const plotW = 420;
  const rowH = 24;
  const top = 8;
  const h = top + rows.length * rowH + 28;
  const w = labelW + plotW + 16;
  const span = Math.max(1e-9, axis.hi - axis.lo);
  const x = (v: number): number => labelW + ((Math.min(axis.hi, Math.max(axis.lo, v)) - axis.lo) / span) * plotW;
  // Ticks at round values: a step of 1, 2 or 5 × 10^k giving 3 to 6 ticks.
  const raw = span / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => span / st <= 6) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(axis.lo / step - 1e-9) * step; t <= axis.hi + 1e-9; t += step) ticks.push(t);
  const body = rows
    .map((r, i) => {
      const y = top + i * rowH + rowH / 2;
      const colour = hexAt(0.25 + (0.5 * i) / Math.max(1, rows.length - 1));
      return (
        `<text x="${labelW - 8}" y="${y + 4}" class="axis right">${e(r.label)}</text>` +
        `<line x1="${x(r.ci[0]).toFixed(1)}" x2="${x(r.ci[1]).toFixed(1)}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="4" stroke-linecap="round"><title>${e(r.title)}</title></line>` +
        `<circle cx="${x(r.value).toFixed(1)}" cy="${y}" r="5" fill="${colour}" class="dot"><title>${e(r.title)}</title></circle>`
      );
    })
    .join('');
  const axisY = top + rows.length * rowH + 4;
  const tickMarks = ticks
    .map(
      (t) =>
        `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${axisY}" y2="${axisY + 4}" class="rule"/><text x="${x(t).toFixed(1)}" y="${axisY + 15}" class="axis">${e(axis.unit(t))}</text>`,
    )
    .join('');
  const ref =
    axis.reference !== undefined && axis.reference >= axis.lo && axis.reference <= axis.hi
      ? `<line x1="${x(axis.reference).toFixed(1)}" x2="${x(axis.reference).toFixed(1)}" y1="${top}" y2="${axisY}" class="fair"><title>no difference</title></line>`
      : '';
  return (
    `<figure class="chart"><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${e(axis.caption)}">` +
    `<line x1="${labelW}" x2="${labelW + plotW}" y1="${axisY}" y2="${axisY}" class="rule"/>${tickMarks}${ref}${body}</svg>` +
    `<figcaption>${e(axis.caption)}</figcaption></figure>`
  );
}

/** An axis range that holds every interval, padded a little and rounded to whole points. */
function range(intervals: readonly [number, number][], include: number[] = []): { lo: number; hi: number } {
  const xs = [...intervals.flat(), ...include];
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const pad = Math.max(0.01, (hi - lo) * 0.08);
  return { lo: Math.floor((lo - pad) * 100) / 100, hi: Math.ceil((hi + pad) * 100) / 100 };
}

const pts = (x: number): string => (Math.abs(x) < 1e-9 ? '0' : `${x > 0 ? '+' : ''}${(100 * x).toFixed(0)}`);
const pc = (x: number): string => `${(100 * x).toFixed(0)}%`;

export function renderCompareHtml(report: CompareReport, options: RenderOptions = {}): string {
  const r = report;
  const title = options.title ?? `Compare: ${r.models.map((m) => m.name).join(' vs ')} on ${baseName(r.dataset.path)}`;
  const unit = (u: 'flops' | 'expert-evaluations'): string => (u === 'flops' ? 'FLOP' : ' expert evaluations');
  const withAcc = r.models.filter((m) => m.accuracy !== null && m.ci95 !== null);
  const modelRows = r.models
    .map(
      (m) =>
        `<tr><th scope="row">${e(m.name)}</th><td>${e(m.router_kind)}</td>` +
        `<td class="num">${m.accuracy === null ? 'n/a' : e(formatPercentWithCi(m.accuracy, m.ci95))}</td>` +
        `<td class="num">${m.correct === null ? 'n/a' : `${int(m.correct)} / ${int(m.labelled)}`}</td>` +
        `<td class="num">${m.mean_k.toFixed(2)}</td><td class="num">${e(m.mean_k_per_layer.map((k) => k.toFixed(2)).join(' · '))}</td>` +
        `<td class="num">${e(`${big(m.expert_flops)}${unit(m.flops_unit)}`)}</td>` +
        `<td class="num">${m.expert_flops_fixed_top_2 > 0 ? `${((100 * m.expert_flops) / m.expert_flops_fixed_top_2).toFixed(1)}%` : 'n/a'}</td></tr>`,
    )
    .join('');
  const modelsTable =
    `<table><tr><th scope="col">model</th><th scope="col">router</th><th scope="col">accuracy [95% CI]</th><th scope="col">correct</th>` +
    `<th scope="col">mean K</th><th scope="col">mean K per layer</th><th scope="col">expert compute</th><th scope="col">vs fixed top-2</th></tr>${modelRows}</table>`;
  const accPlot = withAcc.length
    ? forestPlot(
        withAcc.map((m) => ({
          label: m.name,
          value: m.accuracy!,
          ci: m.ci95!,
          title: `${m.name}: ${formatPercentWithCi(m.accuracy!, m.ci95)}`,
        })),
        { ...range(withAcc.map((m) => m.ci95!)), unit: pc, caption: 'accuracy with its 95% Wilson score interval' },
      )
    : '<p class="muted">No labels that map to the models’ labels: no accuracy.</p>';
  const pairs = r.paired_with_first;
  const pairedSection = pairs.length
    ? `<table><tr><th scope="col">difference</th><th scope="col">n</th><th scope="col">accuracy difference [95% paired bootstrap CI]</th><th scope="col">McNemar exact</th><th scope="col">only the first right</th><th scope="col">only the second right</th></tr>` +
      pairs
        .map(
          (p) =>
            `<tr><th scope="row">${e(p.first)} − ${e(p.second)}</th><td class="num">${int(p.n)}</td><td class="num">${e(formatPointsWithCi(p.difference, p.ci95))}</td>` +
            `<td class="num">${e(formatP(p.mcnemar_p))}</td><td class="num">${int(p.first_only_correct)}</td><td class="num">${int(p.second_only_correct)}</td></tr>`,
        )
        .join('') +
      `</table>` +
      forestPlot(
        pairs.map((p) => ({
          label: `${p.first} − ${p.second}`,
          value: p.difference,
          ci: p.ci95,
          title: formatPointsWithCi(p.difference, p.ci95),
        })),
        {
          ...range(
            pairs.map((p) => p.ci95),
            [0],
          ),
          reference: 0,
          unit: pts,
          caption: 'paired accuracy difference (points) with its 95% bootstrap interval; the dashed line is no difference',
        },
      ) +
      `<p class="muted">Paired on the examples every model analysed with a label; ${int(pairs[0].bootstrap.resamples)} bootstrap resamples of those examples, seed ${e(pairs[0].bootstrap.seed)}. ` +
      `${pairs.length > 1 ? 'With three models each is paired against the first. ' : ''}McNemar's test is the exact two-sided binomial test on the discordant pairs.</p>`
    : '<p class="muted">No paired statistics: no labelled examples whose labels map to the models’ labels.</p>';
  const dis = r.disagreements
    .map(
      (d) =>
        `<tr><td class="num">${d.line}</td><td class="text">${e(d.text)}${d.pair !== null ? ` <span class="sep">‖</span> ${e(d.pair)}` : ''}</td>` +
        `<td>${d.label === null ? '<span class="muted">–</span>' : e(d.label)}</td>` +
        d.predictions
          .map(
            (p, i) =>
              `<td class="${d.correct[i] === null ? '' : d.correct[i] ? 'correct' : 'wrong'}">${e(p)}${d.correct[i] === null ? '' : d.correct[i] ? ' ✓' : ' ✗'}</td>`,
          )
          .join('') +
        `</tr>`,
    )
    .join('\n');
  const sections = [
    `<header><h1>${e(title)}</h1><p class="muted">Dataset <code>${e(r.dataset.path)}</code> (${e(r.dataset.format)}; text <code>${e(r.dataset.text_column)}</code>` +
      `${r.dataset.label_column ? `, label <code>${e(r.dataset.label_column)}</code>` : ', no labels'}) · sample ${int(r.sample.size)} of ${int(r.dataset.records)} examples ` +
      `(seed ${e(r.sample.seed)}${r.sample.stratified ? ', stratified by label' : ''}), the same for every model · ${e(r.created_at)}</p></header>`,
    r.partial
      ? `<div class="banner" role="status">${r.cancelled ? 'Cancelled' : 'Partial'}: ${e(r.partial_reason ?? '')}. The figures cover the examples done.</div>`
      : '',
    `<section><h2>Models</h2>${modelsTable}${accPlot}<p class="muted">Mean K and expert compute count every routed token, special tokens included.</p></section>`,
    `<section><h2>Paired comparison</h2>${pairedSection}</section>`,
    `<section><h2>Disagreements</h2><p class="muted">${int(r.disagreements_total)} of ${int(r.common)} examples get different predictions${r.disagreements_total > r.disagreements.length ? ` (the first ${int(r.disagreements.length)} listed)` : ''}.</p>` +
      (r.disagreements.length
        ? `<table class="examples"><thead><tr><th scope="col">line</th><th scope="col">text</th><th scope="col">label</th>${r.models.map((m) => `<th scope="col">${e(m.name)}</th>`).join('')}</tr></thead><tbody>\n${dis}\n</tbody></table>`
        : '') +
      `</section>`,
  ];
  return htmlDocument(title, sections.join('\n'), options);
}
