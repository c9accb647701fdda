import { z } from 'zod';
import { InputValidationError } from '../errors.ts';
import type { PlannerPartition, Relationship } from '../planning/movement-plan.ts';
import { DEFAULT_SCALE_IN_OPTIONS, type PeakWindow, rollPeakWindow } from '../planning/scale-in.ts';
import { PERSISTENCE_MS, persistenceSteps } from './burst-persistence.ts';

export { PERSISTENCE_MS };

/**
 * What the profiler stores per partition each cycle (Scores table, `pk` = partition id) and the planner reads
 * back: the affinity score, and the forecast itself (per region of origin, ops/s per step). The forecast also
 * serves the next cycle, which measures the online error of its first steps against what was then observed.
 */
export interface ScoreRecord {
  readonly partition: string;
  /** Primary cell when the partition was scored. */
  readonly cell: string;
  /** Probability in [0, 1] that the partition is hot within the horizon. */
  readonly affinity: number;
  /** Each region's share of predicted (write-weighted) demand; sums to 1, or empty for zero demand. */
  readonly predictionVector: Readonly<Record<string, number>>;
  readonly confidence: number;
  readonly peakStep: number;
  readonly peakOpsPerSec: number;
  readonly models: readonly string[];
  /** Fraction of ops that are writes, when the access stats split reads from writes (they do not yet). */
  readonly writeFraction?: number;
  /**
   * Stored bytes of the partition, from its partition record when scored (measured by a migration's copy or the
   * profiler's size probe); absent while it has never been measured.
   */
  readonly sizeBytes?: number;
  /** Length of one forecast step (the profiler interval). */
  readonly stepSeconds: number;
  /** Start of forecast step 0: the bucket in progress when the cycle ran. */
  readonly forecastStartMs: number;
  /** Mean ops/s per step, per region of origin; every array has the horizon's length. */
  readonly mean: Readonly<Record<string, readonly number[]>>;
  /** The `upperLevel` quantile (0.95 by default) of ops/s per step, per region: what capacity plans on. */
  readonly upper: Readonly<Record<string, readonly number[]>>;
  readonly upperLevel: number;
  /** Ops/s per region in the last complete bucket, [forecastStartMs − step, forecastStartMs). */
  readonly observedOpsPerSec: Readonly<Record<string, number>>;
  /**
   * Per region, the level capacity plans on over the persistence window: the last observation, grown at a
   * burst onset (see burst-persistence.ts). Absent in records written before it existed: the observation.
   */
  readonly persistenceOpsPerSec?: Readonly<Record<string, number>>;
  /** Partners co-accessed with this partition, ops/s touching both (the strongest few). */
  readonly related?: Readonly<Record<string, number>>;
  /**
   * The highest upper forecast capacity planned on (every region, over the horizon, persistence included), per
   * hour of the last day: rolled forward from the previous cycle's record (`withUpperPeaks`), read by the
   * forecast-driven scale-in (domain/planning/scale-in.ts). Absent in records written before it existed.
   */
  readonly upperPeaks?: UpperPeaks;
  /**
   * The highest mean forecast (every region, over the horizon) in the same slots as `upperPeaks`: with it the scale-in
   * aggregates the gaps to the upper forecast over a region's partitions (scale-in.ts). Absent in older records.
   */
  readonly meanPeaks?: UpperPeaks;
  readonly scoredAtMs: number;
  readonly cycleId: string;
  /** TTL, epoch seconds: a partition that stops being scored drops out of the planner's input. */
  readonly expiresAt: number;
}

/** A `PeakWindow` with its slot length. */
export interface UpperPeaks extends PeakWindow {
  readonly slotMs: number;
}

/** Slots of `upperPeaks`: one hour, as the simulator's predictive policy keeps them. */
export const UPPER_PEAK_SLOT_MS = 3_600_000;

/** The highest total upper forecast (every region) over the horizon that capacity plans on (see below). */
export function plannedUpperPeak(record: ScoreRecord, persistenceMs = PERSISTENCE_MS): number {
  const upper = plannerPartitionFromScore(record, { persistenceMs }).forecastUpper ?? {};
  let peak = 0;
  const steps = horizonOf(record);
  for (let h = 0; h < steps; h++) {
    let total = 0;
    for (const region in upper) total += upper[region][h] ?? 0;
    peak = Math.max(peak, total);
  }
  return peak;
}

/** The highest total mean forecast (every region) over the horizon. */
export function plannedMeanPeak(record: ScoreRecord): number {
  let peak = 0;
  const steps = horizonOf(record);
  for (let h = 0; h < steps; h++) {
    let total = 0;
    for (const region in record.mean) total += record.mean[region][h] ?? 0;
    peak = Math.max(peak, total);
  }
  return peak;
}

/**
 * The record with its `upperPeaks` and `meanPeaks` rolled forward from the previous cycle's (at `forecastStartMs`).
 */
export function withUpperPeaks(
  record: ScoreRecord,
  previous: UpperPeaks | undefined,
  lookbackMs = DEFAULT_SCALE_IN_OPTIONS.lookbackMs,
  previousMean?: UpperPeaks,
): ScoreRecord {
  const slotMs = UPPER_PEAK_SLOT_MS;
  const slots = Math.max(1, Math.round(lookbackMs / slotMs));
  const roll = (prev: UpperPeaks | undefined, value: number): UpperPeaks => {
    const window = rollPeakWindow(
      prev?.slotMs === slotMs ? prev : undefined,
      record.forecastStartMs,
      value,
      slotMs,
      slots,
    );
    return { slotMs, endSlot: window.endSlot, values: [...window.values] };
  };
  return {
    ...record,
    upperPeaks: roll(previous, plannedUpperPeak(record)),
    meanPeaks: roll(previousMean, plannedMeanPeak(record)),
  };
}

/** The Scores table behind a port, so the profiler and the planner run against dynalite or memory in tests. */
export interface ScoreRepository {
  putAll(records: readonly ScoreRecord[]): Promise<void>;
  get(partition: string): Promise<ScoreRecord | undefined>;
  getMany(partitions: readonly string[]): Promise<Map<string, ScoreRecord>>;
  /** Every record (paginated scan); the planner's input. */
  listAll(): Promise<ScoreRecord[]>;
}

const finite = z.number().finite();
const nonNegative = finite.nonnegative();
const series = z.record(z.string(), z.array(nonNegative));

export const scoreRecordSchema = z
  .object({
    partition: z.string().min(1),
    cell: z.string().min(1),
    affinity: finite.min(0).max(1),
    predictionVector: z.record(z.string(), finite.min(0).max(1)),
    confidence: finite.min(0).max(1),
    peakStep: z.number().int().nonnegative(),
    peakOpsPerSec: nonNegative,
    models: z.array(z.string()),
    writeFraction: finite.min(0).max(1).optional(),
    sizeBytes: nonNegative.optional(),
    stepSeconds: finite.positive(),
    forecastStartMs: finite,
    mean: series,
    upper: series,
    upperLevel: finite.gt(0).lt(1),
    observedOpsPerSec: z.record(z.string(), nonNegative),
    persistenceOpsPerSec: z.record(z.string(), nonNegative).optional(),
    related: z.record(z.string(), nonNegative).optional(),
    upperPeaks: z
      .object({ slotMs: finite.positive(), endSlot: finite, values: z.array(nonNegative) })
      .optional(),
    meanPeaks: z
      .object({ slotMs: finite.positive(), endSlot: finite, values: z.array(nonNegative) })
      .optional(),
    scoredAtMs: finite,
    cycleId: z.string().min(1),
    expiresAt: finite,
  })
  .check((ctx) => {
    const record = ctx.value;
    let steps: number | undefined;
    for (const [name, byRegion] of [
      ['mean', record.mean],
      ['upper', record.upper],
    ] as const) {
      for (const [region, values] of Object.entries(byRegion)) {
        steps ??= values.length;
        if (values.length !== steps)
          ctx.issues.push({
            code: 'custom',
            input: values,
            path: [name, region],
            message: `expected ${steps} steps like the other regions, found ${values.length}`,
          });
      }
    }
  });

/** Validate a stored item; a bad one names the partition and the field. */
export function parseScoreRecord(item: unknown, source = 'scores'): ScoreRecord {
  const parsed = scoreRecordSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const partition = (item as { partition?: unknown } | undefined)?.partition;
  const where = typeof partition === 'string' ? `${source}[${partition}]` : source;
  throw new InputValidationError({ field: [where, ...issue.path.map(String)].join('.') }, issue.message);
}

/** Horizon of a record (steps per region array); 0 when it has no region. */
export function horizonOf(record: ScoreRecord): number {
  for (const region in record.mean) return record.mean[region].length;
  return 0;
}

/**
 * Size planned for a partition that has never been measured, while no partition of the fleet has been: 1 GiB.
 * Not 0, which would make its move free (no bytes budget, no transfer cost, no copy time); large enough that
 * an unmeasured partition moves only for a real gain.
 */
export const UNMEASURED_PARTITION_BYTES = 2 ** 30;

/**
 * The size to plan an unmeasured partition with: the median of the fleet's measured sizes (a typical
 * partition of this deployment), else UNMEASURED_PARTITION_BYTES.
 */
export function defaultPartitionSizeBytes(measured: readonly number[]): number {
  const sizes = measured.filter((b) => Number.isFinite(b) && b >= 0).sort((a, b) => a - b);
  if (sizes.length === 0) return UNMEASURED_PARTITION_BYTES;
  const mid = sizes.length >> 1;
  return sizes.length % 2 === 1 ? sizes[mid] : (sizes[mid - 1] + sizes[mid]) / 2;
}

export interface PlannerPartitionContext {
  /** Current primary cell, from the partitions table. @default record.cell */
  readonly cell?: string;
  /** Measured size (the partition record's). @default record.sizeBytes, else `defaultSizeBytes` */
  readonly sizeBytes?: number;
  /** Size of a partition never measured (see defaultPartitionSizeBytes). @default UNMEASURED_PARTITION_BYTES */
  readonly defaultSizeBytes?: number;
  readonly lastMovedAtMs?: number;
  /** @default PERSISTENCE_MS */
  readonly persistenceMs?: number;
}

/**
 * A ScoreRecord as planner input: locality plans on the mean, capacity on the upper quantile floored by the
 * persistence level (the last observation, grown at a burst onset) over the next `persistenceMs`, as the
 * backtest's predictive policy does.
 */
export function plannerPartitionFromScore(
  record: ScoreRecord,
  context: PlannerPartitionContext = {},
): PlannerPartition {
  const persistenceMs = context.persistenceMs ?? PERSISTENCE_MS;
  const persist = persistenceSteps(record.stepSeconds * 1000, persistenceMs);
  const forecastUpper: Record<string, number[]> = {};
  for (const region in record.mean) {
    const upper = record.upper[region] ?? record.mean[region];
    const last = record.persistenceOpsPerSec?.[region] ?? record.observedOpsPerSec[region] ?? 0;
    forecastUpper[region] = upper.map((v, h) => (h < persist ? Math.max(v, last) : v));
  }
  return {
    id: record.partition,
    cell: context.cell ?? record.cell,
    sizeBytes:
      context.sizeBytes ?? record.sizeBytes ?? context.defaultSizeBytes ?? UNMEASURED_PARTITION_BYTES,
    forecast: record.mean,
    forecastUpper,
    affinity: record.affinity,
    ...(record.writeFraction !== undefined && { writeFraction: record.writeFraction }),
    ...(context.lastMovedAtMs !== undefined && { lastMovedAtMs: context.lastMovedAtMs }),
  };
}

/** Co-access pairs of a set of records, each pair once (the larger of the two sides' rates). */
export function relationshipsFromScores(records: readonly ScoreRecord[]): Relationship[] {
  const known = new Set(records.map((r) => r.partition));
  const pairs = new Map<string, Relationship>();
  for (const record of records) {
    for (const [other, rate] of Object.entries(record.related ?? {})) {
      if (!known.has(other) || other === record.partition || !(rate > 0)) continue;
      const [a, b] = record.partition < other ? [record.partition, other] : [other, record.partition];
      const key = `${a}\u0000${b}`;
      const seen = pairs.get(key);
      if (!seen || seen.coAccessPerSec < rate) pairs.set(key, { a, b, coAccessPerSec: rate });
    }
  }
  return [...pairs.values()];
}
