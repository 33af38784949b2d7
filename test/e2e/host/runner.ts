/**
 * Mocha entry point for the extension host (`extensionTestsPath`), used both by code-server (dev payload, see
 * harness.runExtensionHostTests) and by desktop VS Code (@vscode/test-electron, see ../desktop.ts).
 *
 * Loads every `*.exthost.js` next to this file (compiled from test/e2e/host/*.exthost.ts), runs them, and writes
 * {failures, passes, pending, tests[], output[]} as JSON to:
 *   1. $E2E_RESULT_FILE, if set (env vars of code-server / of the test-electron launch reach the extension host);
 *   2. otherwise <first workspace folder>/.e2e-result.json, otherwise <os.tmpdir()>/damoe-e2e-result.json.
 * Env: E2E_GREP (mocha grep), E2E_TEST_TIMEOUT_MS (default 60000), E2E_TEST_FILES (comma-separated basenames),
 *      E2E_TESTS_DIRS (colon-separated folders to load *.exthost.js from; default: this file's folder).
 * run() rejects when a test fails, so desktop VS Code exits non-zero; code-server's host exits 0 regardless,
 * which is why the result file exists.
 *
 * Why not `*.test.js`: scripts/test.sh runs `node --test` over every *.test.js under out/test/e2e, and these files
 * need the `vscode` module, which exists only inside the extension host.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as util from 'util';
import Mocha = require('mocha');

/** Extension-host test files end with this (compiled from *.exthost.ts). */
export const SUFFIX = '.exthost.js';

function resultFilePath(): string {
  if (process.env.E2E_RESULT_FILE) return process.env.E2E_RESULT_FILE;
  try {
    const vscode = require('vscode') as typeof import('vscode');
    const ws = vscode.workspace.workspaceFolders?.[0];
    if (ws && ws.uri.scheme === 'file') return path.join(ws.uri.fsPath, '.e2e-result.json');
  } catch {
    /* not in an extension host */
  }
  return path.join(os.tmpdir(), 'damoe-e2e-result.json');
}

interface TestRecord {
  title: string;
  state: string;
  error?: string;
  durationMs?: number;
}

function writeResult(file: string, result: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(result, null, 2));
  fs.renameSync(tmp, file); // atomic: the harness never reads a half-written file
}

export async function run(): Promise<void> {
  const resultFile = resultFilePath();
  const tests: TestRecord[] = [];
  const output: string[] = [];
  // Mocha's reporters print through Base.consoleLog with printf-style arguments; in code-server's test mode the
  // extension host forwards console output to the browser console unformatted. Format each line here, keep it for
  // the result file, and prefix it with "[mocha] " so the harness can pick it out of the browser console.
  const Base = Mocha.reporters.Base as unknown as { consoleLog: (...a: unknown[]) => void };
  const origLog = Base.consoleLog;
  Base.consoleLog = (...a: unknown[]) => {
    const text = util.format(...a);
    output.push(text);
    for (const line of text.split('\n')) console.log(`[mocha] ${line}`);
  };
  try {
    const mocha = new Mocha({
      ui: 'bdd',
      color: false,
      reporter: 'spec',
      timeout: Number(process.env.E2E_TEST_TIMEOUT_MS ?? 60_000),
      grep: process.env.E2E_GREP || undefined,
    });
    const only = (process.env.E2E_TEST_FILES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const dirs = (process.env.E2E_TESTS_DIRS || __dirname).split(':').filter(Boolean);
    const files: string[] = [];
    for (const dir of dirs) {
      const found = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(SUFFIX))
        .filter((f) => only.length === 0 || only.some((o) => f === o || f === `${o}.js` || f === `${o}${SUFFIX}`))
        .sort();
      for (const f of found) files.push(path.join(dir, f));
    }
    for (const f of files) mocha.addFile(f);
    console.log(`[e2e-runner] ${files.length} test file(s) from ${dirs.join(', ')}; result -> ${resultFile}`);

    const failures = await new Promise<number>((resolve) => {
      const runner = mocha.run((n) => resolve(n));
      runner.on('pass', (t) => tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration }));
      runner.on('fail', (t, err: Error) =>
        tests.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack ?? err), durationMs: t.duration }),
      );
      runner.on('pending', (t) => tests.push({ title: t.fullTitle(), state: 'pending' }));
    });
    const passes = tests.filter((t) => t.state === 'passed').length;
    const pending = tests.filter((t) => t.state === 'pending').length;
    writeResult(resultFile, { failures, passes, pending, tests, output });
    console.log(`[e2e-runner] done: ${passes} passing, ${failures} failing, ${pending} pending`);
    if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
  } catch (e) {
    if (!fs.existsSync(resultFile)) {
      writeResult(resultFile, {
        failures: Math.max(1, tests.filter((t) => t.state === 'failed').length),
        passes: tests.filter((t) => t.state === 'passed').length,
        tests,
        output,
        error: String((e as Error)?.stack ?? e),
      });
    }
    throw e;
  } finally {
    Base.consoleLog = origLog;
  }
}
