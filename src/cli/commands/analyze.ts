/** damoe analyze [TEXT | -]: run the model on one text and show how each token was routed. */
import { createEngine } from '../../core';
import type { CliIO, Command } from '../context';
import { UsageError } from '../errors';
import { summary, tokenTable } from '../format';
import { writeJson, writeJsonLines } from '../json-stream';
import { tokenLines } from '../../shared/token-line';
import { engineOptions, MODEL_OPTIONS, MODEL_OPTIONS_HELP, parse } from '../options';
import { readAll } from '../stdin';

const HELP = `Usage: damoe analyze [options] [TEXT | -]

Runs the model on TEXT and prints a table of tokens x (importance, K and chosen experts per layer), then the
prediction, K histogram, mean K, expert FLOPs against fixed top-K_max and top-2, the execution provider and latency.
With '-', or with no TEXT while standard input is piped, the text is read from standard input.

Options:
  --json               print the full Analysis as JSON (fields documented in docs/cli.md); = --format json
  --format F           table (default), json, or jsonl: one token per line with its importance, K, experts and
                       gates per layer (for jq)
  --pair TEXT          second segment of a pair input (e.g. premise / hypothesis)
${MODEL_OPTIONS_HELP}
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
    const options = engineOptions(values);
    const text = await inputText(positionals, io);
    if (text.trim() === '') throw new UsageError('the text is empty: nothing to analyze');
    const engine = await createEngine(options);
    try {
      const analysis = await engine.analyze({ text, textPair: values.pair });
      // Streamed: the JSON of a long text is larger than one string can hold.
      if (format === 'json') await writeJson(io.stdout, analysis);
      else if (format === 'jsonl') await writeJsonLines(io.stdout, tokenLines(analysis));
      else io.stdout.write(`${tokenTable(analysis)}\n\n${summary(analysis)}\n`);
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};
