/** The `damoe` command line: dispatch to a command, turn every failure into a message and an exit code. */
import type { CliIO } from './context';
import { COMMANDS } from './commands';
import { EXIT_USAGE, reportError, UsageError } from './errors';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: damoe <command> [options]

Inspect how a Mixture-of-Experts model routes each token of a text.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'damoe <command> --help' for a command's options. Documentation: docs/cli.md`;
}

export async function run(argv: string[], io: CliIO = process): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      if (name === 'help' && rest[0]) return await run([rest[0], '--help'], io);
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
