/**
 * The npm package as a user gets it: `npm pack` (prepack bundles the CLI and vendors onnxruntime-node for this
 * platform), `npm install -g` of the tarball into a temporary prefix with no network at all (npm --offline, a
 * registry and proxies that point at a closed port, empty user and global npmrc, an empty working directory), then
 * the installed `damoe` runs analyze, models and a small spot-check with the shipped model. Phase times are printed.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Analysis } from '../../src/shared/analysis';
import type { SpotCheckReport } from '../../src/shared/spotcheck-report';
import { ROOT } from '../unit/core/helpers';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** Nothing listens on port 9 (discard): any attempt to reach a registry, proxy or download host fails at once. */
const NOWHERE = 'http://127.0.0.1:9/';
const SST2 = path.join(ROOT, 'test', 'fixtures', 'datasets', 'sst2-sample.tsv');

function check(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function dirBytes(dir: string): number {
  let bytes = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    bytes += e.isDirectory() ? dirBytes(p) : fs.lstatSync(p).size;
  }
  return bytes;
}

const MiB = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

describe('the packed CLI, installed offline', () => {
  let tmp = '';
  let prefix = '';
  let work = '';
  let env: NodeJS.ProcessEnv = {};
  const times: string[] = [];
  const timed = <T>(name: string, f: () => T): T => {
    const t0 = Date.now();
    try {
      return f();
    } finally {
      times.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  };

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-pack-'));
    prefix = path.join(tmp, 'prefix');
    work = path.join(tmp, 'work');
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(tmp, 'userrc'), '');
    fs.writeFileSync(path.join(tmp, 'globalrc'), '');
    env = { ...process.env };
    // Nothing of the development set-up may leak into the install: no skip flag, no project .npmrc, no proxy.
    for (const k of Object.keys(env)) if (/^(npm_|ONNXRUNTIME_NODE_INSTALL)/i.test(k)) delete env[k];
    Object.assign(env, {
      npm_config_userconfig: path.join(tmp, 'userrc'),
      npm_config_globalconfig: path.join(tmp, 'globalrc'),
      npm_config_cache: path.join(tmp, 'cache'),
      npm_config_registry: NOWHERE,
      npm_config_proxy: NOWHERE,
      npm_config_https_proxy: NOWHERE,
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      HTTP_PROXY: NOWHERE,
      HTTPS_PROXY: NOWHERE,
      DAMOE_PACK_PLATFORMS: `${process.platform}-${process.arch}`,
    });
  });
  after(() => {
    console.log(`package-install: ${times.join(', ')}`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('packs, installs with no network, and the installed damoe runs analyze, models and spot-check', () => {
    const packed = timed('npm pack', () =>
      check(
        spawnSync(NPM, ['pack', '--pack-destination', tmp, '--json', '--loglevel=warn'], { cwd: ROOT, env, encoding: 'utf8' }),
        'npm pack',
      ),
    );
    const [info] = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string; files: { path: string }[]; size: number }[];
    const files = info.files.map((f) => f.path);
    // Only what runs: no sources, tests, training code or source maps; onnxruntime-node without its installer.
    for (const f of files) assert.match(f, /^(bin|dist|models|media|docs)\/|^(README\.md|LICENSE|package\.json)$/, f);
    assert.ok(!files.some((f) => f.endsWith('.map') || f.endsWith('.ts') || f.includes('/script/')), 'maps, .ts or install scripts packed');
    for (const f of ['bin/damoe.js', 'dist/cli.js', 'dist/worker.js', 'dist/extension.js', 'models/damoe-sst2/model.onnx']) {
      assert.ok(files.includes(f), `${f} is not in the package`);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(manifest.dependencies, undefined, 'the package installs nothing from a registry');

    timed('npm install -g', () =>
      check(
        spawnSync(NPM, ['install', '-g', '--prefix', prefix, path.join(tmp, info.filename)], { cwd: work, env, encoding: 'utf8' }),
        'npm install -g (offline)',
      ),
    );
    const installed = path.join(prefix, process.platform === 'win32' ? '' : 'lib', 'node_modules', 'damoe-inspector');
    const ortManifest = JSON.parse(
      fs.readFileSync(path.join(installed, 'dist', 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8'),
    );
    assert.equal(ortManifest.scripts, undefined, 'the vendored onnxruntime-node has no install script');
    console.log(`package-install: tarball ${MiB(info.size)}, installed ${MiB(dirBytes(installed))} (${process.platform}-${process.arch})`);

    const bin = path.join(prefix, process.platform === 'win32' ? 'damoe.cmd' : path.join('bin', 'damoe'));
    const damoe = (args: string[]): string =>
      check(spawnSync(bin, args, { cwd: work, env, encoding: 'utf8', timeout: 120_000 }), `damoe ${args.join(' ')}`);

    const analysis = JSON.parse(
      timed('damoe analyze', () => damoe(['analyze', '--json', '--provider', 'cpu', 'A gorgeous, witty and moving film.'])),
    ) as Analysis;
    assert.equal(analysis.model.name, 'damoe-sst2');
    assert.equal(analysis.model.path, path.join(fs.realpathSync(installed), 'models', 'damoe-sst2'));
    assert.equal(analysis.prediction?.label, 'positive');

    const models = JSON.parse(timed('damoe models', () => damoe(['models', '--json']))) as { name: string; ok: boolean }[];
    assert.deepEqual(
      models.map((m) => [m.name, m.ok]),
      [
        ['damoe-sst2', true],
        ['damoe-lm-sst2', true],
        ['switch-sst2', true],
        ['top2-sst2', true],
      ],
    );

    const report = path.join(work, 'report.json');
    const routing = path.join(work, 'routing.parquet');
    timed('damoe spot-check', () =>
      damoe(['spot-check', SST2, '--sample', '12', '--workers', '1', '--provider', 'cpu', '--json', report, '--routing', routing]),
    );
    // The bundled Parquet writer ran: a Parquet file (magic PAR1 at both ends); its contents: routing-out.test.ts.
    const bytes = fs.readFileSync(routing);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PAR1');
    assert.equal(bytes.subarray(-4).toString('latin1'), 'PAR1');
    const r = JSON.parse(fs.readFileSync(report, 'utf8')) as SpotCheckReport;
    assert.equal(r.n, 12);
    assert.equal(r.model.name, 'damoe-sst2');
    assert.ok(r.accuracy !== null && r.accuracy > 0.5, `accuracy ${r.accuracy}`);
  });
});
