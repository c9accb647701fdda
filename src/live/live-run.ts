import { monitorEventLoopDelay } from 'node:perf_hooks';
import { documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { DynamoScoreRepository } from '../adapters/dynamodb/score-repository.ts';
import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import { DEFAULT_LIMITS } from '../domain/planning/planner-options.ts';
import { latencyBetween } from '../domain/topology.ts';
import { LOCAL_LEASE, LocalServer } from '../local/local-server.ts';
import { parseCycleId } from '../profiler/profiler-cycle.ts';
import { TraceClock } from './clock.ts';
import { ControlPlaneThread } from './control-plane-thread.ts';
import { ForecastTracker } from './live-forecasts.ts';
import type { LiveInput, LiveWindow } from './live-input.ts';
import { LiveMeasurements } from './live-measurements.ts';
import { seedPartitions, writeHistory } from './live-seeding.ts';
import type { LiveCell, LiveMigration, LivePlan, LiveRunStatus, LiveSnapshot } from './live-snapshot.ts';
import type { WriteCheck } from './load-generator.ts';
import { LoadGeneratorThread, type LoopDelay } from './load-generator-thread.ts';
import { LIVE_CONTROL_TABLES } from './local-control-plane.ts';
import { RequestSampler } from './request-sampler.ts';

export interface LiveRunOptions {
  readonly input: LiveInput;
  readonly window: LiveWindow;
  /** `off`: the same traffic with no control loop (the static baseline). */
  readonly loop: 'on' | 'off';
  /** First listener's port (region i listens on port + i); 0 picks free ports. */
  readonly port: number;
  /** The profiler's interval and the schedule's period, trace ms. @default 1 hour */
  readonly intervalMs?: number;
  /** The forecast horizon, trace ms. @default 2 hours (the backtest's) */
  readonly horizonMs?: number;
  /** Real items per partition for a partition of the trace's median size (scaled by size, 4 to 48). @default 12 */
  readonly itemsPerMedianPartition?: number;
  /** Scheduled cycles run before the window, with the clock held, to place data as the backtest's warm-up does. */
  readonly warmupCycles?: number;
  readonly maxInFlight?: number;
  /** Progress lines (stderr). */
  readonly progress: (line: string) => void;
  /** Diagnostics of the data plane and the loop (errors of steps, …). */
  readonly log: (line: string) => void;
  readonly maxConcurrentMovesPerCell?: number;
}

/** What the live run measured, in the shape of the summary and `--json`'s `live`. */
export interface LiveFigures {
  readonly remoteShare: number;
  readonly meanLatencyMs: number;
  readonly p50LatencyMsByRegion: Record<string, number>;
  readonly p99LatencyMsByRegion: Record<string, number>;
  readonly localShareByRegion: Record<string, number>;
  readonly requests: number;
  readonly bytesMoved: number;
  readonly moves: number;
  readonly movesFailed: number;
  readonly warmupMoves: number;
  readonly cellsInServiceAvg: number;
  readonly writesAcked: number;
  readonly writesLost: number;
  readonly writeErrors: number;
  readonly errors5xx: number;
  readonly http503: number;
  readonly cycles: number;
  readonly skippedTicks: number;
  /** Trace time a move took, from its MigratePartition start to its end (median over the window's moves). */
  readonly medianMoveTraceMs: number;
  readonly medianMoveWallMs: number;
  /**
   * Trace time from the schedule tick whose plan held a move to that move's end (median over the window's moves):
   * the cycle's own wall time, ExecutePlan's start and slot waits, and the migration, on the trace clock. The
   * simulator starts a move at the tick it is planned at, so this is what paces `predictivePaced`.
   */
  readonly medianPlanToMoveEndTraceMs: number;
  readonly lateRequests: number;
  /** Requests due in the window that were never sent: the machine fell behind and the window ended first. */
  readonly requestsNotSent: number;
  /** Each partition's cell at the end of the run. */
  readonly finalPlacement: Record<string, string>;
  /**
   * How late timers ran during the window (ms), per event loop: the run's (listeners, data plane, control plane)
   * and the load generator's thread. A request arriving during a stall of the loop that serves it waits it out.
   */
  readonly eventLoopDelayMs: { readonly run: LoopDelay; readonly loadGenerator: LoopDelay | null };
  /**
   * Median wall ms the window's completed moves spent in each stage of MigratePartition (entered to next stage or
   * end): which waits a move's duration is made of.
   */
  readonly moveStageWallMs: Record<string, number>;
  /** Wall time of the window's profiler cycles (coordinator, shards, planner), median and longest. */
  readonly cycleWallMs: { readonly median: number; readonly max: number };
}

export interface LiveResult {
  readonly status: LiveRunStatus;
  readonly figures: LiveFigures;
  readonly writeCheck: WriteCheck;
  readonly wallMs: number;
}

const HOUR = 3_600_000;

/**
 * The live planner's and ExecutePlan's limits, and the simulated planner's in the backtest `up` compares with
 * (live-backtest.ts): the planner's defaults (5 moves per cell at once, 50 GiB per cycle), so the model and the
 * loop plan under the same limits. (A deployment's default is 2 per cell, `PRESTAGE_MAX_CONCURRENT_MOVES_PER_CELL`.)
 */
export const LIVE_PLANNER_LIMITS = {
  maxConcurrentMovesPerCell: DEFAULT_LIMITS.maxConcurrentMovesPerCell,
  maxBytesPerCycle: DEFAULT_LIMITS.maxBytesPerCycle,
} as const;

/** The schedule tick of a cycle's plan (`cycle-<cycleId>`); NaN for a plan of another origin. */
function planTickMs(planId: string): number {
  const match = /^cycle-(\d{8}T\d{6}Z)$/.exec(planId);
  return match ? parseCycleId(match[1]) : Number.NaN;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * `prestage up`'s run: the embedded data plane laid out as the topology, seeded with scaled-down data; the
 * trace's history before the window written as the access recorders would have counted it; the control loop
 * (profiler on its schedule, planner, ExecutePlan, MigratePartition) on the trace clock; and the load generator
 * replaying the window as real HTTP requests through each region's listener. See docs/live.md.
 */
export class LiveRun {
  readonly clock: TraceClock;
  readonly measurements: LiveMeasurements;
  private readonly options: LiveRunOptions;
  private readonly intervalMs: number;
  private readonly wallStart = Date.now();
  private status: LiveRunStatus = 'starting';
  private server: LocalServer | undefined;
  private control: ControlPlaneThread | undefined;
  private generator: LoadGeneratorThread | undefined;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private stopRequested = false;
  private placement = new Map<string, PartitionRecord>();
  private latestPlan: LivePlan | null = null;
  private readonly itemsOf = new Map<string, number>();
  private warmupMoves = 0;
  /** ExecutePlan executions started before the window (with the clock held): the warm-up's. */
  private warmupExecutions = 0;
  private warmupCycleCount = 0;
  /** The plans table, read for the dashboard's latest plan. */
  private plans: DynamoPlanRepository | undefined;
  private readonly forecasts = new ForecastTracker();
  /** Cycles ended when the scores were last read for the forecasts. */
  private cyclesSeenByForecasts = 0;
  /** Requests still queued when the window ended (the machine could not keep up with the rate). */
  private notSent = 0;
  /** Wall time the trace clock started running the window. */
  private windowStartWallMs: number | undefined;

  constructor(options: LiveRunOptions) {
    this.options = options;
    this.intervalMs = options.intervalMs ?? HOUR;
    LiveRun.validateInterval(this.intervalMs, options.input.input.trace.bucketMs);
    this.clock = new TraceClock(options.window.startMs, options.window.speed);
    this.measurements = new LiveMeasurements(
      Object.keys(options.input.input.topology.regions),
      this.intervalMs,
    );
  }

  private static validateInterval(intervalMs: number, bucketMs: number): void {
    if (!(intervalMs >= bucketMs && intervalMs % bucketMs === 0)) {
      throw new RangeError(
        `the profiler interval (${intervalMs} ms) must be a multiple of the trace's bucket`,
      );
    }
  }

  /** Ask the run to stop (Ctrl-C): it stops sending, waits for what is in flight, checks writes, and ends. */
  stop(): void {
    this.stopRequested = true;
  }

  async run(): Promise<LiveResult> {
    const { input, window } = this.options;
    const topology = input.input.topology;
    const regions = Object.keys(topology.regions);
    this.server = await LocalServer.start({
      port: this.options.port,
      regions,
      cellsPerRegion: 0,
      cells: topology.cells,
      wanRoundTripMs: (a, b) => latencyBetween(topology, a, b),
      // Each region's DynamoDB serves on its own thread, as DynamoDB is not in the caller's process.
      dynaliteThread: true,
      // The loop's migrations run on the control plane's thread; this thread never synthesizes their machine.
      lazyMigrationRunner: true,
      accessCounting: {
        now: () => this.clock.nowMs(),
        bucketMs: this.intervalMs,
        // About a second of wall time, on the trace clock.
        flushIntervalMs: Math.max(1, Math.round(window.speed * 1000)),
      },
      log: this.options.log,
    });
    try {
      return await this.runOn(this.server);
    } catch (error) {
      this.status = 'failed';
      throw error;
    } finally {
      this.loopDelay.disable();
      await this.generator?.close();
      await this.control?.drain().catch(() => undefined);
      await this.control?.close();
      await this.server.close();
    }
  }

  private async runOn(server: LocalServer): Promise<LiveResult> {
    const { input, window } = this.options;
    const trace = input.input.trace;
    this.options.progress(
      `listeners: ${[...server.urls].map(([region, url]) => `${region} ${url}`).join(', ')}`,
    );
    this.status = 'warming-up';
    for (const [partition, items] of await seedPartitions(server, this.options))
      this.itemsOf.set(partition, items);
    const sampler = new RequestSampler(trace, window.requestScale);
    await writeHistory(server, sampler, this.intervalMs, this.options);
    const horizonMs = this.options.horizonMs ?? 2 * HOUR;
    if (this.options.loop === 'on') {
      const cluster = server.cluster;
      this.control = await ControlPlaneThread.start(
        {
          endpoints: Object.fromEntries(cluster.regionNames().map((r) => [r, cluster.endpointFor(r)])),
          homeRegion: cluster.homeRegion,
          clock: this.clock.state(),
          lease: LOCAL_LEASE,
          stepTimeoutSeconds: 60,
          waitOverrideMs: 200,
          control: {
            intervalSeconds: this.intervalMs / 1000,
            horizonSteps: Math.max(1, Math.round(horizonMs / this.intervalMs)),
            shards: 2,
            lookbackMs: 4 * 86_400_000,
            requestScale: window.requestScale,
            maxConcurrentMovesPerCell:
              this.options.maxConcurrentMovesPerCell ?? LIVE_PLANNER_LIMITS.maxConcurrentMovesPerCell,
            maxBytesPerCycle: LIVE_PLANNER_LIMITS.maxBytesPerCycle,
          },
        },
        server.health,
        this.options.log,
      );
      await this.warmUpPlacement(this.control);
      this.warmupExecutions = this.control.executions.length;
      this.warmupCycleCount = this.control.cycleWallMs.length;
    }
    await this.refreshPlacement(server);

    this.status = 'running';
    const generator = await LoadGeneratorThread.start(
      {
        urls: Object.fromEntries(server.urls),
        readKeysPerPartition: Object.fromEntries(this.itemsOf),
        maxInFlight: this.options.maxInFlight ?? 48,
        seed: 0x10ad,
        lateAfterTraceMs: this.options.input.input.trace.bucketMs,
      },
      this.measurements,
    );
    this.generator = generator;
    this.loopDelay.enable();
    await this.replayWindow(server, sampler, generator);
    this.notSent = await generator.finish();
    this.loopDelay.disable();
    this.measurements.closePointsBefore(Number.POSITIVE_INFINITY);
    this.options.progress('checking every acknowledged write…');
    // Moves still running end first, so the read-back sees settled routing (it would be correct either way).
    await this.control?.drain();
    const home = server.cluster.homeRegion;
    const writeCheck = await generator.checkWrites(server.urls.get(home)!);
    await this.refreshPlacement(server);
    this.status = this.stopRequested ? 'stopped' : 'finished';
    return {
      status: this.status,
      figures: this.figures(writeCheck),
      writeCheck,
      wallMs: Date.now() - this.wallStart,
    };
  }

  /**
   * The backtest's policies act during the warm-up; here the clock holds at the last intervals before the window
   * while a few scheduled cycles run and their plans execute, so the window starts from a placed cluster.
   */
  private async warmUpPlacement(control: ControlPlaneThread): Promise<void> {
    const cycles = this.options.warmupCycles ?? 3;
    for (let i = cycles - 1; i >= 0 && !this.stopRequested; i--) {
      const at = this.options.window.startMs - i * this.intervalMs;
      this.clock.holdAt(at);
      control.followClock(this.clock.state());
      const started = Date.now();
      await control.tick(at);
      await control.drain();
      const moved = this.succeededMoves(control).length;
      this.options.progress(
        `warm-up cycle at ${new Date(at).toISOString()}: ${moved - this.warmupMoves} moves (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
      this.warmupMoves = moved;
    }
  }

  private succeededMoves(control: ControlPlaneThread) {
    return control.executions.flatMap((e) =>
      (e.result?.children ?? []).filter((c) => c.status === 'SUCCEEDED'),
    );
  }

  /** The trace time a wall time of the window maps to (the clock runs linearly from the window's start). */
  private traceMsAt(wallMs: number): number {
    if (this.windowStartWallMs === undefined) return Number.NaN;
    return this.options.window.startMs + (wallMs - this.windowStartWallMs) * this.options.window.speed;
  }

  private async replayWindow(
    server: LocalServer,
    sampler: RequestSampler,
    generator: LoadGeneratorThread,
  ): Promise<void> {
    const { window } = this.options;
    const trace = this.options.input.input.trace;
    this.clock.holdAt(window.startMs);
    this.clock.run();
    this.windowStartWallMs = Date.now();
    generator.followClock(this.clock.state(), window.endMs);
    this.control?.followClock(this.clock.state());
    let nextBucket = window.startBucket;
    let nextTick = window.startMs + this.intervalMs;
    let lastProgress = 0;
    let lastRefresh = 0;
    while (!this.stopRequested) {
      const now = this.clock.nowMs();
      // Queue each bucket's requests a little before it starts.
      while (
        nextBucket < window.endBucket &&
        trace.startMs + nextBucket * trace.bucketMs <= now + trace.bucketMs
      ) {
        generator.enqueue(sampler.requestsOf(nextBucket));
        nextBucket += 1;
      }
      if (this.control && now >= nextTick) {
        // The recorders' counts reach the table before the cycle reads them (in AWS the flush interval is seconds).
        await Promise.all(server.listeners.map((l) => l.recorder.flush().catch(() => undefined)));
        void this.control
          .tick(nextTick)
          ?.catch((error) => this.options.log(`profiler cycle failed: ${(error as Error).message}`));
        nextTick += this.intervalMs;
        while (nextTick <= now) {
          this.control.skippedTicks += 1;
          nextTick += this.intervalMs;
        }
      }
      const wall = Date.now();
      if (wall - lastRefresh >= 1000) {
        lastRefresh = wall;
        this.measurements.closePointsBefore(now);
        void this.refreshPlacement(server).catch(() => undefined);
      }
      if (wall - lastProgress >= 2000) {
        lastProgress = wall;
        this.options.progress(this.progressLine(now));
      }
      if (now >= window.endMs) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private progressLine(nowMs: number): string {
    const { window } = this.options;
    const day = Math.min(
      Math.floor((nowMs - window.startMs) / 86_400_000) + 1,
      Math.ceil((window.endMs - window.startMs) / 86_400_000),
    );
    const days = Math.ceil((window.endMs - window.startMs) / 86_400_000);
    const m = this.measurements;
    const local = m.served > 0 ? ((m.local / m.served) * 100).toFixed(1) : '–';
    const moving = this.control?.migrations.filter((e) => e.status === 'RUNNING').length ?? 0;
    const moves = this.control ? this.succeededMoves(this.control).length - this.warmupMoves : 0;
    return (
      `day ${day}/${days} ${new Date(nowMs).toISOString().slice(0, 16).replace('T', ' ')}  ` +
      `requests ${m.requests}  local ${local}%  moves ${moves} (${moving} in flight)  ` +
      `cycles ${this.control?.cycles ?? 0}  503s ${m.http503}  in flight ${this.generator?.inFlight ?? 0}`
    );
  }

  private plansOf(server: LocalServer): DynamoPlanRepository {
    const home = server.cluster.clientFor(server.cluster.homeRegion);
    this.plans ??= new DynamoPlanRepository(documentClient(home), LIVE_CONTROL_TABLES.plans);
    return this.plans;
  }

  private async refreshPlacement(server: LocalServer): Promise<void> {
    const records = await server.cluster.partitions.list();
    this.placement = new Map(records.map((r) => [r.partition, r]));
    const cyclesEnded = this.control?.cycleWallMs.length ?? 0;
    if (cyclesEnded > this.cyclesSeenByForecasts) {
      this.cyclesSeenByForecasts = cyclesEnded;
      const home = server.cluster.clientFor(server.cluster.homeRegion);
      this.forecasts.observe(
        await new DynamoScoreRepository(documentClient(home), LIVE_CONTROL_TABLES.scores).listAll(),
      );
    }
    const latest = this.control?.executions.at(-1);
    if (latest && latest.planId !== this.latestPlan?.id && this.control) {
      const moves = await this.plansOf(server).allMoves(latest.planId);
      this.latestPlan = {
        id: latest.planId,
        createdTraceMs: latest.startedTraceMs,
        moves: moves.map((m) => ({
          partition: m.partition,
          from: m.from,
          to: m.to,
          reasons: Object.entries(m.reasons).map(([term, value]) => `${term} ${Number(value).toFixed(3)}`),
        })),
      };
    }
  }

  private figures(writeCheck: WriteCheck): LiveFigures {
    const m = this.measurements;
    const regions = m.regions;
    const control = this.control;
    const windowMoves = control ? control.executions.flatMap((e) => e.result?.children ?? []) : [];
    // Moves of the plans made after the warm-up (the warm-up's ExecutePlans are the first ones).
    const duringWindow = control
      ? control.executions.slice(this.warmupExecutions).flatMap((e) => e.result?.children ?? [])
      : [];
    const succeeded = duringWindow.filter((c) => c.status === 'SUCCEEDED');
    const bytesPerPartition = new Map(this.options.input.input.partitions.map((p) => [p.id, p.sizeBytes]));
    const windowCycles = control?.cycleWallMs.slice(this.warmupCycleCount) ?? [];
    const wallDurations = succeeded.map((c) => (c.endedAtMs ?? c.startedAtMs) - c.startedAtMs);
    return {
      remoteShare: m.remoteShare,
      meanLatencyMs: m.meanLatencyMs,
      p50LatencyMsByRegion: Object.fromEntries(regions.map((r) => [r, m.region(r).p50Ms])),
      p99LatencyMsByRegion: Object.fromEntries(regions.map((r) => [r, m.region(r).p99Ms])),
      localShareByRegion: Object.fromEntries(regions.map((r) => [r, m.region(r).localShare])),
      requests: m.requests,
      bytesMoved: succeeded.reduce((sum, c) => sum + (bytesPerPartition.get(c.partition) ?? 0), 0),
      moves: succeeded.length,
      movesFailed: duringWindow.length - succeeded.length,
      warmupMoves: windowMoves.length - duringWindow.length,
      cellsInServiceAvg: this.options.input.input.topology.cells.length,
      writesAcked: m.writesAcked,
      writesLost: writeCheck.writesLost,
      writeErrors: m.writeErrors,
      errors5xx: m.http5xx,
      http503: m.http503,
      cycles: control?.cycles ?? 0,
      skippedTicks: control?.skippedTicks ?? 0,
      medianMoveTraceMs: median(wallDurations) * this.options.window.speed,
      medianPlanToMoveEndTraceMs: median(
        control
          ? control.executions.slice(this.warmupExecutions).flatMap((e) => {
              const tickMs = planTickMs(e.planId);
              return (e.result?.children ?? [])
                .filter((c) => c.status === 'SUCCEEDED' && c.endedAtMs !== undefined)
                .map((c) => this.traceMsAt(c.endedAtMs!) - tickMs)
                .filter((ms) => Number.isFinite(ms));
            })
          : [],
      ),
      medianMoveWallMs: median(wallDurations),
      lateRequests: this.generator?.late ?? 0,
      requestsNotSent: this.notSent,
      finalPlacement: Object.fromEntries([...this.placement].map(([id, r]) => [id, r.cell])),
      eventLoopDelayMs: {
        run: {
          p50: this.loopDelay.percentile(50) / 1e6,
          p99: this.loopDelay.percentile(99) / 1e6,
          max: this.loopDelay.max / 1e6,
        },
        loadGenerator: this.generator?.loopDelayMs ?? null,
      },
      moveStageWallMs: this.moveStageWallMs(succeeded.map((c) => c.name)),
      cycleWallMs: {
        median: median(windowCycles),
        max: windowCycles.length > 0 ? Math.max(...windowCycles) : Number.NaN,
      },
      ...(control ? { executePlanBytes: control.executePlanBytes } : {}),
    };
  }

  private moveStageWallMs(names: readonly string[]): Record<string, number> {
    const byStage = new Map<string, number[]>();
    const migrations = new Map((this.control?.migrations ?? []).map((m) => [m.name, m]));
    for (const name of names) {
      const execution = migrations.get(name);
      if (!execution?.endedAt) continue;
      const ends = [...execution.stageEnteredAtMs.slice(1), Date.parse(execution.endedAt)];
      execution.stages.forEach((stage, i) => {
        const list = byStage.get(stage) ?? [];
        list.push(ends[i] - execution.stageEnteredAtMs[i]);
        byStage.set(stage, list);
      });
    }
    return Object.fromEntries([...byStage].map(([stage, list]) => [stage, median(list)]));
  }

  /** What the dashboard shows (see live-snapshot.ts). */
  snapshot(): LiveSnapshot {
    const { window, input } = this.options;
    const topology = input.input.topology;
    const m = this.measurements;
    const byCell = new Map<string, PartitionRecord[]>();
    for (const record of this.placement.values()) {
      const list = byCell.get(record.cell) ?? [];
      list.push(record);
      byCell.set(record.cell, list);
    }
    const cells: LiveCell[] = topology.cells.map((c) => ({
      id: c.id,
      region: c.region,
      status: 'active',
      partitions: (byCell.get(c.id) ?? []).map((r) => ({
        id: r.partition,
        predictedRegion: null,
        opsPerSec: 0,
      })),
    }));
    const migrations: LiveMigration[] = (this.control?.migrations ?? [])
      .filter((e) => e.status === 'RUNNING')
      .map((e) => {
        const i = e.input as { partition?: string; targetCell?: string };
        return {
          partition: i.partition ?? '',
          from: this.placement.get(i.partition ?? '')?.cell ?? '',
          to: i.targetCell ?? '',
          stage: e.stage,
          startedTraceMs: this.clock.nowMs(),
        };
      });
    const control = this.control;
    const moves = control
      ? control.executions.flatMap((e) => e.result?.children ?? []).filter((c) => c.status === 'SUCCEEDED')
          .length
      : 0;
    return {
      status: this.status,
      loop: this.options.loop,
      wallElapsedMs: Date.now() - this.wallStart,
      trace: {
        name: input.name,
        startMs: window.startMs,
        endMs: window.endMs,
        nowMs: this.clock.nowMs(),
        speed: window.speed,
        requestScale: window.requestScale,
        bucketMs: input.input.trace.bucketMs,
      },
      regions: m.regions,
      latency: m.latencySeries(),
      cells,
      migrations,
      plan: this.latestPlan,
      forecasts: this.forecasts.series(),
      cellEvents: [],
      errors: m.errorSeries(),
      totals: {
        requests: m.requests,
        writesAcked: m.writesAcked,
        writeErrors: m.writeErrors,
        http503: m.http503,
        bytesMoved: control?.executePlanBytes ?? 0,
        moves,
        cellsInService: topology.cells.length,
      },
    };
  }
}
