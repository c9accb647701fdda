import type { CellMetrics, CellSnapshot, ProfilerCycle } from '../domain/profiling/ports.ts';
import { METRIC } from '../support/metrics.ts';
import { cellSnapshot } from './cell-state.ts';
import { bucketStartOf, cycleIdFor } from './profiler-cycle.ts';
import type { ProfilerDeps } from './profiler-deps.ts';
import type { ResolvedProfilerOptions } from './profiler-options.ts';

/**
 * Create the record of the cycle at `timeMs` with the cells' measured state (publishing each cell's
 * utilization), unless it exists: a redelivered schedule event, or a shard started by hand, finds it.
 */
export async function openCycle(
  deps: Pick<ProfilerDeps, 'cycles' | 'cells' | 'cellMetrics' | 'metrics' | 'log' | 'now'>,
  o: Pick<ResolvedProfilerOptions, 'intervalMs' | 'metricsLagMs' | 'metricsWindowMs' | 'cycleTtlSeconds'>,
  timeMs: number,
  shards: number,
): Promise<{ readonly created: boolean; readonly cycle: ProfilerCycle }> {
  const cycleId = cycleIdFor(timeMs, o.intervalMs);
  const existing = await deps.cycles.get(cycleId);
  if (existing) return { created: false, cycle: existing };
  const cells = await deps.cells.list();
  const measured = cells.filter((c) => c.status !== 'RETIRED');
  const endMs = timeMs - o.metricsLagMs;
  let metrics = new Map<string, CellMetrics>();
  try {
    metrics = await deps.cellMetrics.read(measured, {
      startMs: endMs - o.metricsWindowMs,
      endMs,
      periodSeconds: 60,
    });
  } catch (error) {
    // Scores without cell pressure beat no scores: the cycle goes on, and the failure is logged.
    deps.log.warn('cell metrics unavailable; scoring without cell pressure', {
      error: (error as Error).message,
    });
  }
  const snapshots: CellSnapshot[] = cells.map((cell) => cellSnapshot(cell, metrics.get(cell.id)));
  for (const cell of measured) {
    const m = metrics.get(cell.id);
    if (!m || !(cell.capacityOpsPerSec > 0)) continue;
    const load = m.consumedReadUnitsPerSec + m.consumedWriteUnitsPerSec;
    deps.metrics.add(METRIC.cellUtilization, 'Percent', (100 * load) / cell.capacityOpsPerSec, {
      CellId: cell.id,
    });
  }
  const now = deps.now();
  return deps.cycles.create({
    cycleId,
    shards,
    seriesEndMs: bucketStartOf(timeMs, o.intervalMs),
    startedAtMs: now,
    cells: snapshots,
    doneShards: [],
    expiresAt: Math.floor(now / 1000) + o.cycleTtlSeconds,
  });
}
