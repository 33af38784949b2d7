/**
 * Hover content (pure: returns markdown text; hover.ts wraps it in a vscode.MarkdownString).
 * Token text is user data and may contain markdown/HTML: it is escaped, and the MarkdownString stays untrusted.
 */
import type { Analysis } from '../../shared/analysis';
import { importanceAvailable, meanImportance } from './importance';
import { denseLayersDescription, DROPPED_TEXT, isDropped, layerLabel, sharedExpertsDescription } from '../../shared/router-text';
import { tokenDescription } from '../../shared/token-text';
import { lossText, predictionsText, rankAmongExpected } from '../../shared/next-token-text';

export const STALE_HOVER = '**DA-MoE** · text changed since analysis — re-run **Analyze Routing** to see routing for the current text.';

/** Escapes markdown punctuation (and `|` for tables); newlines/tabs become visible escapes. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (ch) => `\\${ch}`);
}

function fmt(x: number | undefined, digits = 3): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '—';
}

/** Predictions shown in the hover. */
const HOVER_PREDICTIONS = 5;

/** A causal LM's token: its loss, what the model expected at its position, and what it predicts next. */
function causalLines(analysis: Analysis, i: number): string[] {
  const tokens = analysis.tokens;
  const token = tokens[i];
  const show = (t: string): string => `\`${t.replace(/`/g, 'ˋ')}\``;
  const out: string[] = [];
  if (token.loss === undefined) out.push('loss: — (the first token: nothing predicts it)');
  else {
    const rank = rankAmongExpected(tokens, i);
    const context =
      token.context !== undefined && token.context !== i ? ` · scored with ${token.context} tokens of context (windowed)` : '';
    out.push(`loss **${lossText(token.loss)}** · ${rank ? `the model's choice #${rank}` : 'not in its top predictions'}${context}`);
    const expected = tokens[i - 1]?.predictions;
    if (expected?.length) out.push(`expected here: ${predictionsText(expected, HOVER_PREDICTIONS, show)}`);
  }
  if (token.predictions?.length) out.push(`predicts next: ${predictionsText(token.predictions, HOVER_PREDICTIONS, show)}`);
  // Markdown joins lines of one paragraph; a trailing double space keeps them apart.
  return out.map((l, j) => (j < out.length - 1 ? `${l}  ` : l));
}

export function buildTokenHoverMarkdown(analysis: Analysis, tokenIndex: number, maxExperts = 4): string | null {
  const token = analysis.tokens[tokenIndex];
  if (!token) return null;
  const hasImp = importanceAvailable(analysis);
  const trace = analysis.model.routingSource === 'trace';
  const hasGates = analysis.model.gatesAvailable !== false;
  const mean = meanImportance(analysis, tokenIndex);
  const lines: string[] = [];
  lines.push(
    `**DA-MoE** · token ${tokenIndex} \`${tokenDescription(token, analysis).replace(/`/g, 'ˋ').replace(/\n/g, '↵')}\` (id ${token.id})` +
      (hasImp
        ? ` · importance ${fmt(mean ?? undefined)} (mean over layers)`
        : trace
          ? ' · importance and gates not recorded (routing trace)'
          : ' · importance not available for this model') +
      (token.generated ? ' · generated' : ''),
  );
  if (analysis.task === 'causal-lm') lines.push('', ...causalLines(analysis, tokenIndex));
  lines.push('');
  if (token.recorded === false) {
    lines.push('*The engine recorded no routing for this token.*');
    lines.push('');
  }
  lines.push(hasGates ? '| layer | importance | K | top experts (gate) |' : '| layer | importance | K | experts (gates not recorded) |');
  lines.push('| ---: | ---: | ---: | :--- |');
  for (const layer of analysis.layers) {
    const experts = layer.experts[tokenIndex] ?? [];
    const gates = layer.gates[tokenIndex] ?? [];
    const shown = experts
      .slice(0, maxExperts)
      .map((e, i) => (hasGates ? `E${e} ${fmt(gates[i], 2)}` : `E${e}`))
      .join(' · ');
    const more = experts.length > maxExperts ? ` · +${experts.length - maxExperts}` : '';
    const routed = isDropped(layer, tokenIndex) ? DROPPED_TEXT : `${shown || '—'}${more}`;
    lines.push(
      `| ${layerLabel(layer)} | ${hasImp ? fmt(layer.importance[tokenIndex]) : '—'} | ${layer.k[tokenIndex] ?? '—'} / ${analysis.model.kMax} | ${routed} |`,
    );
  }
  const always = [sharedExpertsDescription(analysis.model), denseLayersDescription(analysis.model)].filter((x) => x !== null);
  if (always.length > 0) lines.push('', `*${always.map((x) => escapeMarkdown(x)).join(' · ')}*`);
  lines.push('');
  const p = analysis.prediction;
  const verdict = p
    ? ` · ${escapeMarkdown(p.label)} (${fmt(Math.max(...p.probabilities), 2)})`
    : analysis.languageModel
      ? ` · perplexity ${fmt(analysis.languageModel.perplexity, 2)}`
      : trace
        ? ' · routing trace'
        : '';
  lines.push(`*${escapeMarkdown(analysis.model.name)}${verdict}*`);
  return lines.join('\n');
}
