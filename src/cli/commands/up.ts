import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseDuration } from '../../domain/duration.ts';
import { InputValidationError } from '../../domain/errors.ts';
import type { LiveBacktest } from '../../live/live-backtest.ts';
import type { LiveDashboard } from '../../live/live-dashboard.ts';
import { type CliCommand, type CliIo, parseOptions } from '../command.ts';
import { BUNDLED_TRACES_DIR, DEFAULT_DEMO_TRACE } from './demo.ts';

const HELP = `Usage: prestage up [--trace T.csv[.gz] --partitions P.csv --topology TOPO.json] [options]

Run the whole control loop on this machine against a recorded trace: the embedded multi-region data plane
(one listener per region), the real profiler and planner handlers on their schedule, ExecutePlan and
MigratePartition from their synthesized state machines, and a load generator that replays the trace as real
HTTP requests through each region's listener. The trace's history before the measured window (the backtest's
warm-up) is fed to the profiler first; then the window is replayed on a compressed trace clock. At the end:
live against the backtest of the same trace and window, and the check of every acknowledged write.
'npm start' runs it on the bundled trace (data/traces/${DEFAULT_DEMO_TRACE}). See docs/live.md.

Inputs (default: the bundled trace):
  --trace FILE          timestamp,partition,region,reads,writes (.csv or .csv.gz)
  --partitions FILE     partition,sizeBytes,cell: the initial placement
  --topology FILE       regions, latency matrix, cells (each region gets a listener)

Options:
  --loop on|off         off: the same traffic with no control loop, the static baseline (default on)
  --speed X             trace seconds per wall second (default: the window in --duration)
  --duration DURATION   wall time to replay the window in, when --speed is not given (default 4m)
  --rate N              sampled requests per wall second the load generator aims at (default 30)
  --carriers N          carrier requests per wall second at most, so the profiler counts the series the
                        sample misses (default 340; see docs/live.md, "a counted sample")
  --interval DURATION   the profiler's schedule and bucket, a multiple of the trace's bucket (default 1h)
  --warmup DURATION     the part of the trace before the window (default 7d, as the backtest)
  --port N              first listener's port; region i listens on port + i, the dashboard after the
                        last region (default 8080; 0: any free)
  --json FILE           write the summary as JSON
  --outcomes FILE       write every request's outcome as JSON lines, with the listener's timing (diagnostics)
  --no-backtest         skip the backtest comparison
  --no-dashboard        do not serve the web dashboard (its URL is printed at the start)

Ctrl-C stops everything it started and prints the summary so far.

Examples:
  npm start
  prestage up --loop off --json out/static.json
  prestage up --trace t.csv --partitions p.csv --topology topo.json --speed 2000 --port 0
`;

function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !(Number.isFinite(n) && n > 0)) {
    throw new InputValidationError({ field: flag }, `expected a positive number, found '${value}'`);
  }
  return n;
}

function portOf(value: string | undefined): number {
  if (value === undefined) return 8080;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 0 && n <= 65_535 - 8)) {
    throw new InputValidationError({ field: '--port' }, `expected a port from 0 to 65527, found '${value}'`);
  }
  return n;
}

function durationOf(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  return parseDuration(value, flag);
}

function bundledFiles() {
  const dir = join(BUNDLED_TRACES_DIR, DEFAULT_DEMO_TRACE);
  const shown = (path: string) => {
    const rel = relative(process.cwd(), path);
    return rel.startsWith('..') ? path : rel;
  };
  return {
    trace: shown(join(dir, 'trace.csv.gz')),
    partitions: shown(join(dir, 'partitions.csv')),
    topology: shown(join(dir, 'topology.json')),
  };
}

/** The data plane's and the loop's log lines: counted, the first few kept (one line each), not streamed. */
class DiagnosticLog {
  count = 0;
  readonly first: string[] = [];
  add(line: string): void {
    this.count += 1;
    if (this.first.length < 5) this.first.push(line.split('\n')[0]);
  }
}

/** The web dashboard (src/live/dashboard/), loaded only when it is served. */
const DASHBOARD: LiveDashboard = {
  start: async (options) =>
    (await import('../../live/dashboard/dashboard-server.ts')).startDashboard(options),
};

export async function runUp(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(
    argv,
    {
      trace: { type: 'string' },
      partitions: { type: 'string' },
      topology: { type: 'string' },
      loop: { type: 'string' },
      speed: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      carriers: { type: 'string' },
      interval: { type: 'string' },
      warmup: { type: 'string' },
      port: { type: 'string' },
      json: { type: 'string' },
      outcomes: { type: 'string' },
      'no-backtest': { type: 'boolean' },
      'no-dashboard': { type: 'boolean' },
    },
    'up',
  );
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const given = [values.trace, values.partitions, values.topology].filter((v) => v !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new InputValidationError(
      {
        field:
          values.trace === undefined
            ? '--trace'
            : values.partitions === undefined
              ? '--partitions'
              : '--topology',
      },
      'give --trace, --partitions and --topology together (or none, for the bundled trace)',
    );
  }
  const loop = values.loop ?? 'on';
  if (loop !== 'on' && loop !== 'off') {
    throw new InputValidationError({ field: '--loop' }, `expected on or off, found '${loop}'`);
  }
  const speed = positiveNumber(values.speed, '--speed');
  const rate = positiveNumber(values.rate, '--rate');
  const carriers = positiveNumber(values.carriers, '--carriers');
  const durationMs = durationOf(values.duration, '--duration');
  const intervalMs = durationOf(values.interval, '--interval') ?? 3_600_000;
  const warmupMs = durationOf(values.warmup, '--warmup');
  const port = portOf(values.port);
  if (values.json !== undefined && statSync(values.json, { throwIfNoEntry: false })?.isDirectory()) {
    throw new InputValidationError({ file: values.json }, 'is a directory; expected a file to write');
  }
  const files =
    given === 3
      ? { trace: values.trace!, partitions: values.partitions!, topology: values.topology! }
      : bundledFiles();
  if (given === 0 && !existsSync(files.trace)) {
    throw new InputValidationError(
      { file: files.trace },
      "the bundled trace is missing; run 'npx tsx scripts/make-traces.ts'",
    );
  }

  // The handlers' Powertools instances are built at module scope: configure them before loading the loop.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.AWS_REGION ??= 'us-east-1';
  const { readLiveInput, chooseWindow } = await import('../../live/live-input.ts');
  // Before the handlers load: Powertools' tracer loads the X-Ray SDK, whose automatic mode installs an async hook
  // with destroy tracking on every promise of the process. Nothing is traced on this machine, and that hook cost
  // about a third of the run's CPU (garbage collection and destroy hooks in a --cpu-prof of the bundled trace).
  process.env.AWS_XRAY_MANUAL_MODE ??= '1';
  const { LiveRun, LIVE_PLANNER_LIMITS, LIVE_LOCAL_SERVICE_MS } = await import('../../live/live-run.ts');
  const { BacktestThread } = await import('../../live/backtest-thread.ts');
  const { liveJson, formatLiveSummary } = await import('../../live/live-summary.ts');

  // Everything is validated before anything starts.
  const input = readLiveInput(files);
  const window = chooseWindow(input.input, {
    ...(warmupMs !== undefined ? { warmupMs } : {}),
    ...(speed !== undefined ? { speed } : {}),
    ...(durationMs !== undefined ? { targetWallMs: durationMs } : {}),
    ...(rate !== undefined ? { requestsPerSecond: rate } : {}),
  });
  if (!(intervalMs >= input.input.trace.bucketMs && intervalMs % input.input.trace.bucketMs === 0)) {
    throw new InputValidationError(
      { field: '--interval' },
      `must be a multiple of the trace's ${input.input.trace.bucketMs / 60_000}-minute bucket`,
    );
  }
  const progress = (line: string) => io.stderr.write(`${line}\n`);
  progress(
    `prestage up: ${input.name}, ${input.input.trace.partitions.length} partitions, ${Object.keys(input.input.topology.regions).length} regions; ` +
      `replaying ${((window.endMs - window.startMs) / 86_400_000).toFixed(1)} days at ${window.speed.toFixed(0)}× ` +
      `(${((window.endMs - window.startMs) / window.speed / 1000).toFixed(0)} s), a counted sample: 1 request sent per ${(1 / window.requestScale).toFixed(0)} in the trace plus carriers, each declaring the trace demand it stands for; loop ${loop}`,
  );
  const diagnostics = new DiagnosticLog();
  const run = new LiveRun({
    input,
    window,
    loop,
    port,
    intervalMs,
    ...(carriers !== undefined ? { carriersPerSecond: carriers } : {}),
    ...(values.outcomes !== undefined ? { outcomesFile: values.outcomes } : {}),
    progress,
    log: (line) => diagnostics.add(line),
  });
  const onSignal = () => {
    progress('stopping: no new requests; waiting for those in flight, then the summary so far');
    run.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let dashboard: Awaited<ReturnType<LiveDashboard['start']>> | undefined;
  // Static and predictive do not depend on the live run: they run beside it, on a thread of low priority.
  const backtestOptions = {
    warmupMs: window.warmupMs,
    planningIntervalMs: intervalMs,
    horizonMs: 2 * 3_600_000,
    plannerLimits: LIVE_PLANNER_LIMITS,
    // The local service time the listeners pad a faster answer to (the model and the deployment agree).
    localLatencyMs: LIVE_LOCAL_SERVICE_MS,
  };
  const backtestThread = values['no-backtest']
    ? undefined
    : BacktestThread.start({ files: input.files, options: backtestOptions });
  try {
    if (!values['no-dashboard']) {
      const dashboardPort = port === 0 ? 0 : port + Object.keys(input.input.topology.regions).length;
      try {
        dashboard = await DASHBOARD.start({
          port: dashboardPort,
          snapshot: () => run.snapshot(),
          log: progress,
        });
      } catch (error) {
        if (
          (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ||
          /in use/.test((error as Error).message)
        ) {
          throw new InputValidationError(
            { field: '--port' },
            `port ${dashboardPort} (the dashboard) is already in use; choose another with --port`,
          );
        }
        throw error;
      }
      progress(`dashboard: ${dashboard.url}`);
    }
    let result: Awaited<ReturnType<typeof run.run>>;
    try {
      result = await run.run();
    } catch (error) {
      if ((error as Error).name === 'PortInUseError') {
        throw new InputValidationError({ field: '--port' }, (error as Error).message);
      }
      throw error;
    }
    const f = result.figures;
    let backtest: LiveBacktest | undefined;
    if (backtestThread && result.status !== 'stopped') {
      progress(
        backtestThread.baselineWallMs === undefined
          ? 'backtest of the same trace and window: waiting for static and predictive, then predictive paced as the live loop moves…'
          : 'backtest of the same trace and window: predictive paced as the live loop moves (static and predictive ran beside the live run)…',
      );
      backtest = await backtestThread.result(
        loop === 'on' && f.moves > 0 ? f.medianPlanToMoveEndTraceMs : undefined,
      );
    }
    const json = liveJson(input.name, window, loop, result, backtest);
    if (diagnostics.count > 0) {
      io.stderr.write(
        `${diagnostics.count} diagnostic lines from the data plane and the loop; the first:\n  ${diagnostics.first.join('\n  ')}\n`,
      );
    }
    io.stdout.write(formatLiveSummary(json, Object.keys(input.input.topology.regions)));
    if (values.json) {
      mkdirSync(dirname(values.json), { recursive: true });
      writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
      io.stdout.write(`\nJSON: ${values.json}\n`);
    }
    if (f.writesLost > 0) {
      io.stderr.write(`${result.writeCheck.problems.slice(0, 5).join('\n')}\n`);
      return 1;
    }
    return result.status === 'stopped' ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await dashboard?.close();
    await backtestThread?.close();
  }
}

export const upCommand: CliCommand = {
  name: 'up',
  summary: 'Run the whole control loop live on this machine against a trace (npm start)',
  help: HELP,
  run: runUp,
};
