/** Filtering and sorting of the examples table (pure: unit-tested in Node). */
import type { SpotCheckExample } from '../../shared/spotcheck-report';
import type { SpotCheckExampleFilter, SpotCheckSortKey } from '../../shared/protocol/spotcheck';

export interface ExampleView {
  filter: SpotCheckExampleFilter;
  query: string;
  sort: { key: SpotCheckSortKey; descending: boolean };
}

function sortValue(e: SpotCheckExample, key: SpotCheckSortKey): number {
  switch (key) {
    case 'line':
      return e.line;
    case 'confidence':
      return e.confidence ?? Number.NaN;
    case 'mean_k':
      return e.mean_k;
    case 'importance_entropy':
      return e.importance_entropy ?? Number.NaN;
    case 'correct':
      return e.correct === null ? Number.NaN : e.correct ? 1 : 0;
    case 'mean_loss':
      return e.mean_loss ?? Number.NaN;
  }
}

/**
 * The examples to show: `correct`/`wrong` keep examples with a known outcome; the query matches the text, pair,
 * label or prediction (case-insensitive, every word). Missing values (no entropy, no label) sort last either way;
 * ties keep file order.
 */
export function filterAndSort(examples: readonly SpotCheckExample[], v: ExampleView): SpotCheckExample[] {
  const words = v.query.toLowerCase().split(/\s+/).filter(Boolean);
  const kept = examples.filter((e) => {
    if (v.filter === 'correct' && e.correct !== true) return false;
    if (v.filter === 'wrong' && e.correct !== false) return false;
    if (words.length === 0) return true;
    const hay = `${e.text}\n${e.pair ?? ''}\n${e.label ?? ''}\n${e.predicted ?? ''}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
  const dir = v.sort.descending ? -1 : 1;
  return kept
    .map((e, i) => ({ e, i, k: sortValue(e, v.sort.key) }))
    .sort((a, b) => {
      const an = Number.isNaN(a.k);
      const bn = Number.isNaN(b.k);
      if (an || bn) return an && bn ? a.i - b.i : an ? 1 : -1;
      return (a.k - b.k) * dir || a.i - b.i;
    })
    .map((x) => x.e);
}
