import type { Topology } from '../topology.ts';

/**
 * Planner contract (the Adaptive Data Shuffler). The same input comes from the profiler Lambda,
 * the simulator's policies and `prestage plan --snapshot`.
 */

export interface PlannerPartition {
  readonly id: string;
  readonly sizeBytes: number;
  /** Current primary cell. */
  readonly cell: string;
  /** Predicted mean ops/s per future step, per region of origin. Arrays share one length (the horizon). */
  readonly forecast: Readonly<Record<string, ArrayLike<number>>>;
  /**
   * Optional upper forecast (e.g. q0.9) per future step and region, same length as `forecast`. When given,
   * capacity (hard limits, load penalty, capacity forecast) plans on it, diversified per cell; locality
   * stays on `forecast` (the mean). Regions absent here count their mean.
   */
  readonly forecastUpper?: Readonly<Record<string, ArrayLike<number>>>;
  /** Fraction of ops that are writes, in [0, 1]. Writes cost more remotely and while moving. @default 0.2 */
  readonly writeFraction?: number;
  /** Affinity score in [0, 1] from the profiler; raises priority. @default derived from the forecast */
  readonly affinity?: number;
  /** When the partition last finished a move; drives the per-partition cooldown. */
  readonly lastMovedAtMs?: number;
}

/** Co-access between two partitions observed by the interceptor, in ops/s touching both. */
export interface Relationship {
  readonly a: string;
  readonly b: string;
  readonly coAccessPerSec: number;
}

export interface InFlightMove {
  readonly partition: string;
  readonly from: string;
  readonly to: string;
  readonly bytes: number;
}

export type CellStatus = 'ACTIVE' | 'PROVISIONING' | 'DRAINING' | 'RETIRED';

export interface PlannerLimits {
  /** Concurrent moves touching one cell, as source or target (Cruise Control: 5 per broker). @default 5 */
  readonly maxConcurrentMovesPerCell: number;
  /** Bytes the plan may start in one cycle. @default 50 GiB */
  readonly maxBytesPerCycle: number;
  /** A move must beat its cost by this fraction of the current cost (hysteresis). @default 0.1 */
  readonly minBenefitMargin: number;
  /** A partition is not moved again within this time of its last move. @default 6 h */
  readonly cooldownMs: number;
  /** Cells are planned up to this fraction of capacity (ops and bytes). @default 0.8 */
  readonly headroom: number;
}

export interface PlannerInput {
  readonly nowMs: number;
  /** Length of one forecast step. */
  readonly stepSeconds: number;
  readonly topology: Topology;
  /** Status per cell id; a cell not listed is ACTIVE. PROVISIONING cells are scale-out targets. */
  readonly cellStatus?: Readonly<Record<string, CellStatus>>;
  /**
   * When each PROVISIONING cell can take data (epoch ms). A move into it starts no earlier, so a cell still
   * being created is not taken for quick relief. A cell not listed is ready now.
   */
  readonly cellReadyAtMs?: Readonly<Record<string, number>>;
  readonly partitions: readonly PlannerPartition[];
  readonly relationships?: readonly Relationship[];
  readonly inFlight?: readonly InFlightMove[];
  readonly limits?: Partial<PlannerLimits>;
}

/** One term of a move's benefit, in US dollars per horizon (positive = good). */
export type BenefitTerm = 'locality' | 'relatedness' | 'loadBalance' | 'transferCost' | 'prefetch' | 'drain';

export interface PlannedMove {
  readonly partition: string;
  readonly from: string;
  readonly to: string;
  readonly bytes: number;
  /** 1 = start first. */
  readonly priority: number;
  /** Latest start that still finishes before the deadline at the migration bandwidth. */
  readonly startByMs: number;
  /** The predicted peak the move must beat. */
  readonly deadlineMs: number;
  readonly expectedDurationMs: number;
  /** Net expected benefit over the horizon, the sum of `reasons`. */
  readonly benefit: number;
  readonly reasons: Readonly<Partial<Record<BenefitTerm, number>>>;
}

/** Where and when a region will run short of capacity, early enough to scale out before the peak. */
export interface CapacityShortfall {
  readonly region: string;
  /** First forecast step at which predicted demand exceeds usable capacity. */
  readonly atMs: number;
  /** Latest time to start provisioning so the cells are ready (and filled) before `atMs`. */
  readonly scaleOutByMs: number;
  readonly peakDemandOpsPerSec: number;
  readonly usableCapacityOpsPerSec: number;
  readonly cellsNeeded: number;
}

export interface MovementPlan {
  readonly createdAtMs: number;
  readonly moves: readonly PlannedMove[];
  /** Objective (US dollars per horizon, lower is better) before and after the plan. */
  readonly costBefore: number;
  readonly costAfter: number;
  /** Candidate moves held back by a limit, by which limit. */
  readonly deferred: Readonly<Record<string, number>>;
  readonly capacityForecast: readonly CapacityShortfall[];
}
