import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { defaultBacktestWorkers, runBacktestInWorkers } from '../../backtest-runner/parallel-backtest.ts';
import { parseDuration } from '../../domain/duration.ts';
import { InputValidationError } from '../../domain/errors.ts';
import { type BacktestOptions, type BacktestResult, runBacktest } from '../../domain/simulation/backtest.ts';
import { evaluateTargets } from '../../domain/simulation/backtest-targets.ts';
import {
  isPolicyName,
  POLICY_NAMES,
  type PolicyName,
  type SimulationDependencies,
  type SimulationProgress,
} from '../../domain/simulation/simulation-options.ts';
import type { Topology } from '../../domain/topology.ts';
import { type BacktestFiles, readBacktestInput } from '../../io/backtest-input.ts';
import { backtestJson, type ReportContext } from '../../report/backtest-json.ts';
import { regionalDemand, renderBacktestReport, routeLabels } from '../../report/backtest-report.ts';
import { formatComparisonTable, formatTargets } from '../../report/comparison-table.ts';
import { type CliCommand, type CliIo, parseOptions, parsePositiveInt, requireOption } from '../command.ts';
import { ProgressBar } from '../progress-bar.ts';

const HELP = `Usage: prestage backtest --trace TRACE.csv --partitions PARTS.csv --topology TOPO.json [options]

Replay a recorded demand trace against placement policies and compare them: locality, latency,
bytes moved (and moved at the peak), transfer cost, storage, overloaded cell-minutes, churn and
scale-outs. The predictive policy is prestage: the embedded forecaster, the scorer and the planner,
the same code the Lambdas run.

Inputs:
  --trace FILE          timestamp,partition,region,reads,writes: operation counts per bucket,
                        ISO-8601 UTC timestamps, absent rows = 0 (.csv, or gzip .csv.gz)
  --partitions FILE     partition,sizeBytes,cell: the initial placement
  --topology FILE       regions, latency matrix, cells, scaling events, alarm scaling (JSON)
  --relationships FILE  a,b,coAccessPerSec: co-accessed partitions (optional)

Options:
  --policies LIST       comma-separated subset of ${POLICY_NAMES.join(',')} (default: all)
  --interval DURATION   planning interval, a multiple of the trace's bucket (default 15m)
  --horizon DURATION    forecast horizon of predictive and oracle (default 2h)
  --warmup DURATION     leading part of the trace that is replayed but not measured (default 7d)
  --quantile Q|mean     forecast quantile predictive plans on (default 0.95)
  --workers N           replay the policies on N worker threads at once, the longest first; 1 replays
                        them one after another in this thread (default: one per core, here ${defaultBacktestWorkers()})
  --json FILE           write the figures as JSON ({"policies":{"<name>":{...}}, ...})
  --html FILE           write a self-contained HTML report with charts

Progress goes to stderr; the comparison table and the targets to stdout.

Examples:
  prestage backtest --trace data/traces/tweets-3region/trace.csv.gz \\
    --partitions data/traces/tweets-3region/partitions.csv \\
    --topology data/traces/tweets-3region/topology.json --html out/report.html
  prestage backtest --trace t.csv --partitions p.csv --topology topo.json \\
    --policies static,predictive,oracle --interval 30m --warmup 3d --json out/backtest.json
`;

export interface BacktestRun {
  readonly files: BacktestFiles;
  readonly options: BacktestOptions;
  readonly jsonPath?: string;
  readonly htmlPath?: string;
  /**
   * Worker threads for the policies (`--workers`); 1 replays them one after another in this thread.
   * @default os.availableParallelism()
   */
  readonly workers?: number;
  /** Test seam: other profiler and planner functions than the production ones (they cannot cross threads, so
   * the replay is then serial). */
  readonly deps?: SimulationDependencies;
}

/** Load, replay with a progress bar, print the table and targets, write the JSON and HTML. */
export async function executeBacktest(run: BacktestRun, io: CliIo): Promise<BacktestResult> {
  // A directory given as an output file would otherwise fail only after the whole replay.
  for (const path of [run.jsonPath, run.htmlPath]) {
    if (path !== undefined && statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      throw new InputValidationError({ file: path }, 'is a directory; expected a file to write');
    }
  }
  const { input, provenance } = readBacktestInput(run.files);
  const policies = run.options.policies ?? POLICY_NAMES;
  const bar = new ProgressBar(io.stderr, 'backtest');
  const onProgress = policyProgress(bar, policies.length);
  const result = run.deps
    ? runBacktest(input, run.deps, { ...run.options, policies, onProgress })
    : await runBacktestInWorkers(input, { ...run.options, policies, onProgress, workers: run.workers });
  bar.finish();
  const context: ReportContext = {
    files: { ...run.files },
    provenance,
    generatedAt: new Date().toISOString(),
  };
  const trace = result.trace;
  const title = provenance?.name ?? run.files.trace;
  io.stdout.write(
    `\n${title}: ${trace.partitions} partitions, ${trace.regions.length} regions, ${trace.cells} cells, ` +
      `${trace.buckets} buckets of ${trace.bucketMs / 60_000} min; measured after a ${
        result.options.warmupMs / 86_400_000
      }-day warm-up${provenance?.semiSynthetic ? ' (semi-synthetic trace)' : ''}\n\n`,
  );
  io.stdout.write(formatComparisonTable(result, io.stderr.isTTY === true));
  const metrics = Object.fromEntries(Object.entries(result.policies).map(([k, v]) => [k, v.metrics]));
  io.stdout.write(`\nTargets for prestage (predictive):\n${formatTargets(evaluateTargets(metrics))}`);
  if (run.jsonPath) {
    writeOutput(run.jsonPath, `${JSON.stringify(backtestJson(result, context), null, 2)}\n`);
    io.stdout.write(`\nJSON:   ${run.jsonPath}\n`);
  }
  if (run.htmlPath) {
    writeOutput(
      run.htmlPath,
      renderBacktestReport(result, {
        ...context,
        markers: markersOf(input.topology),
        routes: routeLabels(input.topology, result.options.localLatencyMs),
        regionalDemand: regionalDemand(input.trace),
      }),
    );
    io.stdout.write(`${run.jsonPath ? '' : '\n'}Report: ${run.htmlPath}\n`);
  }
  return result;
}

/**
 * The bar over all policies, labelled with each running policy's share done (several run at once on workers);
 * a policy's last bucket marks a step done (one line per policy when stderr is not a terminal).
 */
function policyProgress(bar: ProgressBar, policies: number): (progress: SimulationProgress) => void {
  const shares = new Map<PolicyName, number>();
  return ({ policy, bucket, buckets }) => {
    shares.set(policy, bucket / buckets);
    const finished = bucket === buckets;
    let total = 0;
    const running: string[] = [];
    for (const [name, share] of shares) {
      total += share;
      if (share < 1) running.push(`${name} ${Math.floor(100 * share)}%`);
    }
    bar.update(total / policies, finished ? policy : running.join(' · '), finished);
  };
}

function writeOutput(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

function markersOf(topology: Topology) {
  return topology.scalingEvents.map((event) => ({
    atMs: Date.parse(event.at),
    label: event.action === 'add' ? `+${event.cell.id}` : `−${event.cellId}`,
  }));
}

export function parsePolicies(text: string): PolicyName[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) {
    throw new InputValidationError(
      { field: '--policies' },
      `expected a list such as ${POLICY_NAMES.join(',')}`,
    );
  }
  for (const name of names) {
    if (!isPolicyName(name)) {
      throw new InputValidationError(
        { field: '--policies' },
        `unknown policy '${name}'; expected some of ${POLICY_NAMES.join(', ')}`,
      );
    }
  }
  return [...new Set(names as PolicyName[])];
}

export function parseQuantile(text: string): number | 'mean' {
  if (text === 'mean') return 'mean';
  const q = Number(text);
  if (!(q > 0 && q < 1)) {
    throw new InputValidationError(
      { field: '--quantile' },
      `expected a level in (0, 1) or 'mean', found '${text}'`,
    );
  }
  return q;
}

export const backtestCommand: CliCommand = {
  name: 'backtest',
  summary: 'replay a demand trace against placement policies and compare them',
  help: HELP,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(
      argv,
      {
        trace: { type: 'string' },
        partitions: { type: 'string' },
        topology: { type: 'string' },
        relationships: { type: 'string' },
        policies: { type: 'string' },
        interval: { type: 'string' },
        horizon: { type: 'string' },
        warmup: { type: 'string' },
        quantile: { type: 'string' },
        json: { type: 'string' },
        html: { type: 'string' },
        workers: { type: 'string' },
      },
      'backtest',
    );
    const files: BacktestFiles = {
      trace: requireOption(values.trace, 'trace', 'backtest'),
      partitions: requireOption(values.partitions, 'partitions', 'backtest'),
      topology: requireOption(values.topology, 'topology', 'backtest'),
      ...(values.relationships ? { relationships: values.relationships } : {}),
    };
    await executeBacktest(
      {
        files,
        options: backtestOptionsFrom(values),
        jsonPath: values.json,
        htmlPath: values.html,
        workers: workersFrom(values.workers),
      },
      io,
    );
    return 0;
  },
};

/** `--workers N` (shared by `backtest` and `demo`): a positive integer, or the default when absent. */
export function workersFrom(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parsePositiveInt(text, 'workers');
}

/** Flags shared by `backtest` and `demo`. */
export function backtestOptionsFrom(values: {
  policies?: string;
  interval?: string;
  horizon?: string;
  warmup?: string;
  quantile?: string;
}): BacktestOptions {
  return {
    ...(values.policies ? { policies: parsePolicies(values.policies) } : {}),
    ...(values.interval ? { planningIntervalMs: parseDuration(values.interval, '--interval') } : {}),
    ...(values.horizon ? { horizonMs: parseDuration(values.horizon, '--horizon') } : {}),
    ...(values.warmup ? { warmupMs: parseDuration(values.warmup, '--warmup') } : {}),
    ...(values.quantile ? { planningQuantile: parseQuantile(values.quantile) } : {}),
  };
}
