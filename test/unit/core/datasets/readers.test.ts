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
      // After the unclosed quote of line 8 the reader goes on at line 9 (it used to swallow the rest of the file).
      { line: 9, text: 'swallowed', label: 'negative' },
    ]);
    assert.equal(report.skipped.count, 3);
    assert.deepEqual(report.skipped.first[0], { line: 5, reason: 'expected 2 columns, found 3' });
    assert.deepEqual(report.skipped.first[1], { line: 6, reason: 'invalid UTF-8' });
    assert.equal(report.skipped.first[2].line, 8);
    assert.match(
      report.skipped.first[2].reason,
      /malformed CSV: a quote opened on this line is never closed \(the line is skipped; reading goes on at the next line\)/,
    );
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

/** Buffer.concat for this @types/node (its Buffer is not a Uint8Array<ArrayBuffer> to TypeScript 5.9). */
const cat = (parts: Buffer[]): Buffer => Buffer.concat(parts as unknown as Uint8Array[]);

describe('dataset readers: encodings and long lines (issue 12)', () => {
  it('a UTF-16 file (with a BOM) is named as UTF-16, with the iconv command that converts it', async () => {
    const le = tmpFile('u16.tsv', cat([Buffer.from([0xff, 0xfe]), Buffer.from('sentence\tlabel\ngood\t1\n', 'utf16le')]));
    await rejectsWith(
      openDataset(le),
      'encoding',
      /u16\.tsv is UTF-16LE \(it starts with a UTF-16LE byte-order mark\); datasets are read as UTF-8\. Convert it first: iconv -f UTF-16LE -t UTF-8 .*u16\.tsv > .*u16\.utf8\.tsv/,
    );
    const be = tmpFile('u16be.csv', Buffer.from([0xfe, 0xff, 0, 0x61]));
    await rejectsWith(openDataset(be), 'encoding', /is UTF-16BE/);
  });

  it('a header line longer than the line limit is reported as too long, not as empty', async () => {
    const file = tmpFile('long-header.tsv', `${'x'.repeat(17 * 1024 * 1024)}\nfoo\n`);
    await rejectsWith(openDataset(file), 'no-header', /the first line of .* is longer than 16 MB, so it cannot be a header line/);
  });

  it('a data line longer than the limit is skipped with its size in the reason, and counted', async () => {
    const file = tmpFile('long-row.tsv', `sentence\tlabel\ngood\t1\n${'x'.repeat(17 * 1024 * 1024)}\t0\nbad\t0\n`);
    const { records, report } = await readAll(file);
    assert.equal(records.length, 2);
    assert.equal(report.rows, 3);
    assert.deepEqual(report.skipped.first, [{ line: 3, reason: 'line longer than 16 MB (not read)' }]);
  });
});

describe('dataset readers lose nothing uncounted (property, issue 12)', () => {
  /** A small seeded PRNG (mulberry32), so a failing case can be reproduced from its seed. */
  const rng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  type Kind = 'good' | 'bad';
  /** One data row per line of each format: good rows and the broken kinds each reader must skip and count. */
  const makers: Record<'csv' | 'tsv' | 'jsonl', (i: number, r: () => number, unclosedUsed: { v: boolean }) => [Kind, Buffer]> = {
    csv: (i, r, unclosed) => {
      const x = r();
      if (x < 0.55) return ['good', Buffer.from(`good ${i},${i % 2}`)];
      if (x < 0.65) return ['bad', Buffer.from(`a,b,c${i}`)];
      if (x < 0.75) return ['bad', Buffer.from(`,1`)];
      if (x < 0.85) return ['bad', cat([Buffer.from('bad '), Buffer.from([0xff, 0xfe]), Buffer.from(',1')])];
      if (!unclosed.v) {
        unclosed.v = true;
        return ['bad', Buffer.from(`"never closed ${i},1`)];
      }
      return ['good', Buffer.from(`good ${i},0`)];
    },
    tsv: (i, r) => {
      const x = r();
      if (x < 0.6) return ['good', Buffer.from(`good "${i}"\t${i % 2}`)];
      if (x < 0.7) return ['bad', Buffer.from(`a\tb\tc`)];
      if (x < 0.8) return ['bad', Buffer.from(`\t1`)];
      return ['bad', cat([Buffer.from('bad '), Buffer.from([0xc3, 0x28]), Buffer.from('\t1')])];
    },
    jsonl: (i, r) => {
      const x = i === 0 ? 0 : r(); // the first object names the keys
      if (x < 0.6) return ['good', Buffer.from(JSON.stringify({ text: `good ${i}`, label: i % 2 }))];
      if (x < 0.7) return ['bad', Buffer.from(`{"text": "unterminated ${i}`)];
      if (x < 0.8) return ['bad', Buffer.from(JSON.stringify({ text: '', label: 1 }))];
      if (x < 0.9) return ['bad', Buffer.from(`[1, 2]`)];
      return ['bad', Buffer.from(JSON.stringify({ label: 1 }))];
    },
  };
  const headers = { csv: 'text,label', tsv: 'sentence\tlabel', jsonl: null };
  for (const format of ['csv', 'tsv', 'jsonl'] as const) {
    it(`${format}: over 60 generated broken files, rows read + rows skipped = data rows, good rows all read with their lines`, async () => {
      for (let seed = 1; seed <= 60; seed++) {
        const r = rng(seed);
        const n = 3 + Math.floor(r() * 40);
        const unclosed = { v: false };
        const rows = Array.from({ length: n }, (_, i) => makers[format](i, r, unclosed));
        const header = headers[format];
        const lines = [...(header ? [Buffer.from(header)] : []), ...rows.map(([, b]) => b)];
        const crlf = r() < 0.3;
        const data = cat(lines.flatMap((b) => [b, Buffer.from(crlf ? '\r\n' : '\n')]));
        const file = tmpFile(`gen-${seed}.${format}`, data);
        const { records, report } = await readAll(file);
        const first = header ? 2 : 1;
        const goodLines = rows.flatMap(([kind], i) => (kind === 'good' ? [first + i] : []));
        const where = `seed ${seed} (${file})`;
        assert.equal(
          records.length + report.skipped.count,
          n,
          `${where}: ${records.length} read + ${report.skipped.count} skipped != ${n}`,
        );
        assert.deepEqual(
          records.map((x) => x.line),
          goodLines,
          where,
        );
        assert.equal(report.rows, n, `${where}: rows`);
      }
    });
  }
});

describe('dataset readers: --group-column', () => {
  it('TSV, CSV and JSONL carry the group value (trimmed; empty cells and objects give none)', async () => {
    const tsv = tmpFile('g.tsv', 'sentence\tlabel\tdomain\ngood\t1\t news \nbad\t0\t\n');
    const t = await readAll(tsv, { groupColumn: 'Domain' });
    assert.equal(t.report.resolved.group, 'domain');
    assert.deepEqual(
      t.records.map((r) => r.group),
      ['news', undefined],
    );
    const csv = tmpFile('g.csv', 'text,label,src\n"a, b",1,web\n');
    assert.equal((await readAll(csv, { groupColumn: 'src' })).records[0].group, 'web');
    const jsonl = tmpFile('g.jsonl', '{"text":"a","d":3}\n{"text":"b","d":{"x":1}}\n{"text":"c"}\n');
    assert.deepEqual(
      (await readAll(jsonl, { groupColumn: 'd' })).records.map((r) => r.group),
      ['3', undefined, undefined],
    );
  });
  it('an unknown group column, the text column, or plain text: a clear error', async () => {
    const tsv = tmpFile('g.tsv', 'sentence\tlabel\nx\t1\n');
    await rejectsWith(openDataset(tsv, { groupColumn: 'domain' }), 'unknown-column', /unknown --group-column 'domain'/);
    await rejectsWith(
      openDataset(tsv, { groupColumn: 'sentence' }),
      'unknown-column',
      /the group column 'sentence' is the text or pair column/,
    );
    const txt = tmpFile('g.txt', 'one\ntwo\n');
    await rejectsWith(
      openDataset(txt, { groupColumn: 'x' }),
      'unknown-column',
      /--group-column 'x' cannot be used: a plain-text dataset has no columns/,
    );
  });
});
