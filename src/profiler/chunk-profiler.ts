import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import type { ForecastRequest, KnownEvent } from '../domain/forecasting/forecast-model.ts';
import { eventsForSeries } from '../domain/forecasting/known-events.ts';
import { SCORING_QUANTILES } from '../domain/forecasting/planning-quantile.ts';
import type { ProfilerCycle } from '../domain/profiling/ports.ts';
import { toRegionForecast } from '../domain/scoring/affinity-scorer.ts';
import { persistenceSteps } from '../domain/scoring/burst-persistence.ts';
import { AccessHistoryCache } from './access-history-cache.ts';
import {
  buildDemandHistory,
  type DemandHistory,
  lookbackStartOf,
  measuredWriteFraction,
} from './demand-series.ts';
import type { OnlineErrorAccumulator } from './online-error.ts';
import type { ProfilerDeps } from './profiler-deps.ts';
import type { ResolvedProfilerOptions } from './profiler-options.ts';
import {
  coAccessRates,
  persistenceLevels,
  QUANTILE_LEVELS,
  type ScoredPartition,
  UPPER_LEVEL,
} from './profiler-scoring.ts';

const DAY_MS = 86_400_000;

/**
 * A shard's work on one chunk of its partitions: read their access histories, build per-region demand series,
 * forecast them through the ForecastModel port, measure the online error of the previous cycle's forecasts, and
 * turn each partition into a ScoredPartition (forecast, persistence levels, co-access, write fraction), ready to
 * score. Chunks bound the memory of the histories.
 */
export class ChunkProfiler {
  private readonly deps: Pick<ProfilerDeps, 'scores' | 'model' | 'now'>;
  private readonly o: ResolvedProfilerOptions;
  /** Lives as long as the Profiler that owns this: across the invocations of a warm execution environment. */
  private readonly history: AccessHistoryCache;

  constructor(
    deps: Pick<ProfilerDeps, 'accessStats' | 'scores' | 'model' | 'now'>,
    o: ResolvedProfilerOptions,
  ) {
    this.deps = deps;
    this.o = o;
    const cache = o.historyCache || {};
    const source = deps.accessStats;
    this.history = new AccessHistoryCache(
      o.historyCache === false
        ? // Without a read by key, every history is read whole.
          {
            countsFor: (partition, sinceMs) => source.countsFor(partition, sinceMs),
            coAccessFor: (partition, sinceMs) => source.coAccessFor(partition, sinceMs),
          }
        : source,
      {
        accessBucketMs: o.accessBucketMs,
        maxPartitions: cache.maxPartitions ?? 10_000,
        rereadBuckets: cache.rereadBuckets ?? 2,
        fullReadEveryMs: cache.fullReadEveryMs ?? DAY_MS,
        readConcurrency: o.readConcurrency,
      },
    );
  }

  /**
   * The chunk's partitions, forecast and measured, in order. Adds the error of each partition's previous forecast
   * to `errors`, and the name of each known event passed to the model to `eventsUsed`.
   */
  async profile(
    chunk: readonly PartitionRecord[],
    cycle: ProfilerCycle,
    errors: OnlineErrorAccumulator,
    events: readonly KnownEvent[],
    eventsUsed: Set<string>,
  ): Promise<ScoredPartition[]> {
    const sinceMs = cycle.seriesEndMs - this.o.lookbackMs;
    // The history read reaches the earliest anchored start (lookbackStartOf).
    const readSinceMs = sinceMs - this.o.lookbackAnchorMs;
    const window = {
      startMs: sinceMs,
      endMs: cycle.seriesEndMs,
      intervalMs: this.o.intervalMs,
      accessBucketMs: this.o.accessBucketMs,
    };
    const [previous, read] = await Promise.all([
      this.deps.scores.getMany(chunk.map((p) => p.partition)),
      this.history.read(
        chunk.map((p) => p.partition),
        readSinceMs,
        this.deps.now(),
      ),
    ]);
    const histories = chunk.map((p) => {
      const { counts, coAccess } = read.get(p.partition)!;
      const startMs = lookbackStartOf(
        p.partition,
        cycle.seriesEndMs,
        this.o.lookbackMs,
        this.o.lookbackAnchorMs,
        this.o.intervalMs,
      );
      const history = buildDemandHistory(counts, startMs === sinceMs ? window : { ...window, startMs });
      return {
        history,
        related: coAccessRates(coAccess, history, window, this.o),
        // Over the lookback, as without an anchor (the read reaches further back for the series only).
        writeFraction: measuredWriteFraction(
          readSinceMs === sinceMs ? counts : counts.filter((c) => c.bucketStartMs >= sinceMs),
        ),
      };
    });

    const requests: ForecastRequest[] = [];
    const owners: { p: number; region: string }[] = [];
    histories.forEach(({ history }, p) => {
      for (const [region, values] of history.regions) {
        const own = events.length > 0 ? eventsForSeries(events, region, chunk[p].partition) : [];
        for (const e of own) eventsUsed.add(e.name);
        requests.push({
          itemId: `${chunk[p].partition}#${region}`,
          series: { startMs: history.startMs, intervalMs: this.o.intervalMs, values },
          horizon: this.o.horizonSteps,
          quantileLevels: QUANTILE_LEVELS,
          ...(own.length > 0 && { events: own }),
        });
        owners.push({ p, region });
      }
    });
    const forecasts = requests.length > 0 ? await this.deps.model.forecast(requests) : [];

    const out: ScoredPartition[] = chunk.map((partition, p) => {
      const prev = previous.get(partition.partition);
      if (prev) errors.add(prev, histories[p].history);
      const writeFraction = histories[p].writeFraction;
      return {
        partition,
        forecast: {
          id: partition.partition,
          cell: partition.cell,
          regions: {},
          ...(writeFraction && { writeFraction: writeFraction.overall }),
        },
        ...(writeFraction && { writeFraction }),
        mean: {},
        upper: {},
        observed: lastObserved(histories[p].history),
        persistence: persistenceLevels(histories[p].history, prev, cycle.seriesEndMs, {
          intervalMs: this.o.intervalMs,
          burstGrowth: this.o.burstGrowth,
        }),
        ...(histories[p].related && { related: histories[p].related }),
        ...(prev?.upperPeaks && { previousPeaks: prev.upperPeaks }),
        ...(prev?.meanPeaks && { previousMeanPeaks: prev.meanPeaks }),
      };
    });
    const persist = persistenceSteps(this.o.intervalMs);
    forecasts.forEach((forecast, k) => {
      const { p, region } = owners[k];
      const target = out[p];
      const upper = Array.from(forecast.quantiles.get(UPPER_LEVEL) ?? forecast.mean, nonNegative);
      target.mean[region] = Array.from(forecast.mean, nonNegative);
      target.upper[region] = upper;
      // The embedded model treats a burst's first buckets as outliers; while one runs, "hot soon" must still
      // see it: the scored upper quantile is at least the last observation over the persistence window (the
      // planner does the same for capacity, see plannerPartitionFromScore). The stored `upper` stays the model's.
      // Scored on the scoring quantiles (the simulator's too); the planning one is `upper`.
      const scored = toRegionForecast(forecast, SCORING_QUANTILES);
      const last = target.persistence[region] ?? 0;
      const levels = scored.quantiles?.length === SCORING_QUANTILES.length ? scored.quantiles : undefined;
      const top = levels?.[levels.length - 1];
      const regionForecast =
        levels && top && last > 0
          ? {
              ...scored,
              quantiles: [
                ...levels.slice(0, -1),
                Array.from(top, (v, h) => (h < persist ? Math.max(v, last) : v)),
              ],
            }
          : scored;
      const regionWrites = target.writeFraction?.byRegion[region];
      (target.forecast.regions as Record<string, typeof regionForecast>)[region] =
        regionWrites === undefined ? regionForecast : { ...regionForecast, writeFraction: regionWrites };
    });
    return out;
  }
}

function nonNegative(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/** Ops/s per region in the last complete bucket of the history. */
function lastObserved(history: DemandHistory): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [region, values] of history.regions)
    out[region] = values.length > 0 ? values[values.length - 1] : 0;
  return out;
}
