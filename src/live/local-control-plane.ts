import { documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { DynamoProfilerCycleRepository } from '../adapters/dynamodb/profiler-cycle-repository.ts';
import { DynamoScoreRepository } from '../adapters/dynamodb/score-repository.ts';
import {
  coordinationTableDefinition,
  ensureTable,
  plansTableDefinition,
  scoresTableDefinition,
} from '../adapters/dynamodb/table-definitions.ts';
import type { AccessCount, CoAccessCount } from '../domain/data-plane/ports.ts';
import { EmbeddedForecastModel } from '../domain/forecasting/embedded-forecaster.ts';
import { WarmEmbeddedForecastModel } from '../domain/forecasting/warm-forecast-model.ts';
import type { PlanExecutionStarter } from '../domain/planning/ports.ts';
import type { AccessHistorySource, AsyncInvoker, CellMetricsSource } from '../domain/profiling/ports.ts';
import { powertoolsLog } from '../lambda/instrumented-handler.ts';
import type { EmbeddedCluster } from '../local/embedded-cluster.ts';
import {
  type ExecutePlanLocalResult,
  localExecutePlanDeps,
  RecordingMetrics,
  runExecutePlanLocally,
  synthesizeExecutePlanAsl,
} from '../local/execute-plan-runner.ts';
import type { MigrationStarter } from '../local/local-migration-runner.ts';
import { createPlannerHandler } from '../planner-service/planner-handler.ts';
import { createProfilerHandler } from '../profiler/profiler-handler.ts';
import type { Clock } from './clock.ts';
import { InProcessLambda } from './in-process-lambda.ts';
import { LiveScaling } from './live-scaling.ts';
import type { LiveScalingSettings } from './live-scaling-settings.ts';

/** The control-plane tables, created in the home region's embedded DynamoDB. */
export const LIVE_CONTROL_TABLES = {
  scores: 'prestage-scores',
  plans: 'prestage-plans',
  coordination: 'prestage-coordination',
} as const;

export const PROFILER_FUNCTION = 'prestage-profiler';

/** Each partition's series start held for a day (the profiler's `lookbackAnchorMs`), so forecasters stay warm. */
export const LIVE_LOOKBACK_ANCHOR_MS = 86_400_000;
export const PLANNER_FUNCTION = 'prestage-planner';

export interface LocalControlPlaneOptions {
  /** The data plane's tables, as this control plane's clients reach them. */
  readonly cluster: EmbeddedCluster;
  /** Where ExecutePlan starts its MigratePartition children. */
  readonly migrations: MigrationStarter;
  /** The control loop's clock (the trace clock under `prestage up`). */
  readonly clock: Clock;
  /** The profiler's interval (its bucket and forecast step) and the schedule's period. */
  readonly intervalSeconds: number;
  readonly horizonSteps: number;
  readonly shards: number;
  /** History the profiler reads per partition. */
  readonly lookbackMs: number;
  /**
   * Requests the load generator sends per request of the trace: the profiler's view of the access counts is
   * divided by it, so it forecasts (and the planner weighs against cell capacities) demand in the trace's units.
   */
  readonly requestScale: number;
  /**
   * The load generator's requests declare the trace demand each stands for, and the recorders count that: the
   * access counts are in trace units already and only co-access counts are divided by `requestScale`.
   * @default false
   */
  readonly countedSample?: boolean;
  readonly maxConcurrentMovesPerCell: number;
  readonly maxBytesPerCycle: number;
  /**
   * The profiler's predictive scale-outs and scale-ins start ScaleCluster under these settings (live-scaling.ts);
   * absent: no ScaleCluster, the profiler logs its decisions only.
   */
  readonly scaling?: LiveScalingSettings;
  /** Time to provision a cell, for the profiler's capacity forecast. @default the profiler's 5 minutes */
  readonly provisionMs?: number;
  /** The profiler starts a scale-out when its latest start is this close. @default 30 */
  readonly scaleOutBufferMinutes?: number;
  /**
   * Copy bandwidth of one migration in the profiler's capacity forecast (the time to fill new cells, so when a
   * shortfall is due). @default the profiler's 50 MiB/s
   */
  readonly migrationBandwidthBytesPerSec?: number;
  /**
   * false: the profiler replays each series' history every cycle (EmbeddedForecastModel), for comparison
   * (bench/live-cycle.ts --replay-forecasts). @default true
   */
  readonly keepForecasters?: boolean;
  readonly log: (line: string) => void;
}

/** One ExecutePlan execution started by the planner, and how it ended. */
export interface LivePlanExecution {
  readonly name: string;
  readonly planId: string;
  readonly startedTraceMs: number;
  result?: ExecutePlanLocalResult;
}

/**
 * The access counts as the profiler reads them under `prestage up`: what the interceptors counted, divided by
 * the load generator's request scale, so one request sent counts for the trace requests it stands for. Under a
 * counted sample the recorders counted the declared weights, already in trace units; co-access pairs are counted
 * per request either way.
 */
export class ScaledAccessHistory implements AccessHistorySource {
  private readonly countScale: number;

  constructor(
    private readonly inner: AccessHistorySource,
    private readonly requestScale: number,
    options: { readonly countedSample?: boolean } = {},
  ) {
    this.countScale = options.countedSample ? 1 : requestScale;
  }

  async countsFor(partition: string, sinceMs?: number): Promise<AccessCount[]> {
    return this.scaled(await this.inner.countsFor(partition, sinceMs));
  }

  async coAccessFor(partition: string, sinceMs?: number): Promise<CoAccessCount[]> {
    return (await this.inner.coAccessFor(partition, sinceMs)).map((c) => ({
      ...c,
      count: c.count / this.requestScale,
    }));
  }

  get countsInBuckets(): AccessHistorySource['countsInBuckets'] {
    const inner = this.inner;
    if (!inner.countsInBuckets) return undefined;
    return async (partitions, bucketStartsMs) =>
      this.scaled(await inner.countsInBuckets!(partitions, bucketStartsMs));
  }

  private scaled(counts: readonly AccessCount[]): AccessCount[] {
    return counts.map((c) => ({
      ...c,
      count: c.count / this.countScale,
      ...(c.writes !== undefined ? { writes: c.writes / this.countScale } : {}),
    }));
  }
}

/**
 * No CloudWatch on this machine: the cells' consumed capacity is not measured, and the profiler scores without
 * cell pressure (it does the same in AWS when GetMetricData returns no datapoints).
 */
export const NO_CELL_METRICS: CellMetricsSource = { read: async () => new Map() };

/**
 * The control plane of the deployment, on this machine: the real profiler and planner handlers (the handler
 * factories the Lambda entries export, with the same ports) bound to the embedded DynamoDB; Lambda's
 * asynchronous Invoke bound to an in-process Lambda with its retry semantics; Step Functions' StartExecution of
 * ExecutePlan bound to a run of its synthesized ASL, whose MigratePartition children are the local server's
 * migration runner. The loop's clock is injected where the handlers take `now`; the migrations' safety timing
 * (leases, cutover waits, ExecutePlan's slot leases) stays on the wall clock.
 */
export class LocalControlPlane {
  readonly lambda: InProcessLambda;
  readonly executions: LivePlanExecution[] = [];
  readonly executePlanMetrics = new RecordingMetrics();
  readonly plans: DynamoPlanRepository;
  readonly scores: DynamoScoreRepository;
  readonly forecastModel = new WarmEmbeddedForecastModel();
  /** ScaleCluster, started by the profiler's predictive scaling (undefined without `scaling`). */
  readonly scaling: LiveScaling | undefined;
  /** Schedule ticks run, and skipped because the previous cycle had not ended. */
  cycles = 0;
  skippedTicks = 0;
  /** Wall milliseconds each cycle took, from the schedule's tick to the planner's end (in order). */
  readonly cycleWallMs: number[] = [];
  private readonly options: LocalControlPlaneOptions;
  private readonly running = new Set<Promise<void>>();
  private cycle: Promise<unknown> | undefined;

  private constructor(options: LocalControlPlaneOptions) {
    this.options = options;
    const { cluster, clock } = options;
    const home = cluster.homeRegion;
    const documents = documentClient(cluster.clientFor(home));
    this.plans = new DynamoPlanRepository(documents, LIVE_CONTROL_TABLES.plans);
    this.scores = new DynamoScoreRepository(documents, LIVE_CONTROL_TABLES.scores);
    this.lambda = new InProcessLambda({ region: home });
    const dataRegions = cluster.regionNames();

    const invoker: AsyncInvoker = {
      invokeShard: async (event) => this.lambda.invokeAsync(PROFILER_FUNCTION, event),
      invokePlanner: async (event) => this.lambda.invokeAsync(PLANNER_FUNCTION, event),
    };
    const executeDeps = localExecutePlanDeps({
      documents,
      plansTable: LIVE_CONTROL_TABLES.plans,
      coordinationTable: LIVE_CONTROL_TABLES.coordination,
      migrations: options.migrations,
      // The migrations run on a thread of their own; the plan's cold-copy drops run here, on the same tables.
      coldCopies: { partitions: cluster.partitions, stores: cluster.stores, nowMs: Date.now },
      maxConcurrentMovesPerCell: options.maxConcurrentMovesPerCell,
      metrics: this.executePlanMetrics,
    });
    const asl = synthesizeExecutePlanAsl();
    /** One ExecutePlan run, recorded (the planner's scheduled plans and ScaleCluster's plans alike). */
    const runPlan = (planId: string, input: unknown, name: string) => {
      const execution: LivePlanExecution = { name, planId, startedTraceMs: clock.nowMs() };
      this.executions.push(execution);
      return runExecutePlanLocally({
        deps: executeDeps,
        planId,
        input,
        executionName: name,
        asl,
        waitOverrideMs: 100,
        retryIntervalMs: 20,
      }).then((result) => {
        execution.result = result;
        if (result.error) options.log(`ExecutePlan ${name}: ${result.error.name}: ${result.error.cause}`);
        return result;
      });
    };
    const executions: PlanExecutionStarter = {
      start: async ({ planId, approval, name }) => {
        const arn = `arn:aws:states:${home}:000000000000:execution:ExecutePlan:${name}`;
        if (this.executions.some((e) => e.name === name)) return { executionArn: arn, alreadyStarted: true };
        this.track(runPlan(planId, { planId, approval }, name).then(() => undefined));
        return { executionArn: arn, alreadyStarted: false };
      },
    };
    const planner = createPlannerHandler(
      {
        scores: this.scores,
        partitions: cluster.partitions,
        cells: cluster.cells,
        plans: this.plans,
        executions,
        now: () => clock.nowMs(),
        // The data plane stamps commits on the wall clock; the planner's cooldown is on the trace clock.
        fromDataPlaneMs: (wallMs) => clock.fromWallMs(wallMs),
      },
      {
        stepSeconds: options.intervalSeconds,
        horizonSteps: options.horizonSteps,
        homeRegion: home,
        dataRegions,
        maxConcurrentMovesPerCell: options.maxConcurrentMovesPerCell,
        maxBytesPerCycle: options.maxBytesPerCycle,
        planTtlDays: 30,
        approvalMode: 'auto',
      },
    );
    this.lambda.register(PLANNER_FUNCTION, planner);
    this.scaling =
      options.scaling &&
      new LiveScaling({
        cluster,
        documents,
        coordinationTable: LIVE_CONTROL_TABLES.coordination,
        clock,
        planner,
        runPlan,
        settings: options.scaling,
        log: options.log,
      });

    this.lambda.register(
      PROFILER_FUNCTION,
      createProfilerHandler(
        {
          partitions: cluster.partitions,
          cells: cluster.cells,
          accessStats: new ScaledAccessHistory(cluster.accessStats, options.requestScale, {
            countedSample: options.countedSample ?? false,
          }),
          scores: this.scores,
          cycles: new DynamoProfilerCycleRepository(documents, LIVE_CONTROL_TABLES.coordination),
          cellMetrics: NO_CELL_METRICS,
          // Each series' fitted forecaster is kept between cycles (the Lambda's warm environment), fed only the new
          // buckets while the series keeps its anchored start: the same forecasts as a replay, without the replay.
          model: options.keepForecasters === false ? new EmbeddedForecastModel() : this.forecastModel,
          invoker,
          ...(this.scaling && { scaling: this.scaling }),
          metrics: { add: () => undefined },
          log: powertoolsLog,
          now: () => clock.nowMs(),
        },
        {
          intervalSeconds: options.intervalSeconds,
          horizonSteps: options.horizonSteps,
          shards: options.shards,
          scaleOutBufferMinutes: options.scaleOutBufferMinutes ?? 30,
          ...(options.provisionMs !== undefined && { provisionMs: options.provisionMs }),
          ...(options.migrationBandwidthBytesPerSec !== undefined && {
            migrationBandwidthBytesPerSec: options.migrationBandwidthBytesPerSec,
          }),
          lookbackMs: options.lookbackMs,
          lookbackAnchorMs: LIVE_LOOKBACK_ANCHOR_MS,
          accessBucketMs: options.intervalSeconds * 1000,
          // Sizes are the trace's (on the partition records); the items on this machine are a scaled-down stand-in.
          sizeProbesPerShard: 0,
        },
      ),
    );
  }

  /** Create the control-plane tables and bind the handlers. */
  static async start(options: LocalControlPlaneOptions): Promise<LocalControlPlane> {
    const client = options.cluster.clientFor(options.cluster.homeRegion);
    await ensureTable(client, scoresTableDefinition(LIVE_CONTROL_TABLES.scores));
    await ensureTable(client, plansTableDefinition(LIVE_CONTROL_TABLES.plans));
    await ensureTable(client, coordinationTableDefinition(LIVE_CONTROL_TABLES.coordination));
    const control = new LocalControlPlane(options);
    await control.scaling?.putInitialAlarms();
    return control;
  }

  /** Whether the last scheduled cycle (coordinator, shards, planner) is still running. */
  get cycleRunning(): boolean {
    return this.cycle !== undefined;
  }

  /**
   * The EventBridge schedule fires at `traceMs`: run the coordinator, which invokes the shards, whose last
   * invokes the planner, which starts ExecutePlan. A tick that comes while the previous cycle has not ended is
   * skipped (counted), so cycles never pile up when one takes longer than the interval in wall time.
   * Resolves when the cycle's profiler and planner have ended (ExecutePlan runs on in the background).
   */
  tick(traceMs: number): Promise<unknown> | undefined {
    if (this.cycle) {
      this.skippedTicks += 1;
      return undefined;
    }
    this.cycles += 1;
    const event = {
      version: '0',
      id: `schedule-${traceMs}`,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: new Date(traceMs).toISOString(),
      region: this.options.cluster.homeRegion,
      resources: [],
      detail: {},
    };
    const startedWallMs = Date.now();
    const deadLettersBefore = this.lambda.deadLetters.length;
    const cycle = (async () => {
      try {
        return await this.lambda.invoke(PROFILER_FUNCTION, event);
      } finally {
        await this.lambda.settle();
        // A shard that failed every attempt leaves the cycle's scores partial: say so, once per failure.
        for (const dead of this.lambda.deadLetters.slice(deadLettersBefore))
          this.options.log(`${dead.functionName} failed 3 times: ${dead.error.name}: ${dead.error.message}`);
      }
    })();
    this.cycle = cycle.finally(() => {
      this.cycleWallMs.push(Date.now() - startedWallMs);
      this.cycle = undefined;
    });
    return this.cycle;
  }

  /** ExecutePlan executions still running. */
  get executionsRunning(): number {
    return this.executions.filter((e) => e.result === undefined).length;
  }

  /** Wait for the running cycle and every ExecutePlan execution to end. */
  async drain(): Promise<void> {
    await this.cycle?.catch(() => undefined);
    await this.lambda.settle();
    // A ScaleCluster run waits for its own ExecutePlan; a plan's end may be what a ScaleCluster waits for.
    do {
      await this.scaling?.drain();
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
    } while (this.scaling?.running);
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }
}
