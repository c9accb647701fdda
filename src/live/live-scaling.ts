import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoScalingCoordination } from '../adapters/dynamodb/scaling-coordination.ts';
import type { CellRecord, CellStatus } from '../domain/data-plane/cell-record.ts';
import type { CellRepository } from '../domain/data-plane/ports.ts';
import type { ScaleInRequest, ScaleOutRequest, ScalingStarter } from '../domain/profiling/ports.ts';
import type { LambdaHandler } from '../lambda/instrumented-handler.ts';
import type { EmbeddedCluster } from '../local/embedded-cluster.ts';
import type { ExecutePlanLocalResult } from '../local/execute-plan-runner.ts';
import { type ScaleClusterExecution, ScaleClusterRunner } from '../local/scale-cluster-runner.ts';
import { SdkIntegrationBindings } from '../local/sdk-integration-bindings.ts';
import { cellAlarmDefinitions } from '../scaling/cell-alarm-definitions.ts';
import type { Clock } from './clock.ts';
import type { LiveScalingSettings } from './live-scaling-settings.ts';

/** The names ScaleCluster is synthesized and configured with under `up` (the embedded cluster's table names). */
export const LIVE_SCALING_NAMES = {
  cellTablePrefix: 'prestage-data-',
  capacityAlarmPrefix: 'prestage-cell-capacity-',
  canaryAlarmPrefix: 'prestage-cell-errors-',
  capacityAlarmThreshold: 0.8,
} as const;

/** A cell's status change as ScaleCluster's steps wrote it, on the loop's (trace) clock. */
export interface LiveCellChange {
  readonly traceMs: number;
  readonly cell: string;
  readonly region: string;
  readonly status: CellStatus;
}

/** One ScaleCluster execution the profiler started, as the run reports it. */
export interface LiveScalingExecution {
  readonly name: string;
  readonly action: 'scale-out' | 'scale-in';
  /** The region (scale-out) or the cell (scale-in) the profiler asked about. */
  readonly target: string;
  /** Cells asked for (scale-out; after the region cap). */
  readonly cells?: number;
  readonly startedTraceMs: number;
  endedTraceMs?: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  /** Why it changed nothing though it succeeded (AcquireLock's guard: the region's cooldown). */
  skipped?: string;
  error?: { readonly name: string; readonly cause: string };
}

export interface LiveScalingOptions {
  readonly cluster: EmbeddedCluster;
  readonly documents: DynamoDBDocumentClient;
  readonly coordinationTable: string;
  readonly clock: Clock;
  /** The real planner handler (ScaleCluster's PlanScaleOut / PlanDrain invoke it). */
  readonly planner: LambdaHandler;
  /** ScaleCluster's `startExecution.sync:2` of ExecutePlan: the control plane's local run of it. */
  readonly runPlan: (planId: string, input: unknown, name: string) => Promise<ExecutePlanLocalResult>;
  readonly settings: LiveScalingSettings;
  readonly log: (line: string) => void;
}

/**
 * The profiler's `scaling` port under `prestage up`: each predictive scale-out or scale-in the profiler decides starts
 * ScaleCluster from its synthesized ASL (ScaleClusterRunner) against the embedded cluster: CreateTable and the other
 * SDK integrations on the regional DynamoDB endpoints, the real step handlers, the real planner, ExecutePlan's local
 * run. Its steps run on the trace clock (cooldowns, the scale-out time the scale-in's quiet rule reads); the
 * cell status writes are recorded with their trace time, which is what the summary and the dashboard count.
 */
export class LiveScaling implements ScalingStarter {
  readonly executions: LiveScalingExecution[] = [];
  readonly cellChanges: LiveCellChange[] = [];
  private readonly options: LiveScalingOptions;
  private readonly runner: ScaleClusterRunner;
  private readonly sdk: SdkIntegrationBindings;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(options: LiveScalingOptions) {
    this.options = options;
    const { cluster, clock } = options;
    const home = cluster.homeRegion;
    const dataRegions = cluster.regionNames();
    this.sdk = new SdkIntegrationBindings({ clientFor: (region) => cluster.clientFor(region) });
    this.runner = new ScaleClusterRunner({
      deps: {
        cells: this.recordingCells(cluster.cells),
        partitions: cluster.partitions,
        coordination: new DynamoScalingCoordination(options.documents, options.coordinationTable),
        config: {
          homeRegion: home,
          dataRegions,
          ...LIVE_SCALING_NAMES,
          cooldownMinutes: options.settings.cooldownMinutes,
        },
        now: () => clock.nowMs(),
      },
      planner: options.planner,
      sdk: this.sdk,
      runChild: (input, name) => options.runPlan((input as { planId: string }).planId, input, name),
      homeRegion: home,
      dataRegions,
      cellTablePrefix: LIVE_SCALING_NAMES.cellTablePrefix,
      capacityAlarmPrefix: LIVE_SCALING_NAMES.capacityAlarmPrefix,
      canaryAlarmPrefix: LIVE_SCALING_NAMES.canaryAlarmPrefix,
      // Table and backup waits: dynalite is ACTIVE at once; a short pause keeps the loop's pace.
      waitOverrideMs: 100,
      retryIntervalMs: 20,
    });
  }

  /** The configured cells' alarms, as their cell data stack creates them (a scale-in deletes its cell's). */
  async putInitialAlarms(): Promise<void> {
    for (const cell of await this.options.cluster.cells.list()) {
      const alarms = cellAlarmDefinitions(
        { cellId: cell.id, table: cell.table, capacityOpsPerSec: cell.capacityOpsPerSec },
        LIVE_SCALING_NAMES,
      );
      this.sdk.alarms.put(cell.region, alarms.capacity);
      this.sdk.alarms.put(cell.region, alarms.canary);
    }
  }

  async start(name: string, input: ScaleOutRequest | ScaleInRequest): Promise<{ started: boolean }> {
    if (this.executions.some((e) => e.name === name)) return { started: false };
    const request = input.action === 'scale-out' ? await this.scaleOutWithinCap(input) : input;
    if (!request) return { started: false };
    const execution: LiveScalingExecution = {
      name,
      action: input.action,
      target: input.action === 'scale-out' ? input.region : input.cellId,
      ...('cells' in request && { cells: request.cells }),
      startedTraceMs: this.options.clock.nowMs(),
      status: 'RUNNING',
    };
    this.executions.push(execution);
    this.track(this.runner.run(request, name).then((run) => this.ended(execution, run)));
    return { started: true };
  }

  /**
   * ScaleCluster's input for a predictive scale-out: no more cells than the region's cap leaves (undefined: none),
   * of the capacity the simulator's scale-out gives them (ScaleCluster would otherwise copy the region's largest).
   */
  private async scaleOutWithinCap(
    request: ScaleOutRequest,
  ): Promise<(ScaleOutRequest & { capacityOpsPerSec: number; capacityBytes: number }) | undefined> {
    const { settings } = this.options;
    const registered = await this.options.cluster.cells.list();
    const inRegion = registered.filter((c) => c.region === request.region && c.status !== 'RETIRED').length;
    const cells = Math.min(request.cells, settings.maxCellsPerRegion - inRegion);
    if (cells <= 0) {
      this.options.log(`scale-out of ${request.region} not started: ${inRegion} cells, the cap`);
      return undefined;
    }
    return {
      ...request,
      cells,
      capacityOpsPerSec: settings.newCellCapacityOpsPerSec,
      capacityBytes: settings.newCellCapacityBytes,
    };
  }

  /** Whether a ScaleCluster execution is still running. */
  get running(): boolean {
    return this.inFlight.size > 0;
  }

  /** Wait for every ScaleCluster execution to end. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private ended(execution: LiveScalingExecution, run: ScaleClusterExecution): void {
    execution.endedTraceMs = this.options.clock.nowMs();
    execution.status = run.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
    const guard = (run.output as { guard?: { acquired?: boolean; reason?: string } } | undefined)?.guard;
    if (guard?.acquired === false) execution.skipped = guard.reason ?? 'not acquired';
    if (run.error) {
      execution.error = run.error;
      this.options.log(`ScaleCluster ${run.executionName}: ${run.error.name}: ${run.error.cause}`);
    }
  }

  /** The cells table as ScaleCluster's steps write it, each status change recorded on the trace clock. */
  private recordingCells(cells: CellRepository): CellRepository {
    const record = (cell: CellRecord) =>
      this.cellChanges.push({
        traceMs: this.options.clock.nowMs(),
        cell: cell.id,
        region: cell.region,
        status: cell.status,
      });
    return {
      list: () => cells.list(),
      get: (id) => cells.get(id),
      register: async (cell) => {
        const known = await cells.get(cell.id);
        const registered = await cells.register(cell);
        if (!known) record(registered);
        return registered;
      },
      setStatus: async (id, status) => {
        const before = await cells.get(id);
        const after = await cells.setStatus(id, status);
        if (before?.status !== after.status) record(after);
        return after;
      },
    };
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}
