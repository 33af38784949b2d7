/**
 * Saved responses of vLLM and SGLang with recorded routing: which format a JSON object is, and what it holds (token
 * ids, counts, expert ids). The field lists come from the engines' documentation and source; docs/routing-traces.md
 * names the version of each and what the documentation and the issue disagree on.
 *
 * | format | routing | token ids |
 * | --- | --- | --- |
 * | vllm-completions / vllm-chat-completions, vLLM 0.21 | `prompt_routed_experts` [P, L, K] (response) + `choices[0].routed_experts` [G', L, K] (nested lists) | `choices[0].prompt_token_ids` (completions) or `prompt_token_ids` (chat), `choices[0].token_ids` (`return_token_ids: true`) |
 * | the same, vLLM main | `choices[0].routed_experts`: base64 `.npy` [P + G - 1, L, K] | the same |
 * | sglang-generate | `meta_info.routed_experts`: base64 int32 [P + G - 1 - start, L, K] | `prompt_token_ids` (`return_prompt_token_ids: true`), `output_ids` |
 * | sglang-completions / sglang-chat-completions | `sglext.routed_experts` (response; older: per choice), base64 int32 | `choices[0].prompt_token_ids`, `choices[0].token_ids` (`return_token_ids: true`) |
 */
import type { TraceEngine, TraceFormat } from '../../shared/analysis';
import { EngineError } from '../errors';
import { badTrace, base64Int32ExpertIds, ExpertIds, nestedExpertIds, npyExpertIds } from './expert-ids';
import type { TraceModelConfig } from './model-config';

/** The server flag both engines need before they record routing. */
export const ROUTING_FLAG = '--enable-return-routed-experts';

export interface RecordedTrace {
  engine: TraceEngine;
  format: TraceFormat;
  engineModel: string | null;
  /** Prompt token ids as the engine tokenised them; null when the response does not carry them. */
  promptIds: number[] | null;
  /** The prompt token count the response states (usage / meta_info); null when it does not. */
  promptCount: number | null;
  generatedIds: number[] | null;
  generatedCount: number | null;
  /**
   * `split`: prompt rows and generated rows in two fields (vLLM 0.21); `sequence`: one array over the whole
   * sequence from token `start`, without the last token (vLLM main, SGLang: the last sampled token is never fed back).
   */
  layout: 'split' | 'sequence';
  prompt: ExpertIds | null;
  generated: ExpertIds | null;
  sequence: ExpertIds | null;
  /** First token the sequence rows cover (SGLang's routed_experts_start_len). */
  start: number;
  /** Field names, for messages. */
  fields: { prompt: string; generated: string; sequence: string; promptIds: string; generatedIds: string };
  notes: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function intList(v: unknown, field: string): number[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) {
    throw badTrace(field, 'a list of token ids (non-negative integers)', Array.isArray(v) ? 'a list with other values' : typeof v);
  }
  return v as number[];
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

/** The response's format, from its shape alone (`object`, `choices`, `meta_info`, `sglext`, `prompt_routed_experts`). */
export function detectTraceFormat(json: unknown): TraceFormat {
  if (!isObj(json))
    throw new EngineError(
      'bad-trace',
      `a routing trace must be a JSON object (a saved response), found ${Array.isArray(json) ? 'an array' : typeof json}`,
    );
  if (isObj(json.meta_info)) return 'sglang-generate';
  const choices = json.choices;
  if (!Array.isArray(choices) || choices.length === 0 || !isObj(choices[0])) {
    throw new EngineError(
      'bad-trace',
      'not a routing trace this version reads: expected a vLLM or SGLang /v1/completions or /v1/chat/completions response (an object with `choices`) or an SGLang /generate response (an object with `meta_info`); docs/routing-traces.md lists the formats',
    );
  }
  const c = choices[0] as Obj;
  const chat = json.object === 'chat.completion' || isObj(c.message);
  if ('sglext' in json || 'sglext' in c) return chat ? 'sglang-chat-completions' : 'sglang-completions';
  // vLLM writes these keys even when they are null (the flag not set); the parser says so.
  if ('prompt_routed_experts' in json || 'routed_experts' in c) return chat ? 'vllm-chat-completions' : 'vllm-completions';
  const meta = isObj(json.metadata) ? json.metadata : {};
  const engine =
    String(json.system_fingerprint ?? '').startsWith('vllm') || 'kv_transfer_params' in json
      ? 'vLLM'
      : 'weight_version' in meta
        ? 'SGLang'
        : null;
  throw new EngineError(
    'trace-no-routing',
    `the ${engine ?? 'server'}'s response carries no routing (no prompt_routed_experts / choices[].routed_experts, no sglext.routed_experts). ` +
      `Start the server with ${ROUTING_FLAG}` +
      (engine === 'vLLM' ? '' : ' (SGLang also needs "return_routed_experts": true in the request)'),
  );
}

function engineOf(format: TraceFormat): TraceEngine {
  return format.startsWith('vllm') ? 'vllm' : format.startsWith('sglang') ? 'sglang' : 'hf-hooks';
}

/** `config` gives layers and top_k for SGLang's shapeless base64 (num_hidden_layers, num_experts_per_tok). */
export function parseTrace(json: unknown, config: TraceModelConfig): RecordedTrace {
  const format = detectTraceFormat(json);
  const r = json as Obj;
  const notes: string[] = [];
  const engineModel = typeof r.model === 'string' ? r.model : null;
  if (format === 'sglang-generate') return parseSglangGenerate(r, config, notes);

  const choices = r.choices as Obj[];
  if (choices.length > 1) notes.push(`the response has ${choices.length} choices; the first (choices[0]) is shown`);
  const c = choices[0];
  const usage = isObj(r.usage) ? r.usage : {};
  // vLLM puts prompt_token_ids on the choice for completions and on the response for chat; SGLang on the choice.
  const promptIdsField = isObj(c) && c.prompt_token_ids != null ? 'choices[0].prompt_token_ids' : 'prompt_token_ids';
  const promptIds = intList(isObj(c) && c.prompt_token_ids != null ? c.prompt_token_ids : r.prompt_token_ids, promptIdsField);
  const generatedIds = intList(c.token_ids, 'choices[0].token_ids');
  const base = {
    format,
    engine: engineOf(format),
    engineModel,
    promptIds,
    promptCount: count(usage.prompt_tokens),
    generatedIds,
    generatedCount: count(usage.completion_tokens),
    notes,
  };

  if (base.engine === 'vllm') {
    const fields = {
      prompt: 'prompt_routed_experts',
      generated: 'choices[0].routed_experts',
      sequence: 'choices[0].routed_experts',
      promptIds: promptIdsField,
      generatedIds: 'choices[0].token_ids',
    };
    if (typeof c.routed_experts === 'string') {
      // vLLM main: one base64 .npy over prompt + generated tokens but the last.
      return {
        ...base,
        layout: 'sequence',
        prompt: null,
        generated: null,
        sequence: npyExpertIds(c.routed_experts, fields.sequence),
        start: 0,
        fields,
      };
    }
    if (r.prompt_routed_experts == null) {
      throw new EngineError(
        'trace-no-routing',
        `prompt_routed_experts is ${r.prompt_routed_experts === null ? 'null' : 'missing'}: the vLLM server did not record routing. Start it with ${ROUTING_FLAG}` +
          ' (vLLM 0.21 also returns null for a request that was preempted)',
      );
    }
    const prompt = nestedExpertIds(r.prompt_routed_experts, fields.prompt, '[prompt_len, num_moe_layers, top_k]');
    const generated =
      c.routed_experts == null ? null : nestedExpertIds(c.routed_experts, fields.generated, '[gen_len, num_moe_layers, top_k]');
    if (generated && generated.rows > 0 && prompt.rows > 0 && (generated.layers !== prompt.layers || generated.topK !== prompt.topK)) {
      throw badTrace(
        fields.generated,
        `[gen_len, ${prompt.layers}, ${prompt.topK}] (layers and top_k of prompt_routed_experts)`,
        `[${generated.rows}, ${generated.layers}, ${generated.topK}]`,
      );
    }
    return { ...base, layout: 'split', prompt, generated, sequence: null, start: 0, fields };
  }

  // SGLang OpenAI endpoints: sglext on the response (SGLang main), or on the choice (older releases).
  const ext = isObj(r.sglext) ? r.sglext : isObj(c.sglext) ? c.sglext : null;
  const field = isObj(r.sglext) ? 'sglext.routed_experts' : 'choices[0].sglext.routed_experts';
  if (!ext || ext.routed_experts == null) {
    throw new EngineError(
      'trace-no-routing',
      `${field} is missing: the SGLang server did not return routing. Start it with ${ROUTING_FLAG} and send "return_routed_experts": true in the request`,
    );
  }
  const fields = { prompt: field, generated: field, sequence: field, promptIds: promptIdsField, generatedIds: 'choices[0].token_ids' };
  const sequence = sglangIds(
    ext.routed_experts,
    field,
    config,
    base.promptIds?.length ?? base.promptCount,
    base.generatedIds?.length ?? base.generatedCount,
    0,
  );
  return { ...base, layout: 'sequence', prompt: null, generated: null, sequence, start: 0, fields };
}

function sglangIds(v: unknown, field: string, config: TraceModelConfig, p: number | null, g: number | null, start: number): ExpertIds {
  if (config.numLayers === undefined || config.topK === undefined) {
    throw new EngineError(
      'bad-trace',
      `${field} is base64 int32 without a shape: the number of layers and top_k come from config.json (num_hidden_layers, num_experts_per_tok). ` +
        "Pass --tokenizer DIR with the model's config.json, or --num-layers N and --top-k K",
    );
  }
  const expected = p !== null && g !== null ? Math.max(0, p + g - 1 - start) : NaN;
  return base64Int32ExpertIds(v, field, config.numLayers, config.topK, Number.isNaN(expected) ? Number.NaN : expected);
}

function parseSglangGenerate(r: Obj, config: TraceModelConfig, notes: string[]): RecordedTrace {
  const meta = r.meta_info as Obj;
  const field = 'meta_info.routed_experts';
  if (meta.routed_experts == null) {
    throw new EngineError(
      'trace-no-routing',
      `${field} is missing: the SGLang server did not return routing. Start it with ${ROUTING_FLAG} and send "return_routed_experts": true in the request`,
    );
  }
  const promptIds = intList(r.prompt_token_ids, 'prompt_token_ids');
  const generatedIds = intList(r.output_ids, 'output_ids');
  const promptCount = count(meta.prompt_tokens);
  const generatedCount = count(meta.completion_tokens);
  const start = count(meta.routed_experts_start_len) ?? 0;
  const sequence = sglangIds(
    meta.routed_experts,
    field,
    config,
    promptIds?.length ?? promptCount,
    generatedIds?.length ?? generatedCount,
    start,
  );
  return {
    engine: 'sglang',
    format: 'sglang-generate',
    engineModel: null,
    promptIds,
    promptCount,
    generatedIds,
    generatedCount,
    layout: 'sequence',
    prompt: null,
    generated: null,
    sequence,
    start,
    fields: { prompt: field, generated: field, sequence: field, promptIds: 'prompt_token_ids', generatedIds: 'output_ids' },
    notes,
  };
}
