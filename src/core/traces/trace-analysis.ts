/**
 * A recorded routing trace -> the usual Analysis: the prompt tokens, then the generated ones (marked `generated`),
 * and per layer the experts the engine chose, in the order it recorded them. Gates and importance were not
 * recorded: they are NaN (null in JSON) and model.gatesAvailable / importanceAvailable are false, so every view
 * says "not recorded". K is top_k. Tokens the engine has no routing for (vLLM 0.21's -1 rows of prefix-cached
 * positions; the last generated token, never fed back) are `recorded: false` and left out of the statistics.
 *
 * Every inconsistency is refused with the field, the expected and the found shape: rows that do not match the
 * token count, ids >= num_experts, a top_k other than config.json's, prompt ids that differ from --prompt.
 */
import * as path from 'path';
import {
  ANALYSIS_VERSION,
  type Analysis,
  type AnalysisToken,
  type LayerRouting,
  type ModelSummary,
  type TraceInfo,
} from '../../shared/analysis';
import { analysisTokens } from '../analysis/build';
import { RoutingStatsAccumulator } from '../analysis/stats';
import { EngineError } from '../errors';
import type { Tokenizer } from '../tokenizer';
import { badTrace } from './expert-ids';
import { parseTrace, type RecordedTrace } from './formats';
import type { TraceModelConfig } from './model-config';

export interface TraceAnalysisOptions {
  tokenizer: Tokenizer;
  /** tokenizer.json's directory (or file): the Analysis' model path. */
  tokenizerPath: string;
  config: TraceModelConfig;
  /** The prompt as text: tokenised to give exact offsets (and ids, when the trace has none). */
  prompt?: string;
  /** The trace file or server URL. */
  source: string;
  /** When the work started (performance.now()), for timings; and how long the request took, for a live trace. */
  startedAt?: number;
  requestMs?: number;
  /** Show the prompt tokens only (the live source: its one generated token is not part of the selection). */
  promptOnly?: boolean;
}

/** The token row of the recorded ids, -1 where the engine recorded nothing. */
interface Rows {
  /** [T, L, K] ids; a token without routing is all -1. */
  ids: Int32Array;
  layers: number;
  topK: number;
  /** Decoder layer of each layer, when dense layers were left out (SGLang). */
  decoderLayers?: number[];
}

const NOT_RECORDED = -1;

export function traceAnalysis(json: unknown, opts: TraceAnalysisOptions): Analysis {
  const t0 = opts.startedAt ?? performance.now();
  const trace = parseTrace(json, opts.config);
  return analysisOfTrace(trace, opts, t0);
}

function tokenIds(
  trace: RecordedTrace,
  opts: TraceAnalysisOptions,
): { promptTokens: AnalysisToken[]; promptText: string; generatedIds: number[] } {
  const { tokenizer } = opts;
  const vocab = tokenizer.vocabSize;
  const checkVocab = (ids: readonly number[], field: string): void => {
    ids.forEach((id, i) => {
      if (tokenizer.idToToken(id) === undefined) {
        throw badTrace(
          `${field}[${i}]`,
          `a token id of tokenizer.json (vocabulary of ${vocab})`,
          String(id),
          "Is --tokenizer the served model's tokenizer?",
        );
      }
    });
  };
  let promptTokens: AnalysisToken[];
  let promptText: string;
  if (opts.prompt !== undefined) {
    const enc = tokenizer.encode(opts.prompt);
    if (trace.promptIds) {
      const a = trace.promptIds;
      const b = enc.ids;
      const i = a.findIndex((id, j) => id !== b[j]);
      if (a.length !== b.length || i >= 0) {
        const at = i >= 0 ? i : Math.min(a.length, b.length);
        throw new EngineError(
          'bad-trace',
          `${trace.fields.promptIds}: the engine's ${a.length} prompt ids differ from --prompt tokenised by tokenizer.json (${b.length} ids) ` +
            `at token ${at} (engine ${a[at] ?? 'none'}, tokenizer ${b[at] ?? 'none'}). Pass the exact prompt the engine saw (for chat ` +
            "completions, the text after the chat template), or leave --prompt out to show the engine's ids",
        );
      }
    }
    promptText = opts.prompt;
    // The same tokens as a local analysis of the text (unknown-token marks included).
    promptTokens = analysisTokens(enc.tokens, tokenizer.specialTokens.unk?.id);
  } else {
    const ids = trace.promptIds;
    if (!ids) {
      throw new EngineError(
        'bad-trace',
        `${trace.fields.promptIds} is missing: the response has no prompt token ids (request them with ` +
          `${trace.engine === 'sglang' && trace.format === 'sglang-generate' ? '"return_prompt_token_ids": true' : '"return_token_ids": true'}), ` +
          'so the tokens cannot be named. Pass --prompt TEXT to tokenise the prompt with tokenizer.json instead',
      );
    }
    checkVocab(ids, trace.fields.promptIds);
    ({ tokens: promptTokens, text: promptText } = rebuiltTokens(tokenizer, ids, '', 0));
  }
  const generatedIds = trace.generatedIds ?? [];
  checkVocab(generatedIds, trace.fields.generatedIds);
  return { promptTokens, promptText, generatedIds };
}

/** Tokens of `ids` with their text rebuilt by the tokenizer's decoder, appended after `before` (offsets follow it). */
export function rebuiltTokens(
  tokenizer: Tokenizer,
  ids: readonly number[],
  before: string,
  firstIndex: number,
  context: readonly number[] = [],
): { tokens: AnalysisToken[]; text: string } {
  const pieces = tokenizer.decodePieces([...context, ...ids]).slice(context.length);
  let text = before;
  const tokens = ids.map((id, i): AnalysisToken => {
    const special = tokenizer.isSpecialId(id);
    const start = text.length;
    text += pieces[i];
    return {
      index: firstIndex + i,
      id,
      text: tokenizer.idToToken(id) ?? '',
      start: special ? null : start,
      end: special ? null : text.length,
      special,
      sequence: special ? null : 0,
    };
  });
  return { tokens, text };
}

/** Places the recorded rows on the tokens, checking each count against the rows. */
function alignRows(trace: RecordedTrace, P: number, G: number, generatedKnown: boolean): Rows {
  const T = P + G;
  if (trace.layout === 'split') {
    const p = trace.prompt!;
    const layers = p.layers || trace.generated?.layers || 0;
    const topK = p.topK || trace.generated?.topK || 0;
    if (p.rows !== P) {
      throw badTrace(
        trace.fields.prompt,
        `[${P}, num_moe_layers, top_k]: one row per prompt token (${P} prompt tokens)`,
        `[${p.rows}, ${p.layers}, ${p.topK}]`,
      );
    }
    const g = trace.generated;
    if (g && generatedKnown && g.rows > G) {
      throw badTrace(
        trace.fields.generated,
        `at most [${G}, ${layers}, ${topK}]: one row per generated token (${G} generated)`,
        `[${g.rows}, ${g.layers}, ${g.topK}]`,
      );
    }
    const ids = new Int32Array(T * layers * topK).fill(NOT_RECORDED);
    ids.set(p.data, 0);
    if (g && G > 0) ids.set(g.data.subarray(0, Math.min(g.rows, G) * layers * topK), P * layers * topK);
    return { ids, layers, topK };
  }
  const s = trace.sequence!;
  const expected = Math.max(0, T - 1 - trace.start);
  if (s.rows !== expected) {
    const gText = generatedKnown ? `${G} generated` : `${G} generated (counted from usage)`;
    throw badTrace(
      trace.fields.sequence,
      `[${expected}, ${s.layers}, ${s.topK}]: one row per token from token ${trace.start}, prompt and generated, but the last ` +
        `(${P} prompt + ${gText} - 1${trace.start ? ` - ${trace.start} skipped` : ''}; the last sampled token is never fed back)`,
      `[${s.rows}, ${s.layers}, ${s.topK}]`,
    );
  }
  const ids = new Int32Array(T * s.layers * s.topK).fill(NOT_RECORDED);
  ids.set(s.data.subarray(0, Math.min(s.rows, T - trace.start) * s.layers * s.topK), trace.start * s.layers * s.topK);
  return { ids, layers: s.layers, topK: s.topK };
}

/**
 * SGLang records a row per decoder layer, and a dense layer (DeepSeek's first layers, Qwen-MoE's mlp_only_layers)
 * never writes its row: it stays zeros. With top_k > 1 a row of zeros cannot be a routing (an expert twice), so such
 * layers are left out, and a note names them. With top_k 1 they cannot be told apart from expert 0 and stay.
 */
function withoutDenseLayers(rows: Rows, trace: RecordedTrace): Rows {
  const { ids, layers: L, topK: K } = rows;
  if (trace.engine !== 'sglang' || K < 2 || L === 0) return rows;
  const T = ids.length / (L * K);
  const dense: number[] = [];
  for (let l = 0; l < L; l++) {
    let zeros = true;
    let seen = false;
    for (let t = 0; t < T && zeros; t++) {
      const base = (t * L + l) * K;
      if (ids[base] === NOT_RECORDED) continue;
      seen = true;
      for (let k = 0; k < K; k++) if (ids[base + k] !== 0) zeros = false;
    }
    if (zeros && seen) dense.push(l);
  }
  if (dense.length === 0) return rows;
  const kept = Array.from({ length: L }, (_, l) => l).filter((l) => !dense.includes(l));
  const out = new Int32Array(T * kept.length * K);
  for (let t = 0; t < T; t++)
    kept.forEach((l, j) => out.set(ids.subarray((t * L + l) * K, (t * L + l + 1) * K), (t * kept.length + j) * K));
  trace.notes.push(
    `decoder layer${dense.length > 1 ? 's' : ''} ${dense.join(', ')} recorded no experts (all zeros: dense MLP layers) and ${dense.length > 1 ? 'are' : 'is'} left out; ` +
      `layers 0..${kept.length - 1} here are decoder layers ${kept.join(', ')}`,
  );
  return { ids: out, layers: kept.length, topK: K, decoderLayers: kept };
}

/** Refuses ids out of range, partly recorded rows and repeated experts; true per token when its row was recorded. */
function checkIds(rows: Rows, T: number, P: number, numExperts: number, trace: RecordedTrace, source: string): boolean[] {
  const { ids, layers: L, topK: K } = rows;
  const recorded = new Array<boolean>(T).fill(true);
  const where = (t: number, l: number, k: number): string => {
    if (trace.layout === 'split')
      return t < P ? `${trace.fields.prompt}[${t}][${l}][${k}]` : `${trace.fields.generated}[${t - P}][${l}][${k}]`;
    return `${trace.fields.sequence}[${t - trace.start}][${l}][${k}]`;
  };
  for (let t = 0; t < T; t++) {
    const base = t * L * K;
    let missing = 0;
    for (let i = 0; i < L * K; i++) if (ids[base + i] === NOT_RECORDED) missing++;
    if (missing === L * K) {
      recorded[t] = false;
      continue;
    }
    for (let l = 0; l < L; l++) {
      for (let k = 0; k < K; k++) {
        const e = ids[base + l * K + k];
        if (e < 0 || e >= numExperts) {
          throw badTrace(
            where(t, l, k),
            `an expert id in [0, ${numExperts}) (num_experts from ${source})${e === NOT_RECORDED ? ', or -1 in every layer and slot of the token (not recorded)' : ''}`,
            String(e),
          );
        }
        for (let j = 0; j < k; j++) {
          if (ids[base + l * K + j] === e)
            throw badTrace(where(t, l, k), `${K} different experts per token and layer`, `expert ${e} twice`);
        }
      }
    }
  }
  return recorded;
}

function analysisOfTrace(trace: RecordedTrace, opts: TraceAnalysisOptions, t0: number): Analysis {
  const { promptTokens, promptText, generatedIds } = tokenIds(trace, opts);
  const P = promptTokens.length;
  // Generated tokens can only be shown with their ids; their routing rows are still checked against the count.
  const generatedKnown = trace.generatedIds !== null;
  const G = generatedKnown ? generatedIds.length : (trace.generatedCount ?? 0);
  if (!generatedKnown && G > 0) {
    trace.notes.push(`${G} generated token(s) are not shown: ${trace.fields.generatedIds} is missing (request "return_token_ids": true)`);
  }
  if (trace.promptCount !== null && trace.promptCount !== P) {
    throw badTrace('usage.prompt_tokens', `${P} (the prompt's tokens)`, String(trace.promptCount));
  }
  const rows = withoutDenseLayers(alignRows(trace, P, G, generatedKnown), trace);
  const cfg = opts.config;
  const E = cfg.numExperts;
  if (E === undefined) {
    throw new EngineError(
      'bad-trace',
      "num_experts is unknown: the engines record expert ids only. Pass --tokenizer DIR holding the model's config.json " +
        '(num_experts, num_local_experts or n_routed_experts), or --num-experts N',
    );
  }
  if (cfg.topK !== undefined && rows.topK !== cfg.topK && rows.topK > 0) {
    throw badTrace(
      trace.layout === 'split' ? trace.fields.prompt : trace.fields.sequence,
      `top_k = ${cfg.topK} experts per token (num_experts_per_tok from ${cfg.source.topK})`,
      `${rows.topK} per token`,
      "Is the config the served model's?",
    );
  }
  const recorded = checkIds(rows, P + G, P, E, trace, cfg.source.numExperts ?? 'config.json');
  const showGenerated = generatedKnown && !opts.promptOnly;
  const shownT = showGenerated ? P + G : P;

  // Generated tokens continue the text; their pieces are decoded after the prompt's last id.
  const gen = rebuiltTokens(
    opts.tokenizer,
    generatedIds,
    promptText,
    P,
    promptTokens.slice(-1).map((t) => t.id),
  );
  const tokens: AnalysisToken[] = [...promptTokens, ...(showGenerated ? gen.tokens.map((t) => ({ ...t, generated: true as const })) : [])];
  for (let t = 0; t < shownT; t++) if (!recorded[t]) tokens[t].recorded = false;

  const { layers: L, topK: K, ids } = rows;
  const layers: LayerRouting[] = Array.from({ length: L }, (_, l) => ({
    layer: l,
    ...(rows.decoderLayers ? { decoderLayer: rows.decoderLayers[l] } : {}),
    importance: [],
    k: [],
    experts: [],
    gates: [],
    routerProbs: [],
  }));
  for (let l = 0; l < L; l++) {
    const layer = layers[l];
    for (let t = 0; t < shownT; t++) {
      layer.importance.push(Number.NaN);
      layer.routerProbs.push([]);
      if (!recorded[t]) {
        layer.k.push(0);
        layer.experts.push([]);
        layer.gates.push([]);
        continue;
      }
      const base = (t * L + l) * K;
      layer.k.push(K);
      layer.experts.push(Array.from(ids.subarray(base, base + K)));
      layer.gates.push(new Array<number>(K).fill(Number.NaN));
    }
  }
  const unrecorded = recorded.slice(0, shownT).filter((r) => !r).length;
  return assembleTraceAnalysis({
    tokenizerPath: opts.tokenizerPath,
    model: {
      name: trace.engineModel,
      numLayers: L,
      numExperts: E,
      kMax: K,
      maxSequenceLength: cfg.maxPositions ?? shownT,
      gatesAvailable: false,
      trace: {
        engine: trace.engine,
        format: trace.format,
        source: opts.source,
        engineModel: trace.engineModel,
        topK: K,
        promptTokens: P,
        generatedTokens: showGenerated ? G : 0,
        unrecordedTokens: unrecorded,
        notes: trace.notes,
      },
    },
    tokens,
    layers,
    text: showGenerated ? gen.text : promptText,
    t0,
    requestMs: opts.requestMs ?? 0,
  });
}

/** What differs between the trace formats' model summaries; the rest is the same for every trace. */
export type TraceModelFacts = Pick<ModelSummary, 'numLayers' | 'numExperts' | 'kMax' | 'maxSequenceLength' | 'gatesAvailable'> &
  Partial<Pick<ModelSummary, 'router' | 'sharedExperts' | 'denseLayers'>> & { name: string | null; trace: TraceInfo };

/**
 * The Analysis of a trace (any format): the model summary (no prediction, no provider, no importance, K = top_k),
 * the statistics over the recorded tokens, the timings.
 */
export function assembleTraceAnalysis(a: {
  tokenizerPath: string;
  model: TraceModelFacts;
  tokens: AnalysisToken[];
  layers: LayerRouting[];
  text: string;
  t0: number;
  requestMs: number;
}): Analysis {
  const dir = a.tokenizerPath.endsWith('.json') ? path.dirname(a.tokenizerPath) : a.tokenizerPath;
  const { name, ...facts } = a.model;
  const model: ModelSummary = {
    ...facts,
    name: name ?? path.basename(path.resolve(dir)),
    path: path.resolve(dir),
    routerKind: 'top-k',
    labels: [],
    routingSource: 'trace',
    importanceAvailable: false,
    expertFlopsPerToken: null,
    gates: null,
    importanceDefinition: null,
  };
  const { numLayers: L, numExperts: E, kMax: K } = model;
  const stats = new RoutingStatsAccumulator({ numLayers: L, numExperts: E, kMax: K, flopsPerExpertToken: null });
  if (L > 0) stats.add(a.layers, (t) => a.tokens[t].recorded !== false);
  const now = performance.now();
  return {
    version: ANALYSIS_VERSION,
    text: a.text,
    model,
    provider: null,
    tokens: a.tokens,
    layers: a.layers,
    prediction: null,
    windowing: null,
    stats: stats.result(),
    timings: { tokenizeMs: 0, inferenceMs: a.requestMs, analysisMs: now - a.t0, totalMs: now - a.t0 + a.requestMs },
  };
}
