/**
 * What a routing trace leaves out and the model's Hugging Face config.json says: the number of experts (to refuse
 * ids out of range), top_k and the number of layers (SGLang's base64 has no shape). Read from the --tokenizer
 * directory; every value can be given instead (--num-experts, --top-k, --num-layers), which wins.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';

export interface TraceModelConfig {
  numExperts?: number;
  topK?: number;
  numLayers?: number;
  maxPositions?: number;
  /** Where the values came from, for messages ("config.json", "--num-experts"). */
  source: { numExperts?: string; topK?: string; numLayers?: string };
}

/** Keys in the order families use them: Qwen-MoE/OLMoE/Granite, Mixtral/GPT-OSS, DeepSeek, ERNIE. */
const EXPERT_KEYS = ['num_experts', 'num_local_experts', 'n_routed_experts', 'moe_num_experts'];
const TOP_K_KEYS = ['num_experts_per_tok', 'moe_top_k', 'num_experts_per_token', 'top_k'];

function firstInt(obj: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

/** config.json of `dir` (or of the directory holding a tokenizer.json path); {} when there is none. */
export function readTraceModelConfig(tokenizerPath: string): TraceModelConfig {
  const dir = tokenizerPath.endsWith('.json') ? path.dirname(tokenizerPath) : tokenizerPath;
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) return { source: {} };
  let root: unknown;
  try {
    root = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new EngineError('bad-trace', `${file}: not valid JSON (${(e as Error).message})`);
  }
  if (root === null || typeof root !== 'object' || Array.isArray(root))
    throw new EngineError('bad-trace', `${file}: expected a JSON object`);
  // Multimodal configs keep the language model's keys under text_config.
  const text = (root as Record<string, unknown>).text_config;
  const obj = { ...(root as Record<string, unknown>), ...(text && typeof text === 'object' ? (text as Record<string, unknown>) : {}) };
  const numExperts = firstInt(obj, EXPERT_KEYS);
  const topK = firstInt(obj, TOP_K_KEYS);
  const numLayers = firstInt(obj, ['num_hidden_layers', 'n_layer', 'num_layers']);
  const maxPositions = firstInt(obj, ['max_position_embeddings', 'n_positions']);
  const src = 'config.json';
  return {
    numExperts,
    topK,
    numLayers,
    maxPositions,
    source: {
      ...(numExperts !== undefined ? { numExperts: src } : {}),
      ...(topK !== undefined ? { topK: src } : {}),
      ...(numLayers !== undefined ? { numLayers: src } : {}),
    },
  };
}

/** The config with the values given on the command line (or in settings) put over it. */
export function withOverrides(config: TraceModelConfig, o: { numExperts?: number; topK?: number; numLayers?: number }): TraceModelConfig {
  const out: TraceModelConfig = { ...config, source: { ...config.source } };
  if (o.numExperts !== undefined) [out.numExperts, out.source.numExperts] = [o.numExperts, '--num-experts'];
  if (o.topK !== undefined) [out.topK, out.source.topK] = [o.topK, '--top-k'];
  if (o.numLayers !== undefined) [out.numLayers, out.source.numLayers] = [o.numLayers, '--num-layers'];
  return out;
}
