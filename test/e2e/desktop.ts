/**
 * Runs the extension-host mocha suite (test/e2e/host/*.exthost.ts via host/runner.ts) in desktop VS Code with
 * @vscode/test-electron. Needs to download VS Code (or E2E_VSCODE_EXECUTABLE pointing at an installed `code`
 * binary's Electron executable), so it does not work on the offline build machines; there use
 * harness.runExtensionHostTests (code-server) instead.
 *
 *   npm run build && node out/test/e2e/desktop.js [workspaceFolder]   (the extension's dist/ must exist)
 *
 * Env: E2E_VSCODE_VERSION (default 'stable'), E2E_VSCODE_EXECUTABLE, E2E_RESULT_FILE, E2E_GREP, E2E_TEST_FILES,
 *      E2E_EXTENSION_PATH (default: repo root).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'test', 'e2e', 'tools.sh'))) {
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..', '..', '..');
    dir = up;
  }
  return dir;
}

export async function runDesktopTests(workspace?: string): Promise<number> {
  const root = repoRoot();
  const extensionDevelopmentPath = process.env.E2E_EXTENSION_PATH ?? root;
  const extensionTestsPath = path.join(root, 'out', 'test', 'e2e', 'host', 'runner');
  if (!fs.existsSync(`${extensionTestsPath}.js`)) {
    console.error(`missing ${extensionTestsPath}.js: compile first (npx tsc -p .)`);
    return 2;
  }
  const ws = workspace ?? fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-desktop-ws-'));
  const resultFile = process.env.E2E_RESULT_FILE ?? path.join(root, 'test-results', 'e2e', 'desktop-host-result.json');
  fs.mkdirSync(path.dirname(resultFile), { recursive: true });
  fs.rmSync(resultFile, { force: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-desktop-ud-'));
  const extensionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-desktop-ext-'));

  const env: Record<string, string | undefined> = { E2E_RESULT_FILE: resultFile };
  for (const k of ['E2E_GREP', 'E2E_TEST_FILES', 'E2E_TEST_TIMEOUT_MS']) if (process.env[k]) env[k] = process.env[k];

  let code: number;
  try {
    code = await runTests({
      version: process.env.E2E_VSCODE_VERSION ?? 'stable',
      vscodeExecutablePath: process.env.E2E_VSCODE_EXECUTABLE || undefined,
      cachePath: path.join(root, '.cache', 'vscode-test'), // git-ignored; default would be ./.vscode-test
      extensionDevelopmentPath,
      extensionTestsPath,
      extensionTestsEnv: env,
      launchArgs: [
        ws,
        '--user-data-dir',
        userDataDir,
        '--extensions-dir',
        extensionsDir,
        '--disable-workspace-trust',
        '--disable-telemetry',
        '--disable-updates',
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-gpu',
        '--no-sandbox',
      ],
    });
  } catch (e) {
    const msg = String((e as Error)?.message ?? e);
    const download =
      /download|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo|fetch failed|socket|certificate|403|404|Failed to get JSON/i.test(
        msg,
      );
    console.error(
      download
        ? `\n[e2e-desktop] Could not download VS Code (${msg.split('\n')[0]}).\n` +
            `  This machine probably has no access to update.code.visualstudio.com. Either run on a machine with\n` +
            `  internet access, set E2E_VSCODE_EXECUTABLE to an installed VS Code Electron binary, or use the\n` +
            `  code-server harness (harness.runExtensionHostTests), which runs the same suite offline.\n`
        : `\n[e2e-desktop] VS Code test run failed: ${msg}\n`,
    );
    return download ? 3 : 1;
  } finally {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    fs.rmSync(extensionsDir, { recursive: true, force: true });
    if (!workspace) fs.rmSync(ws, { recursive: true, force: true });
  }
  if (fs.existsSync(resultFile)) {
    const r = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as { failures: number; passes: number };
    console.log(`[e2e-desktop] ${r.passes} passed, ${r.failures} failed (exit code ${code})`);
    return r.failures > 0 ? 1 : code;
  }
  console.error(`[e2e-desktop] no result file ${resultFile} (exit code ${code})`);
  return code || 1;
}

if (require.main === module) {
  runDesktopTests(process.argv[2]).then(
    (c) => process.exit(c),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
