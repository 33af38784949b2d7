import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { SpotCheckReportBuilder } from '../../../src/core/spotcheck/report';
import { escapeHtml, renderSpotCheckHtml } from '../../../src/report/html';
import { hexAt } from '../../../src/shared/palette';
import type { NodePlacement, ProviderReport } from '../../../src/shared/analysis';
import { fakeAnalysis, MODEL, threeExamples } from '../core/spotcheck/fake';

const XSS = '<img src=x onerror=alert(1)>';
const CPU_AFTER_CUDA: ProviderReport = { requested: 'auto', used: 'cpu', skipped: [{ provider: 'cuda', reason: '<no cuda>' }] };
const PLACEMENT: NodePlacement = {
  gpu_nodes: 382,
  cpu_nodes: 93,
  cpu_ops: ['Unsqueeze', 'NonZero'],
  cpu_op_counts: { Unsqueeze: 89, NonZero: 4 },
  memcpy_nodes: 39,
  gpu_provider: 'WebGpuExecutionProvider',
  source: 'onnxruntime-profile',
};

function report(cancelled = false, xssLabel = '1', provider: ProviderReport = CPU_AFTER_CUDA) {
  const b = new SpotCheckReportBuilder(MODEL, { minTokenCount: 1 });
  for (const { record, analysis } of threeExamples()) b.add(record, analysis);
  b.add(
    { line: 7, text: `${XSS} "q" & 'a'`, pair: '</script><script>alert(2)</script>', label: xssLabel },
    fakeAnalysis(XSS, [{ text: '<tok>', k: [1, 1], imp: [1, 1] }], [0.5, 0.5]),
  );
  return b.build({
    dataset: {
      path: '/data/<evil>.tsv',
      format: 'tsv',
      columns: ['sentence', 'label'],
      text_column: 'sentence',
      pair_column: null,
      label_column: 'label',
      rows: 5,
      records: 4,
    },
    sample: { requested: 500, seed: 0, size: 4, stratified: false, strata: [{ label: '<b>1</b>', seen: 1, taken: 1 }], note: null },
    provider,
    threads: 1,
    cancelled,
    elapsedMs: 100,
    readerSkipped: { count: 1, first: [{ line: 4, reason: 'bad <row>' }] },
  });
}

describe('renderSpotCheckHtml', () => {
  const html = renderSpotCheckHtml(report());

  it('issue 14: compute against fixed top-2 and top-K max, no K=0 bar, charts fill the width', () => {
    const r = report();
    assert.match(
      html,
      new RegExp(`>${(100 * (r.flops.spent / r.flops.fixed_top_2)).toFixed(1)}%</div><div class="k">expert compute vs fixed top-2<`),
    );
    if (r.model.k_max !== 2) assert.match(html, new RegExp(`expert compute vs fixed top-${r.model.k_max}<`));
    assert.doesNotMatch(html, />K=0</, 'no K=0 bin');
    assert.match(html, />K=1</);
    assert.match(html, /\.charts\{display:grid;grid-template-columns:repeat\(auto-fill,minmax\(260px,1fr\)\)/);
    assert.match(html, /figure\.chart svg\{display:block;width:100%;height:auto/);
    assert.doesNotMatch(html, /max-width:640px/);
  });

  it('importance vs occlusion: rho per layer with interval and n, the subset and its seed; absent without the check', () => {
    assert.doesNotMatch(html, /Importance vs occlusion/);
    const r = report();
    r.importance_check = {
      occlusion: 'deletion',
      measure: 'predicted-class-probability-drop',
      pooling: 'tokens',
      n: 4709,
      texts: 200,
      requested: 200,
      skipped: 0,
      seed: 'importance:42',
      sequences: 4909,
      mean_drop: 0.0121,
      max_drop: 0.7992,
      layers: [
        { layer: 0, spearman: 0.0786, n: 4709, ci95: [0.049, 0.108], mean_text_spearman: 0.1112, texts: 200 },
        { layer: 1, spearman: null, n: 1, ci95: null, mean_text_spearman: null, texts: 0 },
      ],
    };
    const out = renderSpotCheckHtml(r);
    assert.match(out, /<section id="importance-check"><h2>Importance vs occlusion<\/h2>/);
    assert.match(out, /200 of the sample(?:'|&#39;)s examples \(200 asked for, drawn with seed importance:42\)/);
    assert.match(out, /pooled over all 4709 tokens \(4909 model inputs\)/);
    assert.match(
      out,
      /<th scope="row">layer 0<\/th><td class="num">\+0\.079 \[\+0\.049, \+0\.108\] \(n 4709\)<\/td><td class="num">0\.111 \(200\)<\/td>/,
    );
    assert.match(out, /<th scope="row">layer 1<\/th><td class="num">n\/a \(n 1\)<\/td><td class="num">n\/a<\/td>/);
  });

  it('escapes every dataset and model string', () => {
    const html = renderSpotCheckHtml(report(false, '<b>1</b>'));
    assert.doesNotMatch(html, /<img/i);
    assert.doesNotMatch(html, /<b>1<\/b>/);
    assert.doesNotMatch(html, /<\/script><script>alert/);
    assert.doesNotMatch(html, /<tok>/);
    assert.doesNotMatch(html, /<evil>/);
    assert.doesNotMatch(html, /bad <row>/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt; &quot;q&quot; &amp; &#39;a&#39;/);
    assert.match(html, /&lt;\/script&gt;&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
    assert.equal((html.match(/<script/g) ?? []).length, 1, "only the report's own inline script");
  });

  it('shows the node placement of a GPU provider, and the graph file that ran; nothing of the kind on cpu', () => {
    const r = report(false, '1', { requested: 'webgpu', used: 'webgpu', skipped: [], placement: PLACEMENT, modelFile: 'model.gpu.onnx' });
    assert.deepEqual(r.execution_provider?.placement, PLACEMENT);
    assert.equal(r.execution_provider?.model_file, 'model.gpu.onnx');
    const gpuHtml = renderSpotCheckHtml(r);
    assert.match(gpuHtml, /provider webgpu \(requested webgpu, graph model\.gpu\.onnx\)/);
    assert.match(
      gpuHtml,
      /Node placement \(WebGpuExecutionProvider, from onnxruntime's profile\): 382 nodes on GPU, 93 on CPU \(Unsqueeze ×89, NonZero ×4\), 39 GPU↔CPU copies/,
    );
    assert.doesNotMatch(html, /Node placement/);
    const unknown = report(false, '1', { requested: 'webgpu', used: 'webgpu', skipped: [], placementProblem: 'no <profile>' });
    assert.match(renderSpotCheckHtml(unknown), /Node placement not known: no &lt;profile&gt;/);
  });

  it('is self-contained: no external resources, no network', () => {
    assert.doesNotMatch(html, /https?:\/\//);
    assert.doesNotMatch(html, /<(script|img|iframe|link|embed|object)[^>]*\ssrc=/i);
    assert.doesNotMatch(html, /<link\b/i);
    assert.doesNotMatch(html, /@import|url\(|@font-face/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });

  it('has every view, light and dark, and the sortable, filterable examples table', () => {
    for (const heading of [
      'Accuracy and confusion',
      'K per token',
      'Expert load',
      'Co-activation',
      'Routing per label',
      'Most and least important tokens',
      'Skipped rows',
      'Examples',
    ]) {
      assert.ok(html.includes(`<h2>${heading}`), heading);
    }
    assert.match(html, /@media \(prefers-color-scheme:dark\)/);
    assert.match(html, /<table id="examples"/);
    assert.match(html, /<input type="search" id="q"/);
    assert.match(html, /<select id="state">/);
    assert.match(html, /data-state="wrong"/);
    assert.match(html, /data-state="correct"/);
    assert.match(html, /dead: 2/, 'dead experts are named');
    assert.match(html, /class="dead"/);
    assert.match(html, /line 4: bad &lt;row&gt;/);
    assert.doesNotMatch(html, /Cancelled:/);
    assert.match(renderSpotCheckHtml(report(true)), /Cancelled: 4 of 4 examples/);
  });

  it('a nonce goes on the inline style and script and into the CSP', () => {
    const withNonce = renderSpotCheckHtml(report(), { nonce: 'abc123' });
    assert.match(withNonce, /<style nonce="abc123">/);
    assert.match(withNonce, /<script nonce="abc123">/);
    assert.match(withNonce, /script-src 'nonce-abc123'/);
    assert.doesNotMatch(renderSpotCheckHtml(report(), { csp: false }), /Content-Security-Policy/);
  });

  it('escapeHtml', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it("colours with the panels' palette (src/shared/palette.ts)", () => {
    const html = renderSpotCheckHtml(report());
    const fills = [...html.matchAll(/fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    assert.ok(fills.length > 0);
    const lut = new Set(Array.from({ length: 256 }, (_, i) => hexAt(i / 255)));
    for (const f of fills) assert.ok(lut.has(f), `${f} is not a palette colour`);
  });
});
