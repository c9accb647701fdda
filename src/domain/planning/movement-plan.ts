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
  /**
   * Retained cold copies of the partition (former sources kept by MigratePartition's `retainSource`), in cells
   * other than `cell`. A move to such a cell ships only the writes since the copy's watermark.
   */
  readonly coldCopies?: readonly ColdCopy[];
}

/** A retained copy of a partition in a cell that is not its primary: complete up to its watermark. */
export interface ColdCopy {
  readonly cell: string;
  /** Every write acknowledged before this instant (epoch ms) is in the copy. */
  readonly watermarkMs: number;
  /**
   * Bytes a move back to this cell would ship, when the data plane knows them.
   * @default estimated: the partition's write rate × time since the watermark × `deltaBytesPerWrite`, at most its size
   */
  readonly deltaBytes?: number;
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
  /**
   * The correlation of forecast errors between partitions on a cell, when the caller measured it
   * (ErrorCorrelationEstimator); it replaces the `upperCorrelation` option for this plan. In [0, 1].
   */
  readonly upperCorrelation?: number;
  /**
   * Partitions whose forecast errors burst together, measured (CoBurstEstimator): on a cell their gaps to the
   * upper forecast add up, as related partitions' do, and only different groups diversify. Each id at most once.
   */
  readonly errorGroups?: readonly (readonly string[])[];
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
  /**
   * Keep the source as a cold copy after the cutover (MigratePartition's `retainSource`), so that a move back
   * ships only the writes since then. Absent on plans written before the planner decided it: false.
   */
  readonly retainSource?: boolean;
  /**
   * Set when the target holds a cold copy of the partition: the move ships the writes since `watermarkMs`
   * (`bytes`, an estimate) rather than the whole partition (`sizeBytes`).
   */
  readonly delta?: { readonly sizeBytes: number; readonly watermarkMs: number };
  /** The copy decisions in words, e.g. `delta move, ~12.0 MiB` (reasons hold the dollar terms). */
  readonly notes?: readonly string[];
}

/**
 * Why the planner drops a cold copy. `resume`: a drop an earlier plan started and left unfinished (its fence still
 * on the partition, untouched for longer than any invocation of it can live), finished under its own fence owner.
 */
export type ColdCopyDropReason = 'age' | 'stale' | 'budget' | 'cellLeaving' | 'resume';

/** A cold copy the plan garbage-collects: its items are deleted from the cell and the partition forgets it. */
export interface ColdCopyDrop {
  readonly partition: string;
  readonly cell: string;
  /** Stored bytes the drop frees (the partition's size: the copy holds all of it). */
  readonly bytes: number;
  readonly reason: ColdCopyDropReason;
  /** For `resume`: the fence owner the unfinished drop holds the partition under. */
  readonly owner?: string;
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
  /**
   * Candidate moves held back by a limit, by which limit (e.g. `maxConcurrentMovesPerCell`, `cooldownMs`,
   * `hotCells`), and `drainBlocked`: partitions that must leave a draining cell but fit nowhere below the headroom
   * yet (only under `unplaceableDrain: 'report'`; 'throw' fails the plan instead).
   */
  readonly deferred: Readonly<Record<string, number>>;
  readonly capacityForecast: readonly CapacityShortfall[];
  /** Cold copies to garbage-collect, by age, staleness and storage budget (absent: none). */
  readonly coldCopyDrops?: readonly ColdCopyDrop[];
}
