/**
 * Error hierarchy shared by the domain, the CLI and (later) the Lambdas.
 * Names are stable: Step Functions Retry/Catch and the CLI match on `error.name`.
 */
export class PrestageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where in an input a problem was found. Every field is optional so JSON and CSV share it. */
export interface InputLocation {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
}

/** Bad user input: names the file, line and field, and says what was expected. */
export class InputValidationError extends PrestageError {
  readonly location: InputLocation;
  constructor(location: InputLocation, problem: string) {
    super(`${formatLocation(location)}${problem}`);
    this.location = location;
  }
}

/** A topology or snapshot for which no placement satisfies a hard constraint. */
export class InfeasiblePlacementError extends PrestageError {
  readonly constraint: string;
  constructor(constraint: string, detail: string) {
    super(`infeasible placement: constraint '${constraint}' cannot be met: ${detail}`);
    this.constraint = constraint;
  }
}

export function formatLocation(location: InputLocation): string {
  const parts: string[] = [];
  if (location.file !== undefined) parts.push(location.file);
  if (location.line !== undefined) parts.push(`line ${location.line}`);
  if (location.field !== undefined) parts.push(`field '${location.field}'`);
  return parts.length > 0 ? `${parts.join(', ')}: ` : '';
}
