/**
 * Staleness rules (pure). An analysis is anchored to [baseOffset, baseOffset + length) of one document version.
 * An edit before or inside that range moves or changes the analysed text, so token offsets no longer match and the
 * analysis becomes stale; an edit after it leaves every offset valid.
 */
export interface TextChangeLike {
  /** Offset of the replaced range in the document *before* the change. */
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

export function changeMakesStale(anchorStart: number, anchorEnd: number, change: TextChangeLike): boolean {
  // VS Code reports all changes of one event against the pre-event document (sorted, non-overlapping), so each can
  // be compared with the original anchor directly.
  if (change.rangeLength === 0 && change.text.length === 0) return false; // no-op
  // Entirely at or after the end: the analysed text and its offsets are untouched (typing right after it included).
  if (change.rangeOffset >= anchorEnd) return false;
  return true;
}

export function changesMakeStale(anchorStart: number, anchorEnd: number, changes: readonly TextChangeLike[]): boolean {
  return changes.some((c) => changeMakesStale(anchorStart, anchorEnd, c));
}
