/**
 * The text to show for a token of an Analysis, shared by the panel, the editor hover and the CLI: the vocabulary
 * string, except for the tokenizer's unknown token ([UNK]), which shows the characters of the input it stands for
 * (an emoji, a rare script...). Pure: usable from the host, the webview and the CLI.
 */
import type { Analysis, AnalysisToken } from './analysis';

/** The characters of the input that an unknown token stands for; null for any other token. */
export function unknownSource(token: AnalysisToken, analysis: Pick<Analysis, 'text' | 'textPair'>): string | null {
  if (!token.unknown || token.start === null || token.end === null) return null;
  const source = token.sequence === 1 ? analysis.textPair : analysis.text;
  if (source === undefined) return null;
  const s = source.slice(token.start, token.end);
  return s.length > 0 ? s : null;
}

/** What to show for the token: its source characters when it is the unknown token, else its vocabulary string. */
export function tokenShownText(token: AnalysisToken, analysis: Pick<Analysis, 'text' | 'textPair'>): string {
  return unknownSource(token, analysis) ?? token.text;
}

/** A longer description for tooltips and hovers: the unknown token also names itself, e.g. 🦄 ([UNK]). */
export function tokenDescription(token: AnalysisToken, analysis: Pick<Analysis, 'text' | 'textPair'>): string {
  const source = unknownSource(token, analysis);
  return source === null ? token.text : `${source} (${token.text})`;
}
