/** Plain-text rendering of an Analysis for the terminal: the token table, then the summary. */
import type { Analysis, ExpertFlops, ProviderReport } from '../shared/analysis';
import { denseLayersDescription, DROPPED_TEXT, isDropped, routerDescription, sharedExpertsDescription } from '../shared/router-text';
import { placementText, type ProviderFields } from '../shared/provider-text';
import { tokenDescription } from '../shared/token-text';
import { predictionsText } from '../shared/next-token-text';

const TOKEN_WIDTH = 16;

/** Token text safe for one table cell: control characters shown as escapes, long pieces cut. */
export function cellText(text: string): string {
  const shown = JSON.stringify(text)
    .slice(1, -1)
    // eslint-disable-next-line no-control-regex -- control characters are what this replaces
    .replace(/[\u0000-\u001f]/g, '?');
  return shown.length > TOKEN_WIDTH ? `${shown.slice(0, TOKEN_WIDTH - 1)}…` : shown;
}

function pad(s: string, width: number, right = false): string {
  const len = [...s].length;
  return len >= width ? s : right ? ' '.repeat(width - len) + s : s + ' '.repeat(width - len);
}

function renderTable(header: string[], rows: string[][], rightAligned: boolean[]): string {
  // A loop, not Math.max(...rows): a long text has more rows than a call can take arguments.
  const widths = header.map((h) => [...h].length);
  for (const r of rows) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c], [...r[c]].length);
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => pad(cell, widths[c], rightAligned[c]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function fmtImportance(x: number): string {
  return Number.isNaN(x) ? 'n/a' : x.toFixed(2);
}

/** Predictions shown per token in the table (the JSON has all the model gave, up to 5). */
const TABLE_PREDICTIONS = 3;

/**
 * tokens x (importance per layer, K per layer, chosen experts with gates per layer); causal LMs add each token's
 * loss and the top predictions for the token after it. A routing trace has no gates and no importance: its columns
 * say "not recorded" instead of a zero or n/a per cell, generated tokens are marked `+`, and a token the engine
 * recorded no routing for shows "not recorded".
 */
export function tokenTable(a: Analysis): string {
  const L = a.layers.length;
  const causal = a.task === 'causal-lm';
  const gates = a.model.gatesAvailable !== false;
  const trace = a.model.routingSource === 'trace';
  const header = ['#', 'token'];
  if (causal) header.push('loss', `next: top ${TABLE_PREDICTIONS} (p)`);
  header.push(
    trace ? 'importance' : `importance L0..L${L - 1}`,
    'K per layer',
    gates ? 'experts:gate per layer (L0 | L1 | ...)' : 'experts per layer (L0 | L1 | ...; gates not recorded)',
  );
  const rows = a.tokens.map((t, i) => {
    const row = [String(i), (t.generated ? '+' : '') + cellText(tokenDescription(t, a))];
    if (causal) {
      row.push(t.loss === undefined ? '—' : t.loss.toFixed(2));
      row.push(predictionsText(t.predictions ?? [], TABLE_PREDICTIONS, cellText));
    }
    const expertsOf = (l: Analysis['layers'][number]): string =>
      isDropped(l, i) ? DROPPED_TEXT : l.experts[i].map((e, j) => (gates ? `${e}:${l.gates[i][j].toFixed(2)}` : String(e))).join(' ');
    row.push(
      trace ? 'not recorded' : a.layers.map((l) => fmtImportance(l.importance[i])).join(' '),
      t.recorded === false ? '-' : a.layers.map((l) => String(l.k[i])).join(' '),
      t.recorded === false ? 'not recorded' : a.layers.map(expertsOf).join(' | '),
    );
    return row;
  });
  return renderTable(
    header,
    rows,
    header.map((_, c) => c === 0 || (causal && c === 2)),
  );
}

/** The summary's prediction line: the class, or a causal LM's perplexity. */
function predictionLine(a: Analysis): string {
  if (a.prediction) {
    const p = a.prediction;
    const probs = a.model.labels.map((label, c) => `${label} ${p.probabilities[c].toFixed(3)}`).join(', ');
    return `Prediction:  ${p.label} (${probs})`;
  }
  const lm = a.languageModel;
  if (!lm && a.model.routingSource === 'trace') return 'Prediction:  none (a routing trace has no classifier output)';
  if (!lm) return 'Prediction:  none (the model gives no class and no next-token predictions)';
  return (
    `Perplexity:  ${lm.perplexity.toFixed(2)} (mean loss ${lm.meanLoss.toFixed(3)} nats over ${lm.scoredTokens} tokens after the first; ` +
    `next token top-1 ${(100 * lm.top1Accuracy).toFixed(0)}%, top-${lm.predictionsPerToken} ${(100 * lm.topKAccuracy).toFixed(0)}%)`
  );
}

export function formatFlops(x: number, unit: ExpertFlops['unit']): string {
  if (unit === 'expert-evaluations') return `${x} expert evaluations`;
  const units: [number, string][] = [
    [1e12, 'TFLOP'],
    [1e9, 'GFLOP'],
    [1e6, 'MFLOP'],
    [1e3, 'kFLOP'],
  ];
  for (const [scale, name] of units) if (x >= scale) return `${(x / scale).toFixed(2)} ${name}`;
  return `${x} FLOP`;
}

export function providerLine(p: ProviderFields | ProviderReport): string {
  const details = p.skipped.map((s) => `${s.provider} skipped: ${s.reason}`);
  if (p.placement) details.push(`placement: ${placementText(p.placement)}`);
  if (p.placementProblem) details.push(`placement not known: ${p.placementProblem}`);
  const file = p.modelFile && p.modelFile !== 'model.onnx' ? `, graph ${p.modelFile}` : '';
  return `${p.used} (requested ${p.requested}${file})${details.length ? `\n  ${details.join('\n  ')}` : ''}`;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(0)}%`;
}

function moeLayerList(a: Analysis): string {
  return `(decoder layers ${a.layers.map((l) => l.decoderLayer ?? l.layer).join(', ')})`;
}

export function summary(a: Analysis): string {
  const { stats, model } = a;
  const hist = stats.kHistogram.overall.map((n, k) => `K=${k}: ${n}`).join('  ');
  const f = stats.flops;
  const lines = [
    `Model:       ${model.name} (${model.routerKind}, ${model.numLayers} layers x ${model.numExperts} experts, K max ${model.kMax})`,
    predictionLine(a),
    `Tokens:      ${stats.tokens} (special tokens included in all figures)`,
    `K histogram: ${hist}  (all layers)`,
    `Mean K:      ${stats.meanK.overall.toFixed(2)} (per layer: ${stats.meanK.perLayer.map((k) => k.toFixed(2)).join(' ')})`,
    `Expert FLOPs: ${formatFlops(f.spent, f.unit)} spent; fixed top-${model.kMax} would spend ${formatFlops(f.fixedTopKMax, f.unit)} ` +
      `(${percent(f.spent, f.fixedTopKMax)} used), fixed top-2 ${formatFlops(f.fixedTop2, f.unit)} (${percent(f.spent, f.fixedTop2)})`,
  ];
  if (f.execution === 'dense-masked' && f.executed !== undefined) {
    lines.push(
      `Executed:    ${formatFlops(f.executed, f.unit)} of expert FLOPs: the GPU graph runs every expert on every token (dense-masked)`,
    );
  }
  const router = routerDescription(model);
  if (router) lines.push(`Router:      ${router}`);
  const shared = sharedExpertsDescription(model);
  if (shared) lines.push(`Shared:      ${shared} in every MoE layer (not in K)`);
  const dense = denseLayersDescription(model);
  if (dense) lines.push(`Dense:       ${dense}; the table's L0..L${a.layers.length - 1} are the MoE layers ${moeLayerList(a)}`);
  const dropped = a.layers.reduce((n, l) => n + (l.dropped?.length ?? 0), 0);
  if (dropped > 0) lines.push(`Dropped:     ${dropped} token-layers over expert capacity got no expert (K 0)`);
  if (model.trace) {
    const t = model.trace;
    lines.push(
      `Trace:       ${t.format} from ${t.source}${t.engineModel ? ` (engine model ${t.engineModel})` : ''}: ` +
        `${t.promptTokens} prompt + ${t.generatedTokens} generated tokens (generated marked +), top_k ${t.topK}` +
        (t.unrecordedTokens > 0 ? `; ${t.unrecordedTokens} token(s) without recorded routing, left out of the figures` : ''),
    );
    lines.push('Gates:       not recorded (the engine returns expert ids only); importance not recorded');
  } else if (model.importanceAvailable === false) {
    lines.push('Importance:  not available (this model exposes only router_logits)');
  }
  if (a.windowing) {
    const w = a.windowing;
    lines.push(
      `Windowing:   ${w.windows} windows of ${w.windowTokens} tokens, ${w.overlapTokens} shared; ` +
        (w.tokenSource === 'longest-context'
          ? 'each token is scored in the first window that holds it (context column of --json)'
          : 'prediction = mean of window probabilities'),
    );
  }
  if (a.provider) lines.push(`Provider:    ${providerLine(a.provider)}`);
  const t = a.timings;
  lines.push(
    `Latency:     ${t.totalMs.toFixed(1)} ms (tokenize ${t.tokenizeMs.toFixed(1)}, inference ${t.inferenceMs.toFixed(1)}, analysis ${t.analysisMs.toFixed(1)})`,
  );
  return lines.join('\n');
}
