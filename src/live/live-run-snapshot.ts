import type { CellRecord } from '../domain/data-plane/cell-record.ts';
import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import { cellEventsOf, cellsInServiceNow, liveCellsOf } from './cell-timeline.ts';
import type { ControlPlaneThread } from './control-plane-thread.ts';
import type { ForecastTracker } from './live-forecasts.ts';
import type { LiveInput, LiveWindow } from './live-input.ts';
import type { LiveMeasurements } from './live-measurements.ts';
import type { LiveCell, LiveMigration, LivePlan, LiveRunStatus, LiveSnapshot } from './live-snapshot.ts';

/** What the live run knows at an instant, from which the dashboard's snapshot is drawn. */
export interface LiveView {
  readonly status: LiveRunStatus;
  readonly loop: 'on' | 'off';
  readonly wallElapsedMs: number;
  readonly input: LiveInput;
  readonly window: LiveWindow;
  readonly nowTraceMs: number;
  readonly measurements: LiveMeasurements;
  readonly placement: ReadonlyMap<string, PartitionRecord>;
  /** The registered cells (the topology's, then those ScaleCluster added); empty before the first read. */
  readonly cells: readonly CellRecord[];
  readonly control: ControlPlaneThread | undefined;
  readonly plan: LivePlan | null;
  readonly forecasts: ForecastTracker;
}

/** What the dashboard shows (see live-snapshot.ts). */
export function liveSnapshot(run: LiveView): LiveSnapshot {
  const { window, input } = run;
  const topology = input.input.topology;
  const m = run.measurements;
  const byCell = new Map<string, PartitionRecord[]>();
  for (const record of run.placement.values()) {
    const list = byCell.get(record.cell) ?? [];
    list.push(record);
    byCell.set(record.cell, list);
  }
  // The topology's cells in its order, then the ones ScaleCluster added, by id.
  const order = new Map(topology.cells.map((c, i) => [c.id, i]));
  const rank = (id: string) => order.get(id) ?? Number.POSITIVE_INFINITY;
  const registered =
    run.cells.length > 0
      ? [...run.cells].sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id))
      : topology.cells.map((c) => ({ ...c, status: 'ACTIVE' as const }));
  const cells: LiveCell[] = liveCellsOf(registered, (cellId) =>
    (byCell.get(cellId) ?? []).map((r) => ({ id: r.partition, predictedRegion: null, opsPerSec: 0 })),
  );
  const migrations: LiveMigration[] = (run.control?.migrations ?? [])
    .filter((e) => e.status === 'RUNNING')
    .map((e) => {
      const i = e.input as { partition?: string; targetCell?: string };
      return {
        partition: i.partition ?? '',
        from: run.placement.get(i.partition ?? '')?.cell ?? '',
        to: i.targetCell ?? '',
        stage: e.stage,
        startedTraceMs: run.nowTraceMs,
      };
    });
  const control = run.control;
  const moves = control
    ? control.executions.flatMap((e) => e.result?.children ?? []).filter((c) => c.status === 'SUCCEEDED')
        .length
    : 0;
  return {
    status: run.status,
    loop: run.loop,
    wallElapsedMs: run.wallElapsedMs,
    trace: {
      name: input.name,
      startMs: window.startMs,
      endMs: window.endMs,
      nowMs: run.nowTraceMs,
      speed: window.speed,
      requestScale: window.requestScale,
      bucketMs: input.input.trace.bucketMs,
    },
    regions: m.regions,
    latency: m.latencySeries(),
    cells,
    migrations,
    plan: run.plan,
    forecasts: run.forecasts.series(),
    cellEvents: cellEventsOf(run.control?.cellChanges ?? []),
    errors: m.errorSeries(),
    totals: {
      requests: m.requests,
      writesAcked: m.writesAcked,
      writeErrors: m.writeErrors,
      http503: m.http503,
      bytesMoved: control?.executePlanBytes ?? 0,
      moves,
      cellsInService: cellsInServiceNow(registered),
    },
  };
}
