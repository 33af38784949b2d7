/** The `damoe` command line: dispatch to a command, turn every failure into a message and an exit code. */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../core';
import type { CliIO } from './context';
import { COMMANDS } from './commands';
import { EXIT_USAGE, reportError, UsageError } from './errors';

function versionOf(manifest: string | null): string {
  try {
    return manifest ? (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `damoe --version`: this package's version, and what a bug report needs besides (the runtime it loads). */
export function versionText(): string {
  const root = packageRoot();
  let ort: string | null = null;
  try {
    ort = require.resolve('onnxruntime-node/package.json');
  } catch {
    // reported as unknown: the worker says why when a model loads
  }
  return (
    `damoe-inspector ${versionOf(root ? path.join(root, 'package.json') : null)} ` +
    `(onnxruntime-node ${versionOf(ort)}, Node ${process.version}, ${process.platform}-${process.arch})`
  );
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: damoe <command> [options]

Inspect how a Mixture-of-Experts model routes each token of a text.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  --version, -v   print the version (and onnxruntime-node's, Node's and the platform)
  --help, -h      this help

Run 'damoe help <command>' (or 'damoe <command> --help') for a command's options. Documentation: docs/cli.md`;
}

export async function run(argv: string[], io: CliIO = process): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === '--version' || name === '-v' || name === 'version') {
      io.stdout.write(`${versionText()}\n`);
      return 0;
    }
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      if (name === 'help' && rest.length > 1) throw new UsageError(`help takes one command, got ${rest.length}`);
      if (name === 'help' && rest[0]) {
        const command = COMMANDS.find((c) => c.name === rest[0]);
        if (!command)
          throw new UsageError(`no help for '${rest[0]}': unknown command (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
        io.stdout.write(`${command.help}\n`);
        return 0;
      }
      (name === undefined ? io.stderr : io.stdout).write(`${usage()}\n`);
      return name === undefined ? EXIT_USAGE : 0;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) {
      throw new UsageError(name.startsWith('-') ? `unknown option '${name}' (a command comes first)` : `unknown command '${name}'`);
    }
    return await command.run(rest, io);
  } catch (e) {
    return reportError(e, io.stderr);
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
