import type { ScaleInOptions } from '../domain/planning/scale-in.ts';
import type { ScaleOutOptions } from '../domain/planning/scale-out.ts';
import type { ScoringOptions } from '../domain/scoring/affinity-scorer.ts';
import { type BurstGrowth, DEFAULT_BURST_GROWTH } from '../domain/scoring/burst-persistence.ts';
import type { LatencyOverrides } from '../planner-service/region-latency.ts';

export interface ProfilerOptions {
  /** Interval bucket and forecast step. */
  readonly intervalSeconds: number;
  readonly horizonSteps: number;
  /** Shards per cycle (one asynchronous invocation each). */
  readonly shards: number;
  /** Predictive scale-out when a shortfall's latest start is this close. */
  readonly scaleOutBufferMinutes: number;
  /** History read per partition. @default 8 days (a full week for the weekly profile, plus a day) */
  readonly lookbackMs?: number;
  /**
   * Hold the start of each partition's demand series on a grid of this period (see `lookbackStartOf`), so a
   * forecast model that keeps its fitted state between cycles (WarmEmbeddedForecastModel) observes only the new
   * buckets; the lookback is then `lookbackMs` to `lookbackMs + lookbackAnchorMs`. 0: it slides with every cycle.
   * @default 0
   */
  readonly lookbackAnchorMs?: number;
  /** Width of the access recorder's buckets. @default 5 minutes */
  readonly accessBucketMs?: number;
  /** Share of clients whose co-access the recorder samples; rates are scaled back up by it. @default 0.1 */
  readonly coAccessSampleRate?: number;
  /** Strongest co-access partners kept per partition. @default 8 */
  readonly maxRelated?: number;
  /** @default 2 days */
  readonly scoreTtlSeconds?: number;
  /** @default 2 days */
  readonly cycleTtlSeconds?: number;
  /** Time to provision a cell, for the capacity forecast. @default 5 minutes */
  readonly provisionMs?: number;
  /** Copy bandwidth of one migration, for the time to fill new cells. @default 50 MiB/s */
  readonly migrationBandwidthBytesPerSec?: number;
  /** CloudWatch window: `metricsWindowMs` ending `metricsLagMs` before the cycle time. @default 5 min, 2 min */
  readonly metricsWindowMs?: number;
  readonly metricsLagMs?: number;
  /** Access-stats reads in flight per shard. @default 32 */
  readonly readConcurrency?: number;
  /** Partitions read and forecast per chunk (bounds the memory of histories). @default 1000 */
  readonly chunkSize?: number;
  /** Cells one predictive scale-out asks for at most (ScaleCluster refuses more than 10). @default 10 */
  readonly maxCellsPerScaleOut?: number;
  /** Shard invocations in flight in the coordinator. @default 10 */
  readonly invokeConcurrency?: number;
  /**
   * Partitions whose size one shard measures per cycle at most (never measured, or measured longer than
   * `sizeMaxAgeMs` ago; stalest first). Needs the `sizeProbe` and `sizeStore` ports. 0 turns probing off.
   * @default 200
   */
  readonly sizeProbesPerShard?: number;
  /** A measured size older than this is measured again. @default 24 hours */
  readonly sizeMaxAgeMs?: number;
  /** Size probes in flight per shard. @default 4 */
  readonly sizeProbeConcurrency?: number;
  /** No new size probe starts this long after the shard's first one (the rest wait for the next cycle). @default 60 s */
  readonly sizeProbeBudgetMs?: number;
  /**
   * Growth of the persistence level at a burst onset (see burst-persistence.ts); false plans on the last
   * observation alone. @default DEFAULT_BURST_GROWTH
   */
  readonly burstGrowth?: BurstGrowth | false;
  /**
   * Keep each partition's access history between cycles (while the execution environment stays warm) and read only
   * the newest buckets, by key, for all of a chunk's partitions at once (see access-history-cache.ts); false reads
   * every history whole every cycle. @default {} (on: 10,000 partitions, 2 buckets read again, a whole read of
   * each partition at least once a day)
   */
  readonly historyCache?:
    | false
    | { readonly maxPartitions?: number; readonly rereadBuckets?: number; readonly fullReadEveryMs?: number };
  readonly scoring?: Partial<ScoringOptions>;
  /** Forecast-driven scale-in (domain/planning/scale-in.ts) with these knobs; false: never. @default {} */
  readonly scaleIn?: ScaleInOptions | false;
  /**
   * Price each due predictive scale-out against the cell-hours it buys (domain/planning/scale-out.ts, as the
   * simulator's predictive policy); false starts every due shortfall's cells. @default {}
   */
  readonly scaleOut?: ScaleOutOptions | false;
  /** Price of a cell-hour for the scale-in; absent: the cell's capacity at DynamoDB provisioned prices. */
  readonly cellHourPriceUsd?: number;
  /**
   * Measured inter-region round trips, ms, over the estimates (region-latency.ts); give the planner service's
   * `latencyOverrides`, so the scale-out's locality term and the planner weigh latency alike.
   */
  readonly latencyOverrides?: LatencyOverrides;
}

const DAY_SECONDS = 86_400;

/** ProfilerOptions with every default filled in, and the interval in milliseconds. */
export type ResolvedProfilerOptions = Required<
  Omit<ProfilerOptions, 'scoring' | 'cellHourPriceUsd' | 'latencyOverrides'>
> & {
  latencyOverrides?: LatencyOverrides;
  scoring?: Partial<ScoringOptions>;
  cellHourPriceUsd?: number;
  /** `intervalSeconds` in milliseconds. */
  intervalMs: number;
};

/** Check the options that have no default, and fill in the defaults of the others. */
export function resolveProfilerOptions(options: ProfilerOptions): ResolvedProfilerOptions {
  if (!(Number.isInteger(options.shards) && options.shards >= 1))
    throw new RangeError(`shards must be a positive integer, got ${options.shards}`);
  if (!(options.intervalSeconds > 0)) throw new RangeError('intervalSeconds must be > 0');
  if (!(Number.isInteger(options.horizonSteps) && options.horizonSteps >= 1))
    throw new RangeError('horizonSteps must be a positive integer');
  return {
    lookbackMs: 8 * DAY_SECONDS * 1000,
    lookbackAnchorMs: 0,
    accessBucketMs: 300_000,
    coAccessSampleRate: 0.1,
    maxRelated: 8,
    scoreTtlSeconds: 2 * DAY_SECONDS,
    cycleTtlSeconds: 2 * DAY_SECONDS,
    provisionMs: 5 * 60_000,
    migrationBandwidthBytesPerSec: 50 * 2 ** 20,
    metricsWindowMs: 300_000,
    metricsLagMs: 120_000,
    readConcurrency: 32,
    chunkSize: 1000,
    invokeConcurrency: 10,
    maxCellsPerScaleOut: 10,
    sizeProbesPerShard: 200,
    sizeMaxAgeMs: DAY_SECONDS * 1000,
    sizeProbeConcurrency: 4,
    sizeProbeBudgetMs: 60_000,
    burstGrowth: DEFAULT_BURST_GROWTH,
    historyCache: {},
    scaleIn: {},
    scaleOut: {},
    ...options,
    intervalMs: options.intervalSeconds * 1000,
  };
}
