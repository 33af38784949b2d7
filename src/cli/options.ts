/** Options shared by commands that load a model, parsed with node's util.parseArgs. */
import { parseArgs, ParseArgsConfig } from 'util';
import type { ExecutionProviderChoice } from '../shared/analysis';
import { isProviderChoice, type CreateEngineOptions } from '../core';
import { DEFAULT_WORKER_TIMEOUT_SECONDS, EXECUTION_PROVIDER_CHOICES, MAX_WORKER_TIMEOUT_SECONDS, MIN_MAX_TOKENS } from '../shared/defaults';
import { UsageError } from './errors';

/** How every model of a run is executed (`compare` takes these without --model). */
export const ENGINE_OPTIONS = {
  provider: { type: 'string' },
  threads: { type: 'string' },
  'max-tokens': { type: 'string' },
  'worker-timeout': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const MODEL_OPTIONS = { model: { type: 'string' }, ...ENGINE_OPTIONS } as const satisfies ParseArgsConfig['options'];

export const ENGINE_OPTIONS_HELP = `  --provider P         execution provider: auto (cuda, then webgpu, then cpu), cpu, webgpu or cuda; default auto
  --threads N          onnxruntime intra-op threads; 0 lets onnxruntime choose (default)
  --max-tokens N       longest token sequence per model run; longer text is split into overlapping windows
  --worker-timeout S   a model worker silent (no heartbeat) for S seconds is killed and restarted; its requests
                       fail with worker-unresponsive (default ${DEFAULT_WORKER_TIMEOUT_SECONDS}; 0 turns the watchdog off)`;

export const MODEL_OPTIONS_HELP = `Model options:
  --model DIR          model directory (model.onnx + tokenizer.json); default: the shipped models/damoe-sst2
${ENGINE_OPTIONS_HELP}`;

/** util.parseArgs, with its errors turned into usage errors that name the option. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const unknown = /Unknown option '([^']+)'/.exec(err.message);
    if (unknown) throw new UsageError(`unknown option '${unknown[1]}'`);
    throw new UsageError(err.message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export function wholeNumber(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got '${raw}'`);
  return Number(raw);
}

/** A number of seconds (decimals allowed) from 0 to MAX_WORKER_TIMEOUT_SECONDS. */
function seconds(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) > MAX_WORKER_TIMEOUT_SECONDS) {
    throw new UsageError(`--${name} must be a number of seconds from 0 to ${MAX_WORKER_TIMEOUT_SECONDS} (0: no watchdog), got '${raw}'`);
  }
  return Number(raw);
}

export function engineOptions(values: {
  model?: string;
  provider?: string;
  threads?: string;
  'max-tokens'?: string;
  'worker-timeout'?: string;
}): CreateEngineOptions {
  let provider: ExecutionProviderChoice | undefined;
  if (values.provider !== undefined) {
    if (!isProviderChoice(values.provider)) {
      throw new UsageError(`--provider must be one of ${EXECUTION_PROVIDER_CHOICES.join(', ')}, got '${values.provider}'`);
    }
    provider = values.provider;
  }
  return {
    modelDir: values.model,
    executionProvider: provider,
    threads: wholeNumber('threads', values.threads, 0),
    maxTokens: wholeNumber('max-tokens', values['max-tokens'], MIN_MAX_TOKENS),
    workerTimeoutSeconds: seconds('worker-timeout', values['worker-timeout']),
  };
}
