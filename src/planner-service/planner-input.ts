import type { CellRecord, CellStatus } from '../domain/data-plane/cell-record.ts';
import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import { hlcWallMs } from '../domain/migration/hlc.ts';
import type {
  ColdCopy,
  InFlightMove,
  PlannerInput,
  PlannerLimits,
  PlannerPartition,
} from '../domain/planning/movement-plan.ts';
import { DEFAULT_LIMITS } from '../domain/planning/planner-options.ts';
import {
  defaultPartitionSizeBytes,
  horizonOf,
  plannerPartitionFromScore,
  relationshipsFromScores,
  type ScoreRecord,
} from '../domain/scoring/score-record.ts';
import type { CellSpec, Topology } from '../domain/topology.ts';
import { isColdCopyDropOwner } from '../migration/cold-copy-gc.ts';
import { PlannerRequestError } from './planner-errors.ts';
import { type LatencyOverrides, latencyMatrix } from './region-latency.ts';

/**
 * The planner's view of the deployed cluster, assembled from the tables: scores (forecasts), placement (the
 * partitions table), topology and status (the cells table) and the moves in flight.
 */

export type PlanningMode =
  | { readonly kind: 'schedule' }
  /** Fill these PROVISIONING cells (their tables exist). */
  | { readonly kind: 'scale-out'; readonly cellIds: readonly string[] }
  /** Empty these cells (planned as DRAINING whatever the table says). */
  | { readonly kind: 'scale-in'; readonly cellIds: readonly string[] };

export interface ClusterSnapshot {
  readonly cells: readonly CellRecord[];
  readonly partitions: readonly PartitionRecord[];
  readonly scores: readonly ScoreRecord[];
  /** Moves of RUNNING plans not finished yet (fenced partitions are added from the partitions table). */
  readonly planMovesInFlight: readonly InFlightMove[];
}

export interface PlannerInputOptions {
  readonly nowMs: number;
  /** Planning step (the profiler interval). */
  readonly stepSeconds: number;
  readonly horizonSteps: number;
  readonly homeRegion: string;
  readonly dataRegions: readonly string[];
  readonly limits: Pick<PlannerLimits, 'maxConcurrentMovesPerCell' | 'maxBytesPerCycle'>;
  readonly latencyOverrides?: LatencyOverrides;
  /** @default 0.02 (AWS inter-region transfer, US dollars per GB) */
  readonly transferCostPerGB?: number;
  /** What one migration copies per second, for deadlines and the capacity forecast. @default 20 MB/s */
  readonly migrationBandwidthBytesPerSec?: number;
  /** The planner's headroom, which bounds the sizes assumed for unmeasured partitions. @default 0.8 */
  readonly headroom?: number;
}

export interface BuiltPlannerInput {
  readonly input: PlannerInput;
  /** Partitions left out: their cell is in no cells record. */
  readonly skippedPartitions: readonly string[];
  /** Partitions planned with a zero forecast: no (live) score. */
  readonly unscoredPartitions: number;
  /** Scores whose partition is not in the partitions table (deleted partitions). */
  readonly orphanScores: number;
  /** Partitions planned with an assumed size: never measured (see plannedSizes). */
  readonly unmeasuredPartitions: number;
  /** The size assumed for them before the per-cell bound: the fleet's median measured size, else 1 GiB. */
  readonly defaultSizeBytes: number;
}

export const DEFAULT_TRANSFER_COST_PER_GB = 0.02;
export const DEFAULT_MIGRATION_BANDWIDTH = 20e6;

/**
 * The value of `values` (one per `fromStepMs`, starting at `fromStartMs`) at each of `steps` steps of `stepMs`
 * from `nowMs`: a forecast made a cycle ago (or at another step) lines up with the planning horizon; past its
 * end the last value holds.
 */
export function resampleSeries(
  values: readonly number[],
  fromStartMs: number,
  fromStepMs: number,
  nowMs: number,
  stepMs: number,
  steps: number,
): number[] {
  const out = new Array<number>(steps);
  const last = values.length - 1;
  for (let h = 0; h < steps; h++) {
    const index = Math.floor((nowMs + h * stepMs - fromStartMs) / fromStepMs);
    out[h] = values[Math.min(last, Math.max(0, index))] ?? 0;
  }
  return out;
}

/** A score moved onto the planning grid (start `nowMs`, `stepSeconds`, `horizon` steps). */
export function alignScore(
  record: ScoreRecord,
  nowMs: number,
  stepSeconds: number,
  horizon: number,
): ScoreRecord {
  const fromStepMs = record.stepSeconds * 1000;
  const resample = (byRegion: Readonly<Record<string, readonly number[]>>) =>
    Object.fromEntries(
      Object.entries(byRegion).map(([region, values]) => [
        region,
        resampleSeries(values, record.forecastStartMs, fromStepMs, nowMs, stepSeconds * 1000, horizon),
      ]),
    );
  return {
    ...record,
    mean: resample(record.mean),
    upper: resample(record.upper),
    stepSeconds,
    forecastStartMs: nowMs,
  };
}

/**
 * The bytes each partition is planned with. Measured: the partition record's size (a migration's copy or the
 * profiler's probe, the freshest), else its score's. Never measured: the fleet's median measured size (else
 * 1 GiB), so its move is never free; but at most an even share of what its cell holds below the headroom
 * beyond its measured partitions, so that assumed bytes alone never make a cell look full (which would make
 * the planner move data out, or find the placement infeasible, on a guess).
 */
export function plannedSizes(
  partitions: readonly PartitionRecord[],
  scores: ReadonlyMap<string, ScoreRecord>,
  cells: ReadonlyMap<string, Pick<CellRecord, 'capacityBytes'>>,
  headroom: number,
): { sizes: Map<string, number>; unmeasured: number; defaultSizeBytes: number } {
  const known = new Map<string, number>();
  for (const p of partitions) {
    const size = p.sizeBytes ?? scores.get(p.partition)?.sizeBytes;
    if (size !== undefined) known.set(p.partition, size);
  }
  const defaultSizeBytes = defaultPartitionSizeBytes([...known.values()]);
  const measuredOn = new Map<string, number>();
  const unmeasuredOn = new Map<string, number>();
  for (const p of partitions) {
    const size = known.get(p.partition);
    if (size !== undefined) measuredOn.set(p.cell, (measuredOn.get(p.cell) ?? 0) + size);
    else unmeasuredOn.set(p.cell, (unmeasuredOn.get(p.cell) ?? 0) + 1);
  }
  const sizes = new Map<string, number>();
  for (const p of partitions) {
    const size = known.get(p.partition);
    if (size !== undefined) {
      sizes.set(p.partition, size);
      continue;
    }
    const capacity = cells.get(p.cell)?.capacityBytes;
    const room =
      capacity === undefined
        ? Number.POSITIVE_INFINITY
        : Math.max(0, headroom * capacity - (measuredOn.get(p.cell) ?? 0)) / unmeasuredOn.get(p.cell)!;
    sizes.set(p.partition, Math.min(defaultSizeBytes, Math.floor(room)));
  }
  return { sizes, unmeasured: partitions.length - known.size, defaultSizeBytes };
}

/**
 * The partition's retained cold copies the planner may move to (and garbage-collects): the replicas MigratePartition
 * left `cold` with a watermark (`retainSource`, or a rollback), on cells the plan knows. Building, stale and
 * watermark-less replicas are no copies to plan with.
 */
export function coldCopiesOf(record: PartitionRecord, plannedCells: ReadonlySet<string>): ColdCopy[] {
  const copies: ColdCopy[] = [];
  for (const [cell, replica] of Object.entries(record.replicas)) {
    if (replica.state !== 'cold' || !replica.watermark || cell === record.cell || !plannedCells.has(cell))
      continue;
    copies.push({ cell, watermarkMs: hlcWallMs(replica.watermark) });
  }
  return copies.sort((a, b) => (a.cell < b.cell ? -1 : 1));
}

/** In-flight moves: fences first (the truth), then the unfinished moves of RUNNING plans. */
function movesInFlight(snapshot: ClusterSnapshot, sizeOf: (partition: string) => number): InFlightMove[] {
  const byPartition = new Map<string, InFlightMove>();
  for (const p of snapshot.partitions) {
    if (!p.fence) continue;
    // A cold-copy drop's fence moves nothing: the partition stays served where it is, and no migration can start
    // on it until the drop ends, so it is held in place (not shown as a move into the copy's cell).
    if (isColdCopyDropOwner(p.fence.owner)) {
      byPartition.set(p.partition, { partition: p.partition, from: p.cell, to: p.cell, bytes: 0 });
      continue;
    }
    byPartition.set(p.partition, {
      partition: p.partition,
      from: p.fence.sourceCell,
      to: p.fence.targetCell,
      bytes: sizeOf(p.partition),
    });
  }
  for (const move of snapshot.planMovesInFlight) {
    if (!byPartition.has(move.partition)) byPartition.set(move.partition, move);
  }
  return [...byPartition.values()];
}

/** Build the planner's input from the tables; throws PlannerRequestError when the mode names an unknown cell. */
export function buildPlannerInput(
  snapshot: ClusterSnapshot,
  mode: PlanningMode,
  options: PlannerInputOptions,
): BuiltPlannerInput {
  const cellsById = new Map(snapshot.cells.map((c) => [c.id, c]));
  const modeCells = new Set(mode.kind === 'schedule' ? [] : mode.cellIds);
  for (const id of modeCells) {
    if (!cellsById.has(id)) throw new PlannerRequestError(`cellIds: unknown cell '${id}'`);
  }
  // What each cell is in this plan. Cells being provisioned by another run, and retired cells, are no targets;
  // they appear (as RETIRED, so nothing moves in) only when a partition or a move still refers to them.
  const planStatus = (cell: CellRecord): CellStatus | 'hidden' => {
    if (modeCells.has(cell.id)) return mode.kind === 'scale-out' ? 'PROVISIONING' : 'DRAINING';
    if (cell.status === 'PROVISIONING' || cell.status === 'RETIRED') return 'hidden';
    return cell.status;
  };

  const scores = new Map<string, ScoreRecord>();
  for (const s of snapshot.scores) {
    if (s.expiresAt * 1000 > options.nowMs) scores.set(s.partition, s);
  }
  const known = new Set(snapshot.partitions.map((p) => p.partition));
  const skippedPartitions: string[] = [];
  const placed = snapshot.partitions.filter((p) => {
    if (cellsById.has(p.cell)) return true;
    skippedPartitions.push(p.partition);
    return false;
  });
  const planned = plannedSizes(placed, scores, cellsById, options.headroom ?? DEFAULT_LIMITS.headroom);
  const sizeOf = (partition: string) => planned.sizes.get(partition) ?? planned.defaultSizeBytes;
  const placedIds = new Set(placed.map((p) => p.partition));
  const inFlight = movesInFlight(snapshot, sizeOf).filter(
    (m) => placedIds.has(m.partition) && cellsById.has(m.from) && cellsById.has(m.to),
  );

  const referenced = new Set<string>([
    ...placed.map((p) => p.cell),
    ...inFlight.flatMap((m) => [m.from, m.to]),
  ]);
  const included: CellRecord[] = [];
  const cellStatus: Record<string, CellStatus> = {};
  for (const cell of snapshot.cells) {
    const status = planStatus(cell);
    if (status === 'hidden') {
      if (!referenced.has(cell.id)) continue;
      cellStatus[cell.id] = 'RETIRED';
    } else cellStatus[cell.id] = status;
    included.push(cell);
  }

  const horizon = options.horizonSteps;
  const regions = new Set<string>([
    options.homeRegion,
    ...options.dataRegions,
    ...included.map((c) => c.region),
  ]);
  const partitions: PlannerPartition[] = [];
  const liveScores: ScoreRecord[] = [];
  let unscoredPartitions = 0;
  const plannedCells = new Set(Object.keys(cellStatus));
  for (const p of placed) {
    const lastMovedAtMs = p.lastMigration?.outcome === 'COMMITTED' ? p.lastMigration.atMs : undefined;
    const copies = coldCopiesOf(p, plannedCells);
    const coldCopies = copies.length > 0 ? { coldCopies: copies } : {};
    const score = scores.get(p.partition);
    if (score && horizonOf(score) > 0) {
      const aligned = alignScore(score, options.nowMs, options.stepSeconds, horizon);
      liveScores.push(aligned);
      for (const region of Object.keys(aligned.mean)) regions.add(region);
      partitions.push({
        ...plannerPartitionFromScore(aligned, {
          cell: p.cell,
          sizeBytes: sizeOf(p.partition),
          lastMovedAtMs,
        }),
        ...coldCopies,
      });
    } else {
      unscoredPartitions++;
      partitions.push({
        id: p.partition,
        cell: p.cell,
        sizeBytes: sizeOf(p.partition),
        forecast: { [options.homeRegion]: new Array<number>(horizon).fill(0) },
        ...(lastMovedAtMs !== undefined ? { lastMovedAtMs } : {}),
        ...coldCopies,
      });
    }
  }

  const regionList = [...regions].sort();
  const topology: Topology = {
    regions: Object.fromEntries(regionList.map((r) => [r, { utcOffsetHours: 0 }])),
    latencyMs: latencyMatrix(regionList, options.latencyOverrides),
    transferCostPerGB: options.transferCostPerGB ?? DEFAULT_TRANSFER_COST_PER_GB,
    migrationBandwidthBytesPerSec: options.migrationBandwidthBytesPerSec ?? DEFAULT_MIGRATION_BANDWIDTH,
    cells: included.map(
      (c): CellSpec => ({
        id: c.id,
        region: c.region,
        capacityOpsPerSec: c.capacityOpsPerSec,
        capacityBytes: c.capacityBytes,
      }),
    ),
    scalingEvents: [],
  };
  return {
    input: {
      nowMs: options.nowMs,
      stepSeconds: options.stepSeconds,
      topology,
      cellStatus,
      partitions,
      relationships: relationshipsFromScores(liveScores),
      inFlight,
      limits: options.limits,
    },
    skippedPartitions,
    unscoredPartitions,
    orphanScores: [...scores.keys()].filter((id) => !known.has(id)).length,
    unmeasuredPartitions: planned.unmeasured,
    defaultSizeBytes: planned.defaultSizeBytes,
  };
}
