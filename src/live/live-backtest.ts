import type { PlannerLimits } from '../domain/planning/movement-plan.ts';
import { runBacktest } from '../domain/simulation/backtest.ts';
import { productionDependencies } from '../domain/simulation/default-dependencies.ts';
import type { PolicyResult, SimulationInput } from '../domain/simulation/simulation-options.ts';

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
 * The live run's cluster as the simulator sees it: the topology's cells, fixed. `prestage up` starts no
 * ScaleCluster (no alarm, scheduled or forecast scale-out, no scale-in), so the backtest it is compared with adds
 * no cell either (and retires none: `scaleIn: false` in its options):
 * no scheduled events, and alarm scaling capped at one cell per region (no region ever has fewer, so neither the
 * alarms nor the predictive scale-outs, which share the cap, can add one).
 */
export function fixedCellsInput(input: SimulationInput): SimulationInput {
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

/** The backtest of the live run's window without the paced run: what does not depend on the live run. */
export interface LiveBacktestBaseline {
  readonly static: BacktestFigures;
  readonly predictive: BacktestFigures;
}

function commonOf(options: LiveBacktestOptions) {
  return {
    // `up` starts no ScaleCluster: no cell is drained and retired live, so none is in the backtest either.
    scaleIn: false as const,
    warmupMs: options.warmupMs,
    planningIntervalMs: options.planningIntervalMs,
    horizonMs: options.horizonMs,
    plannerLimits: options.plannerLimits,
  };
}

/**
 * Static and predictive on the live run's trace and window (the same warm-up), planning interval and horizon, fixed
 * cells. They do not depend on the live run, so `prestage up` runs them beside it (backtest-thread.ts).
 */
export function backtestBaseline(input: SimulationInput, options: LiveBacktestOptions): LiveBacktestBaseline {
  const base = runBacktest(fixedCellsInput(input), productionDependencies(), {
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
  const paced = runBacktest(fixedCellsInput(input), productionDependencies(), {
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
