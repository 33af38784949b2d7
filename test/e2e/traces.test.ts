/**
 * Routing traces and the live source in a real VS Code (code-server + Chromium), the extension installed from the
 * VSIX: DA-MoE: Open Routing Trace on a vLLM 0.21 completions response (prompt ids from the shipped tokenizer), a
 * refused trace, a JSONL of SGLang traces as spot-check statistics, and Analyze Routing with damoe.remote.url on a
 * loopback server that answers in vLLM's documented format (test/fixtures/traces/engine-server.ts, the CLI tests'
 * server), including Cancel from the progress notification. No engine ran: the responses are built from the
 * engines' documented field lists (test/fixtures/traces/engine-responses.ts cites them).
 * Screenshots: test-results/e2e/traces-*.png.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { Tokenizer } from '../../src/core/tokenizer';
import { sglangGenerate, syntheticRouting, vllm021Completion, type TraceSpec } from '../fixtures/traces/engine-responses';
import { startEngineServer, type EngineServer } from '../fixtures/traces/engine-server';
import * as h from './harness';
import * as s from './support';

const T = { timeout: 240_000 };
const [L, K, E] = [3, 2, 8];
const PROMPT = 'A gorgeous, witty and moving film.';
const LIVE = ['The acting is superb and the story moves.'];

/** The routing table's rows: token index -> per layer the expert ids of its cell ("K=2:\nE3\nE5"). */
async function tableRouting(page: Page): Promise<Map<number, { text: string; layers: (number[] | 'not recorded')[] }>> {
  const f = s.routing(page);
  await f.locator('[data-testid=view-mode-table]').click();
  await f.locator('[data-testid=table-row]').first().waitFor({ timeout: 15_000 });
  const rows = await f.locator('[data-testid=table-row]').evaluateAll((trs) =>
    trs.map((tr) => ({
      token: Number((tr as HTMLElement).dataset.token),
      text: tr.querySelector('th.tok-cell')?.textContent ?? '',
      cells: [...tr.querySelectorAll('td.experts')].map((td) => td.textContent ?? ''),
    })),
  );
  const out = new Map<number, { text: string; layers: (number[] | 'not recorded')[] }>();
  for (const r of rows) {
    out.set(r.token, {
      text: r.text,
      layers: r.cells.map((c) => (c.trim() === 'not recorded' ? 'not recorded' : [...c.matchAll(/E(\d+)/g)].map((m) => Number(m[1])))),
    });
  }
  return out;
}

/** Waits until the panel's strip shows exactly these content tokens (a trace has no prediction to wait for). */
async function waitForStrip(page: Page, text: string, timeoutMs = 120_000): Promise<void> {
  const want = s.expectedEncoding(text).content.map((t) => t.text);
  let shown: string[] = [];
  for (const end = Date.now() + timeoutMs; Date.now() < end; await s.sleep(200)) {
    shown = (await s.readStrip(page).catch(() => [])).filter((t) => !t.special).map((t) => t.text);
    const idle = await s
      .routing(page)
      .locator('[data-testid=progress]')
      .isHidden()
      .catch(() => false);
    if (idle && JSON.stringify(shown) === JSON.stringify(want)) return;
  }
  assert.fail(`the routing panel did not show the tokens in time.\n  expected: ${want.join(' ')}\n  shown:    ${shown.join(' ')}`);
}

describe('DA-MoE Inspector in VS Code: routing traces and the live source', { timeout: 900_000 }, () => {
  const tokenizer = Tokenizer.fromFile(path.join(s.SHIPPED_MODEL_DIR, 'tokenizer.json'));
  let server: EngineServer | undefined;
  const ws = s.tmpDir('damoe-e2e-traces-');
  // The served model's folder: the shipped tokenizer.json and a config.json as Hugging Face writes it.
  const modelDir = path.join(ws, 'served-model');
  const promptIds = tokenizer.encode(PROMPT).ids;
  const generatedIds = tokenizer.encode('so good', undefined, { addSpecialTokens: false }).ids;
  const spec: TraceSpec = { promptIds, generatedIds, routing: syntheticRouting(promptIds.length + generatedIds.length, L, K, E, 5) };

  /** The workspace: the served model's folder, vLLM responses (one refused), SGLang traces, prompts, a hooks trace. */
  const writeWorkspace = (): string => {
    fs.mkdirSync(modelDir);
    fs.copyFileSync(path.join(s.SHIPPED_MODEL_DIR, 'tokenizer.json'), path.join(modelDir, 'tokenizer.json'));
    fs.writeFileSync(path.join(modelDir, 'config.json'), JSON.stringify({ num_experts: E, num_experts_per_tok: K, num_hidden_layers: L }));
    fs.writeFileSync(path.join(ws, 'vllm-response.json'), JSON.stringify(vllm021Completion(spec), null, 1));
    // One prompt row too few: refused, naming the field and both shapes.
    const bad = vllm021Completion(spec);
    (bad.prompt_routed_experts as unknown[]).pop();
    fs.writeFileSync(path.join(ws, 'bad-response.json'), JSON.stringify(bad));
    const lines = ['a fine film', 'dull and long', 'it moved me'].map((text, i) => {
      const ids = tokenizer.encode(text).ids;
      const g = [ids[1]];
      return JSON.stringify(
        sglangGenerate({ promptIds: ids, generatedIds: g, routing: syntheticRouting(ids.length + 1, L, K, E, 20 + i) }),
      );
    });
    fs.writeFileSync(path.join(ws, 'traces.jsonl'), `${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(ws, 'prompts.txt'), `${LIVE.join('\n')}\n`);
    // One sequence of the Hugging Face hooks fixture (written by training/damoe/hf_trace.py; make-hf-hooks-trace.py).
    const [hfHead, hfFirst] = fs.readFileSync(path.join(s.ROOT, 'test', 'fixtures', 'traces', 'hf-hooks.jsonl'), 'utf8').split('\n');
    fs.writeFileSync(path.join(ws, 'hf-hooks.jsonl'), `${hfHead}\n${hfFirst}\n`);
    return ws;
  };
  const { page, codeServer } = s.useWorkbench('traces.test', { workspace: writeWorkspace, trusted: true, theme: 'Light Modern' });

  before(async () => {
    server = await startEngineServer({ kind: 'vllm', tokenizer, layers: L, topK: K, numExperts: E, delayMs: 600_000 });
    // Both are machine-overridable: in a remote window (code-server) VS Code applies them from the Remote settings.
    await s.setSettingInSettingsUI(page(), codeServer().userDataDir, 'damoe.trace.tokenizer', modelDir);
    await s.setSettingInSettingsUI(page(), codeServer().userDataDir, 'damoe.remote.url', server.url);
  });

  after(async () => {
    await server?.close();
    fs.rmSync(ws, { recursive: true, force: true });
  });

  it('Open Routing Trace on a vLLM response: every prompt token with exactly the expert ids of prompt_routed_experts', T, () =>
    s.scenario('open vLLM trace', async () => {
      await h.openFile(page(), 'vllm-response.json');
      await h.runCommand(page(), 'DA-MoE: Open Routing Trace');
      const f = s.routing(page());
      await f.locator('[data-testid=app][data-ready=true]').waitFor({ timeout: 120_000 });
      await f.locator('[data-testid=not-recorded]').waitFor({ timeout: 60_000 });
      assert.match(await f.locator('[data-testid=not-recorded]').innerText(), /gates and importance: not recorded/);
      // The strip: every token, prompt (specials included) then generated, the generated ones marked.
      const strip = await s.readStrip(page());
      const enc = tokenizer.encode(PROMPT);
      const genText = generatedIds.map((id) => tokenizer.idToToken(id));
      assert.deepEqual(
        strip.map((t) => t.text),
        [...enc.tokens.map((t) => t.text), ...genText],
      );
      const generated = await f
        .locator('[data-testid=token-strip] .tok.generated')
        .evaluateAll((es) => es.map((e) => Number((e as HTMLElement).dataset.index)));
      assert.deepEqual(
        generated,
        generatedIds.map((_, i) => promptIds.length + i),
        'the generated tokens are marked',
      );
      await s.screenshotBothThemes(page(), 'traces-vllm-panel');

      // The table: each non-special prompt token lists exactly prompt_routed_experts[t][l], in the engine's order.
      const table = await tableRouting(page());
      const contentPrompt = enc.tokens.map((t, i) => ({ t, i })).filter(({ t }) => !t.special);
      for (const { t, i } of contentPrompt) {
        const row = table.get(i);
        assert.ok(row, `token ${i} "${t.text}" has a table row`);
        assert.deepEqual(row.layers, spec.routing[i], `token ${i} "${t.text}": experts per layer`);
      }
      for (let g = 0; g < generatedIds.length; g++) {
        assert.deepEqual(table.get(promptIds.length + g)?.layers, spec.routing[promptIds.length + g], `generated token ${g}`);
      }
      // Gates were not recorded: the cells list expert ids without a gate.
      const cell = await f.locator('[data-testid=table-row]').first().locator('td.experts').first().innerText();
      assert.match(cell.trim(), /^K=2:\s+E\d+\s+E\d+$/);
      await s.screenshotBothThemes(page(), 'traces-vllm-table');
      await f.locator('[data-testid=view-mode-chart]').click();
    }),
  );

  it('a Hugging Face hooks trace opens with gates derived by its router convention', T, () =>
    s.scenario('open HF hooks trace', async () => {
      const expected = JSON.parse(fs.readFileSync(path.join(s.ROOT, 'test', 'fixtures', 'traces', 'hf-hooks.expected.json'), 'utf8')) as {
        sequences: { experts: number[][]; gates: number[][] }[][];
      };
      await h.openFile(page(), 'hf-hooks.jsonl');
      await h.runCommand(page(), 'DA-MoE: Open Routing Trace');
      const f = s.routing(page());
      await f.locator('[data-testid=trace-format]', { hasText: 'hf-hooks' }).waitFor({ timeout: 60_000 });
      assert.match(await f.locator('[data-testid=not-recorded]').innerText(), /gates derived from the recorded router logits/);
      const table = await tableRouting(page());
      const want = expected.sequences[0];
      for (const [t, row] of table)
        for (let l = 0; l < row.layers.length; l++) assert.deepEqual(row.layers[l], want[l].experts[t], `token ${t} layer ${l}`);
      const cell = await f.locator('[data-testid=table-row]').first().locator('td.experts').first().innerText();
      assert.match(cell.trim(), /^K=2:\s+E\d+ 0\.\d+\s+E\d+ 0\.\d+$/, 'gates shown beside the experts');
      await s.screenshotBothThemes(page(), 'traces-hf-hooks-table');
      await f.locator('[data-testid=view-mode-chart]').click();
    }),
  );

  it('a bad trace is refused in the panel banner, naming the field, the expected and the found shape', T, () =>
    s.scenario('bad trace', async () => {
      await h.openFile(page(), 'bad-response.json');
      await h.runCommand(page(), 'DA-MoE: Open Routing Trace');
      const banner = s.routing(page()).locator('[data-testid=error-banner]');
      await banner.waitFor({ state: 'visible', timeout: 60_000 });
      const text = await banner.innerText();
      const P = promptIds.length;
      assert.ok(text.includes(`prompt_routed_experts: expected [${P}, num_moe_layers, top_k]`), text);
      assert.ok(text.includes(`found [${P - 1}, ${L}, ${K}]`), text);
      await h.screenshot(page(), 'traces-bad-light');
    }),
  );

  it('a JSONL of traces opens as spot-check statistics', T, () =>
    s.scenario('JSONL statistics', async () => {
      await h.openFile(page(), 'traces.jsonl');
      await h.runCommand(page(), 'DA-MoE: Open Routing Trace');
      const f = await s.frameWith(page(), '[data-testid=spotcheck-expert-load-layer]');
      assert.equal(await f.locator('[data-testid=spotcheck-expert-load-layer]').count(), L);
      assert.equal((await f.locator('[data-testid=spotcheck-dataset]').innerText()).trim(), 'traces.jsonl');
      assert.equal(await f.locator('[data-testid=spotcheck-example-row]').count(), 3);
      await s.screenshotBothThemes(page(), 'traces-jsonl-spotcheck');
    }),
  );

  it('Analyze Routing with damoe.remote.url: the prompt tokens with the routing the server recorded', T, () =>
    s.scenario('live source', async () => {
      await h.openFile(page(), 'prompts.txt');
      await s.analyzeLine(page(), 1, 'prompts.txt');
      await waitForStrip(page(), LIVE[0]);
      const req = server!.requests.at(-1)!;
      assert.equal(req.path, '/v1/completions');
      assert.equal(req.body.prompt, LIVE[0]);
      assert.equal(req.body.max_tokens, 1);
      assert.equal(req.body.return_token_ids, true);
      const routing = server!.lastRouting!;
      const enc = tokenizer.encode(LIVE[0]);
      const table = await tableRouting(page());
      for (const [i, t] of enc.tokens.entries())
        if (!t.special) assert.deepEqual(table.get(i)?.layers, routing[i], `token ${i} "${t.text}"`);
      assert.equal(table.size, enc.tokens.filter((t) => !t.special).length, 'only the prompt tokens: the one generated token is not shown');
      await s.screenshotBothThemes(page(), 'traces-live');
      await s.routing(page()).locator('[data-testid=view-mode-chart]').click();
    }),
  );

  it('Cancel in the progress notification closes the HTTP request; the last analysis stays', T, () =>
    s.scenario('live source cancel', async () => {
      server!.setBehaviour('slow');
      const before = server!.aborted;
      // Line 1 is still selected in prompts.txt: ask again (the server now holds its answer back).
      await s.focusFile(page(), 'prompts.txt');
      await h.runCommand(page(), s.ANALYZE);
      const toast = page().locator('.notifications-toasts .notification-toast').filter({ hasText: 'for the routing' });
      await toast.waitFor({ state: 'visible', timeout: 30_000 }).catch(async (e: unknown) => {
        await h.screenshot(page(), 'traces-live-cancel-failed');
        throw e;
      });
      await h.screenshot(page(), 'traces-live-cancel-light');
      await toast.getByRole('button', { name: 'Cancel' }).click();
      for (const end = Date.now() + 20_000; server!.aborted === before && Date.now() < end;) await s.sleep(100);
      assert.equal(server!.aborted, before + 1, 'the server saw the connection closed before its answer');
      await toast.waitFor({ state: 'hidden', timeout: 20_000 });
      const f = s.routing(page());
      assert.equal(await f.locator('[data-testid=error-banner]').isVisible(), false, 'a cancel is not an error');
      const strip = (await s.readStrip(page())).filter((t) => !t.special).map((t) => t.text);
      assert.deepEqual(
        strip,
        s.expectedEncoding(LIVE[0]).content.map((t) => t.text),
        'the previous analysis is still shown',
      );
      server!.setBehaviour('routing');
    }),
  );
});
