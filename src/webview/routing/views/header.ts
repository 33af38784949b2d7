/** Model, router, provider, latency, token count, prediction bars, windowing badge and the banners. */
import type { Analysis } from '../../../shared/analysis';
import { placementBrief, providerDetails } from '../../../shared/provider-text';
import type { Ctx, View } from '../context';
import { clear, el, fmtCount, fmtMs, fmtPct } from '../../shared/dom';
import { showErrorBanner } from '../../shared/error-banner';
import { denseLayersDescription, routerDescription, sharedExpertsDescription } from '../../../shared/router-text';

function routerText(a: Analysis): string {
  return a.model.routerKind === 'da-moe' ? `DA-MoE · dynamic K ≤ ${a.model.kMax}` : `top-${a.model.kMax}`;
}

/**
 * Expert compute against the shipped fixed-K baseline (top-2) first, and against top-K max: "101.5% of top-2"
 * (title: the top-K max figure and the totals).
 */
function computeFact(
  a: Analysis,
  fact: (label: string, value: string, testid?: string, title?: string) => HTMLElement,
): HTMLElement | null {
  const f = a.stats.flops;
  if (!f || !(f.fixedTop2 > 0)) return null;
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const unit = f.unit === 'expert-evaluations' ? 'expert evaluations' : 'FLOP';
  const vsMax = a.model.kMax !== 2 && f.fixedTopKMax > 0 ? `, ${pct(f.spent / f.fixedTopKMax)} of top-${a.model.kMax}` : '';
  return fact(
    'expert compute',
    `${pct(f.spent / f.fixedTop2)} of top-2${vsMax}`,
    'compute',
    `${fmtCount(f.spent)} ${unit} spent; fixed top-2 would spend ${fmtCount(f.fixedTop2)}, fixed top-${a.model.kMax} ${fmtCount(f.fixedTopKMax)}`,
  );
}

export class HeaderView implements View {
  readonly root = el('header', { class: 'header', testid: 'header' });
  private readonly facts = el('div', { class: 'facts' });
  private readonly prediction = el('div', {
    class: 'prediction',
    testid: 'prediction',
    attrs: { role: 'group', 'aria-label': 'Prediction' },
  });
  private readonly banners = el('div', { class: 'banners' });
  private readonly stale = el('div', {
    class: 'banner banner-warning',
    testid: 'stale-banner',
    attrs: { role: 'status', hidden: true },
    text: 'The document changed since this analysis: token positions may no longer match. Run the inspection again to refresh.',
  });
  private readonly progress = el('div', {
    class: 'banner banner-progress',
    testid: 'progress',
    attrs: { role: 'status', 'aria-live': 'polite', hidden: true },
  });
  private readonly error = el('div', { class: 'banner banner-error', testid: 'error-banner', attrs: { role: 'alert', hidden: true } });
  private readonly notice = el('div', { class: 'banner banner-info', testid: 'notice', attrs: { role: 'status', hidden: true } });

  constructor(private readonly ctx: Ctx) {
    this.root.append(el('div', { class: 'header-main' }, [this.facts, this.prediction]), this.banners);
    this.banners.append(this.stale, this.progress, this.error, this.notice);
  }

  update(changed: ReadonlySet<string>): void {
    const s = this.ctx.store.get();
    if (changed.has('analysis')) this.renderAnalysis(s.analysis);
    if (changed.has('stale') || changed.has('analysis')) this.stale.hidden = !(s.stale && s.analysis);
    if (changed.has('running') || changed.has('progressMessage')) {
      this.progress.hidden = !s.running;
      this.progress.textContent = s.running ? (s.progressMessage ?? 'Running the model…') : '';
      this.root.setAttribute('aria-busy', String(s.running));
    }
    if (changed.has('error') || changed.has('errorActions'))
      showErrorBanner(this.error, s.error || null, s.errorActions, (action) => this.ctx.errorAction(action));
    if (changed.has('notice')) {
      this.notice.hidden = !s.notice;
      this.notice.textContent = s.notice ?? '';
    }
  }

  /** A causal LM has no class: its perplexity over the text, and how often the next token was predicted. */
  private renderLanguageModel(a: Analysis): void {
    const lm = a.languageModel;
    this.prediction.append(
      el('div', { class: 'prediction-title' }, [
        el('span', { class: 'fact-label', text: 'perplexity' }),
        el('strong', { testid: 'perplexity', text: lm ? lm.perplexity.toFixed(2) : 'n/a' }),
      ]),
    );
    if (!lm) return;
    this.prediction.append(
      el('div', {
        class: 'muted small lm-summary',
        testid: 'lm-summary',
        text:
          `mean loss ${lm.meanLoss.toFixed(3)} nats over ${lm.scoredTokens} tokens · next token in top-1 ` +
          `${(100 * lm.top1Accuracy).toFixed(0)}%, top-${lm.predictionsPerToken} ${(100 * lm.topKAccuracy).toFixed(0)}%`,
      }),
    );
  }

  private renderAnalysis(a: Analysis | null): void {
    clear(this.facts);
    clear(this.prediction);
    if (!a) {
      this.facts.append(
        el('h1', { class: 'model-name', testid: 'model-name', text: 'DA-MoE routing' }),
        el('p', { class: 'muted', text: 'No analysis yet. Select text and run “DA-MoE: Analyze Routing”.' }),
      );
      return;
    }
    const pr = a.provider;
    const providerTitle = pr ? providerDetails(pr).join('\n') : 'a routing trace: the serving engine ran the model';
    const tokens = a.tokens.length;
    const content = a.tokens.filter((t) => !t.special).length;
    const fact = (label: string, value: Node | string, testid?: string, title?: string): HTMLElement =>
      el('div', { class: 'fact', testid, attrs: { title } }, [
        el('span', { class: 'fact-label', text: label }),
        el('span', { class: 'fact-value' }, [value]),
      ]);

    const providerValue = el('span', { class: 'provider', testid: 'provider', attrs: { title: providerTitle } }, [
      pr ? pr.used : (a.model.trace?.engine ?? 'engine'),
      pr && pr.skipped.length > 0 ? el('span', { class: 'muted', text: ` (${pr.skipped.length} skipped)` }) : null,
      pr?.placement ? el('span', { class: 'muted', testid: 'provider-placement', text: ` · ${placementBrief(pr.placement)}` }) : null,
    ]);
    const title = el('div', { class: 'title-row' }, [
      el('h1', { class: 'model-name', testid: 'model-name', text: a.model.name, attrs: { title: a.model.path } }),
      el('span', {
        class: 'chip',
        testid: 'router-kind',
        text: a.model.router ? `${routerText(a)} · ${a.model.router.convention}` : routerText(a),
        attrs: { title: routerDescription(a.model) ?? `routing from ${a.model.routingSource}` },
      }),
    ]);
    // Experts no router chooses: shared experts every token goes through, layers with a dense MLP.
    const shared = sharedExpertsDescription(a.model);
    if (shared) title.append(el('span', { class: 'chip', testid: 'shared-experts', text: shared }));
    const dense = denseLayersDescription(a.model);
    if (dense) title.append(el('span', { class: 'chip', testid: 'dense-layers', text: dense }));
    if (a.windowing) {
      const w = a.windowing;
      const details = `${w.windows} windows of ${w.windowTokens} tokens, ${w.overlapTokens} overlapping; predictions merged by ${w.predictionMerge}`;
      const badge = el('vscode-badge', {
        class: 'windowed-badge',
        testid: 'windowed-badge',
        text: 'windowed',
        attrs: { title: details, 'aria-label': `windowed: ${details}` },
      });
      title.append(
        badge,
        el('span', {
          class: 'muted small',
          testid: 'windowed-details',
          text: `${w.windows} × ${w.windowTokens} tok, overlap ${w.overlapTokens}`,
        }),
      );
    }
    this.facts.append(
      title,
      el('div', { class: 'fact-row' }, [
        fact('provider', providerValue, undefined, providerTitle),
        fact(
          'latency',
          fmtMs(a.timings.totalMs),
          'latency',
          `tokenize ${fmtMs(a.timings.tokenizeMs)}, inference ${fmtMs(a.timings.inferenceMs)}, analysis ${fmtMs(a.timings.analysisMs)}`,
        ),
        fact('tokens', String(tokens), 'token-count', `${content} text tokens + ${tokens - content} special`),
        fact('model', `${a.model.numLayers} layers × ${a.model.numExperts} experts`, 'model-shape'),
        fact('mean K', a.stats.meanK.overall.toFixed(2), 'mean-k'),
        computeFact(a, fact),
      ]),
    );

    if (!a.prediction) {
      if (a.model.routingSource === 'trace') this.renderTrace(a);
      else this.renderLanguageModel(a);
      return;
    }
    const predicted = a.prediction;
    const probs = predicted.probabilities;
    this.prediction.append(
      el('div', { class: 'prediction-title' }, [
        el('span', { class: 'fact-label', text: 'prediction' }),
        el('strong', { testid: 'prediction-label', text: predicted.label }),
      ]),
    );
    a.model.labels.forEach((label, i) => {
      const p = probs[i] ?? 0;
      const fill = el('div', { class: 'pbar-fill' + (i === predicted.index ? ' predicted' : '') });
      fill.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
      this.prediction.append(
        el('div', { class: 'pbar-row', testid: 'prediction-row', attrs: { 'data-label': label } }, [
          el('span', { class: 'pbar-label', text: label }),
          el(
            'div',
            {
              class: 'pbar',
              attrs: {
                role: 'meter',
                'aria-valuemin': 0,
                'aria-valuemax': 1,
                'aria-valuenow': p.toFixed(4),
                'aria-label': `${label} probability`,
              },
            },
            [fill],
          ),
          el('span', { class: 'pbar-value', text: fmtPct(p) }),
        ]),
      );
    });
  }

  /** A routing trace has no prediction: where it came from, and that gates and importance were not recorded. */
  private renderTrace(a: Analysis): void {
    const t = a.model.trace;
    this.prediction.setAttribute('aria-label', 'Routing trace');
    this.prediction.append(
      el('div', { class: 'prediction-title' }, [
        el('span', { class: 'fact-label', text: 'routing trace' }),
        el('strong', { testid: 'trace-format', text: t ? t.format : a.model.routingSource }),
      ]),
    );
    if (t) {
      this.prediction.append(
        el('div', { class: 'muted small', testid: 'trace-source', text: t.source, attrs: { title: t.engineModel ?? '' } }),
        el('div', {
          class: 'small',
          testid: 'trace-tokens',
          text:
            `${t.promptTokens} prompt + ${t.generatedTokens} generated tokens, top_k ${t.topK}` +
            (t.unrecordedTokens > 0 ? `, ${t.unrecordedTokens} without recorded routing` : ''),
        }),
      );
    }
    this.prediction.append(
      el('div', {
        class: 'small',
        testid: 'not-recorded',
        text:
          a.model.gatesAvailable === false
            ? 'gates and importance: not recorded (the engine returns expert ids only)'
            : 'importance: not recorded; gates derived from the recorded router logits',
      }),
    );
  }
}
