import { parseDuration } from '../../domain/duration.ts';
import { InputValidationError } from '../../domain/errors.ts';
import { BlackBoxRunError, runBlackBoxNemesis } from '../../local/nemesis/black-box.ts';
import { MAX_NEMESIS_MS, type NemesisSettings } from '../../local/nemesis/nemesis-settings.ts';
import { formatReport } from '../../verification/list-append-checker.ts';
import { type CliCommand, type CliIo, parseOptions } from '../command.ts';
import { serverUrl } from '../local-server-client.ts';

const HELP = `Usage: prestage nemesis [--server http://127.0.0.1:8080] [--duration 60s] [--seed <n>]
                        [--throttle-rate <r>] [--lost-response-rate <r>] [--index-lag-ms <ms>]
                        [--latency-spike-rate <r>] [--latency-spike-ms <ms>] [--freeze-rate <r>]
                        [--step-fault-rate <r>]

Runs the Jepsen-style list-append check against a running 'prestage serve --embedded --faults', through its
HTTP API only: clients append to lists with GET then PUT If-Match and read them back while migrations move the
partitions and the server's nemesis injects faults; then every key is read once more and the history is checked
(lost, duplicated, phantom, stale, reordered writes; migrations that never end; partitions left fenced).
Exit code 0 when the history is valid, 1 when it shows an anomaly.

Options:
  --server <url>              the server (default http://127.0.0.1:8080)
  --duration <d>              how long the clients run: seconds, or 90s, 5m (default 60s)
  --seed <n>                  seed of the clients' and migrations' draws (default: random, printed)
  --throttle-rate <r>         share of storage attempts throttled, 0-1 (default 0)
  --lost-response-rate <r>    share of storage writes applied but answered with an error, 0-1 (default 0)
  --index-lag-ms <ms>         how long new items stay missing from the changes index (default 0)
  --latency-spike-rate <r>    share of storage attempts delayed by --latency-spike-ms, 0-1 (default 0)
  --latency-spike-ms <ms>     length of a latency spike (default 0)
  --freeze-rate <r>           share of migration step invocations whose sandbox freezes, 0-1 (default 0)
  --step-fault-rate <r>       share of migrations preceded by one step fault (error, timeout or throttle), 0-1

Example (two terminals):
  npx prestage serve --embedded --faults
  npx prestage nemesis --duration 60 --lost-response-rate 0.05 --index-lag-ms 3000
`;

const RATE_FLAGS = {
  'throttle-rate': 'throttleRate',
  'lost-response-rate': 'lostResponseRate',
  'latency-spike-rate': 'latencySpikeRate',
  'freeze-rate': 'freezeRate',
} as const satisfies Record<string, keyof NemesisSettings>;

const MS_FLAGS = {
  'index-lag-ms': 'indexLagMs',
  'latency-spike-ms': 'latencySpikeMs',
} as const satisfies Record<string, keyof NemesisSettings>;

function parseRate(value: string, flag: string): number {
  const rate = Number(value);
  if (value.trim() === '' || !(rate >= 0 && rate <= 1)) {
    throw new InputValidationError({ field: `--${flag}` }, `expected a rate from 0 to 1, found '${value}'`);
  }
  return rate;
}

function parseMs(value: string, flag: string): number {
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms > MAX_NEMESIS_MS) {
    throw new InputValidationError(
      { field: `--${flag}` },
      `expected whole milliseconds from 0 to ${MAX_NEMESIS_MS}, found '${value}'`,
    );
  }
  return ms;
}

/** Plain seconds (`60`) or a duration (`90s`, `5m`); more than zero. */
function parseRunDuration(value: string): number {
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(value)) ms = Number(value) * 1000;
  else {
    try {
      ms = parseDuration(value, '--duration');
    } catch {
      ms = Number.NaN;
    }
  }
  if (!(ms > 0)) {
    throw new InputValidationError(
      { field: '--duration' },
      `expected seconds or a duration such as 90s or 5m, found '${value}'`,
    );
  }
  return ms;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Parse the flags, run the black-box check against the server and print its report. */
export async function runNemesisCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(
    argv,
    {
      server: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      'throttle-rate': { type: 'string' },
      'lost-response-rate': { type: 'string' },
      'index-lag-ms': { type: 'string' },
      'latency-spike-rate': { type: 'string' },
      'latency-spike-ms': { type: 'string' },
      'freeze-rate': { type: 'string' },
      'step-fault-rate': { type: 'string' },
    },
    'nemesis',
  );
  const server = serverUrl(values.server);
  const durationMs = parseRunDuration(values.duration ?? '60s');
  let seed = Math.floor(Math.random() * 2 ** 31);
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!/^\d+$/.test(values.seed) || !Number.isSafeInteger(seed)) {
      throw new InputValidationError(
        { field: '--seed' },
        `expected a non-negative integer, found '${values.seed}'`,
      );
    }
  }
  const nemesis: Partial<Record<keyof NemesisSettings, number>> = {};
  for (const [flag, setting] of Object.entries(RATE_FLAGS)) {
    const value = values[flag as keyof typeof RATE_FLAGS];
    if (value !== undefined) nemesis[setting] = parseRate(value, flag);
  }
  for (const [flag, setting] of Object.entries(MS_FLAGS)) {
    const value = values[flag as keyof typeof MS_FLAGS];
    if (value !== undefined) nemesis[setting] = parseMs(value, flag);
  }
  const stepFaultRate =
    values['step-fault-rate'] === undefined ? 0 : parseRate(values['step-fault-rate'], 'step-fault-rate');

  const settings = Object.entries(nemesis).map(([name, value]) => `${name} ${value}`);
  io.stdout.write(
    `nemesis against ${server} for ${seconds(durationMs)}, seed ${seed}\n` +
      `  storage/process faults: ${settings.length > 0 ? settings.join(' · ') : 'none'}` +
      ` · step faults: ${stepFaultRate}\n`,
  );
  let report: Awaited<ReturnType<typeof runBlackBoxNemesis>>;
  try {
    report = await runBlackBoxNemesis({
      server,
      durationMs,
      seed,
      nemesis,
      stepFaultRate,
      onProgress: (p) =>
        io.stdout.write(
          `  [${seconds(p.elapsedMs).padStart(7)}] migrations ${p.migrationsStarted} started, ` +
            `${p.migrationsEnded} ended · ${p.appendsAcked} appends acked\n`,
        ),
    });
  } catch (error) {
    // The run itself broke (the server stopped answering the harness): no verdict on the history.
    if (!(error instanceof BlackBoxRunError)) throw error;
    io.stderr.write(`prestage nemesis: ${error.message}\n`);
    return 1;
  }
  const m = report.migrations;
  io.stdout.write(
    `migrations: ${m.started} started · ${m.committed} committed · ${m.rolledBack} rolled back · ` +
      `${m.failed} failed · ${m.neverEnded} never ended · ${report.stepFaultsArmed} step faults armed\n`,
  );
  if (report.nemesisCounts) {
    const counts = Object.entries(report.nemesisCounts).map(([name, count]) => `${name} ${count}`);
    io.stdout.write(`nemesis counts: ${counts.join(' · ')}\n`);
  }
  io.stdout.write(`${formatReport(report.checker)}\n`);
  return report.checker.valid ? 0 : 1;
}

export const nemesisCommand: CliCommand = {
  name: 'nemesis',
  summary: 'Check a running local server black-box: list-append clients, migrations and faults, Elle-style',
  help: HELP,
  run: (argv, io) => runNemesisCommand(argv, io),
};
