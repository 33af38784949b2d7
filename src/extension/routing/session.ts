/**
 * The current analysis and where its text lives in the editor (pure: no `vscode` import).
 *
 * Analysis offsets are relative to the analysed text; to map them to the document we keep the document URI, the
 * document version the text was read from, and the document offset where it began. Edits keep the anchor honest:
 * an edit before/inside the text marks the analysis stale (views then refuse to point at ranges that would lie),
 * an edit after it only advances the version.
 */
import type { Analysis } from '../../shared/analysis';
import { changesMakeStale, type TextChangeLike } from './staleness';
import { TokenIndex } from './tokenIndex';

export interface Anchor {
  /** `Uri.toString()` of the document. */
  uri: string;
  version: number;
  /** Document offset of the first character of Analysis.text. */
  baseOffset: number;
}

export type StaleListener = (stale: boolean) => void;

export class AnalysisSession {
  private current: { analysis: Analysis; anchor: Anchor | null; index: TokenIndex; stale: boolean } | null = null;
  private readonly listeners = new Set<StaleListener>();

  get analysis(): Analysis | null {
    return this.current?.analysis ?? null;
  }
  get anchor(): Anchor | null {
    return this.current?.anchor ?? null;
  }
  get stale(): boolean {
    return this.current?.stale ?? false;
  }

  /** `anchor` null: an analysis without a known place in the editor (e.g. restored from a panel's saved state). */
  set(analysis: Analysis, anchor: Anchor | null, stale = false): void {
    this.current = { analysis, anchor, index: new TokenIndex(analysis.tokens), stale };
  }

  clear(): void {
    this.current = null;
  }

  onStaleChange(listener: StaleListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  markStale(): void {
    const c = this.current;
    if (!c || c.stale) return;
    c.stale = true;
    for (const l of [...this.listeners]) l(true);
  }

  /** Feed every document change here. Returns true when this change made the analysis stale. */
  applyChange(uri: string, newVersion: number, changes: readonly TextChangeLike[]): boolean {
    const c = this.current;
    if (!c || !c.anchor || c.anchor.uri !== uri || c.stale) return false;
    const start = c.anchor.baseOffset;
    const end = start + c.analysis.text.length;
    if (changesMakeStale(start, end, changes)) {
      this.markStale();
      return true;
    }
    c.anchor = { ...c.anchor, version: newVersion };
    return false;
  }

  /** Whether hovers/highlights/cursor linking may use this document at this version. */
  isLiveFor(uri: string, version: number): boolean {
    const c = this.current;
    return !!c && !!c.anchor && !c.stale && c.anchor.uri === uri && c.anchor.version === version;
  }

  /** Covers `uri` at all (stale or not): the hover then explains staleness instead of going silent. */
  covers(uri: string): boolean {
    return !!this.current?.anchor && this.current.anchor.uri === uri;
  }

  /** Token index at a document offset (null outside the analysed text or on no token). */
  tokenAtDocumentOffset(documentOffset: number, inclusiveEnd = false): number | null {
    const c = this.current;
    if (!c || !c.anchor) return null;
    const rel = documentOffset - c.anchor.baseOffset;
    if (rel < 0 || rel > c.analysis.text.length) return null;
    return c.index.at(rel, inclusiveEnd);
  }

  /** Whether a document offset lies within the analysed text (used by the stale hover). */
  containsDocumentOffset(documentOffset: number): boolean {
    const c = this.current;
    if (!c || !c.anchor) return false;
    const rel = documentOffset - c.anchor.baseOffset;
    return rel >= 0 && rel < c.analysis.text.length;
  }

  /** Document [start, end) of a token; null for special tokens, bad indexes, or no anchor. */
  documentRangeOf(tokenIndex: number): { start: number; end: number } | null {
    const c = this.current;
    if (!c || !c.anchor || !Number.isInteger(tokenIndex)) return null;
    const at = c.analysis.tokens[tokenIndex];
    const t = at && at.index === tokenIndex ? at : c.analysis.tokens.find((x) => x.index === tokenIndex);
    if (!t || t.special || t.start === null || t.end === null) return null;
    return { start: c.anchor.baseOffset + t.start, end: c.anchor.baseOffset + t.end };
  }
}
