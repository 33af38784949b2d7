/**
 * Restricted Mode: an untrusted workspace whose .vscode/settings.json sets `damoe.modelPath` to a broken model.
 * The extension (limited untrusted support) must ignore that value and analyse with the shipped model. Control: once
 * the user trusts the workspace, the same value applies and the broken model is reported (so the setting really was
 * there and readable; the first half is not passing by accident).
 * Screenshots (light and dark): test-results/e2e/restricted-*.png.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import * as h from './harness';
import * as s from './support';

const FIXTURE = path.join(s.ROOT, 'test', 'e2e', 'fixtures', 'restricted-workspace');
const T = { timeout: 240_000 };

describe('DA-MoE Inspector in VS Code: Restricted Mode', { timeout: 600_000 }, () => {
  const model = s.shippedModel();
  let ws = '';
  let text = '';

  before(() => {
    // A copy, so the broken model can be written next to the workspace settings that point at it.
    ws = path.join(s.tmpDir('damoe-e2e-restricted-'), 'untrusted-repo');
    fs.cpSync(FIXTURE, ws, { recursive: true });
    s.writeBrokenModel(path.join(ws, 'broken-model'));
    const settings = fs.readFileSync(path.join(ws, '.vscode', 'settings.json'), 'utf8');
    assert.match(settings, /"damoe\.modelPath":\s*"\.\/broken-model"/);
    text = fs.readFileSync(path.join(ws, 'reviews.txt'), 'utf8').split('\n')[0];
  });
  const { page, codeServer } = s.useWorkbench('restricted-mode.test', { workspace: () => ws, trusted: false, theme: 'Dark Modern' });
  after(() => {
    if (ws) fs.rmSync(path.dirname(ws), { recursive: true, force: true });
  });

  it("in an untrusted workspace, the workspace's damoe.modelPath is ignored: the shipped model analyses", T, () =>
    s.scenario('restricted: workspace modelPath ignored', async () => {
      const banner = await h.waitForRestrictedMode(page());
      assert.match(banner, /Restricted Mode/i);
      await h.openFile(page(), 'reviews.txt');
      const exp = s.expectedEncoding(text);
      await s.analyzeLine(page(), 1);
      const p = await s.waitForAnalysis(page(), exp);
      assert.equal(p.modelName, 'damoe-sst2');
      assert.ok(
        p.modelPath.startsWith(codeServer().extensionsDir) && p.modelPath.endsWith(path.join('models', 'damoe-sst2')),
        `model path ${p.modelPath} is the shipped one`,
      );
      assert.equal(p.rows, exp.content.length);
      assert.equal(p.cols, model.numExperts);
      assert.ok(model.labels.includes(p.prediction));
      assert.deepEqual(
        (await h.notifications(page())).filter((n) => n.severity === 'error').map((n) => n.message),
        [],
      );
      assert.match(await s.statusText(page()), /damoe-sst2/);
      await s.screenshotBothThemes(page(), 'restricted-mode');
    }),
  );

  it('control: after the user trusts the workspace, its damoe.modelPath applies (and the broken model is reported)', T, () =>
    s.scenario('restricted: trusting applies the workspace setting', async () => {
      await h.runCommand(page(), 'Workspaces: Manage Workspace Trust');
      const trust = page().locator('.workspace-trust-editor').getByRole('button', { name: 'Trust', exact: true }).first();
      await trust.waitFor({ state: 'visible', timeout: 30_000 });
      await trust.click();
      await page().locator('#status\\.workspaceTrust', { hasText: 'Restricted Mode' }).waitFor({ state: 'hidden', timeout: 30_000 });
      await s.waitForStatus(page(), /broken-model/);
      await s.analyzeLine(page(), 1);
      // The routing panel is open (the first scenario analysed in it), so the error shows once, in its banner.
      const banner = s.routing(page()).locator('[data-testid=error-banner]');
      await banner.waitFor({ state: 'visible', timeout: 120_000 });
      const msg = await banner.innerText();
      assert.match(msg, /does not follow the model contract/);
      assert.ok(msg.includes(path.join(ws, 'broken-model')), `the error names the workspace's model: ${msg}`);
      await s.screenshotBothThemes(page(), 'restricted-trusted-control');
    }),
  );
});
