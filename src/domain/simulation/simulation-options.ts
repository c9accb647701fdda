import type { OnlineForecaster } from '../forecasting/forecast-model.ts';
import { DEFAULT_PLANNING_QUANTILE } from '../forecasting/planning-quantile.ts';
import type { MovementPlan, PlannerInput, PlannerLimits, Relationship } from '../planning/movement-plan.ts';
import type { ScaleInOptions } from '../planning/scale-in.ts';
import type { ScaleOutOptions } from '../planning/scale-out.ts';
import type { AffinityScore } from '../scoring/affinity-score.ts';
import type { ScoringInput } from '../scoring/affinity-scorer.ts';
import { type BurstGrowth, DEFAULT_BURST_GROWTH } from '../scoring/burst-persistence.ts';
import type { Topology } from '../topology.ts';
import type { DemandTrace, PartitionSpec } from './demand-trace.ts';

/** The placement policies the backtest compares. */
export type PolicyName = 'static' | 'reactive' | 'replicate-all' | 'predictive' | 'oracle';

export const POLICY_NAMES: readonly PolicyName[] = [
  'static',
  'reactive',
  'replicate-all',
  'predictive',
  'oracle',
];

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

/** What the simulator replays: the deployment, its initial placement and the recorded demand. */
export interface SimulationInput {
  readonly topology: Topology;
  readonly trace: DemandTrace;
  /** Initial placement, in the same order as `trace.partitions`. */
  readonly partitions: readonly PartitionSpec[];
  /** Observed co-access between partitions, passed to the planner. */
  readonly relationships?: readonly Relationship[];
  /**
   * The demand the control plane observes, when it is not the trace itself: the counts a deployment's access
   * recorders make of a sample of the trace's requests (a live replay sends one request per many of the trace).
   * The forecasting and reactive policies learn from it; placement, load and every metric stay on `trace`, the
   * demand that really arrives. Same shape as `trace`. @default trace
   */
  readonly observedTrace?: DemandTrace;
}

/** The demand the policies learn from: `observedTrace` when given, else the trace. */
export function observedDemandOf(input: SimulationInput): DemandTrace {
  return input.observedTrace ?? input.trace;
}

/**
 * The profiler and planner code the simulator drives: the same functions the Lambdas call.
 * Injected so tests can swap a planner, and so the domain never imports an adapter.
 */
export interface SimulationDependencies {
  readonly planMoves: (input: PlannerInput) => MovementPlan;
  readonly createForecaster: (intervalMs: number) => OnlineForecaster;
  /** Affinity scores for the predictive policy; without it the planner derives affinity itself. */
  readonly scorePartitions?: (input: ScoringInput) => AffinityScore[];
}

export interface SimulationProgress {
  readonly policy: PolicyName;
  readonly bucket: number;
  readonly buckets: number;
}

export interface SimulationOptions {
  /** How often the policies plan. @default 15 min (at least one bucket) */
  readonly planningIntervalMs: number;
  /** How far ahead the predictive and oracle policies look. @default 2 h */
  readonly horizonMs: number;
  /** Metrics ignore this first stretch of the trace; policies act from the start. @default 7 d */
  readonly warmupMs: number;
  /** Latency of a request served in its own region. @default 5 ms */
  readonly localLatencyMs: number;
  /** A cell above this utilization makes a move "under load". @default 0.7 */
  readonly underLoadUtilization: number;
  /** A move undone within this time counts as thrash. @default 6 h */
  readonly thrashWindowMs: number;
  /** Bytes per read and per write, for cross-region request transfer. @default 4096 and 1024 */
  readonly readBytes: number;
  readonly writeBytes: number;
  /**
   * Share of a cell's ops capacity that copying at the full migration bandwidth consumes, on the source
   * and on the target (split among concurrent copies); the target also applies the partition's writes
   * while it catches up. @default 0.05
   */
  readonly copyLoadShare: number;
  /** A draining cell not emptied by the planner within this time is drained by force. @default 12 h */
  readonly drainGraceMs: number;
  /** Provisioning time of a manually added cell when the topology has no `alarmScaling`. @default 5 min */
  readonly provisionMs: number;
  /**
   * What the predictive policy feeds the planner: a forecast quantile, or the mean. The planner takes
   * one forecast for both locality and capacity; an upper quantile keeps cells below their limit when
   * demand runs above the mean (see the backtest README for the measured trade-off).
   * @default DEFAULT_PLANNING_QUANTILE (0.95, domain/forecasting/planning-quantile.ts)
   */
  readonly planningQuantile: number | 'mean';
  /**
   * 'diversified': the predictive policy feeds the planner the mean as `forecast` and `planningQuantile` as
   * `forecastUpper`; the planner aggregates the upper gaps per cell (√ of the sum of squares, related groups
   * linearly). A number in [0, 1] instead adds that share of the gap to each partition's forecast (1 = the
   * quantile itself). @default 'diversified'
   */
  readonly planningMargin: number | 'diversified';
  /**
   * Predictive: growth of the persistence level at a burst onset (src/domain/scoring/burst-persistence.ts);
   * false plans on the last observation alone. @default DEFAULT_BURST_GROWTH
   */
  readonly burstGrowth: BurstGrowth | false;
  /**
   * Shortest time from a move's start to its cutover, whatever its bytes: `prestage up` sets it to what its
   * migrations take in trace time (real seconds of leases and cutover waits on a compressed clock), so the
   * backtest it is compared with models its moves. @default 0 (the copy time alone)
   */
  readonly moveFloorMs?: number;
  /** Planner limits (concurrency, bytes per cycle, hysteresis, cooldown, headroom). */
  readonly plannerLimits?: Partial<PlannerLimits>;
  /**
   * Predictive: forecast-driven scale-in (src/domain/planning/scale-in.ts) with these knobs; false never scales
   * in. Reactive and the oracle never scale in. @default {} (the domain's defaults)
   */
  readonly scaleIn?: ScaleInOptions | false;
  /**
   * Predictive: price each forecast scale-out (src/domain/planning/scale-out.ts: expected load penalty saved against
   * the cell-hours) with these knobs; false buys every due shortfall's cells (before issue 12's pricing). The oracle
   * always buys them (it is the yardstick). @default {} (the domain's defaults)
   */
  readonly scaleOut?: ScaleOutOptions | false;
  /** A scale-out of a region this soon after a forecast scale-in of it counts as a flap. @default 12 h */
  readonly flapWindowMs?: number;
  /**
   * Predictive: measure the correlation of forecast errors between the partitions of a cell
   * (src/domain/forecasting/error-correlation.ts) and plan on it instead of the planner's `upperCorrelation`.
   * An experiment: the profiler does not measure it yet, so it is off by default. @default false
   */
  readonly measureErrorCorrelation?: boolean;
  /**
   * Predictive: measure which partitions' forecast errors burst together (src/domain/forecasting/co-burst-groups.ts)
   * and pass them to the planner as `errorGroups`, whose gaps add up on a cell. An experiment, off by default for
   * the same reason. @default false
   */
  readonly measureErrorGroups?: boolean;
  readonly onProgress?: (progress: SimulationProgress) => void;
}

export const DEFAULT_SIMULATION_OPTIONS: SimulationOptions = {
  planningIntervalMs: 15 * 60_000,
  horizonMs: 2 * 3_600_000,
  warmupMs: 7 * 86_400_000,
  localLatencyMs: 5,
  underLoadUtilization: 0.7,
  thrashWindowMs: 6 * 3_600_000,
  readBytes: 4096,
  writeBytes: 1024,
  copyLoadShare: 0.05,
  drainGraceMs: 12 * 3_600_000,
  provisionMs: 5 * 60_000,
  planningQuantile: DEFAULT_PLANNING_QUANTILE,
  planningMargin: 'diversified',
  burstGrowth: DEFAULT_BURST_GROWTH,
  scaleIn: {},
  scaleOut: {},
  flapWindowMs: 12 * 3_600_000,
};

/** The headline figures per policy; names are the JSON keys of `prestage backtest --json`. */
export interface PolicyMetrics {
  /** Fraction of requests served from another region. */
  readonly remoteShare: number;
  readonly meanLatencyMs: number;
  readonly p99LatencyMs: number;
  readonly bytesMoved: number;
  /** Bytes copied while the source or the target was above `underLoadUtilization`. */
  readonly bytesMovedUnderLoad: number;
  /** Cross-region bytes (migrations, remote requests, replicated writes) at the topology's price. */
  readonly transferCostUsd: number;
  /** Mean bytes stored over all cells (a moving partition counts at both ends). */
  readonly storedBytesAvg: number;
  /** Minutes a cell spent above its ops capacity, summed over cells. */
  readonly overloadCellMinutes: number;
  /** Completed moves. */
  readonly moves: number;
  /** Moves that undid a move of the same partition within `thrashWindowMs`. */
  readonly thrashMoves: number;
  /** Cells added by alarms or ahead of a forecast shortfall (scheduled additions excluded). */
  readonly cellsAdded: number;
}

/** Secondary figures that explain the headline ones. */
export interface PolicyDetails {
  readonly requests: number;
  readonly migrationTransferBytes: number;
  readonly remoteRequestBytes: number;
  readonly replicatedWriteBytes: number;
  readonly forcedMoves: number;
  readonly rejectedMoves: number;
  readonly cellsAddedByAlarm: number;
  readonly cellsAddedByForecast: number;
  readonly cellsRetired: number;
  /** Cells added during the warm-up (not in `cellsAdded`, but in service afterwards). */
  readonly cellsAddedInWarmup: number;
  /** Forecast scale-ins started after the warm-up (cells set DRAINING by the policy). */
  readonly cellsScaledIn?: number;
  /** Scale-outs (alarm or forecast) of a region within `flapWindowMs` of a forecast scale-in of it, after the warm-up. */
  readonly scaleFlaps?: number;
  /** Mean number of cells in service (ACTIVE or DRAINING) over the measured window: the capacity paid for. */
  readonly cellsInServiceAvg: number;
  /** Cell-hours in service (ACTIVE or DRAINING) over the measured window. */
  readonly cellHours: number;
  /** Mean bytes held by retained cold copies over the measured window (part of `storedBytesAvg`). */
  readonly coldCopyBytesAvg: number;
  /** Moves into a cell holding a cold copy of the partition: they shipped the delta since its watermark. */
  readonly deltaMoves: number;
  /** Cold copies the planner garbage-collected (age, staleness, storage budget, a leaving cell). */
  readonly coldCopiesDropped: number;
  /**
   * Share of the measured window's requests at each latency, ascending. The latency model is the route's
   * round trip plus the local latency, with no queueing, so there is one entry per route in use; this is
   * why p99 sits on the slowest route's value whenever more than 1% of requests take it.
   */
  readonly latencyDistribution: readonly LatencyShare[];
  /**
   * The median and p99 of the requests made from each region (by the caller's region, weighted by demand), over
   * the evaluation window: what a live run measures per region.
   */
  readonly p50LatencyMsByRegion: Readonly<Record<string, number>>;
  readonly p99LatencyMsByRegion: Readonly<Record<string, number>>;
  readonly plannerCalls: number;
  readonly plannerMs: number;
  readonly simulationMs: number;
}

export interface LatencyShare {
  readonly latencyMs: number;
  /** Fraction of requests, 0 to 1. */
  readonly share: number;
}

/** Per-slot time series for the report; slot i covers [startMs + i*stepMs, +stepMs). */
export interface PolicySeries {
  readonly startMs: number;
  readonly stepMs: number;
  readonly remoteShare: Float64Array;
  readonly meanLatencyMs: Float64Array;
  readonly p99LatencyMs: Float64Array;
  readonly bytesMoved: Float64Array;
  readonly overloadCellMinutes: Float64Array;
  /** Cells holding or able to take data at the end of the slot. */
  readonly cells: Float64Array;
  /** Mean total demand (ops/s) in the slot. */
  readonly demandOpsPerSec: Float64Array;
}

/** A change to the set of cells during the replay. */
export interface CellEvent {
  readonly atMs: number;
  readonly cell: string;
  readonly region: string;
  /** added: by an alarm, ahead of a forecast shortfall, or as scheduled; draining; retired once empty. */
  readonly kind: 'added-by-alarm' | 'added-by-forecast' | 'added-as-scheduled' | 'draining' | 'retired';
}

export interface PolicyResult {
  readonly policy: PolicyName;
  readonly metrics: PolicyMetrics;
  readonly details: PolicyDetails;
  readonly series: PolicySeries;
  readonly cellEvents: readonly CellEvent[];
}
