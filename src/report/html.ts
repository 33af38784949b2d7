/**
 * Self-contained HTML for a SpotCheckReport: inline CSS, inline SVG and one small inline script (sorting and
 * filtering the examples table); no network, no external fonts or images. Every string that came from the dataset
 * or the model is HTML-escaped. A pure function of the report, so the VS Code side can reuse it ("Export HTML").
 */
import { formatLayerCheck, importanceCheckSummary } from '../shared/importance-check';
import type {
  SpecialisationExpert,
  SpotCheckExpertLoad,
  SpotCheckReport,
  SpotCheckRoutingGroup,
  TokenImportanceEntry,
} from '../shared/spotcheck-report';
import { hexAt, textOn } from '../shared/palette';
import { conditionalCoActivation, formatPercentWithCi, wilsonInterval } from '../shared/stats';
import { placementText } from '../shared/provider-text';
import { correlationText, kLossColumns, kLossRows, perplexityBasis, perplexityText } from '../shared/lm-report-text';

export interface RenderOptions {
  /** Nonce for the inline <style> and <script> (for a host with a nonce-based Content-Security-Policy). */
  nonce?: string;
  /** Add a Content-Security-Policy meta tag that forbids every external load (default true). */
  csp?: boolean;
  /** Document title (default: "Spot-check: <dataset file name>"). */
  title?: string;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;

function fmt(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

function pct(x: number | null): string {
  return x === null || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`;
}

export function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** 5053480960 -> "5.05 G" (FLOPs or expert evaluations). */
export function big(x: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, name] of units) if (Math.abs(x) >= scale) return `${(x / scale).toFixed(2)} ${name}`;
  return `${Math.round(x)} `;
}

export function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

/** Vertical bar chart (K histogram): one bar per bin, counts on hover and under the axis. */
function barChart(
  values: readonly number[],
  labels: readonly string[],
  caption: string,
  opts: { width?: number; height?: number } = {},
): string {
  const w = opts.width ?? 240;
  const h = opts.height ?? 120;
  const pad = { l: 6, r: 6, t: 16, b: 20 };
  const max = Math.max(1, ...values);
  const total = values.reduce((a, b) => a + b, 0);
  const bw = (w - pad.l - pad.r) / Math.max(1, values.length);
  const bars = values
    .map((v, i) => {
      const bh = ((h - pad.t - pad.b) * v) / max;
      const x = pad.l + i * bw;
      const y = h - pad.b - bh;
      const share = total === 0 ? 0 : v / total;
      return (
        `<rect x="${(x + 2).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 4).toFixed(1)}" height="${bh.toFixed(1)}" fill="${hexAt(0.15 + 0.7 * (i / Math.max(1, values.length - 1)))}">` +
        `<title>${e(labels[i])}: ${int(v)} (${pct(share)})</title></rect>` +
        `<text x="${(x + bw / 2).toFixed(1)}" y="${h - 6}" class="axis">${e(labels[i])}</text>` +
        (v > 0 ? `<text x="${(x + bw / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" class="val">${e(pct(share))}</text>` : '')
      );
    })
    .join('');
  return `<figure class="chart"><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${e(caption)}"><line x1="${pad.l}" x2="${w - pad.r}" y1="${h - pad.b}" y2="${h - pad.b}" class="rule"/>${bars}</svg><figcaption>${e(caption)}</figcaption></figure>`;
}

/** Expert utilisation bars for one layer; dead experts get a hatched outline and a ✕. */
function loadChart(load: SpotCheckExpertLoad, caption: string): string {
  const E = load.utilisation.length;
  const w = Math.max(200, Math.min(520, 26 * E + 40));
  const h = 130;
  const pad = { l: 28, r: 6, t: 10, b: 22 };
  const max = Math.max(2, ...load.utilisation);
  const y = (u: number): number => h - pad.b - ((h - pad.t - pad.b) * u) / max;
  const bw = (w - pad.l - pad.r) / Math.max(1, E);
  const dead = new Set(load.dead);
  const bars = load.utilisation
    .map((u, i) => {
      const x = pad.l + i * bw;
      const label = `expert ${i}: ${int(load.tokens[i])} tokens, utilisation ${fmt(u)}${dead.has(i) ? ' (dead: no token)' : ''}`;
      const bar = dead.has(i)
        ? `<rect x="${(x + 2).toFixed(1)}" y="${pad.t}" width="${Math.max(1, bw - 4).toFixed(1)}" height="${h - pad.t - pad.b}" class="dead"><title>${e(label)}</title></rect>` +
          `<text x="${(x + bw / 2).toFixed(1)}" y="${h - pad.b - 4}" class="deadmark">✕</text>`
        : `<rect x="${(x + 2).toFixed(1)}" y="${y(u).toFixed(1)}" width="${Math.max(1, bw - 4).toFixed(1)}" height="${(h - pad.b - y(u)).toFixed(1)}" fill="${hexAt(Math.min(1, u / max))}"><title>${e(label)}</title></rect>`;
      return `${bar}<text x="${(x + bw / 2).toFixed(1)}" y="${h - 8}" class="axis">${i}</text>`;
    })
    .join('');
  const fair = y(1);
  return (
    `<figure class="chart"><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${e(caption)}">` +
    `<text x="2" y="${(fair + 3).toFixed(1)}" class="axis left">1.0</text>` +
    `<text x="2" y="${(pad.t + 8).toFixed(1)}" class="axis left">${fmt(max, 1)}</text>${bars}` +
    `<line x1="${pad.l}" x2="${w - pad.r}" y1="${fair.toFixed(1)}" y2="${fair.toFixed(1)}" class="fair"><title>fair share (utilisation 1)</title></line></svg>` +
    `<figcaption>${e(caption)} · CV ${fmt(load.cv)}${load.dead.length ? ` · <strong class="warn">dead: ${e(load.dead.join(', '))}</strong>` : ' · no dead experts'}</figcaption></figure>`
  );
}

/**
 * Co-activation of one layer as P(j | i): row i = the experts chosen with expert i, each cell the share of i's tokens
 * that also went to j. The diagonal (always 1) is left blank so it cannot swamp the scale; colours run from 0 to the
 * layer's largest off-diagonal value, shown on the colour bar beside it.
 */
function conditionalHeatmap(counts: readonly number[][], caption: string): string {
  const p = conditionalCoActivation(counts);
  const E = p.length;
  const cell = Math.max(12, Math.min(30, Math.floor(300 / Math.max(1, E))));
  const left = 44;
  const top = 34;
  const grid = E * cell;
  const barX = left + grid + 14;
  const w = barX + 46;
  const h = top + grid + 8;
  const max = Math.max(1e-9, ...p.flat().filter((v): v is number => v !== null));
  const cells = p
    .map((row, i) =>
      row
        .map((v, j) => {
          const x = left + j * cell;
          const y = top + i * cell;
          if (v === null) {
            return `<rect x="${x}" y="${y}" width="${cell - 1}" height="${cell - 1}" class="nodata"><title>${i === j ? `expert ${i} (diagonal left out)` : `expert ${i} got no token`}</title></rect>`;
          }
          return `<rect x="${x}" y="${y}" width="${cell - 1}" height="${cell - 1}" fill="${hexAt(v / max)}"><title>P(expert ${j} | expert ${i}) = ${fmt(v, 3)}: ${int(counts[i][j])} of expert ${i}'s ${int(counts[i][i])} tokens</title></rect>`;
        })
        .join(''),
    )
    .join('');
  const ticks = Array.from(
    { length: E },
    (_, i) =>
      `<text x="${left + i * cell + cell / 2}" y="${top - 4}" class="axis">${i}</text><text x="${left - 4}" y="${top + i * cell + cell / 2 + 4}" class="axis right">${i}</text>`,
  ).join('');
  const stops = 24;
  const bar = Array.from({ length: stops }, (_, k) => {
    const t = 1 - k / (stops - 1);
    return `<rect x="${barX}" y="${(top + (grid * k) / stops).toFixed(1)}" width="10" height="${(grid / stops + 0.6).toFixed(1)}" fill="${hexAt(t)}"/>`;
  }).join('');
  const titles =
    `<text x="${left + grid / 2}" y="11" class="axis">expert j (also chosen)</text>` +
    `<text x="10" y="${top + grid / 2}" class="axis" transform="rotate(-90 10 ${top + grid / 2})">expert i (chosen)</text>`;
  const scale =
    `${bar}<text x="${barX + 14}" y="${top + 8}" class="axis left">${fmt(max)}</text>` +
    `<text x="${barX + 14}" y="${top + grid}" class="axis left">0</text>`;
  return `<figure class="chart"><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${e(caption)}">${titles}${ticks}${cells}${scale}</svg><figcaption>${e(caption)}: P(j | i), colour 0 to ${fmt(max)}</figcaption></figure>`;
}

/** Expert specialisation of one layer: each expert's top tokens by lift, with their counts. */
function specialisationTable(layer: readonly SpecialisationExpert[], l: number, minCount: number): string {
  const maxN = Math.max(0, ...layer.map((x) => x.tokens.length));
  if (maxN === 0) return `<p class="muted">Layer ${l}: no token reached ${minCount} assignments to one expert.</p>`;
  const rows = layer
    .map(
      (x) =>
        `<tr><th scope="row">${x.expert}</th><td>${
          x.tokens.length
            ? x.tokens
                .map(
                  (t) =>
                    `<code>${e(t.token)}</code> <span class="lift" title="${e(`${t.count} times; lift ${fmt(t.lift)}`)}">×${fmt(t.lift, 1)}</span> <span class="muted">(${int(t.count)})</span>`,
                )
                .join(' · ')
            : '<span class="muted">–</span>'
        }</td></tr>`,
    )
    .join('');
  return `<table class="specialisation" data-layer="${l}"><caption>layer ${l}</caption><tr><th scope="col">expert</th><th scope="col">top tokens by lift (count)</th></tr>${rows}</table>`;
}

/**
 * A causal LM's headline: the perplexity and what it is computed over, then the mean loss of the tokens with each K
 * per layer (cells coloured from the table's lowest to its highest mean loss) and the K–loss correlation.
 */
function languageModelSection(r: SpotCheckReport): string {
  const lm = r.language_model!;
  const rows = kLossRows(lm);
  const ks = kLossColumns(rows);
  const losses = rows.flatMap((row) => row.cells.flatMap((c) => (c.meanLoss === null ? [] : [c.meanLoss])));
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const head = `<tr><th scope="col">layer</th>${ks.map((k) => `<th scope="col">K=${k}</th>`).join('')}<th scope="col">K–loss correlation</th></tr>`;
  const body = rows
    .map((row) => {
      const cells = ks
        .map((k) => {
          const c = row.cells.find((x) => x.k === k);
          if (!c || c.meanLoss === null) return '<td class="num muted">–</td>';
          const t = hi > lo ? (c.meanLoss - lo) / (hi - lo) : 0;
          return `<td class="num" style="background:${hexAt(t)};color:${textOn(t)}" title="${e(`layer ${row.layer}, K=${k}: ${int(c.tokens)} tokens, mean loss ${c.meanLoss.toFixed(3)} nats`)}">${fmt(c.meanLoss)} <span class="small">(${int(c.tokens)})</span></td>`;
        })
        .join('');
      return `<tr data-layer="${row.layer}"><th scope="row">${row.layer}</th>${cells}<td class="num">${e(correlationText(row.correlation))}</td></tr>`;
    })
    .join('');
  return (
    `<section id="language-model"><h2>Perplexity and loss by K</h2>` +
    `<p>Perplexity <strong>${e(perplexityText(lm.perplexity))}</strong>: ${e(perplexityBasis(lm, r.n))}. Every token is scored teacher-forced, from the real tokens before it.</p>` +
    (r.label_mapping.note ? `<p class="muted">${e(r.label_mapping.note)}.</p>` : '') +
    `<table class="kloss"><caption>Mean loss (nats) of the scored tokens with each K, per layer (tokens in brackets); Pearson's r of K and loss</caption>${head}${body}</table>` +
    `<p class="muted">A negative correlation: tokens given more experts are predicted better; DA-MoE gives K from a token's attention importance, not from its loss.</p></section>`
  );
}

/** Importance against occlusion (docs/importance-check.md): rho per layer over the check's subset, or why it is absent. */
function importanceCheckHtml(r: SpotCheckReport): string {
  const c = r.importance_check;
  if (!c) return '';
  const rows = c.layers
    .map(
      (l) =>
        `<tr><th scope="row">layer ${l.layer}</th><td class="num">${e(formatLayerCheck(l))}</td><td class="num">${l.mean_text_spearman === null ? 'n/a' : `${fmt(l.mean_text_spearman, 3)} (${int(l.texts)})`}</td></tr>`,
    )
    .join('');
  return (
    `<section id="importance-check"><h2>Importance vs occlusion</h2><p class="muted">${e(importanceCheckSummary(c))}</p>` +
    `<table><thead><tr><th scope="col">layer</th><th scope="col">Spearman's ρ [95% CI] (n), pooled over tokens</th><th scope="col">mean of per-example ρ (examples)</th></tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

function confusionTable(r: SpotCheckReport): string {
  const c = r.confusion;
  if (!c) return '<p class="muted">No labels in the dataset: no confusion matrix.</p>';
  const max = Math.max(1, ...c.matrix.flat());
  const head = `<tr><th scope="col">${c.rows_are === 'model-labels' ? 'label ↓ / predicted →' : 'dataset label ↓ / predicted →'}</th>${c.columns.map((x) => `<th scope="col">${e(x)}</th>`).join('')}<th scope="col">total</th></tr>`;
  const rows = c.matrix
    .map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0);
      const cells = row
        .map((v, j) => {
          const t = v / max;
          const diag = c.rows_are === 'model-labels' && c.rows[i] === c.columns[j];
          return `<td class="num${diag ? ' diag' : ''}" style="background:${hexAt(t)};color:${textOn(t)}" title="${e(`${c.rows[i]} → ${c.columns[j]}: ${v}`)}">${int(v)}</td>`;
        })
        .join('');
      return `<tr><th scope="row">${e(c.rows[i])}</th>${cells}<td class="num">${int(total)}</td></tr>`;
    })
    .join('');
  return `<table class="confusion">${head}${rows}</table>`;
}

function groupTable(groups: readonly SpotCheckRoutingGroup[], what: string, L: number): string {
  if (groups.length === 0) return `<p class="muted">No ${e(what)}.</p>`;
  // Reports saved before per-group accuracy and load shift have neither: their columns are left out.
  const withAccuracy = groups.some((g) => g.accuracy !== undefined && g.accuracy !== null);
  const withShift = groups.some((g) => g.expert_load_shift !== undefined);
  const head =
    `<tr><th scope="col">${e(what)}</th><th scope="col">examples</th><th scope="col">tokens</th>` +
    (withAccuracy ? '<th scope="col">accuracy (95% CI)</th>' : '') +
    `<th scope="col">mean K</th>${Array.from({ length: L }, (_, l) => `<th scope="col">K L${l}</th>`).join('')}` +
    (withShift
      ? '<th scope="col" title="Share of the group\'s expert assignments that differ from the whole sample\'s (total variation distance; 0% = the same load)">load shift per layer</th>'
      : '') +
    `<th scope="col">dead experts per layer</th></tr>`;
  const rows = groups
    .map(
      (g) =>
        `<tr><th scope="row">${e(g.label)}${g.model_label !== null && g.model_label !== g.label ? ` <span class="muted">(${e(g.model_label)})</span>` : ''}</th>` +
        `<td class="num">${int(g.n)}</td><td class="num">${int(g.tokens)}</td>` +
        (withAccuracy
          ? `<td class="num">${g.accuracy === null || g.accuracy === undefined ? 'n/a' : `${e(formatPercentWithCi(g.accuracy, g.accuracy_ci95 ?? null))} <span class="muted">(${int(g.correct ?? 0)} of ${int(g.labelled ?? 0)})</span>`}</td>`
          : '') +
        `<td class="num">${fmt(g.mean_k.overall)}</td>` +
        g.mean_k.per_layer.map((k) => `<td class="num">${fmt(k)}</td>`).join('') +
        (withShift
          ? `<td class="num">${(g.expert_load_shift ?? []).map((x, l) => `L${l}: ${(100 * x).toFixed(1)}%`).join(' · ')}</td>`
          : '') +
        `<td>${g.expert_load.map((l) => (l.dead.length ? `L${l.layer}: ${e(l.dead.join(','))}` : `L${l.layer}: –`)).join(' · ')}</td></tr>`,
    )
    .join('');
  return `<table>${head}${rows}</table>`;
}

/** Utilisation per (group, expert) for each layer as a small heat strip, so groups can be compared. */
function groupLoadStrips(groups: readonly SpotCheckRoutingGroup[], what: string): string {
  if (groups.length === 0) return '';
  const L = groups[0].expert_load.length;
  const parts: string[] = [];
  for (let l = 0; l < L; l++) {
    const E = groups[0].expert_load[l].utilisation.length;
    const cell = Math.max(10, Math.min(24, Math.floor(360 / Math.max(1, E))));
    const labelW = 110;
    const w = labelW + E * cell + 4;
    const h = 18 + groups.length * (cell + 2);
    const max = Math.max(2, ...groups.flatMap((g) => g.expert_load[l].utilisation));
    const body = groups
      .map((g, gi) => {
        const y = 18 + gi * (cell + 2);
        const name = g.label.length > 14 ? `${g.label.slice(0, 13)}…` : g.label;
        return (
          `<text x="${labelW - 4}" y="${y + cell / 2 + 4}" class="axis right">${e(name)}</text>` +
          g.expert_load[l].utilisation
            .map((u, ex) => {
              const dead = g.expert_load[l].dead.includes(ex);
              return `<rect x="${labelW + ex * cell}" y="${y}" width="${cell - 1}" height="${cell}" ${dead ? 'class="dead"' : `fill="${hexAt(u / max)}"`}><title>${e(`${g.label}, expert ${ex}: utilisation ${fmt(u)}, ${g.expert_load[l].tokens[ex]} tokens${dead ? ' (dead)' : ''}`)}</title></rect>`;
            })
            .join('')
        );
      })
      .join('');
    const ticks = Array.from({ length: E }, (_, ex) => `<text x="${labelW + ex * cell + cell / 2}" y="12" class="axis">${ex}</text>`).join(
      '',
    );
    parts.push(
      `<figure class="chart"><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${e(`utilisation per ${what}, layer ${l}`)}">${ticks}${body}</svg><figcaption>layer ${l}: expert utilisation per ${e(what)}</figcaption></figure>`,
    );
  }
  return `<div class="charts">${parts.join('')}</div>`;
}

function tokenTable(entries: readonly TokenImportanceEntry[], caption: string): string {
  if (entries.length === 0) return `<p class="muted">${e(caption)}: none with enough occurrences.</p>`;
  const max = entries.reduce((m, x) => Math.max(m, x.mean_importance), 1e-9);
  const rows = entries
    .map(
      (x) =>
        `<tr><td><code>${e(x.token)}</code></td><td class="num">${fmt(x.mean_importance, 3)}</td><td class="num">${int(x.count)}</td>` +
        `<td class="barcell"><span class="bar" style="width:${Math.max(1, (100 * x.mean_importance) / max).toFixed(0)}%;background:${hexAt(x.mean_importance / max)}"></span></td></tr>`,
    )
    .join('');
  return `<table class="tokens"><caption>${e(caption)}</caption><tr><th scope="col">token</th><th scope="col">mean importance</th><th scope="col">count</th><th scope="col"></th></tr>${rows}</table>`;
}

function examplesTable(r: SpotCheckReport): string {
  // A causal LM has no class: its examples show their mean loss and perplexity where a classifier's show the prediction.
  const causal = !!r.language_model;
  const rows = r.examples
    .map((x) => {
      const state = x.correct === null ? 'unlabelled' : x.correct ? 'correct' : 'wrong';
      const text = x.pair === null ? e(x.text) : `${e(x.text)} <span class="sep">‖</span> ${e(x.pair)}`;
      const loss = x.mean_loss ?? null;
      const outcome = causal
        ? `<td class="num">${fmt(loss, 3)}</td><td class="num">${loss === null ? 'n/a' : e(perplexityText(Math.exp(loss)))}</td>`
        : `<td>${x.predicted === null ? '<span class="muted">–</span>' : e(x.predicted)}</td><td class="num">${fmt(x.confidence, 3)}</td>` +
          `<td class="${state}">${state === 'correct' ? '✓ correct' : state === 'wrong' ? '✗ wrong' : '–'}</td>`;
      return (
        `<tr data-state="${state}" data-line="${x.line}" data-conf="${x.confidence ?? -1}" data-loss="${loss ?? -1}" data-k="${x.mean_k}" data-h="${x.importance_entropy ?? -1}" data-tokens="${x.tokens}">` +
        `<td class="num">${x.line}</td><td class="text">${text}</td><td>${x.label === null ? '<span class="muted">–</span>' : e(x.label)}</td>` +
        outcome +
        `<td class="num">${fmt(x.mean_k)}</td><td class="num">${fmt(x.importance_entropy)}</td><td class="num">${x.tokens}</td></tr>`
      );
    })
    .join('\n');
  const cols: [string, string][] = [
    ['line', 'line'],
    ['text', 'text'],
    ['label', 'label'],
    ...(causal
      ? ([
          ['loss', 'mean loss (nats)'],
          ['loss', 'perplexity'],
        ] as [string, string][])
      : ([
          ['predicted', 'predicted'],
          ['conf', 'confidence'],
          ['state', 'result'],
        ] as [string, string][])),
    ['k', 'mean K'],
    ['h', 'importance entropy (bits)'],
    ['tokens', 'tokens'],
  ];
  const head = cols
    .map(([key, name], i) => `<th scope="col"><button type="button" data-col="${i}" data-key="${key}">${e(name)}</button></th>`)
    .join('');
  const show = causal
    ? ''
    : `<label>Show <select id="state"><option value="all">all</option><option value="wrong">wrong only</option><option value="correct">correct only</option><option value="unlabelled">unlabelled</option></select></label>`;
  return (
    `<div class="controls"><label>Filter text <input type="search" id="q" placeholder="words in the text or label"></label>` +
    show +
    `<span id="shown" class="muted"></span></div>` +
    `<table id="examples" class="examples"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`
  );
}

// Sorting and filtering of the examples table. Plain DOM, no external resources.
const SCRIPT = `(function(){
var table=document.getElementById('examples');if(!table)return;
var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
var q=document.getElementById('q');var st=document.getElementById('state');var shown=document.getElementById('shown');
var numeric={line:1,conf:1,loss:1,k:1,h:1,tokens:1};var sortKey=null,dir=1;
function val(r,key,col){if(numeric[key])return parseFloat(r.getAttribute('data-'+key));if(key==='state')return r.getAttribute('data-state');return r.cells[col].textContent.toLowerCase();}
function apply(){var needle=(q.value||'').toLowerCase();var want=st?st.value:'all';var n=0;
rows.forEach(function(r){var ok=(want==='all'||r.getAttribute('data-state')===want)&&(!needle||r.textContent.toLowerCase().indexOf(needle)>=0);r.hidden=!ok;if(ok)n++;});
shown.textContent=n+' of '+rows.length+' examples shown';}
Array.prototype.forEach.call(table.tHead.querySelectorAll('button'),function(b){b.addEventListener('click',function(){
var key=b.getAttribute('data-key');var col=+b.getAttribute('data-col');dir=(sortKey===key)?-dir:1;sortKey=key;
rows.sort(function(a,c){var x=val(a,key,col),y=val(c,key,col);return (x<y?-1:x>y?1:0)*dir||(+a.getAttribute('data-line')-+c.getAttribute('data-line'));});
rows.forEach(function(r){body.appendChild(r);});
Array.prototype.forEach.call(table.tHead.querySelectorAll('th'),function(th){th.removeAttribute('aria-sort');});
b.parentNode.setAttribute('aria-sort',dir>0?'ascending':'descending');});});
q.addEventListener('input',apply);if(st)st.addEventListener('change',apply);apply();})();`;

const STYLE = `
:root{color-scheme:light dark;--bg:#ffffff;--fg:#1b1f24;--muted:#5f6b7a;--line:#d5dae1;--card:#f6f8fa;--warn:#b3261e;--ok:#1a7f37;--dead:#b3261e}
@media (prefers-color-scheme:dark){:root{--bg:#16181d;--fg:#e6e8eb;--muted:#9aa4b2;--line:#343a44;--card:#1e2128;--warn:#ff8a80;--ok:#7ee2a8;--dead:#ff8a80}}
*{box-sizing:border-box}body{margin:0;padding:24px;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:14px;margin:14px 0 6px}
.muted{color:var(--muted)}.warn{color:var(--warn)}.banner{border:1px solid var(--warn);color:var(--warn);padding:8px 12px;border-radius:6px;margin:12px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:140px}
.card .v{font-size:20px;font-weight:600}.card .k{color:var(--muted);font-size:12px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}th{background:var(--card);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding:4px 0}
table.confusion td.num{min-width:64px}table.confusion td.diag{font-weight:700}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:14px 20px}figure.chart{margin:0;min-width:0}figure.chart svg{display:block;width:100%;height:auto;max-height:420px}figcaption{font-size:12px;color:var(--muted)}
svg text{fill:var(--fg);font-size:10px;text-anchor:middle}svg text.left{text-anchor:start}svg text.right{text-anchor:end}svg text.val{font-size:9px;fill:var(--muted)}
svg .rule{stroke:var(--line)}svg .fair{stroke:var(--fg);stroke-dasharray:4 3;opacity:.6}
svg rect.nodata{fill:transparent;stroke:var(--line)}.lift{font-variant-numeric:tabular-nums;font-weight:600}table.specialisation td{max-width:520px}
svg rect.dead{fill:transparent;stroke:var(--dead);stroke-width:1.5;stroke-dasharray:3 2}svg text.deadmark{fill:var(--dead);font-size:12px;font-weight:700}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:14px 28px;align-items:start}table.tokens{width:100%}table.tokens td.barcell{width:45%}.bar{display:inline-block;height:10px;min-width:2px;border-radius:2px}
.controls{display:flex;gap:16px;align-items:center;margin:8px 0;flex-wrap:wrap}input,select{background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:4px;padding:4px 6px}
table.examples{width:100%}table.examples td.text{word-break:break-word}table.examples th button{all:unset;cursor:pointer;font-weight:600}
table.examples th button::after{content:" ⇅";color:var(--muted)}th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
td.correct{color:var(--ok)}td.wrong{color:var(--warn);font-weight:600}.sep{color:var(--muted)}code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
ul.skipped{margin:4px 0;padding-left:20px}
.small{font-size:11px}table.kloss td.num{min-width:84px}
`;

/** "83.9% [67.4, 92.9]": the accuracy with its Wilson interval (computed for a report saved before accuracy_ci95). */
function accuracyText(r: SpotCheckReport): string {
  if (r.accuracy === null) return 'n/a';
  const ci = r.accuracy_ci95 ?? (r.correct === null ? null : wilsonInterval(r.correct, r.labelled));
  return formatPercentWithCi(r.accuracy, ci);
}

/**
 * A self-contained document around `body`: the report style, the Content-Security-Policy that forbids every
 * external load, and an optional inline script. Shared by every HTML report (spot-check, comparison).
 */
export function htmlDocument(title: string, body: string, options: Pick<RenderOptions, 'nonce' | 'csp'> = {}, script = ''): string {
  const nonce = options.nonce ? ` nonce="${e(options.nonce)}"` : '';
  const csp =
    options.csp === false
      ? ''
      : `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${options.nonce ? `'nonce-${e(options.nonce)}'` : "'unsafe-inline'"}; script-src ${options.nonce ? `'nonce-${e(options.nonce)}'` : "'unsafe-inline'"}; img-src data:">`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
${csp}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style${nonce}>${STYLE}</style>
</head>
<body>
${body}
${script ? `<script${nonce}>${script}</script>` : ''}
</body>
</html>
`;
}

/** The whole report as one HTML document. */
export function renderSpotCheckHtml(report: SpotCheckReport, options: RenderOptions = {}): string {
  const r = report;
  const m = r.model;
  const title = options.title ?? `Spot-check: ${baseName(r.dataset.path)}`;
  // K = 0 is padding, which a spot-check never routes: the charts start at K = 1 (the JSON keeps the 0 bin).
  const fromK1 = (counts: readonly number[]): number[] => (counts.length > 1 ? counts.slice(1) : [...counts]);
  const kLabels = fromK1(r.k_histogram.overall).map((_, i) => `K=${i + 1}`);
  const flops = r.flops;
  const lm = r.language_model;
  const cards: [string, string][] = [
    lm
      ? ['perplexity (' + int(lm.scored_tokens) + ' scored tokens)', perplexityText(lm.perplexity)]
      : ['accuracy [95% CI]', accuracyText(r)],
    ['examples analysed', `${int(r.n)}${r.cancelled ? ` of ${int(r.sample.size)}` : ''}`],
    ['mean K', fmt(r.mean_k.overall)],
    ['examples / s', fmt(r.examples_per_second, 1)],
    // Against the shipped fixed-K baseline (top-2) first: that is what dynamic K is compared with.
    ['expert compute vs fixed top-2', flops.fixed_top_2 > 0 ? pct(flops.spent / flops.fixed_top_2) : 'n/a'],
    ...(m.k_max !== 2
      ? ([['expert compute vs fixed top-' + m.k_max, flops.fixed_top_k_max > 0 ? pct(flops.spent / flops.fixed_top_k_max) : 'n/a']] as [
          string,
          string,
        ][])
      : []),
    ['skipped rows', int(r.skipped.count)],
    ['worker restarts', int(r.worker_restarts ?? 0)],
  ];
  const skippedList = r.skipped.first.length
    ? `<ul class="skipped">${r.skipped.first.map((s) => `<li>line ${s.line}: ${e(s.reason)}</li>`).join('')}</ul>${r.skipped.count > r.skipped.first.length ? `<p class="muted">… and ${int(r.skipped.count - r.skipped.first.length)} more.</p>` : ''}`
    : '<p class="muted">No rows skipped.</p>';
  const strata = r.sample.strata.map((s) => `${s.label === null ? '(no label)' : s.label}: ${int(s.taken)} of ${int(s.seen)}`).join(', ');
  const L = m.num_layers;
  const sections = [
    `<header><h1>${e(title)}</h1>` +
      `<p class="muted">Dataset <code>${e(r.dataset.path)}</code> (${e(r.dataset.format)}; text <code>${e(r.dataset.text_column)}</code>` +
      `${r.dataset.pair_column ? `, pair <code>${e(r.dataset.pair_column)}</code>` : ''}${r.dataset.label_column ? `, label <code>${e(r.dataset.label_column)}</code>` : ', no labels'}) · ` +
      `model <strong>${e(m.name)}</strong> (${e(m.router_kind)}, ${L} layers × ${m.num_experts} experts, K max ${m.k_max}, ${lm ? 'causal LM' : `labels ${e(m.labels.join(', '))}`}) · ` +
      (r.execution_provider
        ? `provider ${e(r.execution_provider.used)} (requested ${e(r.execution_provider.requested)}${r.execution_provider.model_file && r.execution_provider.model_file !== 'model.onnx' ? `, graph ${e(r.execution_provider.model_file)}` : ''})`
        : 'routing traces recorded by a serving engine') +
      `${r.threads !== null ? `, ${r.threads === 0 ? 'default' : r.threads} thread${r.threads === 1 ? '' : 's'}` : ''}${r.workers > 1 ? `, ${r.workers} workers` : ''} · ${e(r.created_at)}</p>` +
      (r.execution_provider?.placement
        ? `<p class="muted placement">Node placement (${e(r.execution_provider.placement.gpu_provider)}, from onnxruntime's profile): ${e(placementText(r.execution_provider.placement))}</p>`
        : r.execution_provider?.placement_problem
          ? `<p class="muted placement">Node placement not known: ${e(r.execution_provider.placement_problem)}</p>`
          : '') +
      `<p class="muted">Sample: ${int(r.sample.size)} of ${int(r.dataset.records)} examples (requested ${e(r.sample.requested)}, seed ${e(r.sample.seed)}, ` +
      `${r.sample.stratified ? 'stratified by label' : 'not stratified'}${r.sample.note ? ` — ${e(r.sample.note)}` : ''}). ${e(strata)}</p></header>`,
    r.cancelled
      ? `<div class="banner" role="status">Cancelled: ${int(r.n)} of ${int(r.sample.size)} examples were analysed; the figures cover those only.</div>`
      : r.partial
        ? `<div class="banner" role="status">Partial: ${int(r.n)} of ${int(r.sample.size)} examples were analysed; ${e(r.partial_reason ?? '')}. The figures cover those only.</div>`
        : '',
    `<section class="cards">${cards.map(([k, v]) => `<div class="card"><div class="v">${e(v)}</div><div class="k">${e(k)}</div></div>`).join('')}</section>`,
    lm
      ? languageModelSection(r)
      : `<section><h2>Accuracy and confusion</h2><p>Accuracy <strong>${e(accuracyText(r))}</strong>${r.accuracy !== null ? ' (95% Wilson score interval in brackets)' : ''}` +
        `${r.correct !== null ? ` (${int(r.correct)} of ${int(r.labelled)} labelled examples)` : ''}.` +
        `${r.label_mapping.note ? ` <span class="${r.label_mapping.strategy === 'none' ? 'warn' : 'muted'}">${e(r.label_mapping.note)}</span>` : ''}</p>` +
        confusionTable(r) +
        `<p class="muted">Predicted: ${r.predicted_counts.map((p) => `${e(p.label)} ${int(p.count)}`).join(' · ')}</p></section>`,
    `<section><h2>K per token (histograms)</h2><p class="muted">${int(r.tokens)} tokens, special tokens included (they are routed like any token). ` +
      `Expert compute: ${big(flops.spent)}${flops.unit === 'flops' ? 'FLOP' : 'expert evaluations'} spent; a fixed top-${m.k_max} router would spend ${big(flops.fixed_top_k_max)}${flops.unit === 'flops' ? 'FLOP' : ''}, top-2 ${big(flops.fixed_top_2)}${flops.unit === 'flops' ? 'FLOP' : ''}.</p>` +
      `<div class="charts">${barChart(fromK1(r.k_histogram.overall), kLabels, `all layers · mean K ${fmt(r.mean_k.overall)}`)}` +
      r.k_histogram.per_layer
        .map((row, l) => barChart(fromK1(row), kLabels, `layer ${l} · mean K ${fmt(r.mean_k.per_layer[l])}`))
        .join('') +
      `</div></section>`,
    `<section><h2>Expert load</h2><p class="muted">Utilisation = tokens routed to the expert ÷ the fair share (dashed line = 1). Dead experts (no token in the sample) are outlined and marked ✕.</p>` +
      `<div class="charts">${r.expert_load.map((l) => loadChart(l, `layer ${l.layer}`)).join('')}</div></section>`,
    `<section><h2>Co-activation</h2><p class="muted">Row i, column j: of the tokens routed to expert i, the share also routed to expert j, P(j | i). The diagonal (always 1) is left blank; colours run from 0 to the layer's largest share (the bar beside each map).</p>` +
      `<div class="charts">${r.co_activation.map((mx, l) => conditionalHeatmap(mx, `layer ${l}`)).join('')}</div></section>`,
    r.expert_specialisation
      ? `<section id="specialisation"><h2>Expert specialisation</h2><p class="muted">For each expert, the tokens it receives most over chance: lift = the token's share of the expert's assignments ÷ its share of all tokens (×1 = chance), among tokens the expert received at least ${r.expert_specialisation_min_count ?? 0} times; special tokens excluded.</p>` +
        `<div class="charts">${r.expert_specialisation.map((layer, l) => specialisationTable(layer, l, r.expert_specialisation_min_count ?? 0)).join('')}</div></section>`
      : '',
    r.routing_by_group && r.routing_by_group.length > 0
      ? `<section id="groups"><h2>Routing by ${e(r.dataset.group_column ?? 'group')}</h2>${groupTable(r.routing_by_group, r.dataset.group_column ?? 'group', L)}${groupLoadStrips(r.routing_by_group, r.dataset.group_column ?? 'group')}</section>`
      : '',
    `<section><h2>Routing per label</h2>` +
      (r.routing_by_label.length
        ? `<h3>By dataset label</h3>${groupTable(r.routing_by_label, 'dataset label', L)}${groupLoadStrips(r.routing_by_label, 'dataset label')}`
        : `<p class="muted">The dataset has no labels${lm ? '.' : '; routing per predicted label below.'}</p>`) +
      // A causal LM predicts no class: no routing per predicted label.
      (lm
        ? ''
        : `<h3>By predicted label</h3>${groupTable(r.routing_by_prediction, 'predicted label', L)}${groupLoadStrips(r.routing_by_prediction, 'predicted label')}`) +
      `</section>`,
    `<section><h2>Most and least important tokens</h2>` +
      (r.token_importance.available
        ? `<p class="muted">Mean importance (averaged over layers) of each token text over the sample, tokens seen at least ${r.token_importance.min_count} times; special tokens excluded.</p>` +
          `<div class="pair">${tokenTable(r.token_importance.most, 'most important')}${tokenTable(r.token_importance.least, 'least important')}</div>`
        : '<p class="muted">Not available: this model exposes only router_logits (no token importance).</p>') +
      `</section>`,
    importanceCheckHtml(r),
    `<section><h2>Skipped rows</h2>${skippedList}</section>`,
    `<section><h2>Examples</h2><p class="muted">Click a column to sort; the text filter matches the text and labels. Mean K counts special tokens; importance entropy is over content tokens.</p>${examplesTable(r)}</section>`,
  ];
  return htmlDocument(title, sections.join('\n'), options, SCRIPT);
}
