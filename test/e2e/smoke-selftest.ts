/**
 * Self-test of the e2e harness, against a throwaway extension that it generates in a temp folder (a command that
 * opens a webview, and a hover provider for plain text), packaged as a VSIX and installed like a user would.
 *
 *   bash test/e2e/tools.sh && npx tsc -p test/e2e && node out/test/e2e/smoke-selftest.js
 *
 * Checks: code-server starts, the workbench renders, a palette command opens the webview and its text is found in
 * the webview iframe, a notification appears, a hover shows the provider's text, selection works, light and dark
 * screenshots are saved under test-results/e2e/, a trivial extension-host mocha suite passes through the dev
 * payload, and everything is stopped. Exits non-zero on any failure.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import {
  editorText,
  hoverEditorText,
  launchBrowser,
  notifications,
  openFile,
  openWorkbench,
  repoRoot,
  runCommand,
  runExtensionHostTests,
  screenshot,
  selectText,
  setTheme,
  startCodeServer,
  stopAll,
  waitForNotification,
  webviewFrame,
} from './harness';

const DUMMY_PKG = {
  name: 'e2e-dummy',
  displayName: 'E2E Dummy',
  description: 'Throwaway extension for the e2e harness self-test',
  version: '0.0.1',
  publisher: 'e2etest',
  license: 'MIT',
  engines: { vscode: '^1.90.0' },
  main: './extension.js',
  activationEvents: ['onLanguage:plaintext'],
  contributes: { commands: [{ command: 'e2eDummy.openPanel', title: 'E2E Dummy: Open Panel' }] },
};

const DUMMY_JS = `const vscode = require('vscode');
exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('e2eDummy.openPanel', () => {
    const panel = vscode.window.createWebviewPanel('e2eDummy', 'Dummy Panel', vscode.ViewColumn.Beside, { enableScripts: true });
    panel.webview.html = \`<!DOCTYPE html><html><head><meta charset="utf-8">
<style>body{font-family:var(--vscode-font-family);color:var(--vscode-foreground);background:var(--vscode-editor-background)}
.box{border:2px solid var(--vscode-focusBorder);padding:12px;margin:12px}</style></head>
<body><h1 id="title">Hello from the dummy webview</h1>
<div class="box" id="env">E2E_MARKER=\${process.env.E2E_MARKER ?? '(unset)'}</div>
<button id="btn" onclick="document.getElementById('out').textContent='clicked!'">Click me</button><p id="out"></p>
</body></html>\`;
    vscode.window.showInformationMessage('Dummy panel opened');
  }));
  context.subscriptions.push(vscode.languages.registerHoverProvider('plaintext', {
    provideHover(doc, pos) {
      const range = doc.getWordRangeAtPosition(pos);
      if (!range) return;
      return new vscode.Hover(new vscode.MarkdownString('**Dummy hover** for \`' + doc.getText(range) + '\`'), range);
    }
  }));
};
exports.deactivate = () => {};
`;

const HOST_TEST_JS = `const assert = require('assert');
const vscode = require('vscode');
describe('dummy extension (extension host)', () => {
  it('is loaded from the development path and activates', async () => {
    const ext = vscode.extensions.getExtension('e2etest.e2e-dummy');
    assert.ok(ext, 'extension not found');
    await ext.activate();
    assert.ok((await vscode.commands.getCommands(true)).includes('e2eDummy.openPanel'));
  });
  it('sees env vars set on code-server', () => {
    assert.strictEqual(process.env.E2E_MARKER, 'from-code-server-env');
  });
});
`;

// --- a minimal ZIP writer (deflate), enough for a VSIX ---------------------------------------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
// @types/node 20.9 + TypeScript 5.9: Buffer is not assignable to Uint8Array in some signatures; view it as one.
const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function writeZip(file: string, entries: Record<string, string | Buffer>): void {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const data = u8(Buffer.isBuffer(content) ? content : Buffer.from(content));
    const comp = u8(zlib.deflateRawSync(data));
    const nameBuf = u8(Buffer.from(name));
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(0, 10); // time/date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(comp.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(comp.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(u8(local), nameBuf, comp);
    centrals.push(u8(central), nameBuf);
    offset += local.length + nameBuf.length + comp.length;
  }
  const cd = u8(Buffer.concat(centrals));
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  fs.writeFileSync(file, u8(Buffer.concat([...locals, cd, u8(end)])));
}

function makeDummyExtension(dir: string): { extDir: string; vsix: string; testsDir: string } {
  const extDir = path.join(dir, 'e2e-dummy');
  fs.mkdirSync(extDir, { recursive: true });
  const pkg = JSON.stringify(DUMMY_PKG, null, 2);
  fs.writeFileSync(path.join(extDir, 'package.json'), pkg);
  fs.writeFileSync(path.join(extDir, 'extension.js'), DUMMY_JS);
  const manifest = `<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011">
  <Metadata>
    <Identity Language="en-US" Id="${DUMMY_PKG.name}" Version="${DUMMY_PKG.version}" Publisher="${DUMMY_PKG.publisher}" />
    <DisplayName>${DUMMY_PKG.displayName}</DisplayName>
    <Description xml:space="preserve">${DUMMY_PKG.description}</Description>
    <Properties>
      <Property Id="Microsoft.VisualStudio.Code.Engine" Value="${DUMMY_PKG.engines.vscode}" />
      <Property Id="Microsoft.VisualStudio.Code.ExtensionKind" Value="workspace" />
    </Properties>
  </Metadata>
  <Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation>
  <Dependencies/>
  <Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true" /></Assets>
</PackageManifest>`;
  const contentTypes =
    '<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension=".js" ContentType="application/javascript"/><Default Extension=".json" ContentType="application/json"/>' +
    '<Default Extension=".vsixmanifest" ContentType="text/xml"/></Types>';
  const vsix = path.join(dir, 'e2e-dummy-0.0.1.vsix');
  writeZip(vsix, {
    'extension.vsixmanifest': manifest,
    '[Content_Types].xml': contentTypes,
    'extension/package.json': pkg,
    'extension/extension.js': DUMMY_JS,
  });
  // Extension-host tests: the project's runner loads out/test/e2e/host/*.exthost.js plus this folder (E2E_TESTS_DIRS).
  const testsDir = path.join(dir, 'host-tests');
  fs.mkdirSync(testsDir, { recursive: true });
  fs.writeFileSync(path.join(testsDir, 'dummy.exthost.js'), HOST_TEST_JS);
  return { extDir, vsix, testsDir };
}

async function main(): Promise<void> {
  const timings: Record<string, number> = {};
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-selftest-'));
  const { extDir, vsix, testsDir } = makeDummyExtension(tmp);
  const ws = path.join(tmp, 'workspace');
  fs.mkdirSync(path.join(ws, 'docs'), { recursive: true });
  fs.writeFileSync(
    path.join(ws, 'docs', 'sample.txt'),
    'First line of the sample.\nThe quick brown fox jumps over the lazy dog.\nThird line mentions routing experts.\n',
  );

  let t = Date.now();
  const cs = await startCodeServer({
    extensionVsix: vsix,
    workspace: ws,
    trusted: true,
    theme: 'Light Modern',
    env: { E2E_MARKER: 'from-code-server-env' },
  });
  timings.codeServerStartMs = Date.now() - t;
  const b = await launchBrowser();
  try {
    const { page } = b;
    timings.workbenchReadyMs = await openWorkbench(page, cs.url, ws);

    // Open a file and select text.
    await openFile(page, 'docs/sample.txt');
    assert.match(await editorText(page), /quick brown fox/);
    const selLine = await selectText(page, { line: 2 });
    assert.match(selLine, /\(44 selected\)/, `line selection: ${selLine}`);
    const selText = await selectText(page, { text: 'routing experts' });
    assert.match(selText, /\(15 selected\)/, `text selection: ${selText}`);

    // Hover provider.
    const hover = await hoverEditorText(page, 'brown');
    assert.match(hover, /Dummy hover/, `hover text: ${hover}`);
    assert.match(hover, /brown/);
    await screenshot(page, 'selftest-hover-light');
    await page.keyboard.press('Escape');

    // Palette command -> webview + notification.
    t = Date.now();
    await runCommand(page, 'E2E Dummy: Open Panel');
    const frame = webviewFrame(page);
    await frame.locator('#title').waitFor({ state: 'visible', timeout: 20_000 });
    assert.strictEqual(await frame.locator('#title').innerText(), 'Hello from the dummy webview');
    assert.match(await frame.locator('#env').innerText(), /E2E_MARKER=from-code-server-env/);
    await frame.locator('#btn').click();
    await frame.locator('#out', { hasText: 'clicked!' }).waitFor({ timeout: 5000 });
    timings.commandToWebviewMs = Date.now() - t;
    await waitForNotification(page, 'Dummy panel opened');
    const notes = await notifications(page);
    assert.ok(
      notes.some((n) => n.message === 'Dummy panel opened' && n.severity === 'info'),
      JSON.stringify(notes),
    );
    await screenshot(page, 'selftest-webview-light');

    t = Date.now();
    await setTheme(page, 'Dark Modern');
    timings.setThemeMs = Date.now() - t;
    await frame.locator('#title').waitFor({ state: 'visible' });
    await screenshot(page, 'selftest-webview-dark');
    await setTheme(page, 'Dark High Contrast');
    await screenshot(page, 'selftest-webview-hc');

    const errs = b.collector.unexpectedErrors();
    if (errs.length) console.log(`[selftest] console errors (not fatal):\n  ${errs.join('\n  ')}`);
    if (b.collector.dialogs.length) console.log('[selftest] dialogs:', b.collector.dialogs);
  } catch (e) {
    await screenshot(b.page, 'selftest-failure').catch(() => {});
    console.log(`[selftest] code-server log: ${cs.logFile}`);
    throw e;
  } finally {
    await b.close();
    await cs.stop();
  }
  // The process group must be gone.
  assert.throws(() => process.kill(-cs.pgid, 0), 'code-server process group still alive after stop()');

  // Extension-host mocha suite through the dev payload.
  const hostOut = path.join(repoRoot(), 'out', 'test', 'e2e', 'host');
  t = Date.now();
  const result = await runExtensionHostTests({
    extensionDevelopmentPath: extDir,
    extensionTestsPath: path.join(hostOut, 'runner'),
    resultFile: path.join(tmp, 'host-result.json'),
    workspace: ws,
    env: { E2E_MARKER: 'from-code-server-env', E2E_TESTS_DIRS: `${hostOut}:${testsDir}` },
  });
  timings.hostTestsMs = Date.now() - t;
  assert.strictEqual(result.failures, 0, JSON.stringify(result, null, 2));
  assert.ok(result.passes >= 5, `expected >= 5 passes, got ${result.passes}`);

  fs.rmSync(tmp, { recursive: true, force: true });
  console.log('[selftest] OK', JSON.stringify(timings));
}

main().then(
  () => process.exit(0),
  async (e) => {
    console.error('[selftest] FAILED:', e);
    await stopAll();
    process.exit(1);
  },
);
