/**
 * Routing traces recorded with Hugging Face forward hooks (training/record_hf_trace.py; docs/routing-traces.md,
 * "Hugging Face hooks"): a JSONL whose first line is a header with the model's routing metadata (the same keys as
 * the model contract's `moe.contract`: num_layers, num_experts, k, router, shared_experts, dense_layers) and every
 * further line one sequence: its token ids and the router logits of each MoE layer. Unlike vLLM's and SGLang's
 * traces these hold the router's scores, so the experts and gates are derived here by the family's convention with
 * the one implementation, deriveRouting (src/core/routers): gates exist; importance does not (no DA-MoE router).
 */
import type { Analysis, AnalysisToken } from '../../shared/analysis';
import { analysisTokens, routingLayers } from '../analysis/build';
import { deriveRouting, moeDecoderLayers, parseRouterMetadata, routerInfo, type RouterMetadata } from '../routers';
import type { Tokenizer } from '../tokenizer';
import { EngineError } from '../errors';
import { badTrace } from './expert-ids';
import { assembleTraceAnalysis, rebuiltTokens } from './trace-analysis';

/** The header's `format` value. */
export const HF_HOOKS_FORMAT = 'damoe-hf-router-logits';
export const HF_HOOKS_VERSION = 1;

export interface HfHooksHeader {
  model: string | null;
  numLayers: number;
  numExperts: number;
  k: number;
  meta: RouterMetadata;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown, min = 1): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

export function isHfHooksHeader(v: unknown): boolean {
  return isObj(v) && v.format === HF_HOOKS_FORMAT;
}

/** The header line, validated; `where` names it in messages ("traces.jsonl:1"). */
export function parseHfHooksHeader(v: unknown, where: string): HfHooksHeader {
  if (!isObj(v) || v.format !== HF_HOOKS_FORMAT)
    throw badTrace(`${where} format`, `"${HF_HOOKS_FORMAT}"`, JSON.stringify(isObj(v) ? v.format : v));
  if (v.version !== HF_HOOKS_VERSION)
    throw badTrace(`${where} version`, `${HF_HOOKS_VERSION} (this reader's version of the format)`, JSON.stringify(v.version));
  for (const key of ['num_layers', 'num_experts', 'k'] as const) {
    if (!isCount(v[key])) throw badTrace(`${where} ${key}`, 'an integer >= 1', JSON.stringify(v[key]));
  }
  const L = v.num_layers as number;
  const E = v.num_experts as number;
  const k = v.k as number;
  if (k > E) throw badTrace(`${where} k`, `at most num_experts (${E})`, String(k));
  const problems: string[] = [];
  const meta = parseRouterMetadata(v, L, E, k, (key, expected, found) =>
    problems.push(`${where} ${key}: expected ${expected}, found ${JSON.stringify(found)}`),
  );
  if (problems.length) throw new EngineError('bad-trace', problems.join('; '));
  return { model: typeof v.model === 'string' ? v.model : null, numLayers: L, numExperts: E, k, meta };
}

/** router_logits as [L, T, E] float32: nested lists, or {"dtype": "float32", "shape": [L, T, E], "data": base64}. */
function routerLogits(v: unknown, L: number, T: number, E: number, field: string): Float32Array {
  const shape = `[${L}, ${T}, ${E}] (num_layers, tokens, num_experts)`;
  if (isObj(v)) {
    if (v.dtype !== 'float32') throw badTrace(`${field}.dtype`, '"float32"', JSON.stringify(v.dtype));
    const s = v.shape;
    if (!Array.isArray(s) || s.length !== 3 || s[0] !== L || s[1] !== T || s[2] !== E)
      throw badTrace(`${field}.shape`, shape, JSON.stringify(s));
    if (typeof v.data !== 'string') throw badTrace(`${field}.data`, 'base64 of little-endian float32', typeof v.data);
    const bytes = Buffer.from(v.data, 'base64');
    if (bytes.length !== L * T * E * 4)
      throw badTrace(`${field}.data`, `${L * T * E * 4} bytes (${shape} float32)`, `${bytes.length} bytes`);
    const out = new Float32Array(L * T * E);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
    return checkFinite(out, L, T, E, field);
  }
  if (!Array.isArray(v) || v.length !== L) throw badTrace(field, shape, Array.isArray(v) ? `${v.length} layers` : typeof v);
  const out = new Float32Array(L * T * E);
  v.forEach((layer, l) => {
    if (!Array.isArray(layer) || layer.length !== T)
      throw badTrace(`${field}[${l}]`, `${T} token rows`, Array.isArray(layer) ? String(layer.length) : typeof layer);
    layer.forEach((row, t) => {
      if (!Array.isArray(row) || row.length !== E)
        throw badTrace(`${field}[${l}][${t}]`, `${E} scores (num_experts)`, Array.isArray(row) ? String(row.length) : typeof row);
      row.forEach((x, e) => (out[(l * T + t) * E + e] = typeof x === 'number' ? x : Number.NaN));
    });
  });
  return checkFinite(out, L, T, E, field);
}

function checkFinite(x: Float32Array, L: number, T: number, E: number, field: string): Float32Array {
  const i = x.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) {
    const l = Math.floor(i / (T * E));
    const t = Math.floor((i % (T * E)) / E);
    throw badTrace(`${field}[${l}][${t}][${i % E}]`, 'a finite router score', String(x[i]));
  }
  return x;
}

export interface HfHooksRecordOptions {
  tokenizer: Tokenizer;
  tokenizerPath: string;
  /** The file and line, for messages and model.trace.source. */
  source: string;
  /** The prompt as text (else the record's `prompt`, else rebuilt from the ids). */
  prompt?: string;
}

/** The Analysis of one sequence line. */
export function hfHooksAnalysis(header: HfHooksHeader, record: unknown, o: HfHooksRecordOptions): Analysis {
  const t0 = performance.now();
  const where = o.source;
  if (!isObj(record)) throw badTrace(where, 'an object {"input_ids": [...], "router_logits": ...}', typeof record);
  const ids = record.input_ids;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => isCount(i, 0)))
    throw badTrace(`${where} input_ids`, 'a non-empty array of token ids', Array.isArray(ids) ? 'other values' : typeof ids);
  const T = ids.length;
  const P = record.prompt_tokens === undefined ? T : record.prompt_tokens;
  if (!isCount(P, 0) || P > T)
    throw badTrace(`${where} prompt_tokens`, `an integer in 0..${T} (the tokens before the generated ones)`, JSON.stringify(P));
  ids.forEach((id, i) => {
    if (o.tokenizer.idToToken(id as number) === undefined)
      throw badTrace(
        `${where} input_ids[${i}]`,
        `a token id of tokenizer.json (vocabulary of ${o.tokenizer.vocabSize})`,
        String(id),
        "Is the tokenizer the recorded model's?",
      );
  });
  const { numLayers: L, numExperts: E, meta } = header;
  const logits = routerLogits(record.router_logits, L, T, E, `${where} router_logits`);

  const prompt = o.prompt ?? (typeof record.prompt === 'string' ? record.prompt : undefined);
  let promptTokens: AnalysisToken[];
  let promptText: string;
  if (prompt !== undefined) {
    const enc = o.tokenizer.encode(prompt);
    const at = enc.ids.findIndex((id, j) => id !== ids[j]);
    if (enc.ids.length !== P || at >= 0) {
      const i = at >= 0 ? at : Math.min(P, enc.ids.length);
      throw badTrace(
        `${where} input_ids`,
        `the ${enc.ids.length} ids of the prompt tokenised by tokenizer.json as the first ${P} (prompt_tokens)`,
        `token ${i}: ${String(ids[i] ?? 'none')} (tokenizer: ${enc.ids[i] ?? 'none'})`,
      );
    }
    promptText = prompt;
    promptTokens = analysisTokens(enc.tokens, o.tokenizer.specialTokens.unk?.id);
  } else {
    ({ tokens: promptTokens, text: promptText } = rebuiltTokens(o.tokenizer, ids.slice(0, P) as number[], '', 0));
  }
  const gen = rebuiltTokens(
    o.tokenizer,
    ids.slice(P) as number[],
    promptText,
    P,
    promptTokens.slice(-1).map((t) => t.id),
  );
  const tokens: AnalysisToken[] = [...promptTokens, ...gen.tokens.map((t) => ({ ...t, generated: true as const }))];

  const d = deriveRouting(logits, L, T, E, meta.router);
  const decoderLayers = meta.denseLayers.length ? moeDecoderLayers(L, meta.denseLayers) : undefined;
  const layers = routingLayers(
    {
      length: T,
      numLayers: L,
      numExperts: E,
      importance: null,
      count: d.count,
      gates: d.gates,
      probs: d.probs,
      dropped: d.dropped,
      nextToken: null,
    },
    decoderLayers,
  );
  return assembleTraceAnalysis({
    tokenizerPath: o.tokenizerPath,
    model: {
      name: header.model,
      numLayers: L,
      numExperts: E,
      kMax: header.k,
      maxSequenceLength: T,
      gatesAvailable: true,
      router: { ...routerInfo(meta.router), input: d.input },
      ...(meta.sharedExperts ? { sharedExperts: meta.sharedExperts } : {}),
      ...(meta.denseLayers.length ? { denseLayers: [...meta.denseLayers] } : {}),
      trace: {
        engine: 'hf-hooks',
        format: 'hf-hooks',
        source: o.source,
        engineModel: header.model,
        topK: header.k,
        promptTokens: P,
        generatedTokens: T - P,
        unrecordedTokens: 0,
        notes: [],
      },
    },
    tokens,
    layers,
    text: gen.text,
    t0,
    requestMs: 0,
  });
}
