/**
 * A Hugging Face router family in a real VS Code (code-server + Chromium, the extension installed from the VSIX):
 * the DeepSeek-V3 fixture (test/fixtures/models/hf/deepseek_v3: grouped sigmoid router with correction bias, one
 * shared expert, decoder layer 0 dense) set as damoe.modelPath, one line analysed from the palette. The panel says the
 * router convention, the shared expert as always on and the dense layer as dense; the table and the editor hover name
 * each MoE layer's decoder layer. Screenshots (light and dark): test-results/e2e/hf-deepseek-*.png.
 */
import * as assert from 'assert';
import * as path from 'path';
import { describe, it } from 'node:test';
import * as h from './harness';
import * as s from './support';

const WORKSPACE = path.join(s.ROOT, 'test', 'e2e', 'fixtures', 'workspace');
const MODEL = path.join(s.ROOT, 'test', 'fixtures', 'models', 'hf', 'deepseek_v3');

describe('DA-MoE Inspector in VS Code: a Hugging Face router family', { timeout: 600_000 }, () => {
  const wb = s.useWorkbench('hf-family.test', { workspace: WORKSPACE, trusted: true, theme: 'Light Modern', open: 'reviews.txt' });
  const page = wb.page;

  it(
    'deepseek_v3: router convention, shared expert always on, dense layer 0, decoder layers in the table and hover',
    { timeout: 300_000 },
    () =>
      s.scenario('hf deepseek_v3', async () => {
        // damoe.modelPath is machine-overridable: code-server applies it from the Remote (Machine) settings.
        await s.setSettingInSettingsUI(page(), wb.codeServer().userDataDir, 'damoe.modelPath', MODEL);
        await s.closeModalEditor(page());
        await s.analyzeLine(page(), 1);
        const f = s.routing(page());
        await f.locator('[data-testid=app][data-ready=true]').waitFor({ timeout: 120_000 });
        const shared = f.locator('[data-testid=shared-experts]');
        await shared.waitFor({ state: 'visible', timeout: 120_000 }).catch(async (e: unknown) => {
          // Say what the panel and the notifications show instead (a refused model, an error banner).
          await h.screenshot(page(), 'hf-deepseek-failed');
          const banner = await f
            .locator('[data-testid=error-banner]')
            .innerText({ timeout: 2000 })
            .catch(() => '');
          const notes = (await h.notifications(page())).map((n) => n.message).join(' | ');
          throw new Error(`${String(e)}\n  panel error: ${banner}\n  notifications: ${notes}`);
        });
        assert.equal((await shared.innerText()).trim(), '1 shared expert, always on');
        assert.equal((await f.locator('[data-testid=dense-layers]').innerText()).trim(), 'decoder layer 0 dense (no router)');
        const router = f.locator('[data-testid=router-kind]');
        assert.equal((await router.innerText()).trim(), 'top-2 · sigmoid-group-topk');
        assert.match(
          (await router.getAttribute('title')) ?? '',
          /4 groups, 2 kept, gates normalised, × 2\.5, correction bias in the selection/,
        );
        assert.equal((await f.locator('[data-testid=model-name]').innerText()).trim(), 'deepseek_v3');
        await s.waitForStatus(page(), /deepseek_v3/);
        await s.screenshotBothThemes(page(), 'hf-deepseek-panel');

        // The table names each MoE layer's place among the decoder layers; every token gets its top-2.
        await f.locator('[data-testid=view-mode-table]').click();
        await f.locator('[data-testid=table-row]').first().waitFor({ timeout: 15_000 });
        const headers = (await f.locator('[data-testid=routing-table] thead th').allInnerTexts()).map((t) => t.trim());
        assert.deepEqual(headers.slice(-2), ['L0 (decoder 1) experts', 'L1 (decoder 2) experts']);
        const cells = await f.locator('[data-testid=table-row]').first().locator('td.experts').allInnerTexts();
        // The shared expert runs on every token: each routed cell says so under its top-2.
        for (const c of cells) assert.match(c.trim(), /^K=2:\s+E\d \d\.\d+\s+E\d \d\.\d+\s+\+ 1 shared$/);
        await s.screenshotBothThemes(page(), 'hf-deepseek-table');
        await f.locator('[data-testid=view-mode-chart]').click();

        // The editor hover: one row per MoE layer with its decoder layer, and the always-on expert and dense layer.
        // "wonderful" is one token of the fixture's vocabulary (line 1: "A quiet, moving film with a wonderful cast.").
        await s.focusFile(page(), 'reviews.txt');
        const hover = await h.hoverEditorText(page(), 'wonderful');
        assert.match(hover, /0 \(decoder 1\)/, hover);
        assert.match(hover, /1 \(decoder 2\)/, hover);
        assert.match(hover, /1 shared expert, always on · decoder layer 0 dense \(no router\)/, hover);
        await s.screenshotBothThemes(page(), 'hf-deepseek-hover');
      }),
  );
});
