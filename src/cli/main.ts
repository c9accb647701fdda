import { PrestageError } from '../domain/errors.ts';
import { inputFileError } from '../io/input-file.ts';
import type { CliCommand, CliIo } from './command.ts';

/**
 * A subcommand as `prestage --help` lists it, with its module loaded only when it runs. `prestage --help`
 * must not pay for the AWS SDK, dynalite or the CDK that some commands import.
 */
export interface LazyCommand {
  readonly name: string;
  readonly summary: string;
  load(): Promise<CliCommand>;
}

/** Registered subcommands, in the order `prestage --help` lists them. */
const commands: LazyCommand[] = [];

/** Register a command: lazily (name, summary and a loader), or an already loaded one. */
export function registerCommand(command: LazyCommand | CliCommand): void {
  commands.push('load' in command ? command : { ...command, load: async () => command });
}

/** The registered commands, for tests that check each lazy entry against its module. */
export function registeredCommands(): readonly LazyCommand[] {
  return commands;
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: prestage <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'prestage <command> --help' for a command's options.",
    '',
  ].join('\n');
}

/** Entry point shared by `bin/prestage.ts` and the tests. Errors print as one line, never a stack trace. */
export async function runCli(argv: readonly string[], io: CliIo = process): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`prestage: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.help.trimEnd()}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (thrown) {
    const err = thrown as NodeJS.ErrnoException;
    // An fs error that reaches here came from a path the user gave (an output file, mostly); the input
    // readers already turn theirs into InputValidationErrors.
    const error = err?.path ? inputFileError(err, err.path) : thrown;
    if (error instanceof PrestageError) {
      io.stderr.write(`prestage ${name}: ${error.name}: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`prestage ${name}: internal error: ${err?.message ?? String(thrown)}\n`);
    if (process.env.PRESTAGE_DEBUG) io.stderr.write(`${err?.stack}\n`);
    return 1;
  }
}
