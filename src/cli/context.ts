/** What a command gets: its arguments and the streams it writes to (so tests and the bin shim share one path). */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface Command {
  name: string;
  /** One line for `damoe --help`. */
  summary: string;
  /** Full help for `damoe <name> --help`. */
  help: string;
  run(args: string[], io: CliIO): Promise<number>;
}
