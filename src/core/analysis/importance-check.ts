/**
 * Occluded texts -> the ImportanceCheck (src/shared/importance-check.ts): per layer, Spearman's rho between the
 * tokens' importance and their drops, pooled over every token of the texts, with the mean of per-text rhos beside it.
 */
import type { ModelSummary } from '../../shared/analysis';
import type { OccludedText } from './occlusion';
import { importanceCheckUnavailable, type ImportanceCheck, type ImportanceCheckLayer } from '../../shared/importance-check';
import { EngineError } from '../errors';
import type { AnalyzeRequest, BatchAnalyzeOptions } from '../engine-api';
import { spearman, spearmanInterval } from '../../shared/stats';

/** Per-text rhos are averaged only over texts with at least this many occluded tokens (fewer rank nothing). */
export const MIN_TOKENS_PER_TEXT_RHO = 3;

/**
 * The check over `texts` for a model of `numLayers` layers. `single`: the texts are one analysis, so the result
 * carries each token's drop and the predicted class.
 */
export function buildImportanceCheck(texts: readonly OccludedText[], numLayers: number, single = false): ImportanceCheck {
  const drops: number[] = [];
  const importance: number[][] = Array.from({ length: numLayers }, () => []);
  const layerDrops: number[][] = Array.from({ length: numLayers }, () => []);
  const textRhos: number[][] = Array.from({ length: numLayers }, () => []);
  let sequences = 0;
  for (const text of texts) {
    sequences += text.sequences;
    if (text.importance === null) throw new RangeError('an occluded text without importance cannot be checked');
    const T = text.length;
    const own: { imp: number[]; drop: number[] }[] = Array.from({ length: numLayers }, () => ({ imp: [], drop: [] }));
    text.drops.forEach((d, t) => {
      if (d === null) return;
      drops.push(d);
      for (let l = 0; l < numLayers; l++) {
        const v = text.importance![l * T + t];
        if (!Number.isFinite(v)) continue;
        importance[l].push(v);
        layerDrops[l].push(d);
        own[l].imp.push(v);
        own[l].drop.push(d);
      }
    });
    own.forEach((o, l) => {
      if (o.imp.length < MIN_TOKENS_PER_TEXT_RHO) return;
      const rho = spearman(o.imp, o.drop);
      if (rho !== null) textRhos[l].push(rho);
    });
  }
  const layers: ImportanceCheckLayer[] = importance.map((imp, layer) => {
    const n = imp.length;
    const rho = n >= 2 ? spearman(imp, layerDrops[layer]) : null;
    const per = textRhos[layer];
    return {
      layer,
      spearman: rho,
      n,
      ci95: spearmanInterval(rho, n),
      mean_text_spearman: per.length > 0 ? per.reduce((a, b) => a + b, 0) / per.length : null,
      texts: per.length,
    };
  });
  const check: ImportanceCheck = {
    occlusion: 'deletion',
    measure: 'predicted-class-probability-drop',
    pooling: 'tokens',
    n: drops.length,
    texts: texts.length,
    sequences,
    mean_drop: drops.length > 0 ? drops.reduce((a, b) => a + b, 0) / drops.length : 0,
    max_drop: drops.length > 0 ? drops.reduce((a, b) => Math.max(a, b), -Infinity) : 0,
    layers,
  };
  if (single && texts.length === 1) {
    const p = texts[0].prediction;
    check.drops = texts[0].drops;
    check.predicted = { index: p.index, label: p.label, probability: p.probabilities[p.index] };
  }
  return check;
}

/** What the check needs of an Engine (engine-api.ts); tests pass smaller fakes. */
export interface OcclusionEngine {
  readonly model: ModelSummary;
  occludeBatch(requests: readonly AnalyzeRequest[], options?: BatchAnalyzeOptions): Promise<OccludedText[]>;
}

export interface ImportanceCheckProgress {
  textsDone: number;
  texts: number;
  /** Sequences done and queued in the batch now running. */
  sequencesDone: number;
  sequences: number;
}

export interface ImportanceCheckOptions {
  signal?: AbortSignal;
  /** Sequences per model run (default 32). */
  batchSize?: number;
  workers?: number;
  /** Texts per occludeBatch call (default 32): bounds the outputs held at once and the work a cancel drops. */
  textsPerRun?: number;
  onProgress?: (progress: ImportanceCheckProgress) => void;
}

const INPUT_ERRORS = new Set(['empty-text', 'input-too-long', 'tokenizer']);

/**
 * One analysis' check: the text and its occluded variants in one batched run. Rejects like occludeBatch (cancelled,
 * too long, importance unavailable).
 */
export async function checkTextImportance(
  engine: OcclusionEngine,
  request: AnalyzeRequest,
  options: ImportanceCheckOptions = {},
): Promise<ImportanceCheck> {
  const [text] = await engine.occludeBatch([request], {
    batchSize: options.batchSize ?? 32,
    workers: options.workers,
    signal: request.signal ?? options.signal,
    onProgress: (done, total) => options.onProgress?.({ textsDone: 0, texts: 1, sequencesDone: done, sequences: total }),
  });
  return buildImportanceCheck([text], engine.model.numLayers, true);
}

/**
 * A sample's check (spot-checks): texts in runs of textsPerRun; a text the model cannot take is skipped and counted;
 * a cancel keeps the runs done (`cancelled: true`). Rejects with 'importance-unavailable' before running anything.
 */
export async function checkSampleImportance(
  engine: OcclusionEngine,
  requests: readonly AnalyzeRequest[],
  options: ImportanceCheckOptions = {},
): Promise<ImportanceCheck> {
  const unavailable = importanceCheckUnavailable(engine.model);
  if (unavailable) throw new EngineError('importance-unavailable', unavailable);
  const per = Math.max(1, Math.floor(options.textsPerRun ?? 32));
  const done: OccludedText[] = [];
  let skipped = 0;
  let cancelled = false;
  const run = (chunk: readonly AnalyzeRequest[]): Promise<OccludedText[]> =>
    engine.occludeBatch(chunk, {
      batchSize: options.batchSize ?? 32,
      workers: options.workers,
      signal: options.signal,
      onProgress: (d, t) =>
        options.onProgress?.({ textsDone: done.length + skipped, texts: requests.length, sequencesDone: d, sequences: t }),
    });
  for (let start = 0; start < requests.length && !cancelled; start += per) {
    const chunk = requests.slice(start, start + per);
    try {
      done.push(...(await run(chunk)));
    } catch (e) {
      if (e instanceof EngineError && e.code === 'cancelled') cancelled = true;
      else if (e instanceof EngineError && INPUT_ERRORS.has(e.code)) {
        // One text of the chunk cannot be taken: run them one by one, leaving out those that fail.
        for (const r of chunk) {
          try {
            done.push(...(await run([r])));
          } catch (inner) {
            if (inner instanceof EngineError && inner.code === 'cancelled') {
              cancelled = true;
              break;
            }
            if (!(inner instanceof EngineError && INPUT_ERRORS.has(inner.code))) throw inner;
            skipped++;
          }
        }
      } else throw e;
    }
    options.onProgress?.({ textsDone: done.length + skipped, texts: requests.length, sequencesDone: 0, sequences: 0 });
  }
  const check = buildImportanceCheck(done, engine.model.numLayers);
  check.requested = requests.length;
  check.skipped = requests.length - done.length;
  if (cancelled) check.cancelled = true;
  return check;
}
