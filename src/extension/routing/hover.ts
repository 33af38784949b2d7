/**
 * Hover over an analysed token: token, importance, and per layer K and top experts with gates. When the text has
 * changed since the analysis, the hover says so instead of showing routing for text that is no longer there.
 */
import * as vscode from 'vscode';
import { buildTokenHoverMarkdown, STALE_HOVER } from './hoverLogic';
import { toRange } from './highlights';
import type { AnalysisSession } from './session';

export class RoutingHoverProvider implements vscode.HoverProvider {
  constructor(private readonly session: AnalysisSession) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const uri = document.uri.toString();
    // Cheap exit for every other document: this provider is registered for all of them.
    if (!this.session.covers(uri)) return undefined;
    const analysis = this.session.analysis;
    if (!analysis) return undefined;
    const offset = document.offsetAt(position);
    if (!this.session.isLiveFor(uri, document.version)) {
      // Stale: offsets may point at other text now. Only speak up over (roughly) where the analysed text was.
      if (!this.session.containsDocumentOffset(offset)) return undefined;
      return new vscode.Hover(untrusted(STALE_HOVER));
    }
    const tokenIndex = this.session.tokenAtDocumentOffset(offset);
    if (tokenIndex === null) return undefined;
    const md = buildTokenHoverMarkdown(analysis, tokenIndex);
    const range = this.session.documentRangeOf(tokenIndex);
    if (!md || !range) return undefined;
    return new vscode.Hover(untrusted(md), toRange(document, range));
  }
}

function untrusted(text: string): vscode.MarkdownString {
  // Token text comes from the user's document: no command links, no HTML.
  const md = new vscode.MarkdownString(text, false);
  md.isTrusted = false;
  md.supportHtml = false;
  return md;
}
