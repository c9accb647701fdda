import { writeFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { DynamoScoreRepository } from '../adapters/dynamodb/score-repository.ts';
import { COUNT_AS_DECLARED } from '../data-plane/access-recorder.ts';
import type { CellRecord } from '../domain/data-plane/cell-record.ts';
import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import { DEFAULT_LIMITS } from '../domain/planning/planner-options.ts';
import { DEFAULT_SIMULATION_OPTIONS } from '../domain/simulation/simulation-options.ts';
import { latencyBetween } from '../domain/topology.ts';
import { LOCAL_LEASE, LocalServer } from '../local/local-server.ts';
import { TraceClock } from './clock.ts';
import { ControlPlaneThread } from './control-plane-thread.ts';
import { type LiveFigures, liveFigures } from './live-figures.ts';
import { ForecastTracker } from './live-forecasts.ts';
import type { LiveInput, LiveWindow } from './live-input.ts';
import { LiveMeasurements } from './live-measurements.ts';
import { liveSnapshot } from './live-run-snapshot.ts';
import { liveScalingSettings } from './live-scaling-settings.ts';
import { seedPartitions, writeHistory } from './live-seeding.ts';
import type { LivePlan, LiveRunStatus, LiveSnapshot } from './live-snapshot.ts';
import type { WriteCheck } from './load-generator.ts';
import { LoadGeneratorThread } from './load-generator-thread.ts';
import { LIVE_CONTROL_TABLES } from './local-control-plane.ts';
import { countedSamplerFor, type RequestSampler } from './request-sampler.ts';

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
  /**
   * Carriers per wall second on average: requests added so the recorders count the series the sample misses
   * (`RequestSamplerOptions.carrierScale`). More makes the profiler's counts exact for more series and costs CPU
   * the data plane and the loop share. @default DEFAULT_CARRIERS_PER_SECOND (bench/live-observation.ts)
   */
  readonly carriersPerSecond?: number;
  /** Progress lines (stderr). */
  readonly progress: (line: string) => void;
  /** Diagnostics of the data plane and the loop (errors of steps, …). */
  readonly log: (line: string) => void;
  readonly maxConcurrentMovesPerCell?: number;
  /**
   * Diagnostics: write every request's outcome here as JSON lines at the end, the listeners adding their timing
   * (`RegionalListenerOptions.timingHeader`) to each response.
   */
  readonly outcomesFile?: string;
  /**
   * The in-region service time of a data request, ms (the listeners pad a faster answer to it): the backtest's
   * `localLatencyMs`. @default LIVE_LOCAL_SERVICE_MS
   */
  readonly localServiceMs?: number;
  /** What the load generator does with a request it cannot send in time (`LoadGeneratorOptions`). @default 'drop-and-fold' */
  readonly lateRequests?: 'send-late' | 'drop-and-fold' | 'drop';
}

export type { LiveFigures } from './live-figures.ts';

export interface LiveResult {
  readonly status: LiveRunStatus;
  readonly figures: LiveFigures;
  readonly writeCheck: WriteCheck;
  readonly wallMs: number;
}

const HOUR = 3_600_000;

/**
 * How often each thread reloads the cells table (ms): a cell a ScaleCluster run adds is served within this (a
 * request routed to it sooner gets a retryable CELL_UNAVAILABLE; MigratePartition reloads before a move onto it).
 */
const CELL_REFRESH_MS = 250;

/**
 * The live planner's and ExecutePlan's limits, and the simulated planner's in the backtest `up` compares with
 * (live-backtest.ts): the planner's defaults (5 moves per cell at once, 50 GiB per cycle), so the model and the
 * loop plan under the same limits. (A deployment's default is 2 per cell, `PRESTAGE_MAX_CONCURRENT_MOVES_PER_CELL`.)
 */
/**
 * The local service time of a data request in the backtest `up` compares with (the simulator's default
 * `localLatencyMs`, which `up`'s backtest uses), and the floor of the listeners' in-region service.
 */
export const LIVE_LOCAL_SERVICE_MS = DEFAULT_SIMULATION_OPTIONS.localLatencyMs;

export const LIVE_PLANNER_LIMITS = {
  maxConcurrentMovesPerCell: DEFAULT_LIMITS.maxConcurrentMovesPerCell,
  maxBytesPerCycle: DEFAULT_LIMITS.maxBytesPerCycle,
} as const;

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
  /** The registered cells, the topology's and those ScaleCluster added (refreshed with the placement). */
  private cells: CellRecord[] = [];
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
      { keepOutcomes: options.outcomesFile !== undefined },
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
    const { input } = this.options;
    const topology = input.input.topology;
    const regions = Object.keys(topology.regions);
    this.server = await LocalServer.start({
      port: this.options.port,
      regions,
      cellsPerRegion: 0,
      cells: topology.cells,
      cellRefreshMs: CELL_REFRESH_MS,
      wanRoundTripMs: (a, b) => latencyBetween(topology, a, b),
      // Each region's DynamoDB serves on its own thread, as DynamoDB is not in the caller's process.
      dynaliteThread: true,
      // The loop's migrations run on the control plane's thread; this thread never synthesizes their machine.
      lazyMigrationRunner: true,
      accessCounting: {
        now: () => this.clock.nowMs(),
        bucketMs: this.intervalMs,
        // Once a profiler interval: the run flushes every recorder before each tick anyway, which is when the
        // counts are read (a flush every wall second besides doubled the UpdateItems, the run thread's largest cost).
        flushIntervalMs: this.intervalMs,
        // The load generator's requests declare the trace demand each stands for (a counted sample), and the
        // trace instant: a request the machine sends late still counts in the bucket it stands for.
        honourSampleWeights: true,
        countingInstant: COUNT_AS_DECLARED,
      },
      log: this.options.log,
      ...(this.options.outcomesFile ? { timingHeader: true } : {}),
      // A local request takes at least the backtest's local service time, as a remote one takes the topology's
      // round trip on top (the model and the deployment agree; docs/live.md, "Latency").
      serviceFloorMs: this.options.localServiceMs ?? LIVE_LOCAL_SERVICE_MS,
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
    const sampler = countedSamplerFor(trace, window, this.intervalMs, this.options.carriersPerSecond);
    await writeHistory(server, sampler, this.intervalMs, this.options);
    const horizonMs = this.options.horizonMs ?? 2 * HOUR;
    if (this.options.loop === 'on') {
      const cluster = server.cluster;
      const scaling = liveScalingSettings(input.input.topology);
      this.control = await ControlPlaneThread.start(
        {
          endpoints: Object.fromEntries(cluster.regionNames().map((r) => [r, cluster.endpointFor(r)])),
          homeRegion: cluster.homeRegion,
          clock: this.clock.state(),
          lease: LOCAL_LEASE,
          stepTimeoutSeconds: 60,
          waitOverrideMs: 200,
          cellRefreshMs: CELL_REFRESH_MS,
          control: {
            intervalSeconds: this.intervalMs / 1000,
            horizonSteps: Math.max(1, Math.round(horizonMs / this.intervalMs)),
            shards: 2,
            lookbackMs: 4 * 86_400_000,
            requestScale: window.requestScale,
            // The recorders count the trace's demand (a counted sample): their counts are in trace units.
            countedSample: true,
            maxConcurrentMovesPerCell:
              this.options.maxConcurrentMovesPerCell ?? LIVE_PLANNER_LIMITS.maxConcurrentMovesPerCell,
            maxBytesPerCycle: LIVE_PLANNER_LIMITS.maxBytesPerCycle,
            // The profiler's predictive scale-outs and scale-ins run ScaleCluster, as the backtest's policy scales.
            scaling,
            provisionMs: scaling.provisionMinutes * 60_000,
            // A shortfall is due when its latest start falls before the next cycle, as in the simulator.
            scaleOutBufferMinutes: this.intervalMs / 60_000,
            // The time to fill a new cell at the bandwidth the backtest's capacity forecast assumes (the topology's).
            migrationBandwidthBytesPerSec: input.input.topology.migrationBandwidthBytesPerSec,
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
        maxInFlight: this.options.maxInFlight ?? 96,
        seed: 0x10ad,
        lateAfterTraceMs: this.options.input.input.trace.bucketMs,
        // A request that cannot be sent within a trace bucket of its due time is dropped, and the demand it stood
        // for is declared by the next request of its series, at its own instant (docs/live.md).
        lateRequests: this.options.lateRequests ?? 'drop-and-fold',
        foldBucketMs: this.intervalMs,
      },
      this.measurements,
    );
    this.generator = generator;
    this.loopDelay.enable();
    await this.replayWindow(server, sampler, generator);
    this.notSent = await generator.finish();
    this.loopDelay.disable();
    this.measurements.closePointsBefore(Number.POSITIVE_INFINITY);
    if (this.options.outcomesFile) {
      await writeFile(
        this.options.outcomesFile,
        this.measurements.outcomes.map((o) => `${JSON.stringify(o)}\n`).join(''),
      );
    }
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
    // The whole window's requests go to the load generator before the clock runs: it sends each at its due time
    // on its own thread, so a stall of this thread (a burst of listener work, a flush) never delays a request's
    // arrival in its queue (queued a bucket ahead, a stall of a second made every request late on arrival,
    // and the generator dropped them).
    for (let bucket = window.startBucket; bucket < window.endBucket; bucket++) {
      generator.enqueue(sampler.requestsOf(bucket));
    }
    this.clock.holdAt(window.startMs);
    this.clock.run();
    this.windowStartWallMs = Date.now();
    generator.followClock(this.clock.state(), window.endMs);
    this.control?.followClock(this.clock.state());
    let nextTick = window.startMs + this.intervalMs;
    let lastProgress = 0;
    let lastRefresh = 0;
    while (!this.stopRequested) {
      const now = this.clock.nowMs();
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
    const [records, cells] = await Promise.all([
      server.cluster.partitions.list(),
      server.cluster.cells.list(),
    ]);
    this.placement = new Map(records.map((r) => [r.partition, r]));
    this.cells = cells;
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
    return liveFigures({
      input: this.options.input.input,
      speed: this.options.window.speed,
      measurements: this.measurements,
      control: this.control,
      warmupExecutions: this.warmupExecutions,
      warmupCycleCount: this.warmupCycleCount,
      writeCheck,
      traceMsAt: (wallMs) => this.traceMsAt(wallMs),
      window: this.options.window,
      servedByCell: this.servedByCell(),
      generator: this.generator,
      requestsNotSent: this.notSent,
      placement: this.placement,
      runLoopDelay: this.loopDelay,
    });
  }

  /** Data requests served, by cell, over every region's listener. */
  private servedByCell(): Map<string, number> {
    const total = new Map<string, number>();
    for (const listener of this.server?.listeners ?? [])
      for (const [cell, n] of listener.servedByCell) total.set(cell, (total.get(cell) ?? 0) + n);
    return total;
  }

  /** What the dashboard shows (see live-snapshot.ts, live-run-snapshot.ts). */
  snapshot(): LiveSnapshot {
    return liveSnapshot({
      status: this.status,
      loop: this.options.loop,
      wallElapsedMs: Date.now() - this.wallStart,
      input: this.options.input,
      window: this.options.window,
      nowTraceMs: this.clock.nowMs(),
      measurements: this.measurements,
      placement: this.placement,
      cells: this.cells,
      control: this.control,
      plan: this.latestPlan,
      forecasts: this.forecasts,
    });
  }
}
