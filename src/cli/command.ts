import { type ParseArgsConfig, parseArgs } from 'node:util';
import { InputValidationError } from '../domain/errors.ts';

/** One `prestage <name>` subcommand. `run` returns the process exit code. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** Full `--help` text: usage line, options, an example. */
  readonly help: string;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

/** Output streams, injected so tests can capture them. */
export interface CliIo {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown; isTTY?: boolean };
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * Strict option parsing: an unknown flag or a missing value is an InputValidationError naming the flag.
 * `--help` is always accepted.
 */
export function parseOptions<T extends OptionSpec>(argv: readonly string[], options: T, command: string) {
  try {
    return parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new InputValidationError(
      { field: command },
      `${(error as Error).message}; see 'prestage ${command} --help'`,
    );
  }
}

/** A required string option, or an error naming the flag. */
export function requireOption(value: string | undefined, flag: string, command: string): string {
  if (value === undefined || value === '') {
    throw new InputValidationError({ field: `--${flag}` }, `is required; see 'prestage ${command} --help'`);
  }
  return value;
}

/** A positive integer option, or an error naming the flag. */
export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new InputValidationError({ field: `--${flag}` }, `expected a positive integer, found '${value}'`);
  }
  return n;
}
