/**
 * Hover content (pure: returns markdown text; hover.ts wraps it in a vscode.MarkdownString).
 * Token text is user data and may contain markdown/HTML: it is escaped, and the MarkdownString stays untrusted.
 */
import type { Analysis } from '../../shared/analysis';
import { importanceAvailable, meanImportance } from './importance';
import { denseLayersDescription, DROPPED_TEXT, isDropped, layerLabel, sharedExpertsDescription } from '../../shared/router-text';
import { tokenDescription } from '../../shared/token-text';

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
