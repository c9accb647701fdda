import type { RecordableHistogram } from 'node:perf_hooks';
import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import type { SimulationInput } from '../domain/simulation/simulation-options.ts';
import { parseCycleId } from '../profiler/profiler-cycle.ts';
import { cellEventsOf, cellsInServiceAvg } from './cell-timeline.ts';
import type { ControlPlaneThread } from './control-plane-thread.ts';
import type { LiveMeasurements } from './live-measurements.ts';
import type { LiveCellEvent } from './live-snapshot.ts';
import type { WriteCheck } from './load-generator.ts';
import type { LoadGeneratorThread, LoopDelay } from './load-generator-thread.ts';

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
  /** Cells in service (ACTIVE or DRAINING) over the window's trace time, as the simulator counts them. */
  readonly cellsInServiceAvg: number;
  /** Cells ScaleCluster added (turned ACTIVE) and retired during the window. */
  readonly cellsAdded: number;
  readonly cellsRetired: number;
  /** ScaleCluster executions the profiler started in the window, and how many failed. */
  readonly scaleOuts: number;
  readonly scaleIns: number;
  readonly scalingsFailed: number;
  /**
   * Executions the region's lock refused because another scaling of the region was running
   * (ScalingInProgressError): ScaleCluster's guard working, counted apart from failures. The profiler starts them
   * when a shortfall is still due while the cells it bought earlier are provisioning.
   */
  readonly scalingsRefused: number;
  /** Cells added (turned ACTIVE) and retired by ScaleCluster, warm-up included, on the trace clock. */
  readonly cellEvents: readonly LiveCellEvent[];
  /** Data requests the listeners answered during the run, by the cell that served them. */
  readonly servedByCell: Record<string, number>;
  readonly writesAcked: number;
  readonly writesLost: number;
  readonly writeErrors: number;
  readonly errors5xx: number;
  readonly http503: number;
  readonly cycles: number;
  /** Profiler shards and planners that failed all three attempts (their cycle's scores or plan are missing). */
  readonly deadLetters: number;
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
  /**
   * Requests dropped because they could not be sent in time; the trace demand each stood for was declared by the
   * next request of its partition and region (folded: the counts stay the trace's; see `LoadGeneratorOptions`).
   */
  readonly requestsDropped: number;
  /** Requests sent at the window's end only to declare folded demand no later request of its series carried. */
  readonly foldCarriers: number;
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

/** What a live run has when it ends, from which its figures are computed. */
export interface LiveRunState {
  readonly input: SimulationInput;
  /** Trace ms per wall ms. */
  readonly speed: number;
  readonly measurements: LiveMeasurements;
  readonly control: ControlPlaneThread | undefined;
  /** ExecutePlan executions and cycles of the warm-up (the first ones): not the window's. */
  readonly warmupExecutions: number;
  readonly warmupCycleCount: number;
  readonly writeCheck: WriteCheck;
  /** The trace time a wall time of the window maps to. */
  readonly traceMsAt: (wallMs: number) => number;
  readonly servedByCell: ReadonlyMap<string, number>;
  /** The window's trace span. */
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly generator: LoadGeneratorThread | undefined;
  readonly requestsNotSent: number;
  readonly placement: ReadonlyMap<string, PartitionRecord>;
  readonly runLoopDelay: Pick<RecordableHistogram, 'percentile' | 'max'>;
}

/** The live run's figures (the summary's and `--json`'s `live`). */
export function liveFigures(run: LiveRunState): LiveFigures {
  const { writeCheck } = run;
  const m = run.measurements;
  const regions = m.regions;
  const control = run.control;
  const windowMoves = control ? control.executions.flatMap((e) => e.result?.children ?? []) : [];
  // Moves of the plans made after the warm-up (the warm-up's ExecutePlans are the first ones).
  const duringWindow = control
    ? control.executions.slice(run.warmupExecutions).flatMap((e) => e.result?.children ?? [])
    : [];
  const succeeded = duringWindow.filter((c) => c.status === 'SUCCEEDED');
  const bytesPerPartition = new Map(run.input.partitions.map((p) => [p.id, p.sizeBytes]));
  const windowCycles = control?.cycleWallMs.slice(run.warmupCycleCount) ?? [];
  const wallDurations = succeeded.map((c) => (c.endedAtMs ?? c.startedAtMs) - c.startedAtMs);
  const { startMs, endMs } = run.window;
  const inWindow = (traceMs: number) => traceMs >= startMs && traceMs < endMs;
  const changes = (control?.cellChanges ?? []).filter((c) => inWindow(c.traceMs));
  const scalings = (control?.scalings ?? []).filter((e) => inWindow(e.startedTraceMs));
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
    cellsInServiceAvg: cellsInServiceAvg(
      run.input.topology.cells.map((c) => c.id),
      control?.cellChanges ?? [],
      startMs,
      endMs,
    ),
    cellsAdded: new Set(changes.filter((c) => c.status === 'ACTIVE').map((c) => c.cell)).size,
    cellsRetired: changes.filter((c) => c.status === 'RETIRED').length,
    scaleOuts: scalings.filter((e) => e.action === 'scale-out').length,
    scaleIns: scalings.filter((e) => e.action === 'scale-in').length,
    scalingsFailed: scalings.filter((e) => e.status === 'FAILED' && !refusedByLock(e)).length,
    scalingsRefused: scalings.filter((e) => e.status === 'FAILED' && refusedByLock(e)).length,
    cellEvents: cellEventsOf(control?.cellChanges ?? []),
    servedByCell: Object.fromEntries(run.servedByCell),
    writesAcked: m.writesAcked,
    writesLost: writeCheck.writesLost,
    writeErrors: m.writeErrors,
    errors5xx: m.http5xx,
    http503: m.http503,
    cycles: control?.cycles ?? 0,
    deadLetters: control?.deadLetters ?? 0,
    skippedTicks: control?.skippedTicks ?? 0,
    medianMoveTraceMs: median(wallDurations) * run.speed,
    medianPlanToMoveEndTraceMs: median(
      control
        ? control.executions.slice(run.warmupExecutions).flatMap((e) => {
            const tickMs = planTickMs(e.planId);
            return (e.result?.children ?? [])
              .filter((c) => c.status === 'SUCCEEDED' && c.endedAtMs !== undefined)
              .map((c) => run.traceMsAt(c.endedAtMs!) - tickMs)
              .filter((ms) => Number.isFinite(ms));
          })
        : [],
    ),
    medianMoveWallMs: median(wallDurations),
    lateRequests: run.generator?.late ?? 0,
    requestsDropped: run.generator?.dropped ?? 0,
    foldCarriers: run.generator?.foldCarriers ?? 0,
    requestsNotSent: run.requestsNotSent,
    finalPlacement: Object.fromEntries([...run.placement].map(([id, r]) => [id, r.cell])),
    eventLoopDelayMs: {
      run: {
        p50: run.runLoopDelay.percentile(50) / 1e6,
        p99: run.runLoopDelay.percentile(99) / 1e6,
        max: run.runLoopDelay.max / 1e6,
      },
      loadGenerator: run.generator?.loopDelayMs ?? null,
    },
    moveStageWallMs: moveStageWallMs(
      control,
      succeeded.map((c) => c.name),
    ),
    cycleWallMs: {
      median: median(windowCycles),
      max: windowCycles.length > 0 ? Math.max(...windowCycles) : Number.NaN,
    },
    ...(control ? { executePlanBytes: control.executePlanBytes } : {}),
  };
}

function moveStageWallMs(
  control: ControlPlaneThread | undefined,
  names: readonly string[],
): Record<string, number> {
  const byStage = new Map<string, number[]>();
  const migrations = new Map((control?.migrations ?? []).map((m) => [m.name, m]));
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

/** A ScaleCluster execution that failed only because another scaling held the region's lock. */
function refusedByLock(execution: { readonly error?: { readonly name: string } }): boolean {
  return execution.error?.name === 'ScalingInProgressError';
}
