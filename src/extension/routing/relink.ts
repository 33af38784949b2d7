/**
 * Re-linking after a window reload: the routing panel brings its analysis back from its saved state, but not where
 * the text is in the editor. The anchor of the last analysis is kept in workspace state (document URI, offset and a
 * hash of the text); when that document is open, or opens later, and still holds the text there, the analysis is
 * linked again (highlights, hover, cursor), else it is shown as stale.
 */
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import type { Analysis } from '../../shared/analysis';
import type { Highlights } from './highlights';
import type { AnalysisSession, Anchor } from './session';

const ANCHOR_KEY = 'damoe.lastAnchor';

interface SavedAnchor {
  uri: string;
  baseOffset: number;
  textSha1: string;
}

export interface RelinkHost {
  session: AnalysisSession;
  highlights: Highlights;
  log: vscode.LogOutputChannel;
  /** Tells the panel whether the re-linked analysis is stale. */
  setStale(stale: boolean): void;
}

/** Whether `text` is still at the anchor's offset in `doc`. */
export function textStillThere(doc: vscode.TextDocument, anchor: Anchor, text: string): boolean {
  if (doc.isClosed) return false;
  const start = doc.positionAt(anchor.baseOffset);
  const end = doc.positionAt(anchor.baseOffset + text.length);
  return doc.offsetAt(start) === anchor.baseOffset && doc.getText(new vscode.Range(start, end)) === text;
}

export class Relinker implements vscode.Disposable {
  /** A restored analysis still waiting for its document to open. */
  private pending: Analysis | null = null;
  private readonly listener: vscode.Disposable;

  constructor(
    private readonly state: vscode.Memento,
    private readonly host: RelinkHost,
  ) {
    this.listener = vscode.workspace.onDidOpenTextDocument((doc) => {
      if (this.pending) this.tryRelink(this.pending, doc);
    });
  }

  /** A fresh analysis replaced any restored one: remember where its text is (null: it has no place in the editor). */
  remember(anchor: Anchor | null, text: string): void {
    this.pending = null;
    if (anchor) {
      void this.state.update(ANCHOR_KEY, { uri: anchor.uri, baseOffset: anchor.baseOffset, textSha1: sha1(text) } satisfies SavedAnchor);
    }
  }

  /** After a reload the panel brings its analysis back; re-link it to the editor if the text is still there. */
  restored(analysis: Analysis): void {
    if (this.host.session.analysis) return; // a fresh analysis already exists
    this.host.session.set(analysis, null);
    this.pending = analysis;
    for (const doc of vscode.workspace.textDocuments) if (this.tryRelink(analysis, doc)) return;
  }

  private tryRelink(analysis: Analysis, doc: vscode.TextDocument): boolean {
    const { session } = this.host;
    const saved = this.state.get<SavedAnchor>(ANCHOR_KEY);
    if (!saved || saved.uri !== doc.uri.toString() || saved.textSha1 !== sha1(analysis.text)) return false;
    if (session.analysis !== analysis) {
      this.pending = null;
      return false;
    }
    this.pending = null;
    const anchor: Anchor = { uri: saved.uri, version: doc.version, baseOffset: saved.baseOffset };
    const same = textStillThere(doc, anchor, analysis.text);
    session.set(analysis, anchor, !same);
    this.host.setStale(!same);
    this.host.highlights.refresh();
    this.host.log.info(`Re-linked the restored analysis to ${doc.uri.toString(true)}${same ? '' : ' (the text has changed: stale)'}.`);
    return true;
  }

  dispose(): void {
    this.listener.dispose();
  }
}

function sha1(text: string): string {
  return crypto.createHash('sha1').update(text).digest('hex');
}
