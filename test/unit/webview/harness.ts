/**
 * Headless-Chromium harness for the routing webview: builds the real bundle (scripts/bundle.mjs), serves the real
 * HTML from `routingPanelHtml` (with its CSP) on a fake https origin through request interception, and injects a
 * stub `acquireVsCodeApi` that records posted messages and keeps setState/getState like VS Code does.
 *
 * Uses playwright-core with Debian's /usr/bin/chromium (override with DAMOE_CHROMIUM); tests skip when it is missing.
 */
import * as child_process from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { routingPanelHtml } from '../../../src/extension/panels/html';
import type { HostMessage, PanelState } from '../../../src/shared/protocol/routing';
import type { SpotCheckHostMessage, SpotCheckPanelState } from '../../../src/shared/protocol/spotcheck';
import type { CompareHostMessage, ComparePanelState } from '../../../src/shared/protocol/compare';

export const CHROMIUM = process.env.DAMOE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const ORIGIN = 'https://webview.test';

/** Why the browser tests cannot run here, or null when they can. */
export function skipReason(): string | null {
  if (!fs.existsSync(CHROMIUM)) {
    return `${CHROMIUM} is missing: install it with "apt-get install -y --no-install-recommends chromium fonts-liberation" (or set DAMOE_CHROMIUM)`;
  }
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install --save-dev playwright-core@1.65.1)';
  }
  return null;
}

export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'damoe-inspector') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repo root (package.json of damoe-inspector) not found above ' + __dirname);
    dir = up;
  }
}

/** Builds dist/webview/ with the project's bundle script (development mode, like F5). */
export function buildWebview(): void {
  const root = repoRoot();
  const r = child_process.spawnSync(process.execPath, ['scripts/bundle.mjs', '--only=webview'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bundle failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

export function resultsDir(): string {
  const dir = path.join(repoRoot(), 'test-results', 'webview');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  // launch() always starts from a fresh temporary user-data dir.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 120_000 });
}

// ---- themes (plausible values of VS Code's Default Dark Modern / Light Modern / Dark High Contrast) -------------

export type ThemeName = 'dark' | 'light' | 'hc';

const common = {
  '--vscode-font-family': "'Liberation Sans', system-ui, sans-serif",
  '--vscode-font-size': '13px',
  '--vscode-font-weight': 'normal',
  '--vscode-editor-font-family': "'Liberation Mono', monospace",
  '--vscode-editor-font-size': '13px',
};

export const THEMES: Record<ThemeName, { bodyClass: string; kind: string; vars: Record<string, string> }> = {
  dark: {
    bodyClass: 'vscode-dark',
    kind: 'vscode-dark',
    vars: {
      ...common,
      '--vscode-foreground': '#cccccc',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-sideBar-background': '#181818',
      '--vscode-panel-border': '#2b2b2b',
      '--vscode-widget-border': '#313131',
      '--vscode-focusBorder': '#0078d4',
      '--vscode-list-hoverBackground': '#2a2d2e',
      '--vscode-editor-selectionBackground': '#264f78',
      '--vscode-charts-foreground': '#cccccc',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-green': '#89d185',
      '--vscode-button-background': '#0078d4',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-border': 'rgba(255, 255, 255, 0.07)',
      '--vscode-button-hoverBackground': '#026ec1',
      '--vscode-button-secondaryBackground': '#313131',
      '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-button-secondaryHoverBackground': '#3c3c3c',
      '--vscode-badge-background': '#616161',
      '--vscode-badge-foreground': '#f8f8f8',
      '--vscode-settings-dropdownBackground': '#313131',
      '--vscode-settings-dropdownBorder': '#3c3c3c',
      '--vscode-settings-dropdownForeground': '#cccccc',
      '--vscode-settings-dropdownListBorder': '#454545',
      '--vscode-settings-checkboxBackground': '#313131',
      '--vscode-settings-checkboxBorder': '#3c3c3c',
      '--vscode-settings-checkboxForeground': '#cccccc',
      '--vscode-list-activeSelectionBackground': '#04395e',
      '--vscode-list-activeSelectionForeground': '#ffffff',
      '--vscode-editorHoverWidget-background': '#202020',
      '--vscode-editorHoverWidget-foreground': '#cccccc',
      '--vscode-editorHoverWidget-border': '#454545',
      '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.36)',
      '--vscode-editorWarning-foreground': '#cca700',
      '--vscode-inputValidation-warningBackground': '#352a05',
      '--vscode-errorForeground': '#f85149',
      '--vscode-inputValidation-errorBackground': '#5a1d1d',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    kind: 'vscode-light',
    vars: {
      ...common,
      '--vscode-foreground': '#3b3b3b',
      '--vscode-descriptionForeground': '#616161',
      '--vscode-editor-background': '#ffffff',
      '--vscode-sideBar-background': '#f8f8f8',
      '--vscode-panel-border': '#e5e5e5',
      '--vscode-widget-border': '#e5e5e5',
      '--vscode-focusBorder': '#005fb8',
      '--vscode-list-hoverBackground': '#f2f2f2',
      '--vscode-editor-selectionBackground': '#add6ff',
      '--vscode-charts-foreground': '#616161',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-purple': '#652d90',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-green': '#388a34',
      '--vscode-button-background': '#005fb8',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-border': 'rgba(0, 0, 0, 0.1)',
      '--vscode-button-hoverBackground': '#0258a8',
      '--vscode-button-secondaryBackground': '#e5e5e5',
      '--vscode-button-secondaryForeground': '#3b3b3b',
      '--vscode-button-secondaryHoverBackground': '#cccccc',
      '--vscode-badge-background': '#cccccc',
      '--vscode-badge-foreground': '#3b3b3b',
      '--vscode-settings-dropdownBackground': '#ffffff',
      '--vscode-settings-dropdownBorder': '#cecece',
      '--vscode-settings-dropdownForeground': '#3b3b3b',
      '--vscode-settings-dropdownListBorder': '#c8c8c8',
      '--vscode-settings-checkboxBackground': '#f8f8f8',
      '--vscode-settings-checkboxBorder': '#cecece',
      '--vscode-settings-checkboxForeground': '#3b3b3b',
      '--vscode-list-activeSelectionBackground': '#e8e8e8',
      '--vscode-list-activeSelectionForeground': '#000000',
      '--vscode-editorHoverWidget-background': '#f8f8f8',
      '--vscode-editorHoverWidget-foreground': '#3b3b3b',
      '--vscode-editorHoverWidget-border': '#c8c8c8',
      '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.16)',
      '--vscode-editorWarning-foreground': '#bf8803',
      '--vscode-inputValidation-warningBackground': '#f6f5d2',
      '--vscode-errorForeground': '#a1260d',
      '--vscode-inputValidation-errorBackground': '#f2dede',
    },
  },
  hc: {
    bodyClass: 'vscode-high-contrast',
    kind: 'vscode-high-contrast',
    vars: {
      ...common,
      '--vscode-foreground': '#ffffff',
      '--vscode-descriptionForeground': 'rgba(255, 255, 255, 0.7)',
      '--vscode-editor-background': '#000000',
      '--vscode-sideBar-background': '#000000',
      '--vscode-contrastBorder': '#6fc3df',
      '--vscode-contrastActiveBorder': '#f38518',
      '--vscode-panel-border': '#6fc3df',
      '--vscode-focusBorder': '#f38518',
      '--vscode-editor-selectionBackground': '#ffffff',
      '--vscode-charts-foreground': '#ffffff',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-green': '#89d185',
      '--vscode-button-background': '#000000',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-border': '#6fc3df',
      '--vscode-button-secondaryBackground': '#000000',
      '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-badge-background': '#000000',
      '--vscode-badge-foreground': '#ffffff',
      '--vscode-settings-dropdownBackground': '#000000',
      '--vscode-settings-dropdownBorder': '#6fc3df',
      '--vscode-settings-dropdownForeground': '#ffffff',
      '--vscode-settings-dropdownListBorder': '#6fc3df',
      '--vscode-settings-checkboxBackground': '#000000',
      '--vscode-settings-checkboxBorder': '#6fc3df',
      '--vscode-settings-checkboxForeground': '#ffffff',
      '--vscode-editorHoverWidget-background': '#0c141f',
      '--vscode-editorHoverWidget-foreground': '#ffffff',
      '--vscode-editorHoverWidget-border': '#6fc3df',
      '--vscode-editorWarning-foreground': '#ffd370',
      '--vscode-errorForeground': '#f48771',
    },
  },
};

/** Applies a theme the way VS Code does: variables on <html style>, the kind as a class on <body>. */
export async function applyTheme(page: Page, theme: ThemeName): Promise<void> {
  const t = THEMES[theme];
  await page.evaluate((t) => {
    const html = document.documentElement;
    html.removeAttribute('style');
    for (const [k, v] of Object.entries(t.vars)) html.style.setProperty(k, v);
    document.body.className = t.bodyClass;
    document.body.dataset.vscodeThemeKind = t.kind;
  }, t);
  // Let the MutationObserver fire and the canvases redraw.
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

// ---- the panel page ---------------------------------------------------------------------------------------------

export interface Recorded {
  posted: unknown[];
  setStateCount: number;
  csp: string[];
  dialogs: string[];
  pageErrors: string[];
  consoleErrors: string[];
}

export interface PanelPage {
  context: BrowserContext;
  page: Page;
  /** Dialogs (alert/confirm) and page errors seen so far, and CSP violations. */
  rec: Recorded;
  posted(): Promise<Array<{ kind: string; method: string; id?: number; params: Record<string, unknown> }>>;
  state(): Promise<PanelState | undefined>;
  send(message: HostMessage | SpotCheckHostMessage | CompareHostMessage): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  state?: PanelState | SpotCheckPanelState | ComparePanelState;
  /** Which webview bundle to serve (default the routing panel). */
  bundle?: 'routing' | 'spotcheck' | 'compare';
  theme?: ThemeName;
  width?: number;
  height?: number;
  deviceScaleFactor?: number;
}

function stubScript(init: { state: unknown }): void {
  const w = window as unknown as Record<string, unknown>;
  const posted: unknown[] = [];
  let state = init.state === null ? undefined : init.state;
  let acquired = false;
  w.__posted = posted;
  w.__setStateCount = 0;
  w.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    (w.__csp as string[]).push(`${e.violatedDirective} blocked=${e.blockedURI} sample=${e.sample}`);
  });
  w.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return Object.freeze({
      postMessage: (m: unknown) => posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => state,
      setState: (s: unknown) => {
        state = JSON.parse(JSON.stringify(s));
        w.__setStateCount = (w.__setStateCount as number) + 1;
        return s;
      },
    });
  };
  w.__getState = () => state;
}

export async function openPanel(browser: Browser, opts: OpenOptions = {}): Promise<PanelPage> {
  const root = repoRoot();
  const nonce = crypto.randomBytes(16).toString('base64');
  const html = routingPanelHtml({
    cspSource: ORIGIN,
    nonce,
    scriptUri: `${ORIGIN}/dist/webview/${opts.bundle ?? 'routing'}.js`,
    styleUri: `${ORIGIN}/dist/webview/${opts.bundle ?? 'routing'}.css`,
  });
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1100, height: opts.height ?? 900 },
    deviceScaleFactor: opts.deviceScaleFactor ?? 1,
  });
  const rec: Recorded = { posted: [], setStateCount: 0, csp: [], dialogs: [], pageErrors: [], consoleErrors: [] };
  await context.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/' || url.pathname === '/index.html') {
      await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      return;
    }
    const file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(path.join(root, 'dist') + path.sep) || !fs.existsSync(file)) {
      await route.fulfill({ status: 404, body: 'not found' });
      return;
    }
    const type = file.endsWith('.js')
      ? 'text/javascript'
      : file.endsWith('.css')
        ? 'text/css'
        : file.endsWith('.map')
          ? 'application/json'
          : 'application/octet-stream';
    await route.fulfill({ status: 200, contentType: type, body: fs.readFileSync(file) });
  });
  // Nothing else may be fetched.
  await context.route(
    (url) => !url.href.startsWith(ORIGIN),
    (route) => route.abort(),
  );
  const page = await context.newPage();
  page.on('dialog', (d) => {
    rec.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => rec.pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') rec.consoleErrors.push(m.text());
  });
  await page.addInitScript(stubScript, { state: opts.state ?? null });
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForSelector('#app[data-ready="true"]', { timeout: 30_000 });
  if (opts.theme) await applyTheme(page, opts.theme);
  const panel: PanelPage = {
    context,
    page,
    rec,
    async posted() {
      return page.evaluate(() => (window as unknown as { __posted: never[] }).__posted.slice());
    },
    async state() {
      return page.evaluate(() => (window as unknown as { __getState(): PanelState | undefined }).__getState());
    },
    async send(message) {
      await stageMessage(page, encodeMessage(message));
      await page.evaluate(() => window.postMessage((window as unknown as { __message: unknown }).__message, '*'));
      await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
    },
    async close() {
      rec.csp = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp.slice()).catch(() => rec.csp);
      await context.close();
    },
  };
  return panel;
}

/**
 * A host message as JSON for the page: a string, because Playwright's own argument serialisation is very slow for
 * large nested arrays; typed arrays (the packed analysis) travel as base64 and are typed arrays again in the page.
 */
export function encodeMessage(message: unknown): string {
  return JSON.stringify(message, (_key, v: unknown) =>
    ArrayBuffer.isView(v) ? { __typed: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') } : v,
  );
}

/** Decodes encodeMessage's JSON in the page into window.__message (not posted yet). */
export async function stageMessage(page: Page, json: string): Promise<void> {
  await page.evaluate((json) => {
    (window as unknown as { __message: unknown }).__message = JSON.parse(json, (_key, v: { __typed?: string; b64?: string } | null) => {
      if (!v || typeof v !== 'object' || typeof v.__typed !== 'string') return v;
      const bytes = Uint8Array.from(atob(v.b64 ?? ''), (c) => c.charCodeAt(0));
      const Typed = (globalThis as unknown as Record<string, new (b: ArrayBuffer) => unknown>)[v.__typed];
      return new Typed(bytes.buffer);
    }) as unknown;
  }, json);
}

/** CSP violations so far. */
export async function cspViolations(p: PanelPage): Promise<string[]> {
  return p.page.evaluate(() => (window as unknown as { __csp: string[] }).__csp.slice());
}

/**
 * How the page marks its result under an error (src/webview/shared/error-banner.ts): `#app.under-error`, the dimmed
 * regions (with their opacity and aria-busy), and the regions that hold any of `undimmed` (test ids that must stay
 * as they are: the error banner, its buttons).
 */
export async function underError(
  p: PanelPage,
  undimmed: readonly string[] = [],
): Promise<{ app: boolean; dimmed: number; busy: number; opacity: string[]; dimmedAround: string[] }> {
  return p.page.evaluate((ids) => {
    const app = document.getElementById('app')!;
    const dimmed = [...document.querySelectorAll<HTMLElement>('.under-error-dimmed')];
    return {
      app: app.classList.contains('under-error'),
      dimmed: dimmed.length,
      busy: dimmed.filter((d) => d.getAttribute('aria-busy') === 'true').length,
      opacity: [...new Set(dimmed.map((d) => getComputedStyle(d).opacity))],
      dimmedAround: ids.filter((id) => document.querySelector(`[data-testid="${id}"]`)?.closest('.under-error-dimmed')),
    };
  }, undimmed);
}
