#!/usr/bin/env node
/**
 * esbuild bundles of the extension.
 *
 *   node scripts/bundle.mjs                 development: sourcemaps, not minified
 *   node scripts/bundle.mjs --production    minified, no sourcemaps
 *   node scripts/bundle.mjs --watch         rebuild on change
 *   node scripts/bundle.mjs --only=webview  only entries whose name starts with one of the given prefixes (comma list)
 *
 * Every entry must exist: a missing entry fails the build. To add a webview, add one line to ENTRIES.
 */
import * as esbuild from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const production = args.includes('--production');
const watch = args.includes('--watch');
const only = (args.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? '').split(',').filter(Boolean);

const node = { platform: 'node', format: 'cjs', target: 'node20' };
const webview = { platform: 'browser', format: 'iife', target: ['chrome114'] };

/** name, entry (repo-relative), outfile, options; CSS imported by a webview entry lands next to its .js. */
const ENTRIES = [
  {
    name: 'extension',
    entry: 'src/extension/extension.ts',
    outfile: 'dist/extension.js',
    ...node,
    external: ['vscode', 'onnxruntime-node'],
  },
  { name: 'worker', entry: 'src/core/runtime/worker.ts', outfile: 'dist/worker.js', ...node, external: ['onnxruntime-node'] },
  // The `damoe` CLI of the npm package (bin/damoe.js runs it when out/ is absent); it starts dist/worker.js.
  { name: 'cli', entry: 'src/cli/main.ts', outfile: 'dist/cli.js', ...node, external: ['onnxruntime-node'] },
  { name: 'webview-routing', entry: 'src/webview/routing/main.ts', outfile: 'dist/webview/routing.js', ...webview },
  { name: 'webview-spotcheck', entry: 'src/webview/spotcheck/main.ts', outfile: 'dist/webview/spotcheck.js', ...webview },
  { name: 'webview-compare', entry: 'src/webview/compare/main.ts', outfile: 'dist/webview/compare.js', ...webview },
];

const selected = ENTRIES.filter((e) => only.length === 0 || only.some((p) => e.name.startsWith(p)));
if (selected.length === 0) {
  console.error(`bundle: no entry matches --only=${only.join(',')} (entries: ${ENTRIES.map((e) => e.name).join(', ')})`);
  process.exit(2);
}

function options(e) {
  return {
    absWorkingDir: root,
    entryPoints: [e.entry],
    outfile: e.outfile,
    bundle: true,
    platform: e.platform,
    format: e.format,
    target: e.target,
    external: e.external ?? [],
    minify: production,
    sourcemap: !production,
    legalComments: production ? 'none' : 'inline',
    define: { 'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development') },
    logLevel: 'warning',
    metafile: true,
  };
}

const contexts = [];
let failed = false;
for (const e of selected) {
  if (!existsSync(join(root, e.entry))) {
    console.error(`bundle: ${e.name}: missing ${e.entry}`);
    failed = true;
    continue;
  }
  const t0 = Date.now();
  if (production) {
    // No stale sourcemaps from an earlier development build next to production output.
    for (const f of [e.outfile, e.outfile.replace(/\.js$/, '.css')]) rmSync(join(root, f + '.map'), { force: true });
  }
  if (watch) {
    const ctx = await esbuild.context({
      ...options(e),
      plugins: [
        {
          name: 'log',
          setup(b) {
            b.onEnd((r) => console.log(`bundle: ${e.name} ${r.errors.length ? `failed (${r.errors.length} errors)` : 'rebuilt'}`));
          },
        },
      ],
    });
    await ctx.watch();
    contexts.push(ctx);
  } else {
    try {
      const r = await esbuild.build(options(e));
      const outs = Object.entries(r.metafile.outputs)
        .filter(([f]) => !f.endsWith('.map'))
        .map(([f, o]) => `${f} ${(o.bytes / 1024).toFixed(1)} KiB`);
      console.log(`bundle: ${e.name} -> ${outs.join(', ')} (${Date.now() - t0} ms${production ? ', production' : ''})`);
    } catch {
      failed = true; // esbuild already printed the errors
    }
  }
}

if (watch) {
  console.log('bundle: watching… (Ctrl+C to stop)');
  const stop = async () => {
    await Promise.all(contexts.map((c) => c.dispose()));
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else if (failed) {
  process.exit(1);
}
