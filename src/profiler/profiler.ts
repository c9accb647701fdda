import { PrestageError } from '../domain/errors.ts';
import { mapBounded } from '../support/bounded-parallel.ts';
import { METRIC } from '../support/metrics.ts';
import { ChunkProfiler } from './chunk-profiler.ts';
import { finishCycle } from './cycle-completion.ts';
import { eventsForCycle } from './cycle-events.ts';
import { openCycle } from './cycle-opening.ts';
import { OnlineErrorAccumulator } from './online-error.ts';
import { cycleIdFor, parseCycleId, profilerShardOf } from './profiler-cycle.ts';
import type { ProfilerDeps } from './profiler-deps.ts';
import type { CoordinatorResult, ScheduleEvent, ShardEvent, ShardResult } from './profiler-events.ts';
import {
  type ProfilerOptions,
  type ResolvedProfilerOptions,
  resolveProfilerOptions,
} from './profiler-options.ts';
import { type ScoredPartition, scoreRecords } from './profiler-scoring.ts';
import { refreshSizes } from './size-refresh.ts';

/** A shard event disagrees with its cycle (e.g. a different shard count). */
export class InvalidShardError extends PrestageError {}

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
 *
 * Each step has its module: cycle-opening.ts, size-refresh.ts, chunk-profiler.ts, profiler-scoring.ts and
 * cycle-completion.ts; the options and their defaults are profiler-options.ts.
 */
export class Profiler {
  private readonly deps: ProfilerDeps;
  private readonly o: ResolvedProfilerOptions;
  private readonly chunks: ChunkProfiler;

  constructor(deps: ProfilerDeps, options: ProfilerOptions) {
    this.deps = deps;
    this.o = resolveProfilerOptions(options);
    this.chunks = new ChunkProfiler(deps, this.o);
  }

  async coordinate(event: ScheduleEvent): Promise<CoordinatorResult> {
    const timeMs = event.time !== undefined ? Date.parse(event.time) : this.deps.now();
    const { created, cycle } = await openCycle(this.deps, this.o, timeMs, this.o.shards);
    await mapBounded(
      Array.from({ length: cycle.shards }, (_, shard) => shard),
      this.o.invokeConcurrency,
      (shard) => this.deps.invoker.invokeShard({ cycleId: cycle.cycleId, shard, shards: cycle.shards }),
    );
    this.deps.log.info('profiler cycle started', { cycleId: cycle.cycleId, shards: cycle.shards, created });
    return { cycleId: cycle.cycleId, shards: cycle.shards, created, cells: cycle.cells.length };
  }

  async runShard(event: ShardEvent): Promise<ShardResult> {
    const { cycleId, shard } = event;
    if (!(Number.isInteger(shard) && shard >= 0 && shard < event.shards))
      throw new InvalidShardError(`shard ${shard} is outside [0, ${event.shards})`);
    const cycleTimeMs = parseCycleId(cycleId);
    if (cycleIdFor(cycleTimeMs, this.o.intervalMs) !== cycleId)
      throw new InvalidShardError(
        `cycle id '${cycleId}' is not on the ${this.o.intervalSeconds}s interval grid`,
      );
    // A shard started by hand (console) for a cycle that has no record yet opens it itself.
    const cycle =
      (await this.deps.cycles.get(cycleId)) ??
      (await openCycle(this.deps, this.o, cycleTimeMs, event.shards)).cycle;
    if (cycle.shards !== event.shards)
      throw new InvalidShardError(
        `cycle ${cycleId} has ${cycle.shards} shards, the event says ${event.shards}`,
      );

    const listed = (await this.deps.partitions.list())
      .filter((p) => profilerShardOf(p.partition, cycle.shards) === shard)
      .sort((a, b) => (a.partition < b.partition ? -1 : 1));
    const { records: mine, sizes } = await refreshSizes(this.deps, this.o, listed, cycleId);
    const errors = new OnlineErrorAccumulator();
    const models: Record<string, number> = {};
    const scored: ScoredPartition[] = [];
    const events = await eventsForCycle(
      this.deps.events,
      {
        historyStartMs: cycle.seriesEndMs - this.o.lookbackMs - this.o.lookbackAnchorMs,
        horizonEndMs: cycle.seriesEndMs + this.o.horizonSteps * this.o.intervalMs,
      },
      this.deps.log,
      cycleId,
    );
    const eventsUsed = new Set<string>();
    let series = 0;
    for (let i = 0; i < mine.length; i += this.o.chunkSize) {
      const chunk = mine.slice(i, i + this.o.chunkSize);
      const out = await this.chunks.profile(chunk, cycle, errors, events, eventsUsed);
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
      ? await finishCycle(this.deps, this.o, cycleId)
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
}
