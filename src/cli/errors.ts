/** How the CLI fails: a usage error (exit 2) or a model/engine error (exit 1), never a stack trace. */
import { EngineError } from '../core';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The user asked for something the CLI cannot do as asked (unknown option, bad value, no text). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Engine error codes caused by what the user typed rather than by the model or the machine. */
const USAGE_CODES = new Set(['empty-text', 'invalid-option', 'input-too-long']);

/** Writes a readable message for `error` to stderr and returns the exit code. Unknown errors are bugs: say so. */
export function reportError(error: unknown, stderr: NodeJS.WritableStream): number {
  if (error instanceof UsageError) {
    stderr.write(`damoe: ${error.message}\nRun 'damoe --help' for usage.\n`);
    return EXIT_USAGE;
  }
  if (error instanceof EngineError) {
    stderr.write(`damoe: ${error.message}\n`);
    // Contract and provider messages already say everything; other details (worker output, reasons) follow.
    if (error.code !== 'contract-violation' && error.code !== 'provider-unavailable' && error.details?.length) {
      for (const d of error.details) stderr.write(`  ${d}\n`);
    }
    return USAGE_CODES.has(error.code) ? EXIT_USAGE : EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  stderr.write(`damoe: internal error: ${message}\n(This is a bug in damoe; please report it with the command you ran.)\n`);
  return EXIT_FAILURE;
}
