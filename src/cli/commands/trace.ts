/** damoe trace FILE: show the routing a serving engine (vLLM, SGLang) recorded, or statistics over a JSONL of traces. */
import * as path from 'path';
import { openedTrace, openTraceReader, readTraceFile, type TraceReaderOptions } from '../../core';
import { renderSpotCheckHtml } from '../../report/html';
import type { CliIO, Command } from '../context';
import { UsageError } from '../errors';
import { summary, tokenTable } from '../format';
import { writeJson } from '../json-stream';
import { parse, wholeNumber } from '../options';
import { writeAtomic } from '../dataset-run';
import { spotCheckSummary } from './spot-check';

const HELP = `Usage: damoe trace FILE --tokenizer DIR [options]

Reads routing recorded by a serving engine: a saved vLLM /v1/completions or /v1/chat/completions response
(server started with --enable-return-routed-experts), or a saved SGLang /generate, /v1/completions or
/v1/chat/completions response (--enable-return-routed-experts and "return_routed_experts": true). The format is
detected (docs/routing-traces.md). Prints every token (generated ones marked +) with the experts of each layer;
the engines record no gates and no importance, and the table says so.

A JSONL FILE (.jsonl, or one response per line) gives spot-check statistics over all its traces: expert load,
co-activation and dead experts per layer; --json prints that report, --html writes the HTML report.

A Hugging Face hooks trace (training/record_hf_trace.py: a header line with the router convention, then one line
of token ids and router logits per sequence) is read too: its experts and gates are derived by the convention
(gates exist; importance does not). One sequence is shown as a table, several as spot-check statistics.

Options:
  --tokenizer DIR      the served model's directory (tokenizer.json, and config.json for num_experts, top_k and
                       the layer count), or its tokenizer.json (then pass --num-experts)
  --prompt TEXT        the prompt as text: tokenised to give each token its place in the text; needed when the
                       response has no prompt token ids (request "return_token_ids": true to include them)
  --num-experts N      experts per MoE layer (instead of config.json)
  --top-k K            experts per token (SGLang's base64 has no shape; instead of config.json)
  --num-layers N       layers SGLang recorded (num_hidden_layers; instead of config.json)
  --json               print the Analysis (or, for a JSONL, the spot-check report) as JSON
  --html OUT           (JSONL) write the self-contained HTML report to OUT
  -h, --help           show this help`;

export const traceCommand: Command = {
  name: 'trace',
  summary: 'show the routing a vLLM or SGLang server recorded (a saved response, or a JSONL of many)',
  help: HELP,
  async run(args, io: CliIO) {
    const { values, positionals } = parse(args, {
      tokenizer: { type: 'string' },
      prompt: { type: 'string' },
      'num-experts': { type: 'string' },
      'top-k': { type: 'string' },
      'num-layers': { type: 'string' },
      json: { type: 'boolean' },
      html: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? 'trace needs a trace FILE' : `trace takes one FILE, got ${positionals.length}`);
    }
    if (values.tokenizer === undefined)
      throw new UsageError("trace needs --tokenizer DIR: the served model's tokenizer.json (and config.json)");
    const reader = await openTraceReader(readerOptions(values));
    const file = path.resolve(positionals[0]);
    const content = await readTraceFile(file);
    const many = content.kind === 'lines' || (content.kind === 'hf-hooks' && content.lines.length > 1);
    if (!many && values.html !== undefined)
      throw new UsageError('--html is for a JSONL of traces; one trace is shown as a table (or --json)');
    if (many && values.prompt !== undefined)
      throw new UsageError('--prompt is for one trace; in a JSONL, give each line as {"prompt": ..., "response": ...}');
    const opened = openedTrace(reader, content, file, values.prompt !== undefined ? { prompt: values.prompt } : {});
    if (opened.kind === 'analysis') {
      if (values.json) await writeJson(io.stdout, opened.analysis);
      else io.stdout.write(`${tokenTable(opened.analysis)}\n\n${summary(opened.analysis)}\n`);
      return 0;
    }
    const { report } = opened;
    if (values.html !== undefined) writeAtomic(path.resolve(values.html), renderSpotCheckHtml(report));
    if (values.json) await writeJson(io.stdout, report);
    else io.stdout.write(`${spotCheckSummary(report)}\n`);
    return 0;
  },
};

export function readerOptions(values: {
  tokenizer?: string;
  'num-experts'?: string;
  'top-k'?: string;
  'num-layers'?: string;
}): TraceReaderOptions {
  return {
    tokenizer: values.tokenizer!,
    numExperts: wholeNumber('num-experts', values['num-experts'], 1),
    topK: wholeNumber('top-k', values['top-k'], 1),
    numLayers: wholeNumber('num-layers', values['num-layers'], 1),
  };
}
