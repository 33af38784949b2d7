import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openDataset } from '../../../../src/core/datasets/reader';
import {
  columnChoices,
  csvCells,
  exportFileName,
  groupColumnChoices,
  isCommandOptions,
  isDatasetFileName,
  isSameFile,
  locateTextCell,
  mergeCommandOptions,
  parseSampleSize,
  parseSeed,
  pickItems,
  progressMessage,
  sampleOption,
  sanitizeSpotCheckSettings,
  spotCheckStatus,
  vscodeDatasetMessage,
} from '../../../../src/extension/spotcheck/spotCheckLogic';
import { filterAndSort } from '../../../../src/webview/spotcheck/filter';
import { makeFakeSpotCheck } from '../../webview/fake-spotcheck';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');
const base = { sampleSize: 500, seed: 42 as number | string };

describe('spot-check settings and options', () => {
  it('sanitizes settings: defaults, 0 = all, empty columns = auto-detect', () => {
    assert.deepEqual(sanitizeSpotCheckSettings({}), {
      sampleSize: 500,
      seed: 42,
      textColumn: undefined,
      pairColumn: undefined,
      labelColumn: undefined,
      importanceCheck: 200,
    });
    assert.deepEqual(
      sanitizeSpotCheckSettings({ sampleSize: 0, seed: 7, textColumn: ' body ', pairColumn: '', labelColumn: 'stars', importanceCheck: 0 }),
      {
        sampleSize: 0,
        seed: 7,
        textColumn: 'body',
        pairColumn: undefined,
        labelColumn: 'stars',
        importanceCheck: 0,
      },
    );
    assert.equal(sanitizeSpotCheckSettings({ importanceCheck: -5 }).importanceCheck, 200);
    assert.equal(sanitizeSpotCheckSettings({ importanceCheck: 'many' }).importanceCheck, 200);
    assert.equal(sanitizeSpotCheckSettings({ sampleSize: -1 }).sampleSize, 500);
    assert.equal(sanitizeSpotCheckSettings({ sampleSize: 2.5 }).sampleSize, 500);
    assert.equal(sanitizeSpotCheckSettings({ seed: 1.5 }).seed, 42);
    assert.equal(sampleOption(0), 'all');
    assert.equal(sampleOption(20), 20);
  });

  it('parses seeds and sample sizes as typed', () => {
    assert.equal(parseSeed('17'), 17);
    assert.equal(parseSeed(' -3 '), -3);
    assert.equal(parseSeed('abc'), 'abc');
    assert.equal(parseSeed(''), undefined);
    assert.equal(parseSeed(null), undefined);
    assert.equal(parseSampleSize('all'), 0);
    assert.equal(parseSampleSize(' 25 '), 25);
    assert.equal(typeof parseSampleSize('-1'), 'string');
    assert.equal(typeof parseSampleSize('1e3'), 'string');
  });

  it('recognises an options argument and merges it over the settings', () => {
    assert.equal(isCommandOptions({ sampleSize: 20 }), true);
    assert.equal(isCommandOptions({ file: '/x.tsv', seed: 1 }), true);
    assert.equal(isCommandOptions({}), false);
    assert.equal(isCommandOptions({ sampleSize: 1, fsPath: '/x' }), false, 'a Uri-like object is not options');
    assert.equal(isCommandOptions([1]), false);
    assert.deepEqual(mergeCommandOptions(base, { sampleSize: 0, seed: 'x', textColumn: 'body', labelColumn: '' }), {
      sampleSize: 0,
      seed: 'x',
      textColumn: 'body',
      labelColumn: undefined,
    });
    assert.match(mergeCommandOptions(base, { sampleSize: -2 }) as string, /sampleSize/);
    assert.match(mergeCommandOptions(base, { seed: '' }) as string, /seed/);
    assert.equal((mergeCommandOptions(base, { importanceCheck: 12 }) as { importanceCheck: number }).importanceCheck, 12);
    assert.match(mergeCommandOptions(base, { importanceCheck: 1.5 }) as string, /importanceCheck must be a whole number of examples >= 0/);
    assert.equal(isCommandOptions({ importanceCheck: 0 }), true);
    assert.match(mergeCommandOptions(base, { textColumn: 3 as unknown as string }) as string, /textColumn/);
  });

  it('knows dataset file names and rewrites CLI flags in dataset errors', () => {
    for (const f of ['a.tsv', 'b.CSV', 'c.jsonl', 'd.txt', 'e.ndjson']) assert.equal(isDatasetFileName(f), true, f);
    for (const f of ['a.json', 'b.py', 'README']) assert.equal(isDatasetFileName(f), false, f);
    assert.equal(
      vscodeDatasetMessage('unknown --label-column \'x\'; columns found: "a"'),
      'unknown label column (damoe.spotCheck.labelColumn) \'x\'; columns found: "a"',
    );
  });
});

describe('the quick pick', () => {
  it('offers Run first, then sample size, seed and the detected columns', async () => {
    const ds = await openDataset(path.join(ROOT, 'test/fixtures/datasets/sst2-sample.tsv'));
    const items = pickItems({ sampleSize: 0, seed: 42 }, ds, 'sst2-sample.tsv');
    assert.deepEqual(
      items.map((i) => i.action),
      ['run', 'sampleSize', 'seed', 'textColumn', 'pairColumn', 'labelColumn', 'groupColumn'],
    );
    assert.equal(items[6].description, 'none');
    assert.match(items[0].description!, /all examples, seed 42/);
    assert.match(items[0].detail!, /columns: sentence, label/);
    assert.equal(items[3].description, 'sentence (detected)');
    assert.equal(items[4].description, 'none found');
    assert.equal(items[5].description, 'label (detected)');
    const text = pickItems(
      base,
      {
        format: 'text',
        columns: null,
        resolved: { text: '(line)', pair: null, label: null, source: { text: 'detected', pair: 'none', label: 'none' } },
      },
      'x.txt',
    );
    assert.deepEqual(
      text.map((i) => i.action),
      ['run', 'sampleSize', 'seed'],
    );
    assert.deepEqual(
      columnChoices(['a', 'b'], 'b').map((c) => [c.label, c.value, c.description]),
      [
        ['Auto-detect', undefined, undefined],
        ['a', 'a', undefined],
        ['b', 'b', 'current'],
      ],
    );
  });

  it('"Group by" offers None and every column but the text and pair columns; the chosen one reads back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-group-'));
    try {
      const file = path.join(dir, 'd.tsv');
      fs.writeFileSync(file, 'sentence1\tsentence2\tlabel\tdomain\na\tb\t1\tnews\n');
      const ds = await openDataset(file);
      assert.deepEqual(
        groupColumnChoices(ds, undefined).map((c) => [c.label, c.value, c.description]),
        [
          ['None', undefined, 'current'],
          ['label', 'label', 'the label column'],
          ['domain', 'domain', undefined],
        ],
      );
      assert.equal(groupColumnChoices(ds, 'domain')[2].description, 'current');
      const grouped = await openDataset(file, { groupColumn: 'domain' });
      assert.equal(pickItems(base, grouped, 'd.tsv').find((i) => i.action === 'groupColumn')!.description, 'domain (chosen)');
      assert.deepEqual(mergeCommandOptions(base, { groupColumn: ' domain ' }), { ...base, groupColumn: 'domain' });
      assert.match(String(mergeCommandOptions(base, { groupColumn: 3 as unknown as string })), /groupColumn must be a string/);
      assert.ok(isCommandOptions({ file, groupColumn: 'domain' }));
      assert.equal(
        vscodeDatasetMessage('unknown --group-column \'x\'; columns found: "a"'),
        'unknown group column (the quick pick\'s "Group by") \'x\'; columns found: "a"',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("locating an example's text cell on its line", () => {
  it("TSV: the column's substring", () => {
    const line = 'a quiet , moving film\t1';
    assert.deepEqual(locateTextCell(line, 'tsv', ['sentence', 'label'], 'sentence', 'a quiet , moving film'), { start: 0, end: 21 });
    const pair = 'x\tThe cat sat.\tA cat sat down.\t0\r';
    const r = locateTextCell(pair, 'tsv', ['id', 'sentence1', 'sentence2', 'label'], 'sentence1', 'The cat sat.')!;
    assert.equal(pair.slice(r.start, r.end), 'The cat sat.');
    assert.equal(locateTextCell(line, 'tsv', ['sentence', 'label'], 'sentence', 'other text'), null, 'the cell must hold the text');
    assert.equal(locateTextCell('only', 'tsv', ['a', 'b'], 'b', 'x'), null);
  });

  it('every line of the SST-2 fixture maps back to the record the reader gave', async () => {
    const file = path.join(ROOT, 'test/fixtures/datasets/sst2-sample.tsv');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const ds = await openDataset(file);
    let n = 0;
    for await (const rec of ds.records()) {
      const r = locateTextCell(lines[rec.line - 1], ds.format, ds.columns, ds.resolved.text, rec.text);
      assert.ok(r, `line ${rec.line}`);
      assert.equal(lines[rec.line - 1].slice(r.start, r.end), rec.text);
      n++;
    }
    assert.ok(n > 20);
  });

  it('CSV: plain and quoted cells; doubled quotes are not linkable', () => {
    assert.deepEqual(csvCells('a,"b, c",d'), [
      { start: 0, end: 1 },
      { start: 3, end: 7 },
      { start: 9, end: 10 },
    ]);
    assert.equal(csvCells('a,"open'), null);
    const line = '7,"Great, really great",5';
    const r = locateTextCell(line, 'csv', ['id', 'text', 'stars'], 'text', 'Great, really great')!;
    assert.equal(line.slice(r.start, r.end), 'Great, really great');
    assert.equal(locateTextCell('1,"say ""hi""",2', 'csv', ['id', 'text', 'x'], 'text', 'say "hi"'), null);
  });

  it("JSONL: the key's value when it needs no escapes; escaped text is not linkable", () => {
    const line = '{"label": 1, "text": "fine film"}';
    const r = locateTextCell(line, 'jsonl', ['label', 'text'], 'text', 'fine film')!;
    assert.equal(line.slice(r.start, r.end), 'fine film');
    assert.equal(locateTextCell('{"text": "a\\nb"}', 'jsonl', ['text'], 'text', 'a\nb'), null);
    assert.equal(locateTextCell('{"text": "say \\"hi\\""}', 'jsonl', ['text'], 'text', 'say "hi"'), null);
    assert.equal(
      locateTextCell('{"title": "fine film", "text": "other"}', 'jsonl', ['title', 'text'], 'text', 'fine film'),
      null,
      "another key's value",
    );
  });

  it('plain text: the whole line (without CR)', () => {
    assert.deepEqual(locateTextCell('hello there\r', 'text', null, '(line)', 'hello there'), { start: 0, end: 11 });
  });
});

describe('export and progress', () => {
  it('names exports safely and never allows the dataset itself', () => {
    const r = makeFakeSpotCheck({ examples: 2 });
    assert.equal(exportFileName(r, 'html', new Date('2025-02-03T04:05:06Z')), 'spotcheck-sst2-sample-damoe-sst2-2025-02-03-04-05-06.html');
    assert.equal(isSameFile('/data/x.tsv', '/data/./x.tsv', 'linux'), true);
    assert.equal(isSameFile('/data/X.tsv', '/data/x.tsv', 'linux'), false);
    assert.equal(isSameFile('/data/X.tsv', '/data/x.tsv', 'darwin'), true);
    assert.equal(isSameFile('/data/x.tsv.json', '/data/x.tsv', 'linux'), false);
    assert.equal(progressMessage(120, 500, 35.24), '120/500 · 35 examples/s');
    assert.equal(progressMessage(3, 500, 2.34), '3/500 · 2.3 examples/s');
    assert.equal(progressMessage(0, 500, 0), '0/500');
  });
});

describe('examples table filter and sort', () => {
  const r = makeFakeSpotCheck();
  const v = { filter: 'all' as const, query: '', sort: { key: 'line' as const, descending: false } };
  it('filters by outcome and by every word of the query', () => {
    assert.deepEqual(
      filterAndSort(r.examples, v).map((e) => e.line),
      r.examples.map((e) => e.line),
    );
    assert.ok(filterAndSort(r.examples, { ...v, filter: 'wrong' }).every((e) => e.correct === false));
    assert.ok(filterAndSort(r.examples, { ...v, filter: 'correct' }).every((e) => e.correct === true));
    const word = r.examples[0].text.split(' ')[0].toUpperCase();
    const hits = filterAndSort(r.examples, { ...v, query: `  ${word} ` });
    assert.ok(hits.length > 0 && hits.every((e) => e.text.toLowerCase().includes(word.toLowerCase())));
  });
  it('sorts both ways with ties in file order and missing values last', () => {
    const desc = filterAndSort(r.examples, { ...v, sort: { key: 'mean_k', descending: true } });
    for (let i = 1; i < desc.length; i++) assert.ok(desc[i - 1].mean_k >= desc[i].mean_k);
    const withNull = [{ ...r.examples[0], importance_entropy: null }, ...r.examples.slice(1)];
    for (const descending of [false, true]) {
      const s = filterAndSort(withNull, { ...v, sort: { key: 'importance_entropy', descending } });
      assert.equal(s.at(-1)!.importance_entropy, null);
    }
  });
});

describe('the status bar summary', () => {
  it('is short and complete: accuracy with its 95% CI, examples and mean K; the rest in the tooltip', () => {
    const r = makeFakeSpotCheck();
    const s = spotCheckStatus(r);
    const [lo, hi] = r.accuracy_ci95!;
    const pct = (x: number) => (100 * x).toFixed(1);
    assert.equal(s.text, `$(checklist) ${pct(r.accuracy!)}% [${pct(lo)}, ${pct(hi)}] on ${r.n} · mean K ${r.mean_k.overall.toFixed(2)}`);
    // The icon is one glyph; the rest stays within what a status bar shows beside the editor's items.
    assert.ok(s.text.replace(/^\$\([a-z-]+\) /, '').length <= 45, s.text);
    assert.equal(s.title, 'DA-MoE spot-check: damoe-sst2 on sst2-sample.tsv');
    const tip = s.lines.join('\n');
    assert.match(tip, new RegExp(`${r.correct} of ${r.labelled} labelled examples right`));
    assert.match(tip, /Expert compute \d+\.\d% of a fixed top-2 router, \d+\.\d% of top-4\./);
    assert.match(tip, /Mean K \d\.\d\d \(per layer \d\.\d\d, \d\.\d\d, \d\.\d\d, \d\.\d\d\)/);
    assert.match(tip, /; 1 row skipped\./);
  });

  it('says cancelled, and without labels counts the examples and gives the reason in the tooltip', () => {
    const c = spotCheckStatus(makeFakeSpotCheck({ cancelled: true }));
    assert.match(c.text, /^\$\(checklist\) cancelled · \d+\.\d% \[/);
    assert.match(c.lines.join(' '), /cancelled: the figures cover those only/);
    const none = spotCheckStatus(makeFakeSpotCheck({ labels: 'none' }));
    assert.match(none.text, /^\$\(checklist\) 24 examples · mean K \d\.\d\d$/);
    assert.match(none.lines[0], /no labels/i);
  });
});
