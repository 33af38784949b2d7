/** damoe analyze [TEXT | -]: run the model on one text and show how each token was routed. */
import { checkTextImportance, createEngine, EngineError, openTraceReader, remoteAnalysis } from '../../core';
import type { Analysis } from '../../shared/analysis';
import { importanceCheckLines, importanceCheckUnavailable } from '../../shared/importance-check';
import {
  DEFAULT_REMOTE_KIND,
  DEFAULT_REMOTE_TIMEOUT_SECONDS,
  MAX_REMOTE_TIMEOUT_SECONDS,
  REMOTE_API_KEY_ENV,
  REMOTE_KINDS,
  type RemoteKind,
} from '../../shared/defaults';
import type { CliIO, Command } from '../context';
import { UsageError } from '../errors';
import { summary, tokenTable } from '../format';
import { writeJson, writeJsonLines } from '../json-stream';
import { tokenLines } from '../../shared/token-line';
import { engineOptions, MODEL_OPTIONS, MODEL_OPTIONS_HELP, parse } from '../options';
import { readAll } from '../stdin';
import { readerOptions } from './trace';

const HELP = `Usage: damoe analyze [options] [TEXT | -]

Runs the model on TEXT and prints a table of tokens x (importance, K and chosen experts per layer), then the
prediction, K histogram, mean K, expert FLOPs against fixed top-K_max and top-2, the execution provider and latency.
With '-', or with no TEXT while standard input is piped, the text is read from standard input.

Options:
  --json               print the full Analysis as JSON (fields documented in docs/cli.md); = --format json
  --format F           table (default), json, or jsonl: one token per line with its importance, K, experts and
                       gates per layer (for jq)
  --pair TEXT          second segment of a pair input (e.g. premise / hypothesis)
  --importance-check   also delete each token in turn, re-run the model (one batch) and report, per layer,
                       Spearman's rho between importance and the drop in the predicted class's probability
                       (table: a summary; --json: importance_check; docs/importance-check.md). Classifiers only
${MODEL_OPTIONS_HELP}
Remote options (a vLLM or SGLang server that records routing; docs/routing-traces.md):
  --remote URL         send TEXT to the server at URL (max_tokens 1) and show the routing it recorded for the
                       prompt tokens, instead of running a local model; needs --tokenizer
  --remote-kind K      vllm (default; POST /v1/completions) or sglang (POST /generate)
  --remote-model NAME  the model field of a vLLM request (default: the server's model)
  --remote-timeout S   seconds to wait for the answer (default ${DEFAULT_REMOTE_TIMEOUT_SECONDS})
  --tokenizer DIR      the served model's folder (tokenizer.json, config.json); --num-experts, --top-k,
                       --num-layers as for 'damoe trace'
  The API key, if the server needs one, is read from the ${REMOTE_API_KEY_ENV} environment variable.
  -h, --help           show this help`;

const OUTPUT_FORMATS = ['table', 'json', 'jsonl'] as const;

async function inputText(positionals: string[], io: CliIO): Promise<string> {
  if (positionals.length > 1) {
    throw new UsageError(`analyze takes one TEXT argument, got ${positionals.length}; quote the text or use '-' to read standard input`);
  }
  const [arg] = positionals;
  if (arg === '-' || (arg === undefined && !io.stdin.isTTY)) return readAll(io.stdin);
  if (arg === undefined) throw new UsageError("analyze needs a TEXT argument, or '-' to read standard input");
  return arg;
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'show how each token of a text is routed (table, or --json)',
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...MODEL_OPTIONS,
      json: { type: 'boolean' },
      format: { type: 'string' },
      pair: { type: 'string' },
      'importance-check': { type: 'boolean' },
      remote: { type: 'string' },
      'remote-kind': { type: 'string' },
      'remote-model': { type: 'string' },
      'remote-timeout': { type: 'string' },
      tokenizer: { type: 'string' },
      'num-experts': { type: 'string' },
      'top-k': { type: 'string' },
      'num-layers': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const format = values.format ?? (values.json ? 'json' : 'table');
    if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got '${format}'`);
    }
    if (values.json && format !== 'json') throw new UsageError(`--json and --format ${format} disagree: give one of them`);
    const check = values['importance-check'] === true;
    if (check && values.remote !== undefined) {
      throw new UsageError(
        '--importance-check needs a local model to re-run: a routing trace from --remote records expert ids only, with no importance to check',
      );
    }
    if (check && format === 'jsonl')
      throw new UsageError('--importance-check goes with the table or --json (the check is not per token line)');
    if (values.remote !== undefined) return runRemote(values, await nonEmptyText(positionals, io), io, format);
    const options = engineOptions(values);
    const text = await nonEmptyText(positionals, io);
    const engine = await createEngine(options);
    try {
      const request = { text, textPair: values.pair };
      const unavailable = check ? importanceCheckUnavailable(engine.model) : null;
      if (unavailable) throw new EngineError('importance-unavailable', `--importance-check: ${unavailable}`);
      const analysis: Analysis = await engine.analyze(request);
      if (check) analysis.importance_check = await checkTextImportance(engine, request);
      // Streamed: the JSON of a long text is larger than one string can hold.
      if (format === 'json') await writeJson(io.stdout, analysis);
      else if (format === 'jsonl') await writeJsonLines(io.stdout, tokenLines(analysis));
      else {
        const extra = analysis.importance_check ? `\n${importanceCheckLines(analysis.importance_check).join('\n')}` : '';
        io.stdout.write(`${tokenTable(analysis)}\n\n${summary(analysis)}${extra}\n`);
      }
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};

async function nonEmptyText(positionals: string[], io: CliIO): Promise<string> {
  const text = await inputText(positionals, io);
  if (text.trim() === '') throw new UsageError('the text is empty: nothing to analyze');
  return text;
}

function remoteKind(raw: string | undefined): RemoteKind {
  if (raw === undefined) return DEFAULT_REMOTE_KIND;
  if (!(REMOTE_KINDS as readonly string[]).includes(raw))
    throw new UsageError(`--remote-kind must be one of ${REMOTE_KINDS.join(', ')}, got '${raw}'`);
  return raw as RemoteKind;
}

function timeoutSeconds(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_REMOTE_TIMEOUT_SECONDS;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n <= 0 || n > MAX_REMOTE_TIMEOUT_SECONDS) {
    throw new UsageError(`--remote-timeout must be a number of seconds above 0 and at most ${MAX_REMOTE_TIMEOUT_SECONDS}, got '${raw}'`);
  }
  return n;
}

/** --remote: the text goes to a serving engine; its recorded routing is shown like a local analysis. */
async function runRemote(values: Record<string, string | boolean | undefined>, text: string, io: CliIO, format: string): Promise<number> {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  if (str('model') !== undefined || str('pair') !== undefined)
    throw new UsageError('--model and --pair are for a local model; --remote sends one prompt to the server');
  if (str('tokenizer') === undefined)
    throw new UsageError("--remote needs --tokenizer DIR: the served model's tokenizer.json (and config.json)");
  const kind = remoteKind(str('remote-kind'));
  const timeout = timeoutSeconds(str('remote-timeout'));
  const reader = await openTraceReader(
    readerOptions({
      tokenizer: str('tokenizer'),
      'num-experts': str('num-experts'),
      'top-k': str('top-k'),
      'num-layers': str('num-layers'),
    }),
  );
  const apiKey = process.env[REMOTE_API_KEY_ENV] || undefined;
  const model = str('remote-model');
  const analysis = await remoteAnalysis(reader, text, {
    url: str('remote')!,
    kind,
    timeoutSeconds: timeout,
    ...(apiKey ? { apiKey } : {}),
    ...(model ? { model } : {}),
  });
  if (format === 'json') await writeJson(io.stdout, analysis);
  else if (format === 'jsonl') await writeJsonLines(io.stdout, tokenLines(analysis));
  else io.stdout.write(`${tokenTable(analysis)}\n\n${summary(analysis)}\n`);
  return 0;
}
