// Extension-host tests of `damoe.spotCheck` (runs in the extension host via runner.ts): the command with explicit
// options (no quick pick) on the SST-2 sample, its returned report, the report panel, and dataset errors.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { SpotCheckReport } from '../../../src/shared/spotcheck-report';

const EXTENSION_ID = 'damoe.damoe-inspector';

// Mirrors SpotCheckResult in src/extension/spotcheck/spotCheck.ts (not imported: that module needs the extension's own vscode).
type SpotCheckResult =
  | { status: 'ok'; report: SpotCheckReport; cancelled: boolean }
  | { status: 'cancelled' | 'no-file' | 'busy'; message: string }
  | { status: 'error'; code: string; message: string };

interface TestApi {
  spotCheckPanelExists(): boolean;
  spotCheckPanelReady(): boolean;
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this extension host`);
  return ext;
}

function modelDirFor(ext: vscode.Extension<unknown>): string {
  const shipped = path.join(ext.extensionPath, 'models', 'damoe-sst2');
  if (fs.existsSync(path.join(shipped, 'model.onnx'))) return '';
  return path.join(ext.extensionPath, 'test', 'fixtures', 'models', 'tiny-damoe');
}

async function spotCheck(...args: unknown[]): Promise<SpotCheckResult> {
  return (await vscode.commands.executeCommand<SpotCheckResult>('damoe.spotCheck', ...args))!;
}

async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

describe('DA-MoE spot-check command', function () {
  this.timeout(180_000);
  const cfg = () => vscode.workspace.getConfiguration('damoe');
  let dataset = '';

  before(async () => {
    await extension().activate();
    dataset = path.join(extension().extensionPath, 'test', 'fixtures', 'datasets', 'sst2-sample.tsv');
    await cfg().update('modelPath', modelDirFor(extension()), vscode.ConfigurationTarget.Global);
    await cfg().update('executionProvider', 'cpu', vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await cfg().update('modelPath', undefined, vscode.ConfigurationTarget.Global);
    await cfg().update('executionProvider', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('is registered and contributes its settings', async () => {
    assert.ok((await vscode.commands.getCommands(true)).includes('damoe.spotCheck'));
    const sc = vscode.workspace.getConfiguration('damoe.spotCheck');
    assert.equal(sc.inspect('sampleSize')?.defaultValue, 500);
    assert.equal(sc.inspect('seed')?.defaultValue, 42);
    for (const k of ['textColumn', 'pairColumn', 'labelColumn']) assert.equal(sc.inspect(k)?.defaultValue, '');
  });

  it('spot-checks a TSV with explicit options and returns the report; the report panel opens', async () => {
    const r = await spotCheck({ file: dataset, sampleSize: 0, seed: 1 });
    assert.equal(r.status, 'ok', JSON.stringify(r).slice(0, 500));
    const report = (r as Extract<SpotCheckResult, { status: 'ok' }>).report;
    const records = fs
      .readFileSync(dataset, 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '').length;
    // Every row is either analysed or skipped (the fixture has a row the reader skips).
    assert.equal(
      report.n + report.skipped.count,
      records,
      `every example (sampleSize 0 = all); skipped: ${JSON.stringify(report.skipped.first)}`,
    );
    assert.equal(report.n, report.dataset.records);
    assert.equal(report.cancelled, false);
    assert.equal(report.sample.requested, 'all');
    assert.equal(report.sample.seed, 1);
    assert.equal(report.dataset.text_column, 'sentence');
    assert.equal(report.dataset.label_column, 'label');
    assert.notEqual(report.accuracy, null, report.label_mapping.note ?? '');
    assert.equal(report.label_mapping.strategy, 'index');
    assert.equal(report.k_histogram.per_layer.length, report.model.num_layers);
    for (const [l, counts] of report.k_histogram.per_layer.entries()) assert.equal(sum(counts), report.tokens, `layer ${l}`);
    assert.equal(sum(report.k_histogram.overall), report.tokens * report.model.num_layers);
    assert.equal(report.examples.length, report.n);
    assert.equal(report.execution_provider!.used, 'cpu');
    const t = (await extension().activate()) as TestApi;
    assert.ok(t.spotCheckPanelExists(), 'the report panel exists');
    await waitFor('the spot-check panel to post ready', () => t.spotCheckPanelReady());
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((x) => x.input instanceof vscode.TabInputWebview && x.input.viewType.endsWith('damoe.spotCheck'));
    assert.equal(tabs.length, 1);
  });

  it('the same file, size and seed give the same sample; a resource URI argument works too', async () => {
    const a = await spotCheck({ file: dataset, sampleSize: 10, seed: 7 });
    const b = await spotCheck(vscode.Uri.file(dataset), { sampleSize: 10, seed: 7 });
    assert.equal(a.status, 'ok');
    assert.equal(b.status, 'ok');
    const lines = (r: SpotCheckResult) => (r as Extract<SpotCheckResult, { status: 'ok' }>).report.examples.map((e) => e.line);
    assert.equal(lines(a).length, 10);
    assert.deepEqual(lines(a), lines(b));
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((x) => x.input instanceof vscode.TabInputWebview && x.input.viewType.endsWith('damoe.spotCheck'));
    assert.equal(tabs.length, 1, 'one report panel, reused');
  });

  it('an unknown column is an error that lists the columns found; a missing file and bad options too', async () => {
    const r = await spotCheck({ file: dataset, textColumn: 'body' });
    assert.equal(r.status, 'error');
    assert.equal((r as { code: string }).code, 'unknown-column');
    assert.match((r as { message: string }).message, /"sentence", "label"/);
    const m = await spotCheck({ file: path.join(path.dirname(dataset), 'nope.tsv'), sampleSize: 5 });
    assert.equal((m as { code: string }).code, 'file-not-found');
    const bad = await spotCheck({ file: dataset, sampleSize: -1 });
    assert.equal((bad as { code: string }).code, 'invalid-option');
  });
});
