import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
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
