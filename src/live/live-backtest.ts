import type { PlannerLimits } from '../domain/planning/movement-plan.ts';
import { runBacktest } from '../domain/simulation/backtest.ts';
import { productionDependencies } from '../domain/simulation/default-dependencies.ts';
import type { PolicyResult, SimulationInput } from '../domain/simulation/simulation-options.ts';
import { forecastOnlyAlarmScaling, liveScalingSettings } from './live-scaling-settings.ts';

/** What the backtest of the live run's trace and window reports, per policy. */
export interface BacktestFigures {
  readonly remoteShare: number;
  readonly meanLatencyMs: number;
  readonly p50LatencyMs: number;
  readonly p99LatencyMs: number;
  /** By the caller's region, as the live run measures it. */
  readonly p50LatencyMsByRegion: Readonly<Record<string, number>>;
  readonly p99LatencyMsByRegion: Readonly<Record<string, number>>;
  readonly bytesMoved: number;
  readonly moves: number;
  readonly cellsInServiceAvg: number;
  readonly overloadCellMinutes: number;
}

export interface LiveBacktest {
  readonly static: BacktestFigures;
  /** prestage's policy with the topology's migration bandwidth. */
  readonly predictive: BacktestFigures;
  /**
   * prestage's policy with moves as slow, in trace time, as the live run's were (present when the live run
   * moved anything): no move cuts over sooner after the planning tick than the live run's moves did (median, from
   * the tick whose plan held them to their end: the cycle, ExecutePlan and the migration).
   */
  readonly predictivePaced?: BacktestFigures;
  /** The shortest move of the paced run, trace ms (the live run's median move). */
  readonly moveFloorMs?: number;
}

export interface LiveBacktestOptions {
  readonly warmupMs: number;
  /** The live run's profiler interval: the backtest plans as often. */
  readonly planningIntervalMs: number;
  readonly horizonMs: number;
  /** The live planner's limits (moves per cell, bytes per cycle): the simulated planner plans under the same. */
  readonly plannerLimits: Pick<PlannerLimits, 'maxConcurrentMovesPerCell' | 'maxBytesPerCycle'>;
  /**
   * A local request's service time (ms), the floor the live listeners pad a faster answer to
   * (`LIVE_LOCAL_SERVICE_MS`). @default the simulator's
   */
  readonly localLatencyMs?: number;
}

function quantileOf(result: PolicyResult, q: number): number {
  let cumulative = 0;
  for (const bin of result.details.latencyDistribution) {
    cumulative += bin.share;
    if (cumulative >= q - 1e-9) return bin.latencyMs;
  }
  return Number.NaN;
}

function figuresOf(result: PolicyResult): BacktestFigures {
  const m = result.metrics;
  return {
    remoteShare: m.remoteShare,
    meanLatencyMs: m.meanLatencyMs,
    p50LatencyMs: quantileOf(result, 0.5),
    p99LatencyMs: m.p99LatencyMs,
    p50LatencyMsByRegion: result.details.p50LatencyMsByRegion,
    p99LatencyMsByRegion: result.details.p99LatencyMsByRegion,
    bytesMoved: m.bytesMoved,
    moves: m.moves,
    cellsInServiceAvg: result.details.cellsInServiceAvg,
    overloadCellMinutes: m.overloadCellMinutes,
  };
}

/**
 * The live run's cluster as the simulator sees it: the topology's cells, scaled as `prestage up` scales them. In
 * `up` the profiler's forecast-driven decisions start ScaleCluster (predictive-scaling.ts: the priced scale-out and
 * the scale-in, the domain code the simulator's predictive policy calls), under the topology's alarm-scaling
 * settings (live-scaling-settings.ts); the backtest's predictive policy scales under the same settings.
 *
 * What still differs, and why:
 * - no capacity alarm fires live (no CloudWatch here, so no cell pressure is measured), so the simulator's alarm
 *   never fires either (`forecastOnlyAlarmScaling`); static scales not at all, in both;
 * - no scheduled scaling events (`scalingEvents`): `up` does not replay them as ScaleCluster starts;
 * - both act on a shortfall by one rule (domain/scaling/shortfall-trigger.ts: due before the next cycle, and in the
 *   previous cycle too), but on different capacity forecasts: the simulator's is its plan's (the placement after
 *   the cycle's moves, which the priced scale-out also prices on), the profiler's the current placement's (it runs
 *   before the planner); a shortfall the cycle's moves relieve is still a shortfall to the profiler. The profiler's
 *   "previous cycle" is the last one that ran: `up` skips a tick while a cycle still runs;
 * - the live profiler forecasts from what the recorders counted, each request in the trace hour it stands for
 *   (the instant it declares): on a machine that cannot send the whole sample, a request sent days late counts in
 *   a bucket the profiler no longer reads incrementally, so the recent hours are short of demand (docs/live.md,
 *   "Counted at the instant it stands for");
 * - a live scale-out takes ScaleCluster's wall time (seconds, so trace minutes to an hour at `up`'s speed), where
 *   the simulator provisions in the topology's `provisionMinutes`; a live scale-in drains with real moves.
 */
export function scalingInput(input: SimulationInput): SimulationInput {
  const { topology } = input;
  return {
    ...input,
    topology: {
      ...topology,
      scalingEvents: [],
      alarmScaling: forecastOnlyAlarmScaling(liveScalingSettings(topology)),
    },
  };
}

/** The backtest of the live run's window without the paced run: what does not depend on the live run. */
export interface LiveBacktestBaseline {
  readonly static: BacktestFigures;
  readonly predictive: BacktestFigures;
}

function commonOf(options: LiveBacktestOptions) {
  return {
    // The predictive policy scales out and in (the default `scaleIn` and `scaleOut`), as the live profiler does.
    warmupMs: options.warmupMs,
    planningIntervalMs: options.planningIntervalMs,
    horizonMs: options.horizonMs,
    plannerLimits: options.plannerLimits,
    ...(options.localLatencyMs !== undefined ? { localLatencyMs: options.localLatencyMs } : {}),
  };
}

/**
 * Static and predictive on the live run's trace and window (the same warm-up), planning interval and horizon, fixed
 * scaling. They do not depend on the live run, so `prestage up` runs them beside it (backtest-thread.ts).
 */
export function backtestBaseline(input: SimulationInput, options: LiveBacktestOptions): LiveBacktestBaseline {
  const base = runBacktest(scalingInput(input), productionDependencies(), {
    ...commonOf(options),
    policies: ['static', 'predictive'],
  });
  return { static: figuresOf(base.policies.static!), predictive: figuresOf(base.policies.predictive!) };
}

/** Predictive once more, no move cutting over sooner after its planning tick than `moveFloorMs` (trace ms). */
export function backtestPaced(
  input: SimulationInput,
  options: LiveBacktestOptions,
  moveFloorMs: number,
): BacktestFigures {
  const paced = runBacktest(scalingInput(input), productionDependencies(), {
    ...commonOf(options),
    moveFloorMs,
    policies: ['predictive'],
  });
  return figuresOf(paced.policies.predictive!);
}

/** Whether the live run's median move time can pace a backtest (the live run moved something). */
export function pacesBacktest(medianMoveTraceMs: number | undefined): medianMoveTraceMs is number {
  return medianMoveTraceMs !== undefined && medianMoveTraceMs > 0 && Number.isFinite(medianMoveTraceMs);
}
