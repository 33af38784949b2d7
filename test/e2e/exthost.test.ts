/**
 * The extension-host mocha suite (test/e2e/host/*.exthost.ts) inside code-server's real extension host, loaded from
 * the repository through the dev payload (extensionDevelopmentPath = repo root: package.json + dist/, built by
 * `npm run build`; no VSIX). Two windows: trusted (the whole suite), then untrusted for the Restricted Mode test,
 * which skips itself in a trusted window. Fails when the runner reports failures or did not run the tests expected.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it, after } from 'node:test';
import * as h from './harness';
import * as s from './support';

const RUNNER = path.join(s.ROOT, 'out', 'test', 'e2e', 'host', 'runner');
const T = { timeout: 420_000 };

function report(r: h.HostTestResult): string {
  return (
    (r.tests ?? [])
      .filter((t) => t.state === 'failed')
      .map((t) => `${t.title}\n${t.error ?? ''}`)
      .join('\n\n') ||
    (r.error ?? '')
  );
}

function preflight(): void {
  assert.ok(fs.existsSync(`${RUNNER}.js`), `${RUNNER}.js missing: compile first (npx tsc -p .)`);
  for (const f of ['dist/extension.js', 'dist/worker.js', 'dist/webview/routing.js']) {
    assert.ok(fs.existsSync(path.join(s.ROOT, f)), `${f} missing: run npm run build`);
  }
}

describe('DA-MoE Inspector: extension-host suite (dev payload)', { timeout: 900_000 }, () => {
  after(async () => {
    await h.stopAll();
    s.printSummary('exthost.test');
  });

  it('trusted window: the whole suite passes', T, () =>
    s.scenario('extension-host suite (trusted)', async () => {
      preflight();
      const r = await h.runExtensionHostTests({
        extensionDevelopmentPath: s.ROOT,
        extensionTestsPath: RUNNER,
        resultFile: path.join(h.resultsDir(), 'exthost-trusted.json'),
        trusted: true,
        timeoutMs: 360_000,
      });
      assert.equal(r.failures, 0, `extension-host failures:\n${report(r)}`);
      assert.ok(!r.error, `runner error: ${r.error}`);
      const titles = (r.tests ?? []).filter((t) => t.state === 'passed').map((t) => t.title);
      assert.ok(r.passes >= 10, `only ${r.passes} passed: ${titles.join('; ')}`);
      assert.ok(
        titles.some((t) => /analyses the selection/.test(t)),
        'the analysis test ran',
      );
      assert.ok(
        titles.some((t) => /e2e harness/.test(t)),
        'the harness self-checks ran',
      );
    }),
  );

  it('untrusted window: the Restricted Mode test passes (not skipped)', T, () =>
    s.scenario('extension-host suite (untrusted)', async () => {
      preflight();
      const ws = s.tmpDir('damoe-e2e-host-untrusted-');
      try {
        const r = await h.runExtensionHostTests({
          extensionDevelopmentPath: s.ROOT,
          extensionTestsPath: RUNNER,
          resultFile: path.join(h.resultsDir(), 'exthost-untrusted.json'),
          workspace: ws,
          trusted: false,
          env: { E2E_GREP: 'Restricted Mode|e2e harness' },
          timeoutMs: 240_000,
        });
        assert.equal(r.failures, 0, `extension-host failures:\n${report(r)}`);
        const restricted = (r.tests ?? []).find((t) => /Restricted Mode/.test(t.title));
        assert.equal(restricted?.state, 'passed', `Restricted Mode test: ${JSON.stringify(restricted)}`);
      } finally {
        fs.rmSync(ws, { recursive: true, force: true });
      }
    }),
  );
});
