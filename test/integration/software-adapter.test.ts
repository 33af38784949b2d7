/**
 * `auto` never picks a software adapter: with SwiftShader (Debian's chromium package) as the machine's only Vulkan
 * driver, `damoe analyze` on auto runs on CPU and says why WebGPU was skipped; `--provider webgpu` still forces it.
 * The Vulkan environment is set only for the CLI child processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const MODEL = join(root, 'test', 'fixtures', 'models', 'tiny-damoe');

function analyze(provider: string): { provider: { used: string; skipped: { provider: string; reason: string }[] } } {
  const env = {
    ...process.env,
    VK_ICD_FILENAMES: ICD,
    LD_LIBRARY_PATH: ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  };
  const r = spawnSync(
    process.execPath,
    [join(root, 'bin', 'damoe.js'), 'analyze', '--model', MODEL, '--provider', provider, '--json', 'a good film .'],
    {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('auto skips the SwiftShader adapter with a reason naming it; --provider webgpu forces it', { timeout: 300_000 }, () => {
  assert.ok(existsSync(ICD), `no SwiftShader at ${ICD}: run scripts/setup.sh (it installs chromium)`);
  const auto = analyze('auto');
  assert.equal(auto.provider.used, 'cpu');
  const webgpu = auto.provider.skipped.find((s) => s.provider === 'webgpu');
  assert.ok(webgpu, JSON.stringify(auto.provider));
  assert.match(webgpu.reason, /software adapter: SwiftShader/);
  assert.equal(analyze('webgpu').provider.used, 'webgpu');
});
