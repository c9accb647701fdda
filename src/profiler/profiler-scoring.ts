import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import {
  DEFAULT_PLANNING_QUANTILE,
  forecastQuantileLevels,
} from '../domain/forecasting/planning-quantile.ts';
import type { Relationship } from '../domain/planning/movement-plan.ts';
import type { ProfilerCycle } from '../domain/profiling/ports.ts';
import type { AffinityScore } from '../domain/scoring/affinity-score.ts';
import {
  type PartitionForecast,
  type ScoringOptions,
  scorePartitions,
} from '../domain/scoring/affinity-scorer.ts';
import { type BurstGrowth, persistenceLevel } from '../domain/scoring/burst-persistence.ts';
import { type ScoreRecord, type UpperPeaks, withUpperPeaks } from '../domain/scoring/score-record.ts';
import { cellStatesForShard } from './cell-state.ts';
import type { DemandHistory, MeasuredWriteFraction } from './demand-series.ts';

/**
 * What a profiler shard turns its partitions' forecasts into: the persistence levels capacity plans on, the
 * co-access rates, and the score records the planner reads. Pure functions of the shard's data; the
 * ChunkProfiler (chunk-profiler.ts) reads the histories and calls the model, and the Profiler writes the records.
 */

/** The quantiles the profiler asks the model for: the scoring ones and the one capacity plans on (ascending). */
export const QUANTILE_LEVELS: readonly number[] = forecastQuantileLevels(DEFAULT_PLANNING_QUANTILE);
/** The upper forecast capacity plans on, as the simulator's predictive policy. */
export const UPPER_LEVEL = DEFAULT_PLANNING_QUANTILE;

/** One partition of a shard, forecast and measured, ready to score. */
export interface ScoredPartition {
  readonly partition: PartitionRecord;
  readonly forecast: PartitionForecast;
  readonly mean: Record<string, number[]>;
  readonly upper: Record<string, number[]>;
  readonly observed: Record<string, number>;
  /** Level capacity plans on over the persistence window, per region. */
  readonly persistence: Record<string, number>;
  readonly related?: Record<string, number>;
  /** Measured from the access counters (reads and writes apart); undefined when none told them apart. */
  readonly writeFraction?: MeasuredWriteFraction;
  /** The previous cycle's `upperPeaks`, rolled forward in this cycle's record. */
  readonly previousPeaks?: UpperPeaks;
  /** The previous cycle's `meanPeaks`, rolled forward with them. */
  readonly previousMeanPeaks?: UpperPeaks;
}

/**
 * Per region, the persistence level: the last observation, grown at a burst onset. The expected value of the
 * last bucket is the previous cycle's upper quantile for it, when that cycle forecast it on the same grid.
 */
export function persistenceLevels(
  history: DemandHistory,
  previous: ScoreRecord | undefined,
  seriesEndMs: number,
  options: { readonly intervalMs: number; readonly burstGrowth: BurstGrowth | false },
): Record<string, number> {
  const { intervalMs } = options;
  const out: Record<string, number> = {};
  const lastBucketMs = seriesEndMs - intervalMs;
  const step =
    previous && previous.stepSeconds * 1000 === intervalMs
      ? (lastBucketMs - previous.forecastStartMs) / intervalMs
      : -1;
  for (const [region, values] of history.regions) {
    const n = values.length;
    const last = n > 0 ? values[n - 1] : 0;
    const before = n > 1 ? values[n - 2] : undefined;
    const upper = previous?.upper[region];
    const expected =
      upper && Number.isInteger(step) && step >= 0 && step < upper.length ? upper[step] : undefined;
    out[region] = persistenceLevel(last, before, expected, options.burstGrowth);
  }
  return out;
}

/** Co-access partners over the window as ops/s touching both, scaled up by the recorder's sample rate. */
export function coAccessRates(
  coAccess: readonly { b: string; bucketStartMs: number; count: number }[],
  history: DemandHistory,
  window: { startMs: number; endMs: number },
  options: { readonly maxRelated: number; readonly coAccessSampleRate: number },
): Record<string, number> | undefined {
  if (coAccess.length === 0) return undefined;
  const seconds = Math.max(1, (window.endMs - Math.max(window.startMs, history.startMs)) / 1000);
  const totals = new Map<string, number>();
  for (const c of coAccess) {
    if (c.bucketStartMs < window.startMs || c.bucketStartMs >= window.endMs) continue;
    totals.set(c.b, (totals.get(c.b) ?? 0) + c.count);
  }
  const top = [...totals]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, options.maxRelated)
    .map(([other, count]) => [other, count / options.coAccessSampleRate / seconds] as const);
  return top.length > 0 ? Object.fromEntries(top) : undefined;
}

export interface ScoreRecordOptions {
  readonly intervalSeconds: number;
  readonly scoring?: Partial<ScoringOptions>;
  readonly scoreTtlSeconds: number;
  readonly nowMs: number;
}

/** Score a shard's partitions against its share of the cells, and build their score records. */
export function scoreRecords(
  scored: readonly ScoredPartition[],
  cycle: ProfilerCycle,
  options: ScoreRecordOptions,
): ScoreRecord[] {
  const shardLoad = new Map<string, number>();
  for (const s of scored) {
    let load = 0;
    for (const region in s.observed) load += s.observed[region];
    shardLoad.set(s.partition.cell, (shardLoad.get(s.partition.cell) ?? 0) + load);
  }
  const ids = new Set(scored.map((s) => s.partition.partition));
  const relationships: Relationship[] = [];
  for (const s of scored) {
    for (const [other, rate] of Object.entries(s.related ?? {})) {
      if (ids.has(other)) relationships.push({ a: s.partition.partition, b: other, coAccessPerSec: rate });
    }
  }
  const scores: AffinityScore[] = scorePartitions({
    quantileLevels: QUANTILE_LEVELS,
    stepMs: options.intervalSeconds * 1000,
    partitions: scored.map((s) => s.forecast),
    cells: cellStatesForShard(cycle.cells, shardLoad, cycle.shards),
    relationships,
    options: options.scoring,
  });
  const now = options.nowMs;
  const expiresAt = Math.floor(now / 1000) + options.scoreTtlSeconds;
  return scored.map((s, i) => {
    const score = scores[i];
    const record: ScoreRecord = {
      partition: s.partition.partition,
      cell: s.partition.cell,
      affinity: score.affinity,
      predictionVector: score.predictionVector,
      confidence: score.confidence,
      peakStep: score.peakStep,
      peakOpsPerSec: score.peakOpsPerSec,
      models: [...score.models],
      stepSeconds: options.intervalSeconds,
      forecastStartMs: cycle.seriesEndMs,
      mean: s.mean,
      upper: s.upper,
      upperLevel: UPPER_LEVEL,
      observedOpsPerSec: s.observed,
      persistenceOpsPerSec: s.persistence,
      ...(s.partition.sizeBytes !== undefined && { sizeBytes: s.partition.sizeBytes }),
      ...(s.related && { related: s.related }),
      ...(s.writeFraction && { writeFraction: s.writeFraction.overall }),
      scoredAtMs: now,
      cycleId: cycle.cycleId,
      expiresAt,
    };
    return withUpperPeaks(record, s.previousPeaks, undefined, s.previousMeanPeaks);
  });
}
