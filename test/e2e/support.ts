/**
 * Shared helpers of the DA-MoE Inspector UI scenarios (`*.test.ts` in this folder). Not a test file itself.
 *
 * - ensureVsix(): the VSIX under test (E2E_VSIX, else dist/damoe-inspector.vsix, rebuilt when older than its inputs).
 * - shippedModel() / expectedEncoding(): facts computed in this process, independently of the extension: the
 *   shipped model's contract metadata (read from model.onnx) and the shipped tokenizer's tokens for a text.
 * - DOM helpers for the routing webview and the editor, screenshots in both themes, scenario timing.
 */
import * as assert from 'assert';
import * as child_process from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { after, before } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { parseContractMetadata, CONTRACT_METADATA_KEY } from '../../src/core/contract';
import { Tokenizer } from '../../src/core/tokenizer';
import * as h from './harness';

export const ROOT = h.repoRoot();
export const SHIPPED_MODEL_DIR = path.join(ROOT, 'models', 'damoe-sst2');
/** Where the VSIX is expected (the `package` phase of scripts/test.sh writes it here), unless E2E_VSIX is set. */
export const VSIX_PATH = path.join(ROOT, 'dist', 'damoe-inspector.vsix');
export const ANALYZE = 'DA-MoE: Analyze Routing';
/** The extension's status bar item (id `<extension id>.<item id>`). */
export const STATUS_ITEM = '[id="damoe.damoe-inspector.damoe.status"]';
/** The spot-check's status bar item (id `<extension id>.<item id>`). */
export const SPOT_STATUS = '[id="damoe.damoe-inspector.damoe.spotCheckStatus"]';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// The VSIX
// ---------------------------------------------------------------------------------------------------------------

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const name of fs.readdirSync(p)) m = Math.max(m, newestMtime(path.join(p, name)));
  return m;
}

/** What goes into the VSIX (sources of the bundles, manifest, models). */
function vsixInputsMtime(): number {
  return Math.max(
    ...['src', 'package.json', '.vscodeignore', 'models', 'scripts/bundle.mjs', 'media'].map((p) => newestMtime(path.join(ROOT, p))),
  );
}

function sh(cmd: string, args: string[], what: string): void {
  const t = Date.now();
  const r = child_process.spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`${what} failed (${r.status ?? r.signal}):\n${`${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-4000)}`);
  }
  console.log(`[e2e] ${what}: ${Date.now() - t} ms`);
}

function newestVsixSince(since: number): string | undefined {
  const found = [ROOT, path.join(ROOT, 'dist')]
    .flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).map((f) => path.join(d, f)) : []))
    .filter((f) => f.endsWith('.vsix') && fs.statSync(f).mtimeMs >= since)
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return found[0];
}

/**
 * The VSIX to install: $E2E_VSIX if set (must exist); else dist/damoe-inspector.vsix when it is newer than every input
 * (src/, package.json, .vscodeignore, models/, scripts/bundle.mjs); else it is built once: `npm run package` if
 * package.json has that script (expected to write dist/damoe-inspector.vsix; otherwise the newest *.vsix it made in
 * the repo root or dist/ is taken), falling back to the production bundle + `vsce package`.
 */
export function ensureVsix(): string {
  const env = process.env.E2E_VSIX;
  if (env) {
    const p = path.resolve(env);
    assert.ok(fs.existsSync(p), `E2E_VSIX=${env} does not exist`);
    return p;
  }
  // Built by another test file of this same run (node --test runs each file in a child of one runner)? Then reuse
  // it even if someone edited a source meanwhile: one VSIX per e2e phase.
  const stamp = `${VSIX_PATH}.e2e-run`;
  const run = `${process.ppid}`;
  const sameRun = fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === run && Date.now() - fs.statSync(stamp).mtimeMs < 30 * 60_000;
  if (fs.existsSync(VSIX_PATH) && sameRun) return VSIX_PATH;
  if (fs.existsSync(VSIX_PATH) && fs.statSync(VSIX_PATH).mtimeMs >= vsixInputsMtime()) return VSIX_PATH;
  console.log(`[e2e] ${path.relative(ROOT, VSIX_PATH)} is missing or older than its inputs: building it`);
  const built = buildVsix();
  if (built === VSIX_PATH) fs.writeFileSync(stamp, run);
  return built;
}

function buildVsix(): string {
  const started = Date.now() - 1000;
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (pkg.scripts?.package) {
    try {
      sh('npm', ['run', '--silent', 'package'], 'npm run package');
      if (fs.existsSync(VSIX_PATH) && fs.statSync(VSIX_PATH).mtimeMs >= started) return VSIX_PATH;
      const made = newestVsixSince(started);
      if (made) return made;
      console.log('[e2e] npm run package made no VSIX; packaging directly');
    } catch (e) {
      const lines = (e as Error).message
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !/^npm warn/.test(l));
      console.log(`[e2e] ${lines.slice(0, 1).concat(lines.slice(1).slice(-3)).join('\n[e2e]   ')}\n[e2e] packaging directly`);
    }
  }
  fs.mkdirSync(path.dirname(VSIX_PATH), { recursive: true });
  sh(process.execPath, ['scripts/bundle.mjs', '--production'], 'production bundle');
  sh(
    'npx',
    [
      'vsce',
      'package',
      '--target',
      'linux-x64',
      '--allow-missing-repository',
      '--skip-license',
      '--no-rewrite-relative-links',
      '-o',
      VSIX_PATH,
    ],
    'vsce package',
  );
  return VSIX_PATH;
}

// ---------------------------------------------------------------------------------------------------------------
// Independent expectations
// ---------------------------------------------------------------------------------------------------------------

export interface ShippedModel {
  numExperts: number;
  numLayers: number;
  kMax: number;
  labels: string[];
}

/** The shipped model's shape and labels, from the contract metadata in models/damoe-sst2/model.onnx. */
export function shippedModel(): ShippedModel {
  // readOnnxMetadata is asynchronous (it must never block an extension host); describe() blocks need this now.
  const script = `require(${JSON.stringify(require.resolve('../../src/core/onnx/metadata'))}).readOnnxMetadata(process.argv[1]).then((m) => process.stdout.write(JSON.stringify([...m])))`;
  const props = new Map<string, string>(
    JSON.parse(
      child_process.execFileSync(process.execPath, ['-e', script, path.join(SHIPPED_MODEL_DIR, 'model.onnx')], { encoding: 'utf8' }),
    ) as [string, string][],
  );
  const check = parseContractMetadata(props.get(CONTRACT_METADATA_KEY));
  assert.ok(check.metadata, `shipped model metadata: ${check.violations.join('; ')}`);
  const m = check.metadata;
  return { numExperts: m.numExperts, numLayers: m.numLayers, kMax: m.kMax, labels: m.labels };
}

let tokenizer: Tokenizer | undefined;

export interface ExpectedEncoding {
  /** Every token, specials included, in model order (index = the analysis' token index). */
  tokens: { text: string; special: boolean }[];
  /** Non-special tokens: one heatmap / table row each. */
  content: { index: number; text: string }[];
}

/**
 * The shipped tokenizer's encoding of `text` (what the heatmap rows must be), each token as the panel shows it: its
 * vocabulary string, or for the unknown token ([UNK]) the characters of `text` it stands for.
 */
export function expectedEncoding(text: string): ExpectedEncoding {
  tokenizer ??= Tokenizer.fromFile(path.join(SHIPPED_MODEL_DIR, 'tokenizer.json'));
  const enc = tokenizer.encode(text);
  const unk = tokenizer.specialTokens.unk?.id;
  const shown = (t: (typeof enc.tokens)[number]): string =>
    t.id === unk && !t.special && t.start !== null ? text.slice(t.start, t.end!) : t.text;
  const tokens = enc.tokens.map((t) => ({ text: shown(t), special: t.special }));
  const content = tokens.map((t, index) => ({ index, text: t.text, special: t.special })).filter((t) => !t.special);
  return { tokens, content: content.map(({ index, text: tt }) => ({ index, text: tt })) };
}

/** Index of the first content token with this text (throws if none). */
export function tokenIndex(enc: ExpectedEncoding, text: string): number {
  const t = enc.content.find((x) => x.text === text);
  assert.ok(t, `no token "${text}" in ${enc.content.map((x) => x.text).join(' ')}`);
  return t.index;
}

/** A model directory whose model.onnx violates the contract (an output is missing); tokenizer from the shipped model. */
export function writeBrokenModel(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'models', 'contract', 'missing-output.onnx'), path.join(dir, 'model.onnx'));
  fs.copyFileSync(path.join(SHIPPED_MODEL_DIR, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  return dir;
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// ---------------------------------------------------------------------------------------------------------------
// Scenario plumbing
// ---------------------------------------------------------------------------------------------------------------

export const timings: { name: string; ms: number; ok: boolean }[] = [];

/** Runs a scenario body, prints its time, and records it for the summary. */
export async function scenario(name: string, fn: () => Promise<void>): Promise<void> {
  const t = Date.now();
  let ok = false;
  try {
    await fn();
    ok = true;
  } finally {
    const ms = Date.now() - t;
    timings.push({ name, ms, ok });
    console.log(`[e2e] scenario "${name}": ${ok ? 'passed' : 'FAILED'} in ${(ms / 1000).toFixed(1)} s`);
  }
}

export function printSummary(file: string): void {
  const total = timings.reduce((s, t) => s + t.ms, 0);
  console.log(
    `[e2e] ${file}: ${timings.map((t) => `${t.name} ${(t.ms / 1000).toFixed(1)}s${t.ok ? '' : ' FAILED'}`).join(', ')}; scenarios ${(total / 1000).toFixed(1)} s`,
  );
}

/** Console noise that a window reload produces in code-server (not the extension's). */
export const reloadNoise = [
  /Long running operations during shutdown are unsupported in the web/,
  // Save participants time out on a loaded machine when VS Code saves settings.json (theme switches): workbench noise.
  /Aborted onWillSaveTextDocument-event after \d+ms/,
];

/** What a test file's real VS Code is opened with (the VSIX under test is always installed). */
export interface WorkbenchOptions {
  /** The folder opened; a function when it is made in an earlier before() hook of the file. */
  workspace: string | (() => string);
  trusted: boolean;
  theme: h.ThemeName;
  /** A file of the workspace opened once the workbench is up. */
  open?: string;
  /** Browser console errors that are expected in this file (reloadNoise always is). */
  ignore?: RegExp[];
}

/**
 * The file's one real VS Code: a before() hook starts code-server with the VSIX and Chromium on its workbench, an
 * after() hook reports the browser's unexpected errors, stops both and prints the scenario summary. Register it
 * first thing in the describe(); hooks registered after it run after it.
 */
export function useWorkbench(
  file: string,
  o: WorkbenchOptions,
): { page: () => Page; browser: () => h.BrowserSession; codeServer: () => h.CodeServer } {
  let cs: h.CodeServer | undefined;
  let b: h.BrowserSession | undefined;
  before(async () => {
    const t = Date.now();
    const vsix = ensureVsix();
    const workspace = typeof o.workspace === 'string' ? o.workspace : o.workspace();
    cs = await h.startCodeServer({ extensionVsix: vsix, workspace, trusted: o.trusted, theme: o.theme });
    b = await h.launchBrowser();
    await h.openWorkbench(b.page, cs.url, cs.workspace);
    if (o.open) {
      // Quick Open can miss its first list on a loaded machine (the workspace index is still being built): once more.
      await h.openFile(b.page, o.open).catch(async () => {
        await b!.page.keyboard.press('Escape');
        await sleep(3000);
        await h.openFile(b!.page, o.open!);
      });
    }
    console.log(
      `[e2e] set-up (VSIX ${path.relative(ROOT, vsix)}, code-server, browser, workbench): ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
  });
  after(async () => {
    if (b) {
      const errs = b.collector.unexpectedErrors([...reloadNoise, ...(o.ignore ?? [])]);
      if (errs.length) console.log(`[e2e] unexpected browser errors:\n  ${errs.join('\n  ')}`);
    }
    await b?.close();
    await cs?.stop();
    await h.stopAll();
    printSummary(file);
  });
  return { page: () => b!.page, browser: () => b!, codeServer: () => cs! };
}

/**
 * Screenshots in both themes: the current one first, then switches to the other (so scenarios alternate and each
 * pays one theme switch). Names: `<name>-light.png`, `<name>-dark.png` under test-results/e2e/.
 */
/**
 * A screenshot in the current theme, then one in the other. Without `prepare` the pointer is moved away first (no
 * hover widgets in the picture); with it, `prepare` runs before each shot (e.g. hovering again: a theme switch
 * closes the editor's hover, and the "hover" pictures must show one).
 */
export async function screenshotBothThemes(page: Page, name: string, prepare?: () => Promise<unknown>): Promise<string[]> {
  const ready = async (): Promise<void> => {
    if (prepare) await prepare();
    else await page.mouse.move(2, 500);
  };
  const dark = await page.evaluate(() => document.querySelector('.monaco-workbench')?.classList.contains('vs-dark') ?? false);
  const files: string[] = [];
  await ready();
  files.push(await h.screenshot(page, `${name}-${dark ? 'dark' : 'light'}`));
  await setThemeAndRepaint(page, dark ? 'Light Modern' : 'Dark Modern');
  await ready();
  files.push(await h.screenshot(page, `${name}-${dark ? 'light' : 'dark'}`));
  return files;
}

/**
 * Answers the save dialog an export opened with `file`, and waits until the file is written. code-server's save
 * dialog is VS Code's simple dialog (a quick input holding the path); it writes its default path in after it opens:
 * wait for that (it includes `defaultIncludes`), then type ours. Returns whether the file was written.
 */
export async function saveThroughDialog(page: Page, defaultIncludes: string, file: string, name = 'save-dialog'): Promise<boolean> {
  const input = page.locator('.quick-input-widget input').first();
  try {
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForFunction(
      (want) => (document.querySelector<HTMLInputElement>('.quick-input-widget input')?.value ?? '').includes(want),
      defaultIncludes,
      { timeout: 15_000 },
    );
    await input.fill(file);
    await page.waitForFunction((v) => document.querySelector<HTMLInputElement>('.quick-input-widget input')?.value === v, file, {
      timeout: 5_000,
    });
    // The dialog lists the folder while the path is typed; on a loaded machine an early Enter can land before the
    // listing and be dropped. Accept with the dialog's OK button, again every 3 s while the dialog is still open.
    const ok = page.locator('.quick-input-widget').getByRole('button', { name: 'OK' }).first();
    for (let end = Date.now() + 20_000, next = 0; Date.now() < end && !fs.existsSync(file); await sleep(200)) {
      if (Date.now() >= next && (await ok.isVisible().catch(() => false))) {
        await ok.click().catch(() => undefined);
        next = Date.now() + 3_000;
      }
    }
    if (!fs.existsSync(file)) await h.screenshot(page, `${name}-failed`);
  } finally {
    if (await input.isVisible().catch(() => false)) await page.keyboard.press('Escape');
  }
  return fs.existsSync(file);
}

/** Reference lines of the big K histograms (routing panel, or the spot-check's `frame`) that cross a bar count or a line label (expected: none). */
export async function refLineCrossings(page: Page, frame: FrameLocator = routing(page)): Promise<string[]> {
  return frame.locator('#app').evaluate((app) => {
    const out: string[] = [];
    for (const chart of app.querySelectorAll<SVGSVGElement>('svg.khist:not(.compact)')) {
      const texts = [...chart.querySelectorAll<SVGTextElement>('text.count, text.ref-label')].map((t) => ({
        t: t.textContent,
        b: t.getBBox(),
      }));
      for (const line of chart.querySelectorAll<SVGLineElement>('line.ref')) {
        const x = line.x1.baseVal.value;
        const y1 = Math.min(line.y1.baseVal.value, line.y2.baseVal.value);
        const y2 = Math.max(line.y1.baseVal.value, line.y2.baseVal.value);
        for (const { t, b } of texts)
          if (x > b.x && x < b.x + b.width && y2 > b.y + 1 && y1 < b.y + b.height - 1) out.push(`line at x=${x.toFixed(1)} crosses "${t}"`);
      }
    }
    return out;
  });
}

/** Mean K of a histogram's counts (counts[k] tokens at K = k). */
export const meanOfCounts = (counts: number[]): number =>
  counts.reduce((a, c, k) => a + c * k, 0) /
  Math.max(
    1,
    counts.reduce((a, c) => a + c, 0),
  );

/** The layer whose K varies most over the rows of a K grid (the first on ties). */
export function mostDynamicLayer(grid: number[][]): number {
  const L = grid[0]?.length ?? 0;
  let best = 0;
  let bestVar = -1;
  for (let l = 0; l < L; l++) {
    const ks = grid.map((r) => r[l]);
    const m = ks.reduce((a, b) => a + b, 0) / ks.length;
    const v = ks.reduce((a, b) => a + (b - m) ** 2, 0) / ks.length;
    if (v > bestVar + 1e-12) {
      bestVar = v;
      best = l;
    }
  }
  return best;
}

/** What the K grid, the token strip, the K rule and the layer select show (the K-first views). */
export interface KFacts {
  /** Per content token, its K in each layer (from the K grid). */
  grid: number[][];
  layer: number;
  /** K of every strip chip (specials included) in the selected layer. */
  stripK: number[];
  thresholds: number[];
  legendMax: number;
  rule: string;
  /** The layer select's visible text. */
  selectText: string;
  /** The grid is the first section of the panel. */
  firstSection: string;
}

export async function readKFacts(page: Page): Promise<KFacts> {
  const f = routing(page);
  return f.locator('#app').evaluate((app) => {
    const grid = app.querySelector<HTMLElement>('[data-testid=k-grid]')!;
    const legend = app.querySelector<HTMLElement>('[data-testid=importance-legend]')!;
    const select = app.querySelector<HTMLElement>('[data-testid=layer-select]')!;
    const num = (s: string | undefined) =>
      (s ?? '')
        .split(',')
        .filter((x) => x !== '')
        .map(Number);
    return {
      grid: (grid.dataset.k ?? '')
        .split(',')
        .filter((x) => x)
        .map((r) => [...r].map(Number)),
      layer: Number(grid.dataset.layer),
      stripK: [...app.querySelectorAll<HTMLElement>('[data-testid=token-strip] .tok')].map((e) => Number(e.dataset.k)),
      thresholds: num(legend.dataset.thresholds),
      legendMax: Number(legend.dataset.max),
      rule: app.querySelector('[data-testid=k-rule-summary]')?.textContent ?? '',
      selectText: (select.shadowRoot?.textContent ?? '').replace(/\s+/g, ' ').trim(),
      firstSection: (app.querySelector('section') as HTMLElement | null)?.dataset.testid ?? '',
    };
  });
}

/** setTheme, then give the webview's canvas a moment to redraw (it watches the theme's body class). */
export async function setThemeAndRepaint(page: Page, theme: h.ThemeName): Promise<void> {
  const heatmap = routing(page).locator('[data-testid=heatmap]');
  const draws = await heatmap.getAttribute('data-draws', { timeout: 1000 }).catch(() => null);
  await h.setTheme(page, theme);
  if (draws !== null) {
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      const now = await heatmap.getAttribute('data-draws', { timeout: 1000 }).catch(() => null);
      if (now !== draws) break;
      await sleep(100);
    }
  }
  await sleep(400);
}

// ---------------------------------------------------------------------------------------------------------------
// Workbench / webview helpers
// ---------------------------------------------------------------------------------------------------------------

/** The content frame of the webview that holds `selector` (several webviews may be open). */
export async function frameWith(page: Page, selector: string, timeoutMs = 120_000): Promise<FrameLocator> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const n = await page.locator('iframe.webview.ready').count();
    for (let i = 0; i < n; i++) {
      const f = page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame');
      if (
        (await f
          .locator(selector)
          .count()
          .catch(() => 0)) > 0
      )
        return f;
    }
    if (Date.now() > end) assert.fail(`no webview shows ${selector}`);
    await sleep(250);
  }
}

/** The routing webview's content frame. */
export const routing = (page: Page): FrameLocator => h.webviewFrame(page);

export interface PanelFacts {
  rows: number;
  cols: number;
  histogram: number[];
  histogramTotal: number;
  layerHistograms: number[][];
  overall: number[];
  overallLayers: number;
  tokenCount: number;
  provider: string;
  prediction: string;
  modelName: string;
  modelPath: string;
  stripTokens: { index: number; text: string; special: boolean }[];
}

/** Waits until the panel shows an analysis whose content tokens are `expected` (by text), then reads its facts. */
export async function waitForAnalysis(page: Page, expected: ExpectedEncoding, timeoutMs = 120_000): Promise<PanelFacts> {
  const f = routing(page);
  await f.locator('[data-testid=app][data-ready=true]').waitFor({ timeout: timeoutMs });
  const want = expected.content.map((t) => t.text).join(' ');
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const strip = await readStrip(page).catch(() => []);
    last = strip
      .filter((t) => !t.special)
      .map((t) => t.text)
      .join(' ');
    const progressHidden = await f
      .locator('[data-testid=progress]')
      .isHidden()
      .catch(() => false);
    if (last === want && progressHidden) break;
    if (Date.now() > end) {
      assert.fail(`the routing panel did not show the expected tokens in time.\n  expected: ${want}\n  shown:    ${last}`);
    }
    await sleep(200);
  }
  return readPanelFacts(page);
}

export async function readStrip(page: Page): Promise<{ index: number; text: string; special: boolean }[]> {
  return routing(page)
    .locator('[data-testid=token-strip]')
    .evaluate((root) =>
      [...root.querySelectorAll<HTMLElement>('.tok')].map((e) => ({
        index: Number(e.dataset.index),
        text: e.textContent ?? '',
        special: e.classList.contains('special'),
      })),
    );
}

const nums = (s: string | null) =>
  (s ?? '')
    .split(',')
    .filter((x) => x !== '')
    .map(Number);

export async function readPanelFacts(page: Page): Promise<PanelFacts> {
  const f = routing(page);
  const attr = (sel: string, a: string) => f.locator(sel).first().getAttribute(a, { timeout: 10_000 });
  const text = async (sel: string) => ((await f.locator(sel).first().innerText({ timeout: 10_000 })) ?? '').trim();
  const layerHistograms: number[][] = [];
  const layers = f.locator('[data-testid=k-histogram-layer]');
  for (let i = 0; i < (await layers.count()); i++) layerHistograms.push(nums(await layers.nth(i).getAttribute('data-counts')));
  const tokenCountText = await text('[data-testid=token-count] .fact-value');
  return {
    rows: Number(await attr('[data-testid=heatmap]', 'data-rows')),
    cols: Number(await attr('[data-testid=heatmap]', 'data-cols')),
    histogram: nums(await attr('[data-testid=k-histogram]', 'data-counts')),
    histogramTotal: Number(await attr('[data-testid=k-histogram]', 'data-total')),
    layerHistograms,
    overall: nums(await attr('[data-testid=k-histogram-overall]', 'data-counts')),
    overallLayers: Number(await attr('[data-testid=k-histogram-overall]', 'data-layers')),
    tokenCount: Number(tokenCountText),
    provider: await text('[data-testid=provider]'),
    prediction: await text('[data-testid=prediction-label]'),
    modelName: await text('[data-testid=model-name]'),
    modelPath: (await attr('[data-testid=model-name]', 'title')) ?? '',
    stripTokens: await readStrip(page),
  };
}

/** Centre and edges of `needle` (chars [from, to) of its first occurrence) in the editor's rendered lines. */
export async function editorTextBox(page: Page, needle: string, from = 0, to = needle.length): Promise<h.EditorTextBox> {
  const box = await h.locateEditorText(page, needle, { from, to });
  assert.ok(box, `"${needle}" is not in the visible editor lines`);
  return box;
}

/**
 * The editor's decorations drawn with a solid border (the routing panel's single-token highlight; the importance
 * highlights have none), as boxes in page coordinates.
 */
export async function borderedDecorations(
  page: Page,
): Promise<{ left: number; right: number; top: number; bottom: number; cls: string }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('.editor-group-container .monaco-editor .view-overlays .cdr')]
      .filter((e) => {
        const cs = getComputedStyle(e);
        return cs.borderTopStyle === 'solid' && parseFloat(cs.borderTopWidth) > 0;
      })
      .map((e) => {
        const b = e.getBoundingClientRect();
        return { left: b.left, right: b.right, top: b.top, bottom: b.bottom, cls: e.className };
      }),
  );
}

/** Number of importance-highlight decorations (background, no border) in the editor. */
export async function importanceDecorationCount(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      [...document.querySelectorAll<HTMLElement>('.editor-group-container .monaco-editor .view-overlays .cdr')].filter((e) => {
        const cs = getComputedStyle(e);
        return (
          /^ced-/.test(e.className.split(' ').find((c) => c.startsWith('ced-')) ?? '') &&
          cs.borderTopStyle !== 'solid' &&
          cs.backgroundColor !== 'rgba(0, 0, 0, 0)'
        );
      }).length,
  );
}

/** Text of the extension's status bar item. */
export async function statusText(page: Page): Promise<string> {
  return (
    (await page
      .locator(STATUS_ITEM)
      .first()
      .innerText({ timeout: 10_000 })
      .catch(() => '')) || ''
  ).trim();
}

/** Waits until the extension's status bar item matches (e.g. the model name after a settings change). */
export async function waitForStatus(page: Page, match: RegExp, timeoutMs = 60_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    last = await statusText(page);
    if (match.test(last)) return last;
    await sleep(200);
  }
  return assert.fail(`status bar item never matched ${match} (last: "${last}")`);
}

/** Closes the modal editor (VS Code 1.139 opens settings and workspace trust in one), if one is open. */
export async function closeModalEditor(page: Page): Promise<void> {
  const modal = page.locator('.monaco-modal-editor-block');
  if ((await modal.count()) === 0) return;
  await page.keyboard.press('Escape');
  await modal
    .first()
    .waitFor({ state: 'hidden', timeout: 10_000 })
    .catch(() => {});
  if ((await modal.count()) > 0) {
    await modal
      .locator('.codicon-close, .codicon-editor-close')
      .last()
      .click({ timeout: 5000 })
      .catch(() => {});
    await modal.first().waitFor({ state: 'hidden', timeout: 10_000 });
  }
}

/**
 * Sets a setting in the Settings editor like a user: "Preferences: Open User Settings", search for the key, pick the
 * settings tab (`Remote`: code-server is a remote window, and `damoe.modelPath` is machine-overridable, so VS Code
 * applies it from the Remote settings — Machine/settings.json — not from the browser-side User settings), type the
 * value, leave the field. `''` clears a string setting. Checks the settings file the editor wrote.
 */
export async function setSettingInSettingsUI(
  page: Page,
  userDataDir: string,
  key: string,
  value: string,
  tab: 'User' | 'Remote' = 'Remote',
): Promise<void> {
  await closeModalEditor(page);
  await h.runCommand(page, 'Preferences: Open User Settings');
  const editor = page.locator('.settings-editor').first();
  await editor.waitFor({ state: 'visible', timeout: 30_000 });
  const search = editor.locator('.settings-header .suggest-input-container .monaco-editor').first();
  await search.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(key);
  await editor.locator('.settings-tabs-widget .action-label', { hasText: tab }).first().click();
  const input = editor.locator(`.setting-item-contents[data-key="${key}"] input`).first();
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(value);
  await page.keyboard.press('Tab');
  const file = path.join(userDataDir, tab === 'Remote' ? 'Machine' : 'User', 'settings.json');
  let got: unknown;
  for (let end = Date.now() + 20_000; Date.now() < end; await sleep(200)) {
    try {
      got = (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>)[key];
    } catch {
      got = undefined;
    }
    if ((got ?? '') === value) break;
  }
  assert.equal(got ?? '', value, `${key} in ${file}`);
  await closeModalEditor(page);
}

/** Closes all notification toasts (so the next one found is new). */
export async function clearNotifications(page: Page): Promise<void> {
  await h.runCommand(page, 'Notifications: Clear All Notifications').catch(() => {});
  await page
    .locator('.notifications-toasts .notification-toast')
    .first()
    .waitFor({ state: 'hidden', timeout: 5000 })
    .catch(() => {});
}

/** Makes the editor of an open file the active one (e.g. after the panel took focus). */
export async function focusFile(page: Page, name: string): Promise<void> {
  await closeModalEditor(page);
  await page.locator(`.tabs-container .tab[data-resource-name="${name}"]`).first().click({ timeout: 15_000 });
  await h.activeEditor(page).locator('.view-lines').waitFor({ state: 'visible', timeout: 15_000 });
}

/** Selects a line of `file` (an open editor) and runs Analyze Routing. */
export async function analyzeLine(page: Page, line: number, file = 'reviews.txt'): Promise<void> {
  await focusFile(page, file);
  await h.selectText(page, { line });
  await h.runCommand(page, ANALYZE);
}

/** The text of the editor in the Panel (the Output view's channel), whitespace collapsed; '' when none is shown. */
export async function outputPanelText(page: Page): Promise<string> {
  const lines = page.locator('.part.panel .monaco-editor .view-lines').first();
  if ((await lines.count()) === 0) return '';
  return ((await lines.innerText().catch(() => '')) || '').replace(/\s+/g, ' ');
}

export interface PanelErrorExpectation {
  /** The test id of the panel's error banner. */
  banner: string;
  message: RegExp;
  /** The banner's buttons, in order; one of them is Show Output. */
  actions: string[];
  /** A selector of the previous result's rows, and how many of them are shown (all must be dimmed). */
  rows: string;
  rowCount: number;
  /** Text of the error that the Output channel must show after Show Output. */
  logged: string;
}

/**
 * Issue 14's "an error is shown once": with its panel in view, a failed run's error is in the panel's banner with the
 * notification's buttons and in no notification toast (nor is any other error); the previous result stays, dimmed
 * and aria-busy under it; the banner's Show Output opens the extension's Output channel with the error in it.
 * Returns the banner's text.
 */
export async function expectErrorOnceInPanel(page: Page, frame: FrameLocator, e: PanelErrorExpectation): Promise<string> {
  const banner = frame.locator(`[data-testid=${e.banner}]`);
  await banner.waitFor({ state: 'visible', timeout: 120_000 });
  const text = await banner.locator('.banner-text').innerText();
  assert.match(text, e.message);
  assert.deepEqual(await banner.locator('[data-testid=error-action]').allInnerTexts(), e.actions);
  await sleep(1500); // a toast would be up by now: it is raised with the banner
  const toasts = await h.notifications(page);
  assert.deepEqual(
    toasts.filter((n) => n.severity === 'error' || e.message.test(n.message)),
    [],
    'the error is in the banner only, not also in a toast',
  );
  assert.equal(await frame.locator('#app.under-error').count(), 1, 'the panel is marked under an error');
  assert.equal(
    await frame.locator(`.under-error-dimmed[aria-busy=true] ${e.rows}`).count(),
    e.rowCount,
    'the previous result is dimmed and busy under the error',
  );
  const dimmed = await frame
    .locator('.under-error-dimmed')
    .first()
    .evaluate((d) => getComputedStyle(d).opacity);
  assert.equal(dimmed, '0.45');
  // Show Output works from the banner: the Output view opens on the extension's channel, which logged the error.
  await banner.locator('[data-testid=error-action]', { hasText: 'Show Output' }).click();
  let out = '';
  for (let end = Date.now() + 20_000; Date.now() < end && !out.includes(e.logged); await sleep(250)) out = await outputPanelText(page);
  assert.ok(out.includes(e.logged), `the Output view shows the error "${e.logged}": …${out.slice(-600)}`);
  return text;
}
