/**
 * `npm run bench -- live-observation`: what the live loop's profiler can learn from the load generator's
 * traffic, judged in the simulator. `prestage up` sends one request per hundreds of thousands of the trace; the
 * access recorders count what arrives. This replays the backtest's predictive policy (the live run's settings:
 * fixed cells, hourly planning, 2 h horizon, the live planner's limits) with its forecasters fed:
 * - `exact`: the trace itself (the backtest `up` compares with);
 * - `counted`: what the recorders count under `up` now: every request declares the trace demand it stands for,
 *   the busy series are exact per hour, the rest Horvitz–Thompson estimates within the carriers' budget
 *   (340 a second, `up`'s default), each hour spread evenly over its trace buckets as the profiler's hourly buckets see it;
 * - `hourly`: a carrier wherever the sample misses (exact hourly counts: what no carrier budget can beat);
 * - `sampled`: what they counted before: the plain sample, each request counted as 1 / scale.
 * Placement, load and every metric stay on the true trace. Options: --trace DIR (trace.csv.gz, partitions.csv,
 * topology.json; default the bundled tweets-3region), --carriers N (per second, default 340).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBacktest } from '../src/domain/simulation/backtest.ts';
import { productionDependencies } from '../src/domain/simulation/default-dependencies.ts';
import type { DemandTrace } from '../src/domain/simulation/demand-trace.ts';
import type { SimulationInput } from '../src/domain/simulation/simulation-options.ts';
import { scalingInput } from '../src/live/live-backtest.ts';
import { chooseWindow, readLiveInput } from '../src/live/live-input.ts';
import { LIVE_PLANNER_LIMITS } from '../src/live/live-run.ts';
import {
  countedSamplerFor,
  DEFAULT_CARRIERS_PER_SECOND,
  RequestSampler,
} from '../src/live/request-sampler.ts';
import { countedDemand } from './sampled-demand.ts';

const HOUR = 3_600_000;
const carriersArg = process.argv.indexOf('--carriers');
/** The live run's default (LiveRunOptions.carriersPerSecond); --carriers N tries another budget. */
const CARRIERS_PER_SECOND =
  carriersArg >= 0 ? Number(process.argv[carriersArg + 1]) : DEFAULT_CARRIERS_PER_SECOND;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const traceArg = process.argv.indexOf('--trace');
const dir = traceArg >= 0 ? process.argv[traceArg + 1] : join(root, 'data/traces/tweets-3region');
const live = readLiveInput({
  trace: join(dir, 'trace.csv.gz'),
  partitions: join(dir, 'partitions.csv'),
  topology: join(dir, 'topology.json'),
});
/**
 * The cluster of the runs this experiment measured (before `up` ran ScaleCluster): the topology's cells, fixed (no
 * scheduled events, an alarm capped at one cell per region so neither it nor a predictive scale-out adds one).
 */
function fixedCellsInput(input: SimulationInput): SimulationInput {
  const { topology } = input;
  const template = topology.cells[0];
  return {
    ...input,
    topology: {
      ...topology,
      scalingEvents: [],
      alarmScaling: {
        utilizationThreshold: 1,
        sustainMinutes: 10,
        provisionMinutes: 5,
        cooldownMinutes: 0,
        maxCellsPerRegion: 1,
        cellCapacityOpsPerSec: template.capacityOpsPerSec,
        cellCapacityBytes: template.capacityBytes,
      },
    },
  };
}
/**
 * --scaling: the cluster scaled as `up` scales it now (scalingInput: forecast scale-outs and scale-ins under the
 * topology's settings), to see whether the forecasts `up` is shown (counted) scale the cluster as the exact ones do.
 */
const SCALING = process.argv.includes('--scaling');
const input = SCALING ? scalingInput(live.input) : fixedCellsInput(live.input);
const { trace } = input;
const window = chooseWindow(live.input, {});

/** The demand the recorders count from the sampler's requests (sampled-demand.ts). */
function observedBy(sampler: RequestSampler): DemandTrace {
  return countedDemand(trace, sampler);
}

const counted = countedSamplerFor(trace, window, HOUR, CARRIERS_PER_SECOND);
const observations: Record<string, DemandTrace | undefined> = {
  exact: undefined,
  counted: observedBy(counted),
  ...(!SCALING && {
    hourly: observedBy(new RequestSampler(trace, window.requestScale, { countingBucketMs: HOUR })),
    sampled: observedBy(new RequestSampler(trace, window.requestScale)),
  }),
};
const options = {
  ...(!SCALING && { scaleIn: false as const }),
  warmupMs: window.warmupMs,
  planningIntervalMs: HOUR,
  horizonMs: 2 * HOUR,
  plannerLimits: LIVE_PLANNER_LIMITS,
};
const staticShare = runBacktest(input, productionDependencies(), { ...options, policies: ['static'] })
  .policies.static!.metrics.remoteShare;
const rows: Record<string, { remoteShare: number; moves: number; gapClosed: number }> = {};
let exactShare = Number.NaN;
for (const [name, observedTrace] of Object.entries(observations)) {
  const started = Date.now();
  const result = runBacktest(
    { ...input, ...(observedTrace ? { observedTrace } : {}) },
    productionDependencies(),
    {
      ...options,
      policies: ['predictive'],
    },
  );
  const m = result.policies.predictive!.metrics;
  const cells = result.policies.predictive!.details.cellsInServiceAvg;
  if (name === 'exact') exactShare = m.remoteShare;
  const gapClosed = (staticShare - m.remoteShare) / (staticShare - exactShare);
  rows[name] = { remoteShare: m.remoteShare, moves: m.moves, gapClosed };
  process.stdout.write(
    `${name.padEnd(8)} remote ${(m.remoteShare * 100).toFixed(1)}%  moves ${m.moves}  cells ${cells.toFixed(1)} (added ${m.cellsAdded ?? 0})  gap closed ${(gapClosed * 100).toFixed(0)}% of static→exact  (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
  );
}
process.stdout.write(`static   remote ${(staticShare * 100).toFixed(1)}%\n`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(
  join(root, `bench/results/live-observation${SCALING ? '-scaling' : ''}.json`),
  `${JSON.stringify({ trace: live.name, requestScale: window.requestScale, carrierScale: counted.carrierScale, staticRemoteShare: staticShare, predictive: rows }, null, 2)}\n`,
);
