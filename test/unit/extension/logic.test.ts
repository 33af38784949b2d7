import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { TokenIndex } from '../../../src/extension/routing/tokenIndex';
import { changeMakesStale, changesMakeStale } from '../../../src/extension/routing/staleness';
import { AnalysisSession } from '../../../src/extension/routing/session';
import { buildTokenHoverMarkdown, escapeMarkdown, STALE_HOVER } from '../../../src/extension/routing/hoverLogic';
import { importanceBuckets } from '../../../src/extension/routing/importance';
import { engineKey, resolveModelDir, resolveTrustAware, sanitizeEngineSettings } from '../../../src/extension/model/configLogic';
import { LatestWins } from '../../../src/extension/routing/latestWins';
import { describeError, isCancellation } from '../../../src/extension/errorsLogic';
import { EngineError } from '../../../src/core/engine-api';
import { makeAnalysis } from './fixtures';

describe('TokenIndex: token at an offset', () => {
  const idx = new TokenIndex(makeAnalysis().tokens);
  it('finds the token whose [start, end) holds the offset; skips specials', () => {
    assert.equal(idx.size, 3);
    assert.equal(idx.at(0), 1);
    assert.equal(idx.at(2), 1);
    assert.equal(idx.at(4), 2);
    assert.equal(idx.at(8), 2);
    assert.equal(idx.at(12), 3);
  });
  it('returns null between tokens, before, after, and for non-numbers', () => {
    assert.equal(idx.at(3), null); // the space
    assert.equal(idx.at(-1), null);
    assert.equal(idx.at(13), null);
    assert.equal(idx.at(Number.NaN), null);
  });
  it('inclusiveEnd: a cursor right after a token is on it, unless a token starts there', () => {
    assert.equal(idx.at(3, true), 1);
    assert.equal(idx.at(13, true), 3);
    const adj = new TokenIndex([
      { index: 0, id: 1, text: 'ab', start: 0, end: 2, special: false },
      { index: 1, id: 2, text: 'cd', start: 2, end: 4, special: false },
    ]);
    assert.equal(adj.at(2, true), 1);
  });
  it('tokens sharing one span resolve to the first; unsorted input is fine', () => {
    const t = new TokenIndex([
      { index: 2, id: 3, text: 'z', start: 5, end: 6, special: false },
      { index: 1, id: 2, text: '\u00a2', start: 0, end: 1, special: false },
      { index: 0, id: 1, text: '\u00e2', start: 0, end: 1, special: false },
    ]);
    assert.equal(t.at(0), 0);
    assert.equal(t.at(5), 2);
    assert.equal(t.at(3), null);
  });
  it('is fast on long inputs (binary search)', () => {
    const tokens = Array.from({ length: 100_000 }, (_, i) => ({
      index: i,
      id: i,
      text: 'ab',
      start: 3 * i,
      end: 3 * i + 2,
      special: false,
    }));
    const big = new TokenIndex(tokens);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) assert.equal(big.at(3 * i + 1), i);
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 2000);
  });
});

describe('staleness rules', () => {
  const c = (rangeOffset: number, rangeLength: number, text: string) => ({ rangeOffset, rangeLength, text });
  it('edits after the analysed text do not make it stale (typing right after included)', () => {
    assert.equal(changeMakesStale(10, 20, c(20, 0, 'x')), false);
    assert.equal(changeMakesStale(10, 20, c(25, 3, '')), false);
  });
  it('edits before or inside make it stale (insertions at its start too)', () => {
    assert.equal(changeMakesStale(10, 20, c(0, 0, 'x')), true);
    assert.equal(changeMakesStale(10, 20, c(10, 0, 'x')), true);
    assert.equal(changeMakesStale(10, 20, c(15, 1, 'y')), true);
    assert.equal(changeMakesStale(10, 20, c(5, 10, '')), true);
    assert.equal(changeMakesStale(10, 20, c(19, 5, '')), true);
  });
  it('no-op changes are ignored; any stale change in a batch wins', () => {
    assert.equal(changeMakesStale(10, 20, c(0, 0, '')), false);
    assert.equal(changesMakeStale(10, 20, [c(30, 0, 'x'), c(2, 1, '')]), true);
    assert.equal(changesMakeStale(10, 20, [c(30, 0, 'x'), c(40, 1, '')]), false);
  });
});

describe('AnalysisSession', () => {
  const uri = 'file:///doc.txt';
  it('maps document offsets through the base offset, and token ranges back', () => {
    const s = new AnalysisSession();
    s.set(makeAnalysis(), { uri, version: 3, baseOffset: 100 });
    assert.equal(s.tokenAtDocumentOffset(104), 2);
    assert.equal(s.tokenAtDocumentOffset(99), null);
    assert.equal(s.tokenAtDocumentOffset(4), null);
    assert.deepEqual(s.documentRangeOf(3), { start: 110, end: 113 });
    assert.equal(s.documentRangeOf(0), null); // special
    assert.equal(s.documentRangeOf(99), null);
    assert.equal(s.documentRangeOf(1.5), null);
    assert.ok(s.isLiveFor(uri, 3));
    assert.ok(!s.isLiveFor(uri, 4));
    assert.ok(!s.isLiveFor('file:///other.txt', 3));
  });
  it('edits after keep it live (version follows); edits before/inside mark it stale once', () => {
    const s = new AnalysisSession();
    const events: boolean[] = [];
    s.onStaleChange((st) => events.push(st));
    s.set(makeAnalysis(), { uri, version: 1, baseOffset: 100 });
    assert.equal(s.applyChange(uri, 2, [{ rangeOffset: 113, rangeLength: 0, text: '!' }]), false);
    assert.ok(s.isLiveFor(uri, 2));
    assert.equal(s.applyChange('file:///other.txt', 3, [{ rangeOffset: 0, rangeLength: 0, text: 'x' }]), false);
    assert.ok(s.isLiveFor(uri, 2));
    assert.equal(s.applyChange(uri, 3, [{ rangeOffset: 50, rangeLength: 0, text: 'x' }]), true);
    assert.ok(s.stale);
    assert.ok(!s.isLiveFor(uri, 3));
    assert.ok(s.covers(uri));
    assert.ok(s.containsDocumentOffset(100) && !s.containsDocumentOffset(113));
    assert.equal(s.applyChange(uri, 4, [{ rangeOffset: 105, rangeLength: 1, text: '' }]), false); // already stale
    assert.deepEqual(events, [true]);
  });
  it('a new analysis replaces a stale one', () => {
    const s = new AnalysisSession();
    s.set(makeAnalysis(), { uri, version: 1, baseOffset: 0 });
    s.markStale();
    s.set(makeAnalysis(), { uri, version: 5, baseOffset: 0 });
    assert.ok(!s.stale && s.isLiveFor(uri, 5));
  });
  it('without an anchor (restored panel) nothing links to the editor', () => {
    const s = new AnalysisSession();
    s.set(makeAnalysis(), null);
    assert.equal(s.tokenAtDocumentOffset(1), null);
    assert.equal(s.documentRangeOf(1), null);
    assert.ok(!s.covers(uri));
  });
});

describe('hover markdown', () => {
  it('shows the token, its importance, and one row per layer with K and experts with gates', () => {
    const md = buildTokenHoverMarkdown(makeAnalysis(), 2)!;
    assert.match(md, /token 2 `quick`/);
    assert.match(md, /importance 2\.000 \(mean over layers\)/);
    assert.match(md, /\| layer \| importance \| K \| top experts \(gate\) \|/);
    assert.match(md, /\| 0 \| 1\.500 \| 3 \/ 4 \| E5 0\.50 · E1 0\.30 · E7 0\.20 \|/);
    assert.match(md, /\| 1 \| 2\.500 \| 3 \/ 4 \|/);
    assert.equal(md.split('\n').filter((l) => /^\| \d/.test(l)).length, 2);
  });
  it('caps the experts shown and says how many more', () => {
    const md = buildTokenHoverMarkdown(makeAnalysis(), 2, 2)!;
    assert.match(md, /E5 0\.50 · E1 0\.30 · \+1 \|/);
  });
  it('router_logits models: importance is "not available", not zero', () => {
    const a = makeAnalysis();
    a.model.routingSource = 'router_logits';
    const md = buildTokenHoverMarkdown(a, 2)!;
    assert.match(md, /importance not available/);
    assert.match(md, /\| 0 \| — \| 3 \/ 4 \|/);
  });
  it('token text cannot inject markdown or break the code span', () => {
    const a = makeAnalysis();
    a.tokens[2] = { ...a.tokens[2], text: '`[x](command:evil)`\n' };
    const md = buildTokenHoverMarkdown(a, 2)!;
    const first = md.split('\n')[0];
    assert.equal((first.match(/`/g) ?? []).length, 2);
    assert.equal(escapeMarkdown('a|b*c<d>'), 'a\\|b\\*c\\<d\\>');
  });
  it('out-of-range token → null; the stale text tells what to do', () => {
    assert.equal(buildTokenHoverMarkdown(makeAnalysis(), 42), null);
    assert.match(STALE_HOVER, /text changed since analysis — re-run \*\*Analyze Routing\*\*/);
  });
});

describe('importance buckets', () => {
  it('buckets mean importance relative to the maximum; specials get none', () => {
    const b = importanceBuckets(makeAnalysis());
    // means: the 0.5, quick 2.0 (max), fox 1.0 → floor(0.25*5)=1, 5 capped to 4, floor(0.5*5)=2
    assert.deepEqual(b, [-1, 1, 4, 2, -1]);
  });
  it('no importance → no highlights', () => {
    const a = makeAnalysis();
    a.model.routingSource = 'router_logits';
    assert.deepEqual(importanceBuckets(a), [-1, -1, -1, -1, -1]);
  });
});

describe('trust-aware settings', () => {
  const inspected = { defaultValue: '', globalValue: '/home/me/model', workspaceValue: '/repo/evil', workspaceFolderValue: '/repo/evil2' };
  it('trusted: folder > workspace > global > default', () => {
    assert.equal(resolveTrustAware(inspected, true), '/repo/evil2');
    assert.equal(resolveTrustAware({ ...inspected, workspaceFolderValue: undefined }, true), '/repo/evil');
  });
  it('untrusted: workspace and folder values are ignored', () => {
    assert.equal(resolveTrustAware(inspected, false), '/home/me/model');
    assert.equal(resolveTrustAware({ defaultValue: '', workspaceValue: '/repo/evil' }, false), '');
    assert.equal(resolveTrustAware(undefined, false), undefined);
  });
  it('model dir: empty → shipped default, bare name → shipped, ~ → home, relative → workspace folder', () => {
    const ctx = { extensionPath: '/ext', workspaceFolder: '/ws', homeDir: '/home/me' };
    assert.equal(resolveModelDir('', ctx), path.join('/ext', 'models', 'damoe-sst2'));
    assert.equal(resolveModelDir('  ', ctx), path.join('/ext', 'models', 'damoe-sst2'));
    assert.equal(resolveModelDir('topk-sst2', ctx), path.join('/ext', 'models', 'topk-sst2'));
    assert.equal(resolveModelDir('~/m', ctx), path.join('/home/me', 'm'));
    assert.equal(resolveModelDir('/abs/m/', ctx), '/abs/m/');
    assert.equal(resolveModelDir('./m', ctx), path.join('/ws', 'm'));
    assert.equal(resolveModelDir('..', ctx), '/');
  });
  it('engine settings are sanitised, and the cache key changes with each', () => {
    const s = sanitizeEngineSettings({ modelDir: '/m', executionProvider: 'tpu', threads: -1, maxTokens: 1.5 });
    assert.deepEqual(s, { modelDir: '/m', executionProvider: 'auto', threads: 0, maxTokens: 512 });
    const k = engineKey(s);
    assert.notEqual(engineKey({ ...s, threads: 2 }), k);
    assert.notEqual(engineKey({ ...s, executionProvider: 'cpu' }), k);
    assert.notEqual(engineKey({ ...s, modelDir: '/n' }), k);
    assert.equal(engineKey({ ...s }), k);
  });
});

describe('latest wins', () => {
  it('a new request aborts the running one; only the newest finishes the progress', () => {
    const lw = new LatestWins();
    const a = lw.begin();
    const b = lw.begin();
    assert.ok(a.signal.aborted && !a.isCurrent());
    assert.ok(!b.signal.aborted && b.isCurrent());
    assert.equal(lw.finish(a), false);
    assert.ok(lw.running);
    assert.equal(lw.finish(b), true);
    assert.ok(!lw.running);
  });
});

describe('user-facing errors', () => {
  it('contract violations: first violation, count, and Select Model / Show Output', () => {
    const ue = describeError(
      new EngineError('contract-violation', 'bad model', ['expert_gates: expected 4 dims, found 3', 'labels missing']),
      '/m',
    );
    assert.match(ue.message, /does not follow the model contract: expert_gates: expected 4 dims, found 3 \(\+1 more in the output\)/);
    assert.deepEqual(ue.actions, ['Select Model', 'Show Output']);
    assert.equal(ue.details.length, 2);
  });
  it('a model onnxruntime cannot load: named as a load failure (not "failed on this text"), with Select Model', () => {
    const ue = describeError(new EngineError('model-load-failed', 'onnxruntime could not load /m/model.onnx: no such op'), '/m');
    assert.match(ue.message, /^DA-MoE: the model at \/m could not be loaded: onnxruntime could not load .* Pick another model/);
    assert.doesNotMatch(ue.message, /on this text/);
    assert.deepEqual(ue.actions, ['Select Model', 'Show Output']);
    assert.ok(ue.dropEngine);
  });
  it('a crashed worker drops the engine; cancellations are recognised', () => {
    assert.ok(describeError(new EngineError('worker-crashed', 'exit 139'), '/m').dropEngine);
    assert.ok(isCancellation(new EngineError('cancelled', 'superseded')));
    assert.ok(!isCancellation(new Error('x')));
    // An error that crossed a boundary (plain object with the same shape) is still an engine error.
    const like = Object.assign(new Error('gone'), { name: 'EngineError', code: 'model-not-found' });
    assert.deepEqual(describeError(like, '/m').actions, ['Select Model', 'Show Output']);
    assert.match(describeError(new TypeError('boom'), '/m').message, /unexpected error: boom/);
  });
});
