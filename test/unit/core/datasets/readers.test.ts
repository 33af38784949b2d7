import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openDataset } from '../../../../src/core/datasets/reader';
import { detectFormat, sniffFormat } from '../../../../src/core/datasets/detect';
import { readLines } from '../../../../src/core/datasets/lines';
import { DatasetError, DatasetOptions, DatasetRecord } from '../../../../src/core/datasets/types';
import { ROOT } from '../helpers';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'datasets');
const MALFORMED = path.join(FIXTURES, 'malformed');

async function readAll(file: string, options: DatasetOptions = {}) {
  const ds = await openDataset(file, options);
  const records: DatasetRecord[] = [];
  for await (const r of ds.records()) records.push(r);
  return { ds, records, report: ds.report };
}

function tmpFile(name: string, data: string | Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-ds-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, data as unknown as Uint8Array);
  return file;
}

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DatasetError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });
}

describe('dataset readers: TSV', () => {
  it('reads the GLUE SST-2 sample: detected columns, labels, line numbers, the bad row skipped', async () => {
    const { ds, records, report } = await readAll(path.join(FIXTURES, 'sst2-sample.tsv'));
    assert.equal(ds.format, 'tsv');
    assert.deepEqual(ds.columns, ['sentence', 'label']);
    assert.deepEqual([ds.resolved.text, ds.resolved.pair, ds.resolved.label], ['sentence', null, 'label']);
    assert.equal(records.length, 31);
    assert.equal(records[0].line, 2);
    assert.ok(records.every((r) => r.label === '0' || r.label === '1'));
    const probe = records.find((r) => r.text.includes('<img'));
    assert.equal(probe?.line, 12);
    assert.match(probe!.text, /"quoted'/, 'quote characters are kept as text (quoting off)');
    assert.deepEqual(report.skipped, { count: 1, first: [{ line: 23, reason: 'expected 2 columns, found 3' }] });
    assert.equal(report.rows, 32);
    assert.equal(report.records, 31);
    assert.equal(report.labelled, 31);
    assert.equal(report.complete, true);
  });

  it('reads pairs (RTE): sentence1/sentence2 detected as text and pair', async () => {
    const { ds, records } = await readAll(path.join(FIXTURES, 'rte-sample.tsv'));
    assert.deepEqual([ds.resolved.text, ds.resolved.pair, ds.resolved.label], ['sentence1', 'sentence2', 'label']);
    assert.equal(records.length, 12);
    assert.ok(records.every((r) => typeof r.pair === 'string' && r.pair.length > 0));
    assert.deepEqual([...new Set(records.map((r) => r.label))].sort(), ['entailment', 'not_entailment']);
  });

  it('detects the other GLUE pair layouts and honours overrides', async () => {
    const qnli = tmpFile('q.tsv', 'index\tquestion\tsentence\tlabel\n0\tWho?\tHim.\tentailment\n');
    const q = await readAll(qnli);
    assert.deepEqual([q.ds.resolved.text, q.ds.resolved.pair], ['question', 'sentence']);
    assert.deepEqual(q.records[0], { line: 2, text: 'Who?', pair: 'Him.', label: 'entailment' });
    const qqp = tmpFile('qqp.tsv', 'id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t2\t3\ta?\tb?\t0\n');
    const p = await readAll(qqp, { labelColumn: 'is_duplicate' });
    assert.deepEqual([p.ds.resolved.text, p.ds.resolved.pair, p.ds.resolved.label], ['question1', 'question2', 'is_duplicate']);
    assert.equal(p.records[0].label, '0');
    const single = await readAll(qnli, { textColumn: 'SENTENCE' });
    assert.equal(single.ds.resolved.text, 'sentence', 'case-insensitive match of a user column');
    assert.equal(single.records[0].pair, undefined);
    const swapped = await readAll(qnli, { textColumn: 'sentence', pairColumn: 'question' });
    assert.deepEqual(swapped.records[0], { line: 2, text: 'Him.', pair: 'Who?', label: 'entailment' });
  });

  it('skips rows with the wrong column count, with their line numbers', async () => {
    const { records, report } = await readAll(path.join(MALFORMED, 'wrong-columns.tsv'));
    assert.deepEqual(
      records.map((r) => r.line),
      [2, 4, 6],
    );
    assert.deepEqual(report.skipped.first, [
      { line: 3, reason: 'expected 2 columns, found 3' },
      { line: 5, reason: 'expected 2 columns, found 1' },
    ]);
  });

  it('skips lines that are not valid UTF-8 (decoded strictly, line by line)', async () => {
    const { records, report } = await readAll(path.join(MALFORMED, 'invalid-utf8.tsv'));
    assert.deepEqual(
      records.map((r) => [r.line, r.text]),
      [
        [2, 'fine'],
        [5, 'café €5'],
      ],
    );
    assert.deepEqual(report.skipped.first, [
      { line: 3, reason: 'invalid UTF-8' },
      { line: 4, reason: 'invalid UTF-8' },
      { line: 6, reason: 'invalid UTF-8' },
    ]);
  });

  it('skips empty text and empty lines; an empty label means unlabelled', async () => {
    const { records, report } = await readAll(path.join(MALFORMED, 'empty-text.tsv'));
    assert.deepEqual(records, [
      { line: 2, text: 'ok', label: '1' },
      { line: 6, text: 'no label here' },
    ]);
    assert.deepEqual(report.skipped.first, [
      { line: 3, reason: 'empty text (column "sentence")' },
      { line: 4, reason: 'empty text (column "sentence")' },
      { line: 5, reason: 'empty line' },
    ]);
    assert.equal(report.labelled, 1);
  });

  it('handles a BOM, CRLF, a last line without newline, and quotes that are not CSV quoting', async () => {
    const { ds, records, report } = await readAll(path.join(MALFORMED, 'bom-crlf.tsv'));
    assert.deepEqual(ds.columns, ['sentence', 'label']);
    assert.deepEqual(records, [
      { line: 2, text: 'it \'s "not" bad', label: '1' },
      { line: 3, text: '"unbalanced quote', label: '0' },
      { line: 4, text: 'last', label: '1' },
    ]);
    assert.equal(report.skipped.count, 0);
  });

  it('lists only the first 20 skipped rows but counts them all', async () => {
    const body = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? `x\t1\textra\n` : `good ${i}\t0\n`)).join('');
    const { records, report } = await readAll(tmpFile('many.tsv', `sentence\tlabel\n${body}`));
    assert.equal(records.length, 25);
    assert.equal(report.skipped.count, 25);
    assert.equal(report.skipped.first.length, 20);
    assert.equal(report.skipped.first[0].line, 2);
    assert.equal(report.skipped.first[19].line, 40);
  });
});

describe('dataset readers: CSV (csv-parse)', () => {
  it('quoted fields, doubled quotes, embedded CRLF newlines, BOM; bad rows skipped with start lines', async () => {
    const { ds, records, report } = await readAll(path.join(MALFORMED, 'quoted.csv'));
    assert.equal(ds.format, 'csv');
    assert.deepEqual(ds.columns, ['text', 'label']);
    assert.deepEqual(records, [
      { line: 2, text: 'hello, world', label: 'positive' },
      { line: 3, text: 'two\r\nlines "quoted"', label: 'negative' },
      { line: 7, text: 'plain row', label: 'negative' },
    ]);
    assert.equal(report.skipped.count, 3);
    assert.deepEqual(report.skipped.first[0], { line: 5, reason: 'expected 2 columns, found 3' });
    assert.deepEqual(report.skipped.first[1], { line: 6, reason: 'invalid UTF-8' });
    assert.equal(report.skipped.first[2].line, 8);
    assert.match(report.skipped.first[2].reason, /malformed CSV: Quote Not Closed/);
  });

  it('streams a CSV with a label column override and no labels detected otherwise', async () => {
    const file = tmpFile('reviews.csv', 'id,review,stars\n1,"Great, really",5\n2,Meh,2\n');
    const { ds, records } = await readAll(file, { labelColumn: 'stars' });
    assert.deepEqual([ds.resolved.text, ds.resolved.label], ['review', 'stars']);
    assert.deepEqual(records[0], { line: 2, text: 'Great, really', label: '5' });
    const noLabel = await readAll(file);
    assert.equal(noLabel.ds.resolved.label, null);
    assert.equal(noLabel.records[1].label, undefined);
  });
});

describe('dataset readers: JSONL and plain text', () => {
  it('JSONL: bad JSON, arrays, missing keys, empty text, invalid UTF-8, non-string text are skipped', async () => {
    const { ds, records, report } = await readAll(path.join(MALFORMED, 'bad-json.jsonl'));
    assert.equal(ds.format, 'jsonl');
    assert.deepEqual([ds.resolved.text, ds.resolved.label], ['text', 'label']);
    assert.deepEqual(records, [
      { line: 1, text: 'first', label: 'positive' },
      { line: 6, text: 'numeric label', label: '1' },
      { line: 10, text: 'last one', label: 'NEGATIVE' },
    ]);
    const reasons = Object.fromEntries(report.skipped.first.map((s) => [s.line, s.reason]));
    assert.match(reasons[2], /^invalid JSON: /);
    assert.equal(reasons[3], 'not a JSON object');
    assert.equal(reasons[4], 'no "text" key');
    assert.equal(reasons[5], 'empty text (key "text")');
    assert.equal(reasons[7], 'invalid UTF-8');
    assert.equal(reasons[8], 'empty line');
    assert.equal(reasons[9], '"text" is not a string');
    assert.equal(report.skipped.count, 7);
  });

  it('JSONL pairs by key', async () => {
    const file = tmpFile('nli.jsonl', '{"premise":"A man sleeps.","hypothesis":"Nobody sleeps.","gold_label":"contradiction"}\n');
    const { ds, records } = await readAll(file);
    assert.deepEqual([ds.resolved.text, ds.resolved.pair, ds.resolved.label], ['premise', 'hypothesis', 'gold_label']);
    assert.deepEqual(records[0], { line: 1, text: 'A man sleeps.', pair: 'Nobody sleeps.', label: 'contradiction' });
  });

  it('plain text: one example per line, blank lines skipped and counted, CRLF removed', async () => {
    const { ds, records, report } = await readAll(path.join(MALFORMED, 'lines.txt'));
    assert.equal(ds.format, 'text');
    assert.equal(ds.columns, null);
    assert.deepEqual(records, [
      { line: 1, text: 'first example' },
      { line: 3, text: 'second example' },
      { line: 5, text: 'third — example' },
    ]);
    assert.deepEqual(report.skipped.first, [
      { line: 2, reason: 'empty text' },
      { line: 4, reason: 'empty text' },
    ]);
  });
});

describe('dataset readers: format detection and errors', () => {
  it('detects the format from the extension, else from the content', () => {
    assert.equal(detectFormat('a.TSV').format, 'tsv');
    assert.equal(detectFormat('a.csv').format, 'csv');
    assert.equal(detectFormat('a.ndjson').format, 'jsonl');
    assert.equal(detectFormat('a.txt').format, 'text');
    assert.equal(sniffFormat(Buffer.from('{"text": "x"}\n')), 'jsonl');
    assert.equal(sniffFormat(Buffer.from('\uFEFFsentence\tlabel\nx\t1\n')), 'tsv');
    assert.equal(sniffFormat(Buffer.from('"text",label\n"x",1\n')), 'csv');
    assert.equal(sniffFormat(Buffer.from('Hello, world. A plain sentence.\n')), 'text');
    const noExt = tmpFile('data', 'sentence\tlabel\nfine\t1\n');
    assert.deepEqual(detectFormat(noExt), { format: 'tsv', source: 'content' });
  });

  it('a missing file, an unknown column (listing the columns found), an empty file', async () => {
    await rejectsWith(openDataset('/nonexistent/data.tsv'), 'file-not-found', /dataset file not found: \/nonexistent\/data\.tsv/);
    await rejectsWith(
      openDataset(path.join(MALFORMED, 'no-text-column.tsv')),
      'unknown-column',
      /cannot tell which column holds the text.*columns found: "foo", "bar"/,
    );
    await rejectsWith(
      openDataset(path.join(FIXTURES, 'sst2-sample.tsv'), { labelColumn: 'gold' }),
      'unknown-column',
      /unknown --label-column 'gold'; columns found: "sentence", "label"/,
    );
    await rejectsWith(
      openDataset(path.join(MALFORMED, 'lines.txt'), { textColumn: 'x' }),
      'unknown-column',
      /plain-text dataset has no columns/,
    );
    await rejectsWith(openDataset(tmpFile('empty.tsv', '')), 'empty-dataset', /the dataset is empty/);
    await rejectsWith(openDataset(os.tmpdir()), 'not-a-file', /not a file/);
  });

  it('readLines streams across chunk boundaries and flags overlong lines', async () => {
    const long = 'x'.repeat(300_000);
    const file = tmpFile('long.txt', `a\n${long}\nb\r\nc`);
    const lines: [number, number, boolean][] = [];
    for await (const l of readLines(file)) lines.push([l.line, l.bytes.length, l.overlong]);
    assert.deepEqual(lines, [
      [1, 1, false],
      [2, 300_000, false],
      [3, 1, false],
      [4, 1, false],
    ]);
    const flagged: boolean[] = [];
    for await (const l of readLines(file, 1000)) flagged.push(l.overlong);
    assert.deepEqual(flagged, [false, true, false, false]);
  });

  it('a second records() pass re-reads the file and resets the report', async () => {
    const ds = await openDataset(path.join(MALFORMED, 'wrong-columns.tsv'));
    for (let pass = 0; pass < 2; pass++) {
      let n = 0;
      for await (const _ of ds.records()) n++;
      assert.equal(n, 3);
      assert.equal(ds.report.skipped.count, 2);
    }
  });
});
