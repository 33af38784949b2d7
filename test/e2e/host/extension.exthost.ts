// Extension-host tests of the DA-MoE Inspector extension itself (runs in the extension host via runner.ts).
// Uses the shipped model when it is installed (models/damoe-sst2), else the tiny test model in test/fixtures.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { Analysis } from '../../../src/shared/analysis';

const EXTENSION_ID = 'damoe.damoe-inspector';
// Every command package.json contributes: a missing registration would leave a palette entry that fails.
const COMMANDS = [
  'damoe.analyzeRouting',
  'damoe.selectModel',
  'damoe.toggleHighlights',
  'damoe.showOutput',
  'damoe.spotCheck',
  'damoe.compareModels',
  'damoe.compareModelsOnDataset',
  'damoe.openRoutingTrace',
  'damoe.setRemoteApiKey',
  'damoe.clearRemoteApiKey',
];

// Mirrors AnalyzeResult in src/extension/routing/analyzer.ts (not imported: that module needs the extension's own vscode).
type AnalyzeResult =
  | { status: 'ok'; analysis: Analysis; uri: string; baseOffset: number; usedCurrentLine: boolean; windowed: boolean }
  | { status: 'cancelled' }
  | { status: 'no-editor' | 'empty' | 'too-long'; message: string }
  | { status: 'error'; code: string; message: string };

/** Mirrors InspectorTestApi (src/extension/extension.ts): read-only observation points exported by activate(). */
interface TestApi {
  panelExists(): boolean;
  panelReady(): boolean;
  cursorToken(): number | null;
  stale(): boolean;
}

async function api(): Promise<TestApi> {
  return (await extension().activate()) as TestApi;
}

async function waitFor(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
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

async function analyze(): Promise<AnalyzeResult> {
  return (await vscode.commands.executeCommand<AnalyzeResult>('damoe.analyzeRouting'))!;
}

async function openDoc(content: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content });
  return vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
}

function select(editor: vscode.TextEditor, needle: string): vscode.Selection {
  const start = editor.document.getText().indexOf(needle);
  assert.ok(start >= 0, `"${needle}" not in the document`);
  const sel = new vscode.Selection(editor.document.positionAt(start), editor.document.positionAt(start + needle.length));
  editor.selection = sel;
  return sel;
}

async function hoverText(doc: vscode.TextDocument, pos: vscode.Position): Promise<string> {
  const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos)) ?? [];
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .filter((t) => t.includes('DA-MoE'))
    .join('\n');
}

function okResult(r: AnalyzeResult): Extract<AnalyzeResult, { status: 'ok' }> {
  assert.equal(r.status, 'ok', `analysis did not succeed: ${JSON.stringify(r).slice(0, 500)}`);
  return r as Extract<AnalyzeResult, { status: 'ok' }>;
}

/** First content token and a document position inside it. */
function firstToken(r: Extract<AnalyzeResult, { status: 'ok' }>, doc: vscode.TextDocument) {
  const t = r.analysis.tokens.find((x) => !x.special && x.start !== null && x.end !== null && x.end > x.start)!;
  return { token: t, pos: doc.positionAt(r.baseOffset + (t.start as number)) };
}

describe('DA-MoE Inspector extension', function () {
  this.timeout(120_000);
  const cfg = () => vscode.workspace.getConfiguration('damoe');

  it('is not active before its first command, and active after it', async function () {
    const ext = extension();
    if (ext.isActive) this.skip(); // another test file already ran a command
    assert.equal(ext.isActive, false);
    await vscode.commands.executeCommand('damoe.showOutput');
    assert.equal(extension().isActive, true);
  });

  it('registers its commands', async () => {
    await extension().activate();
    const all = await vscode.commands.getCommands(true);
    for (const c of COMMANDS) assert.ok(all.includes(c), `${c} not registered`);
  });

  it('contributes its settings with defaults', () => {
    const expect: Record<string, unknown> = {
      modelPath: '',
      executionProvider: 'auto',
      threads: 0,
      maxTokens: 512,
      'highlights.enabled': true,
      'remote.url': '',
      'remote.kind': 'vllm',
      'trace.tokenizer': '',
    };
    for (const [k, v] of Object.entries(expect)) assert.deepEqual(cfg().inspect(k)?.defaultValue, v, `damoe.${k}`);
    const pkg = extension().packageJSON as {
      activationEvents: string[];
      capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
    };
    assert.deepEqual(pkg.activationEvents, [
      'onWebviewPanel:damoe.routing',
      'onWebviewPanel:damoe.spotCheck',
      'onWebviewPanel:damoe.compare',
    ]);
    // Each names a file or server the extension would load or send text to: an untrusted workspace must not set them.
    assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, [
      'damoe.modelPath',
      'damoe.remote.url',
      'damoe.trace.tokenizer',
    ]);
  });

  describe('with a model', () => {
    before(async () => {
      await extension().activate();
      await cfg().update('modelPath', modelDirFor(extension()), vscode.ConfigurationTarget.Global);
      await cfg().update('executionProvider', 'cpu', vscode.ConfigurationTarget.Global);
    });
    after(async () => {
      await cfg().update('modelPath', undefined, vscode.ConfigurationTarget.Global);
      await cfg().update('executionProvider', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('analyses the selection, opens the routing panel, and returns the Analysis', async () => {
      const editor = await openDoc('A film that is\nthe quick brown fox of comedies.\n');
      select(editor, 'quick brown fox');
      const r = okResult(await analyze());
      assert.equal(r.analysis.text, 'quick brown fox');
      assert.equal(r.baseOffset, editor.document.getText().indexOf('quick'));
      assert.equal(r.usedCurrentLine, false);
      assert.ok(r.analysis.layers.length > 0);
      const routingTabs = () =>
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs)
          .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('damoe.routing'));
      // The extension host's tab model is updated from the window asynchronously: a fast analysis can return before
      // the new panel's tab is listed.
      await waitFor('the routing panel tab', () => routingTabs().length > 0, 10_000);
      const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
      assert.equal(routingTabs().length, 1, `routing panel tabs: ${tabs.map((t) => t.label).join(', ')}`);
      // A second analysis reuses the panel.
      okResult(await analyze());
      const again = vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('damoe.routing'));
      assert.equal(again.length, 1);
    });

    it('the routing webview loads under its CSP and completes the ready handshake', async () => {
      const editor = await openDoc('a warm and witty story\n');
      select(editor, 'warm and witty');
      okResult(await analyze());
      const t = await api();
      assert.ok(t.panelExists());
      await waitFor('the routing panel to post ready (see DA-MoE output for rendering errors)', () => t.panelReady());
    });

    it('moving the editor cursor sends the token under it to the panel', async () => {
      const editor = await openDoc('prefix: the quick brown fox\n');
      select(editor, 'the quick brown fox');
      const r = okResult(await analyze());
      const t = await api();
      const tokens = r.analysis.tokens.filter((x) => !x.special && x.start !== null);
      const target = tokens[Math.min(2, tokens.length - 1)];
      const pos = editor.document.positionAt(r.baseOffset + (target.start as number));
      editor.selection = new vscode.Selection(pos, pos);
      await waitFor(`cursor token ${target.index}`, () => t.cursorToken() === target.index, 5000);
      editor.selection = new vscode.Selection(0, 1, 0, 1); // outside the analysed text
      await waitFor('cursor token null', () => t.cursorToken() === null, 5000);
    });

    it('hover over an analysed token shows its routing; an edit before it makes the hover say it is stale', async () => {
      const editor = await openDoc('intro line\nthe quick brown fox\n');
      select(editor, 'the quick brown fox');
      const r = okResult(await analyze());
      const { token, pos } = firstToken(r, editor.document);
      const md = await hoverText(editor.document, pos);
      assert.ok(md.includes(`\`${token.text}\``), `hover lacks the token ${token.text}: ${md}`);
      assert.match(md, /\| layer \| importance \| K \| top experts \(gate\) \|/);
      assert.equal(md.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length, r.analysis.layers.length);
      // Outside the analysed text: no DA-MoE hover.
      assert.equal(await hoverText(editor.document, new vscode.Position(0, 2)), '');

      // An edit after the analysed text keeps it live.
      const end = editor.document.lineAt(1).range.end;
      assert.ok(await editor.edit((b) => b.insert(end, ' tail')));
      assert.ok((await hoverText(editor.document, pos)).includes('| layer |'));

      // An edit before it moves the text: the hover must not lie.
      assert.ok(await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'x')));
      const stale = await hoverText(editor.document, pos.translate(0, 0));
      assert.match(stale, /text changed since analysis — re-run \*\*Analyze Routing\*\*/);
    });

    it('with no selection analyses the current line; whitespace gives a clear message', async () => {
      const editor = await openDoc('   \nwhat a lovely day\n');
      editor.selection = new vscode.Selection(1, 3, 1, 3);
      const r = okResult(await analyze());
      assert.equal(r.usedCurrentLine, true);
      assert.equal(r.analysis.text, 'what a lovely day');
      editor.selection = new vscode.Selection(0, 1, 0, 1);
      const empty = await analyze();
      assert.equal(empty.status, 'empty');
    });

    it('a new request cancels the one still running: the first resolves as cancelled, the second succeeds', async () => {
      const editor = await openDoc('this movie was surprisingly good, honestly one of the best this year\n');
      select(editor, 'this movie was surprisingly good');
      okResult(await analyze()); // engine loaded, so both requests below race on inference only
      const p1 = vscode.commands.executeCommand<AnalyzeResult>('damoe.analyzeRouting');
      const p2 = vscode.commands.executeCommand<AnalyzeResult>('damoe.analyzeRouting');
      const [r1, r2] = await Promise.all([p1, p2]);
      assert.equal(r1?.status, 'cancelled');
      okResult(r2!);
    });

    it('a broken model is reported, and picking a good one afterwards works', async () => {
      const ext = extension();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-bad-'));
      const fixtures = path.join(ext.extensionPath, 'test', 'fixtures', 'models');
      fs.copyFileSync(path.join(fixtures, 'contract', 'missing-output.onnx'), path.join(dir, 'model.onnx'));
      fs.copyFileSync(path.join(fixtures, 'tiny-damoe', 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
      const editor = await openDoc('good fun\n');
      select(editor, 'good fun');
      try {
        await cfg().update('modelPath', dir, vscode.ConfigurationTarget.Global);
        const bad = await analyze();
        assert.equal(bad.status, 'error');
        assert.equal((bad as { code: string }).code, 'contract-violation');
        await cfg().update('modelPath', '/nonexistent/model-dir', vscode.ConfigurationTarget.Global);
        const missing = await analyze();
        assert.equal((missing as { code?: string }).code, 'model-not-found');
        await cfg().update('modelPath', modelDirFor(ext), vscode.ConfigurationTarget.Global);
        okResult(await analyze());
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('text longer than maxTokens is windowed, and the result says so', async () => {
      const editor = await openDoc(`${'a genuinely moving and funny film '.repeat(12)}\n`);
      editor.selection = new vscode.Selection(0, 0, 0, editor.document.lineAt(0).text.length);
      await cfg().update('maxTokens', 16, vscode.ConfigurationTarget.Global);
      try {
        const r = okResult(await analyze());
        assert.equal(r.windowed, true);
        assert.ok(r.analysis.windowing && r.analysis.windowing.windows > 1);
        // Token offsets still map into the document across windows.
        const last = [...r.analysis.tokens].reverse().find((t) => !t.special && t.end !== null)!;
        const docText = editor.document.getText();
        assert.equal(
          docText.slice(r.baseOffset + (last.start as number), r.baseOffset + (last.end as number)).toLowerCase(),
          last.text.replace(/^##/, ''),
        );
      } finally {
        await cfg().update('maxTokens', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    it('in Restricted Mode, a workspace damoe.modelPath is ignored (only run untrusted)', async function () {
      if (vscode.workspace.isTrusted || !vscode.workspace.workspaceFolders?.length) this.skip();
      const good = modelDirFor(extension());
      // Written to disk like a cloned repository would ship it (VS Code hides restricted values from the API).
      const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
      const settingsFile = path.join(folder, '.vscode', 'settings.json');
      fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
      // Wait for the configuration service to pick the file up (its watcher can take seconds on a loaded machine):
      // a change of damoe.modelPath arriving during the analysis below would cancel it (the engine is reloaded).
      const seen = new Promise<boolean>((resolve) => {
        const sub = vscode.workspace.onDidChangeConfiguration((e) => {
          if (e.affectsConfiguration('damoe.modelPath')) {
            sub.dispose();
            resolve(true);
          }
        });
        setTimeout(() => {
          sub.dispose();
          resolve(false);
        }, 15_000);
      });
      fs.writeFileSync(settingsFile, JSON.stringify({ 'damoe.modelPath': '/workspace/chosen/model' }));
      try {
        await seen;
        await new Promise((r) => setTimeout(r, 300));
        const editor = await openDoc('restricted but fine\n');
        select(editor, 'restricted but fine');
        const r = okResult(await analyze());
        assert.notEqual(r.analysis.model.path, '/workspace/chosen/model');
        if (good) assert.equal(r.analysis.model.path, good);
        else assert.equal(path.basename(r.analysis.model.path), 'damoe-sst2');
      } finally {
        fs.rmSync(settingsFile, { force: true });
      }
    });

    it('toggles importance highlights through the setting', async () => {
      const before = cfg().get<boolean>('highlights.enabled');
      const first = await vscode.commands.executeCommand<boolean>('damoe.toggleHighlights');
      assert.equal(first, !before);
      assert.equal(cfg().get<boolean>('highlights.enabled'), first);
      const second = await vscode.commands.executeCommand<boolean>('damoe.toggleHighlights');
      assert.equal(second, before);
      await cfg().update('highlights.enabled', undefined, vscode.ConfigurationTarget.Global);
    });
  });
});
