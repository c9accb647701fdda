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
    throw optionParseError(error, options, command);
  }
}

/**
 * node:util parseArgs's error, reworded to name the flag as the field (`field '--forcast': unknown option;
 * expected one of --series, --horizon, …`) instead of the command, with the closest known flag when the
 * flag looks like a typo.
 */
export function optionParseError(error: unknown, options: OptionSpec, command: string): InputValidationError {
  const see = `see 'prestage ${command} --help'`;
  const message = (error as Error).message ?? String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const flag = quoted.replace(/ <value>$/, '');
  const known = Object.entries(options).map(([name, spec]) => ({
    name: `--${name}`,
    short: spec.short ? `-${spec.short}` : undefined,
  }));
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const closest = closestFlag(
      flag,
      known.map((k) => k.name),
    );
    const hint = closest ? `did you mean ${closest}? ` : '';
    return new InputValidationError(
      { field: flag },
      `unknown option; ${hint}${command} takes ${known.map((k) => k.name).join(', ')}; ${see}`,
    );
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const problem = /argument missing/.test(message) ? 'expects a value' : 'takes no value';
    const long = known.find((k) => k.short === flag)?.name ?? flag;
    return new InputValidationError({ field: long }, `${problem}; ${see}`);
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return new InputValidationError(
      {},
      `unexpected argument '${flag}'; ${command} takes only --options (a value goes after its flag); ${see}`,
    );
  }
  return new InputValidationError({}, `${message}; ${see}`);
}

/** The known flag within edit distance 2 of a mistyped one, if exactly one is that close. */
function closestFlag(flag: string, known: readonly string[]): string | undefined {
  const scored = known
    .map((name) => ({ name, distance: editDistance(flag.replace(/^-+/, ''), name.slice(2)) }))
    .filter((k) => k.distance <= 2)
    .sort((a, b) => a.distance - b.distance);
  if (scored.length === 0 || (scored.length > 1 && scored[1].distance === scored[0].distance))
    return undefined;
  return scored[0].name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
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
