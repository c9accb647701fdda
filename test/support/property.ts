import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * fast-check runs for the test suite: random, but every run has a known seed and every failure can be replayed.
 *
 * - The seed is drawn here (or taken from `PRESTAGE_FC_SEED`, else from `params.seed`) and passed to fast-check,
 *   so it is known for every run. `PRESTAGE_FC_VERBOSE=1` prints it for every property run, not only failures.
 * - A failure throws an error whose message starts with the seed, the counterexample path, the shrunk
 *   counterexample and the command that replays it, followed by fast-check's own report; the property's
 *   error is attached as `cause`.
 * - Replay: `PRESTAGE_FC_SEED=<seed> npx vitest run <file> -t '<test name>'` reruns the same cases;
 *   adding `PRESTAGE_FC_PATH=<path>` jumps straight to the shrunk counterexample. The environment overrides a
 *   seed the test pins, so restrict a replay to the failing test with `-t`.
 * - Keep every counterexample ever found in the test's `examples` (they run before the random cases) and as a
 *   plain `it(...)`: the random search moves on with each seed, the regression must not.
 */
export const SEED_ENV = 'PRESTAGE_FC_SEED';
export const PATH_ENV = 'PRESTAGE_FC_PATH';
export const VERBOSE_ENV = 'PRESTAGE_FC_VERBOSE';

/** `params` with the seed (and replay path) decided: environment first, then `params`, then random. */
export function propertyParameters<Ts>(params: fc.Parameters<Ts> = {}): fc.Parameters<Ts> & { seed: number } {
  const seed = envInteger(SEED_ENV) ?? params.seed ?? randomSeed();
  const path = process.env[PATH_ENV] || params.path;
  return path === undefined ? { ...params, seed } : { ...params, seed, path };
}

/** `fc.assert` with the seed decided up front and printed on failure (and on every run if verbose). */
export function assertProperty<Ts>(
  property: fc.IAsyncProperty<Ts>,
  params?: fc.Parameters<Ts>,
): Promise<void>;
export function assertProperty<Ts>(property: fc.IProperty<Ts>, params?: fc.Parameters<Ts>): void;
export function assertProperty<Ts>(
  property: fc.IRawProperty<Ts>,
  params?: fc.Parameters<Ts>,
): Promise<void> | void {
  const resolved = propertyParameters(params);
  if (property.isAsync()) {
    return (fc.check(property, resolved) as Promise<fc.RunDetails<Ts>>).then(async (details) => {
      report(details, resolved, details.failed ? await fc.asyncDefaultReportMessage(details) : undefined);
    });
  }
  const details = fc.check(property, resolved) as fc.RunDetails<Ts>;
  report(details, resolved, details.failed ? fc.defaultReportMessage(details) : undefined);
}

function report<Ts>(
  details: fc.RunDetails<Ts>,
  params: fc.Parameters<Ts> & { seed: number },
  fastCheckMessage: string | undefined,
): void {
  const replay = replayCommand(details.seed, details.counterexamplePath);
  if (process.env[VERBOSE_ENV]) {
    console.info(
      `[property] ${currentTestName()}: seed ${details.seed}${params.path ? ` path ${params.path}` : ''}, ` +
        `${details.numRuns} runs, ${details.failed ? 'FAILED' : 'passed'} (replay: ${replay})`,
    );
  }
  if (!details.failed) return;
  const lines = [
    `Property failed: seed ${details.seed}` +
      (details.counterexamplePath === null ? '' : `, path "${details.counterexamplePath}"`),
  ];
  if (details.counterexample !== null) lines.push(`Counterexample: ${fc.stringify(details.counterexample)}`);
  if (details.errorInstance instanceof Error) lines.push(`Error: ${details.errorInstance.message}`);
  lines.push(`Replay: ${replay}`);
  lines.push('Keep the counterexample: add it to this property’s `examples` and as a plain it(...) case.');
  if (fastCheckMessage) lines.push('', fastCheckMessage);
  throw new Error(lines.join('\n'), { cause: details.errorInstance ?? undefined });
}

function replayCommand(seed: number, path: string | null): string {
  const name = currentTestName();
  // `-t` is a regular expression over the full test name: escape it, then quote it for the shell.
  const pattern = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return (
    `${SEED_ENV}=${seed}${path ? ` ${PATH_ENV}='${path}'` : ''} npx vitest run ${currentTestFile()}` +
    (pattern ? ` -t '${pattern.replaceAll("'", "'\\''")}'` : '')
  );
}

/** Full name of the running test, as `vitest -t` matches it (describe and test names joined by ' > '). */
function currentTestName(): string {
  return expect.getState().currentTestName ?? '';
}

function currentTestFile(): string {
  const path = expect.getState().testPath;
  if (!path) return '<file>';
  const cwd = `${process.cwd()}/`;
  return path.startsWith(cwd) ? path.slice(cwd.length) : path;
}

function envInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be an integer seed, got '${raw}'`);
  return value;
}

function randomSeed(): number {
  // fast-check's own default is Date.now() ^ (Math.random() * 2^32), a 32-bit integer.
  return (Date.now() ^ (Math.random() * 0x1_0000_0000)) | 0;
}
