import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import { PrestageError } from '../domain/errors.ts';
import type { ForecastRequest, KnownEvent } from '../domain/forecasting/forecast-model.ts';
import { eventsForSeries } from '../domain/forecasting/known-events.ts';
import type { ScaleInOptions } from '../domain/planning/scale-in.ts';
import type { ScaleOutOptions } from '../domain/planning/scale-out.ts';
import type { CellMetrics, CellSnapshot, ProfilerCycle } from '../domain/profiling/ports.ts';
import { type ScoringOptions, toRegionForecast } from '../domain/scoring/affinity-scorer.ts';
import {
  type BurstGrowth,
  DEFAULT_BURST_GROWTH,
  persistenceSteps,
} from '../domain/scoring/burst-persistence.ts';
import type { LatencyOverrides } from '../planner-service/region-latency.ts';
import { mapBounded } from '../support/bounded-parallel.ts';
import { METRIC } from '../support/metrics.ts';
import { AccessHistoryCache } from './access-history-cache.ts';
import { cellSnapshot } from './cell-state.ts';
import { eventsForCycle } from './cycle-events.ts';
import {
  buildDemandHistory,
  type DemandHistory,
  lookbackStartOf,
  measuredWriteFraction,
} from './demand-series.ts';
import { OnlineErrorAccumulator } from './online-error.ts';
import { checkCapacity } from './predictive-scaling.ts';
import { startPredictiveScaling } from './predictive-scaling-starts.ts';
import { bucketStartOf, cycleIdFor, parseCycleId, profilerShardOf } from './profiler-cycle.ts';
import type { ProfilerDeps } from './profiler-deps.ts';
import type { CoordinatorResult, ScheduleEvent, ShardEvent, ShardResult } from './profiler-events.ts';
import {
  coAccessRates,
  persistenceLevels,
  QUANTILE_LEVELS,
  type ScoredPartition,
  scoreRecords,
  UPPER_LEVEL,
} from './profiler-scoring.ts';
import { partitionsDueForSizing } from './size-refresh.ts';

/** A shard event disagrees with its cycle (e.g. a different shard count). */
export class InvalidShardError extends PrestageError {}

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

/**
 * The profiler: a coordinator per schedule tick, then one shard per hash range of partitions.
 *
 * - coordinate: create the cycle `cycle#<cycleId>` (id from the schedule time; a redelivery finds it), with the
 *   cells and their measured state, and invoke every shard asynchronously.
 * - runShard: for each partition of the shard, read its access history, build per-region demand series, forecast
 *   them through the ForecastModel port, measure the online error of the previous cycle's forecast, score
 *   (scorePartitions) and write ScoreRecords; then count the shard done on the cycle record.
 * - the shard that completes the cycle runs the capacity forecast over every score of the cycle, starts
 *   predictive scale-outs, and invokes the planner.
 */
export class Profiler {
  private readonly deps: ProfilerDeps;
  private readonly intervalMs: number;
  private readonly o: Required<Omit<ProfilerOptions, 'scoring' | 'cellHourPriceUsd' | 'latencyOverrides'>> & {
    latencyOverrides?: LatencyOverrides;
    scoring?: Partial<ScoringOptions>;
    cellHourPriceUsd?: number;
  };
  /** Lives as long as this Profiler: across the invocations of a warm execution environment. */
  private readonly history: AccessHistoryCache;

  constructor(deps: ProfilerDeps, options: ProfilerOptions) {
    if (!(Number.isInteger(options.shards) && options.shards >= 1))
      throw new RangeError(`shards must be a positive integer, got ${options.shards}`);
    if (!(options.intervalSeconds > 0)) throw new RangeError('intervalSeconds must be > 0');
    if (!(Number.isInteger(options.horizonSteps) && options.horizonSteps >= 1))
      throw new RangeError('horizonSteps must be a positive integer');
    this.deps = deps;
    this.intervalMs = options.intervalSeconds * 1000;
    this.o = {
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
    };
    const cache = this.o.historyCache || {};
    const source = deps.accessStats;
    this.history = new AccessHistoryCache(
      this.o.historyCache === false
        ? // Without a read by key, every history is read whole.
          {
            countsFor: (partition, sinceMs) => source.countsFor(partition, sinceMs),
            coAccessFor: (partition, sinceMs) => source.coAccessFor(partition, sinceMs),
          }
        : source,
      {
        accessBucketMs: this.o.accessBucketMs,
        maxPartitions: cache.maxPartitions ?? 10_000,
        rereadBuckets: cache.rereadBuckets ?? 2,
        fullReadEveryMs: cache.fullReadEveryMs ?? DAY_SECONDS * 1000,
        readConcurrency: this.o.readConcurrency,
      },
    );
  }

  async coordinate(event: ScheduleEvent): Promise<CoordinatorResult> {
    const timeMs = event.time !== undefined ? Date.parse(event.time) : this.deps.now();
    const { created, cycle } = await this.openCycle(timeMs, this.o.shards);
    await mapBounded(
      Array.from({ length: cycle.shards }, (_, shard) => shard),
      this.o.invokeConcurrency,
      (shard) => this.deps.invoker.invokeShard({ cycleId: cycle.cycleId, shard, shards: cycle.shards }),
    );
    this.deps.log.info('profiler cycle started', { cycleId: cycle.cycleId, shards: cycle.shards, created });
    return { cycleId: cycle.cycleId, shards: cycle.shards, created, cells: cycle.cells.length };
  }

  /** Create the cycle record with the cells' measured state, unless it exists. */
  private async openCycle(timeMs: number, shards: number) {
    const cycleId = cycleIdFor(timeMs, this.intervalMs);
    const existing = await this.deps.cycles.get(cycleId);
    if (existing) return { created: false, cycle: existing };
    const cells = await this.deps.cells.list();
    const measured = cells.filter((c) => c.status !== 'RETIRED');
    const endMs = timeMs - this.o.metricsLagMs;
    let metrics = new Map<string, CellMetrics>();
    try {
      metrics = await this.deps.cellMetrics.read(measured, {
        startMs: endMs - this.o.metricsWindowMs,
        endMs,
        periodSeconds: 60,
      });
    } catch (error) {
      // Scores without cell pressure beat no scores: the cycle goes on, and the failure is logged.
      this.deps.log.warn('cell metrics unavailable; scoring without cell pressure', {
        error: (error as Error).message,
      });
    }
    const snapshots: CellSnapshot[] = cells.map((cell) => cellSnapshot(cell, metrics.get(cell.id)));
    for (const cell of measured) {
      const m = metrics.get(cell.id);
      if (!m || !(cell.capacityOpsPerSec > 0)) continue;
      const load = m.consumedReadUnitsPerSec + m.consumedWriteUnitsPerSec;
      this.deps.metrics.add(METRIC.cellUtilization, 'Percent', (100 * load) / cell.capacityOpsPerSec, {
        CellId: cell.id,
      });
    }
    const now = this.deps.now();
    return this.deps.cycles.create({
      cycleId,
      shards,
      seriesEndMs: bucketStartOf(timeMs, this.intervalMs),
      startedAtMs: now,
      cells: snapshots,
      doneShards: [],
      expiresAt: Math.floor(now / 1000) + this.o.cycleTtlSeconds,
    });
  }

  async runShard(event: ShardEvent): Promise<ShardResult> {
    const { cycleId, shard } = event;
    if (!(Number.isInteger(shard) && shard >= 0 && shard < event.shards))
      throw new InvalidShardError(`shard ${shard} is outside [0, ${event.shards})`);
    const cycleTimeMs = parseCycleId(cycleId);
    if (cycleIdFor(cycleTimeMs, this.intervalMs) !== cycleId)
      throw new InvalidShardError(
        `cycle id '${cycleId}' is not on the ${this.o.intervalSeconds}s interval grid`,
      );
    // A shard started by hand (console) for a cycle that has no record yet opens it itself.
    const cycle =
      (await this.deps.cycles.get(cycleId)) ?? (await this.openCycle(cycleTimeMs, event.shards)).cycle;
    if (cycle.shards !== event.shards)
      throw new InvalidShardError(
        `cycle ${cycleId} has ${cycle.shards} shards, the event says ${event.shards}`,
      );

    const listed = (await this.deps.partitions.list())
      .filter((p) => profilerShardOf(p.partition, cycle.shards) === shard)
      .sort((a, b) => (a.partition < b.partition ? -1 : 1));
    const { records: mine, sizes } = await this.refreshSizes(listed, cycleId);
    const errors = new OnlineErrorAccumulator();
    const models: Record<string, number> = {};
    const scored: ScoredPartition[] = [];
    const events = await eventsForCycle(
      this.deps.events,
      {
        historyStartMs: cycle.seriesEndMs - this.o.lookbackMs - this.o.lookbackAnchorMs,
        horizonEndMs: cycle.seriesEndMs + this.o.horizonSteps * this.intervalMs,
      },
      this.deps.log,
      cycleId,
    );
    const eventsUsed = new Set<string>();
    let series = 0;
    for (let i = 0; i < mine.length; i += this.o.chunkSize) {
      const chunk = mine.slice(i, i + this.o.chunkSize);
      const out = await this.profileChunk(chunk, cycle, errors, events, eventsUsed);
      for (const s of out) {
        scored.push(s);
        for (const region in s.forecast.regions) {
          series++;
          const model = s.forecast.regions[region].model ?? 'unknown';
          models[model] = (models[model] ?? 0) + 1;
        }
      }
    }

    const records = scoreRecords(scored, cycle, {
      intervalSeconds: this.o.intervalSeconds,
      scoring: this.o.scoring,
      scoreTtlSeconds: this.o.scoreTtlSeconds,
      nowMs: this.deps.now(),
    });
    await this.deps.scores.putAll(records);
    const online = errors.result();
    const onlineError = {
      points: online.points,
      series: online.series,
      ...(Number.isFinite(online.mase) && { mase: online.mase }),
      ...(Number.isFinite(online.mape) && { mape: online.mape }),
    };
    this.deps.metrics.add(METRIC.partitionsScored, 'Count', records.length);
    if (onlineError.mase !== undefined) this.deps.metrics.add(METRIC.forecastMase, 'None', onlineError.mase);
    if (onlineError.mape !== undefined) this.deps.metrics.add(METRIC.forecastMape, 'None', onlineError.mape);

    // Counted last: a shard that fails before this point is retried and counted once it succeeds.
    const completion = await this.deps.cycles.completeShard(cycleId, shard);
    const last = completion.done >= completion.shards;
    const finish = last
      ? await this.finishCycle(cycleId)
      : { scaleOuts: [], scaleIns: [], plannerInvoked: false };
    this.deps.log.info('profiler shard done', {
      cycleId,
      shard,
      partitions: records.length,
      series,
      counted: completion.counted,
      done: completion.done,
      shards: completion.shards,
      onlineError,
      sizes,
      events: [...eventsUsed],
    });
    return {
      cycleId,
      shard,
      partitions: records.length,
      series,
      events: [...eventsUsed].sort(),
      models,
      onlineError,
      sizes,
      counted: completion.counted,
      last,
      ...finish,
    };
  }

  /**
   * Measure the sizes of a bounded number of the shard's partitions that have none or a stale one (stalest
   * first), write each to its partition record, and return the records with them, so this cycle's scores
   * carry them. A probe that fails leaves the partition for a later cycle; the cycle goes on.
   */
  private async refreshSizes(
    records: PartitionRecord[],
    cycleId: string,
  ): Promise<{ records: PartitionRecord[]; sizes: ShardResult['sizes'] }> {
    const { sizeProbe, sizeStore } = this.deps;
    const startMs = this.deps.now();
    const { due, selected } = partitionsDueForSizing(
      records,
      startMs,
      this.o.sizeMaxAgeMs,
      sizeProbe && sizeStore ? this.o.sizeProbesPerShard : 0,
    );
    const sizes = { due, measured: 0, failed: 0, readUnits: 0 };
    if (!sizeProbe || !sizeStore || selected.length === 0) return { records, sizes };
    const cells = new Map((await this.deps.cells.list()).map((c) => [c.id, c]));
    const measured = new Map<string, { sizeBytes: number; measuredAtMs: number }>();
    let firstError: string | undefined;
    await mapBounded(selected, this.o.sizeProbeConcurrency, async (record) => {
      if (this.deps.now() - startMs >= this.o.sizeProbeBudgetMs) return;
      const cell = cells.get(record.cell);
      if (!cell) return;
      // Stamped before reading: a migration that commits while this probe runs has the newer measurement.
      const measuredAtMs = this.deps.now();
      try {
        const m = await sizeProbe.measure(record, cell);
        sizes.readUnits += m.readUnits;
        await sizeStore.recordSize(record.partition, m.sizeBytes, measuredAtMs);
        measured.set(record.partition, { sizeBytes: m.sizeBytes, measuredAtMs });
      } catch (error) {
        sizes.failed++;
        firstError ??= `${(error as Error).name}: ${(error as Error).message}`;
      }
    });
    sizes.measured = measured.size;
    if (sizes.failed > 0)
      this.deps.log.warn('partition size probes failed; those partitions are measured in a later cycle', {
        cycleId,
        failed: sizes.failed,
        error: firstError,
      });
    const next = records.map((r) => {
      const m = measured.get(r.partition);
      return m ? { ...r, sizeBytes: m.sizeBytes, sizeMeasuredAtMs: m.measuredAtMs } : r;
    });
    return { records: next, sizes };
  }

  private async profileChunk(
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
      intervalMs: this.intervalMs,
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
        this.intervalMs,
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
          series: { startMs: history.startMs, intervalMs: this.intervalMs, values },
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
          intervalMs: this.intervalMs,
          burstGrowth: this.o.burstGrowth,
        }),
        ...(histories[p].related && { related: histories[p].related }),
        ...(prev?.upperPeaks && { previousPeaks: prev.upperPeaks }),
        ...(prev?.meanPeaks && { previousMeanPeaks: prev.meanPeaks }),
      };
    });
    const persist = persistenceSteps(this.intervalMs);
    forecasts.forEach((forecast, k) => {
      const { p, region } = owners[k];
      const target = out[p];
      const upper = Array.from(forecast.quantiles.get(UPPER_LEVEL) ?? forecast.mean, nonNegative);
      target.mean[region] = Array.from(forecast.mean, nonNegative);
      target.upper[region] = upper;
      // The embedded model treats a burst's first buckets as outliers; while one runs, "hot soon" must still
      // see it: the scored upper quantile is at least the last observation over the persistence window (the
      // planner does the same for capacity, see plannerPartitionFromScore). The stored `upper` stays the model's.
      const scored = toRegionForecast(forecast, QUANTILE_LEVELS);
      const last = target.persistence[region] ?? 0;
      const top = scored.quantiles?.length === QUANTILE_LEVELS.length ? scored.quantiles[2] : undefined;
      const regionForecast =
        top && last > 0
          ? {
              ...scored,
              quantiles: [
                scored.quantiles![0],
                scored.quantiles![1],
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

  /**
   * Run by the shard that completed the cycle. A redelivered shard that finds the cycle complete but not marked
   * finished (the finishing shard failed midway) runs it again: scale-out names are deterministic and the
   * planner is idempotent on the cycle id.
   */
  private async finishCycle(
    cycleId: string,
  ): Promise<Pick<ShardResult, 'scaleOuts' | 'scaleIns' | 'plannerInvoked'>> {
    const cycle = await this.deps.cycles.get(cycleId);
    if (!cycle || cycle.finishedAtMs !== undefined)
      return { scaleOuts: [], scaleIns: [], plannerInvoked: false };
    const records = (await this.deps.scores.listAll()).filter((r) => r.cycleId === cycle.cycleId);
    const check = checkCapacity(records, cycle.cells, {
      nowMs: cycle.seriesEndMs,
      stepSeconds: this.o.intervalSeconds,
      bufferMs: this.o.scaleOutBufferMinutes * 60_000,
      provisionMs: this.o.provisionMs,
      migrationBandwidthBytesPerSec: this.o.migrationBandwidthBytesPerSec,
      ...(this.o.scoring?.headroom !== undefined && { headroom: this.o.scoring.headroom }),
      scaleIn: this.o.scaleIn,
      scaleOut: this.o.scaleOut,
      ...(this.o.cellHourPriceUsd !== undefined && { cellHourPriceUsd: this.o.cellHourPriceUsd }),
      ...(this.o.latencyOverrides && { latencyOverrides: this.o.latencyOverrides }),
    });
    if (check.shortfalls.length > 0)
      this.deps.log.info('capacity forecast: shortfalls', {
        cycleId: cycle.cycleId,
        shortfalls: check.shortfalls,
      });
    if (check.declinedScaleOuts.length > 0)
      this.deps.log.info('capacity forecast: scale-outs not worth their cell-hours', {
        cycleId: cycle.cycleId,
        declined: check.declinedScaleOuts.map((d) => ({
          region: d.region,
          benefitUsd: d.benefitUsd,
          localityUsd: d.localityUsd,
          costUsd: d.costUsd,
        })),
      });
    const { scaleOuts, scaleIns } = await startPredictiveScaling(
      this.deps,
      cycle,
      check,
      this.o.maxCellsPerScaleOut,
    );
    await this.deps.invoker.invokePlanner({ trigger: 'schedule', cycleId: cycle.cycleId });
    await this.deps.cycles.markFinished(cycle.cycleId, this.deps.now());
    return { scaleOuts, scaleIns, plannerInvoked: true };
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
