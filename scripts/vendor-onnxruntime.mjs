#!/usr/bin/env node
/**
 * Copies onnxruntime-node (and onnxruntime-common) into dist/node_modules/, the copy the npm package and the VSIX
 * ship, so that neither installs onnxruntime-node from the registry.
 *
 *   node scripts/vendor-onnxruntime.mjs                          every platform onnxruntime-node ships binaries for
 *   node scripts/vendor-onnxruntime.mjs --platforms=linux-x64    only these (comma list of <os>-<arch>)
 *   node scripts/vendor-onnxruntime.mjs --clean                  remove dist/node_modules/ again
 *   DAMOE_PACK_PLATFORMS=linux-x64 npm pack                      (prepack passes the variable on)
 *
 * Why a copy and not a dependency: onnxruntime-node's postinstall (script/install.js) downloads the CUDA provider
 * libraries from api.nuget.org on linux-x64 unless the installing user passes --onnxruntime-node-install=skip or sets
 * ONNXRUNTIME_NODE_INSTALL=skip; a package cannot set either for its dependencies (a package's .npmrc does not travel,
 * package.json `config` only reaches the package's own scripts, and bundleDependencies still run the bundled
 * package's scripts). Offline, the download fails and the whole install with it. The copy holds only what runs:
 * the JS (dist/*.js), the chosen platforms' native binaries, and a package.json without scripts; the install script
 * and its download helpers (adm-zip, global-agent) stay out. docs/cli.md says how a CUDA user adds the CUDA libraries.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const target = join(root, 'dist', 'node_modules');
const source = (name) => join(root, 'node_modules', name);

if (args.includes('--clean')) {
  rmSync(target, { recursive: true, force: true });
  process.exit(0);
}

const binRoot = join(source('onnxruntime-node'), 'bin', 'napi-v6');
if (!existsSync(binRoot)) {
  console.error(`vendor-onnxruntime: ${relative(root, binRoot)} is missing: run 'npm ci' first`);
  process.exit(1);
}
const available = readdirSync(binRoot).flatMap((os) => readdirSync(join(binRoot, os)).map((arch) => `${os}-${arch}`));
const requested = (args.find((a) => a.startsWith('--platforms='))?.slice('--platforms='.length) ?? process.env.DAMOE_PACK_PLATFORMS ?? '')
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean);
const platforms = requested.length === 0 || requested.includes('all') ? available : requested;
const unknown = platforms.filter((p) => !available.includes(p));
if (unknown.length > 0) {
  console.error(`vendor-onnxruntime: no onnxruntime-node binaries for ${unknown.join(', ')} (it ships: ${available.join(', ')})`);
  process.exit(2);
}

/** package.json of a vendored copy: what Node's resolver reads, nothing npm would act on. */
function manifest(name, keep) {
  const pkg = JSON.parse(readFileSync(join(source(name), 'package.json'), 'utf8'));
  const out = { name: pkg.name, version: pkg.version, license: pkg.license, description: pkg.description, ...keep(pkg) };
  return `${JSON.stringify(out, null, 2)}\n`;
}

function copyFiltered(from, to, accept) {
  cpSync(from, to, { recursive: true, filter: (f) => statSync(f).isDirectory() || accept(f) });
}

rmSync(target, { recursive: true, force: true });
const ortNode = join(target, 'onnxruntime-node');
mkdirSync(join(ortNode, 'dist'), { recursive: true });
writeFileSync(
  join(ortNode, 'package.json'),
  manifest('onnxruntime-node', (p) => ({ main: p.main, dependencies: { 'onnxruntime-common': p.dependencies['onnxruntime-common'] } })),
);
cpSync(join(source('onnxruntime-node'), 'README.md'), join(ortNode, 'README.md'));
copyFiltered(join(source('onnxruntime-node'), 'dist'), join(ortNode, 'dist'), (f) => f.endsWith('.js'));
for (const p of platforms) {
  const [os, arch] = p.split('-');
  cpSync(join(binRoot, os, arch), join(ortNode, 'bin', 'napi-v6', os, arch), { recursive: true });
}

const ortCommon = join(target, 'onnxruntime-common');
mkdirSync(ortCommon, { recursive: true });
// Only the CommonJS build: onnxruntime-node require()s it.
writeFileSync(
  join(ortCommon, 'package.json'),
  manifest('onnxruntime-common', (p) => ({ main: p.main, exports: { require: p.exports.require } })),
);
cpSync(join(source('onnxruntime-common'), 'README.md'), join(ortCommon, 'README.md'));
copyFiltered(
  join(source('onnxruntime-common'), 'dist', 'cjs'),
  join(ortCommon, 'dist', 'cjs'),
  (f) => f.endsWith('.js') || f.endsWith('package.json'),
);

let bytes = 0;
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    if (e.isDirectory()) walk(join(d, e.name));
    else bytes += statSync(join(d, e.name)).size;
  }
};
walk(target);
console.log(
  `vendor-onnxruntime: onnxruntime-node for ${platforms.join(', ')} -> ${relative(root, target)} (${(bytes / 2 ** 20).toFixed(1)} MiB)`,
);
