/** Which columns hold the text, the pair text and the label: detected from the header, or given by the user. */
import type { DatasetFormat } from '../../shared/dataset';
import { DatasetError, DatasetOptions, ResolvedColumns } from './types';

/** Known pair layouts (GLUE and friends), first segment then second. */
export const PAIR_COLUMNS: readonly (readonly [string, string])[] = [
  ['sentence1', 'sentence2'],
  ['question', 'sentence'],
  ['question1', 'question2'],
  ['premise', 'hypothesis'],
  ['text_a', 'text_b'],
];
/** Single-text column names, most specific first. */
export const TEXT_COLUMNS: readonly string[] = ['sentence', 'text', 'review', 'content', 'document', 'comment', 'utterance', 'tweet'];
export const LABEL_COLUMNS: readonly string[] = ['label', 'labels', 'gold_label', 'class', 'target', 'sentiment'];

function findColumn(columns: readonly string[], name: string): string | undefined {
  return columns.find((c) => c === name) ?? columns.find((c) => c.toLowerCase() === name.toLowerCase());
}

function describeColumns(columns: readonly string[], format: DatasetFormat): string {
  const what = format === 'jsonl' ? 'keys found in the first JSON object' : 'columns found';
  return columns.length === 0
    ? `no ${what.replace(' found', '')} were found`
    : `${what}: ${columns.map((c) => JSON.stringify(c)).join(', ')}`;
}

function userColumn(columns: readonly string[], name: string, option: string, format: DatasetFormat): string {
  const found = findColumn(columns, name);
  if (found === undefined) {
    throw new DatasetError('unknown-column', `unknown ${option} '${name}'; ${describeColumns(columns, format)}`);
  }
  return found;
}

/**
 * Resolves the text/pair/label columns from the header (TSV/CSV) or JSON keys. User choices must exist (matched
 * exactly, else case-insensitively); detection tries the known pair layouts, then single-text names, then labels.
 */
export function resolveColumns(columns: readonly string[] | null, options: DatasetOptions, format: DatasetFormat): ResolvedColumns {
  if (columns === null) {
    for (const [key, option] of [
      ['textColumn', '--text-column'],
      ['pairColumn', '--pair-column'],
      ['labelColumn', '--label-column'],
      ['groupColumn', '--group-column'],
    ] as const) {
      if (options[key] !== undefined) {
        throw new DatasetError(
          'unknown-column',
          `${option} '${options[key]}' cannot be used: a plain-text dataset has no columns (one example per line)`,
        );
      }
    }
    return { text: '(line)', pair: null, label: null, source: { text: 'detected', pair: 'none', label: 'none' } };
  }
  const flag = (o: string): string => (format === 'jsonl' ? o.replace('column', 'column (JSON key)') : o);
  let text: string | undefined;
  let pair: string | undefined;
  let textSource: 'user' | 'detected' = 'detected';
  let pairSource: 'user' | 'detected' | 'none' = 'none';
  if (options.textColumn !== undefined) {
    text = userColumn(columns, options.textColumn, flag('--text-column'), format);
    textSource = 'user';
  }
  if (options.pairColumn !== undefined) {
    pair = userColumn(columns, options.pairColumn, flag('--pair-column'), format);
    pairSource = 'user';
  }
  if (text === undefined) {
    for (const [a, b] of PAIR_COLUMNS) {
      const ca = findColumn(columns, a);
      const cb = findColumn(columns, b);
      if (ca !== undefined && cb !== undefined && ca !== pair) {
        text = ca;
        if (pair === undefined) {
          pair = cb;
          pairSource = 'detected';
        }
        break;
      }
    }
  } else if (pair === undefined) {
    // --text-column sentence1 on a GLUE pair file: its partner is the pair text.
    const partner = PAIR_COLUMNS.find(([a]) => a.toLowerCase() === text!.toLowerCase());
    const cb = partner && findColumn(columns, partner[1]);
    if (cb !== undefined) {
      pair = cb;
      pairSource = 'detected';
    }
  }
  if (text === undefined) {
    for (const name of TEXT_COLUMNS) {
      const c = findColumn(columns, name);
      if (c !== undefined && c !== pair) {
        text = c;
        break;
      }
    }
  }
  if (text === undefined) {
    throw new DatasetError(
      'unknown-column',
      `cannot tell which column holds the text (looked for ${TEXT_COLUMNS.join(', ')} and the pairs ` +
        `${PAIR_COLUMNS.map((p) => p.join('/')).join(', ')}); ${describeColumns(columns, format)}. Pass ${flag('--text-column')} NAME`,
    );
  }
  if (pair === text)
    throw new DatasetError('unknown-column', `the pair column '${pair}' is the text column; choose another ${flag('--pair-column')}`);
  let label: string | undefined;
  let labelSource: 'user' | 'detected' | 'none' = 'none';
  if (options.labelColumn !== undefined) {
    label = userColumn(columns, options.labelColumn, flag('--label-column'), format);
    labelSource = 'user';
  } else {
    for (const name of LABEL_COLUMNS) {
      const c = findColumn(columns, name);
      if (c !== undefined && c !== text && c !== pair) {
        label = c;
        labelSource = 'detected';
        break;
      }
    }
  }
  if (label !== undefined && (label === text || label === pair)) {
    throw new DatasetError('unknown-column', `the label column '${label}' is also the text or pair column`);
  }
  // Any column may group, the label's included (the routing per label is then shown twice); never the text.
  const group = options.groupColumn === undefined ? null : userColumn(columns, options.groupColumn, flag('--group-column'), format);
  if (group !== null && (group === text || group === pair)) {
    throw new DatasetError('unknown-column', `the group column '${group}' is the text or pair column; group by a column of categories`);
  }
  return {
    text,
    pair: pair ?? null,
    label: label ?? null,
    group,
    source: { text: textSource, pair: pairSource, label: labelSource },
  };
}
