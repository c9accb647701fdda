import type { CellRecord } from '../domain/data-plane/cell-record.ts';
import type { CellMetrics, CellSnapshot } from '../domain/profiling/ports.ts';
import type { CellState } from '../domain/scoring/affinity-scorer.ts';

/**
 * A cell's topology and measured state. Load = consumed read + write units per second (a unit is one request
 * of an item up to 4 KB read / 1 KB written, so for small items units ≈ requests). Utilization is the larger of
 * that load over capacity and the CellUtilization published last cycle: a cell that was hot one cycle ago still
 * counts as under pressure, so scores do not flap with one quiet window. Throttled share ≈ throttled requests
 * over (throttled + consumed units).
 */
export function cellSnapshot(cell: CellRecord, metrics: CellMetrics | undefined): CellSnapshot {
  const base = {
    id: cell.id,
    region: cell.region,
    capacityOpsPerSec: cell.capacityOpsPerSec,
    capacityBytes: cell.capacityBytes,
    status: cell.status,
    ...(cell.scaledOutAtMs !== undefined && { scaledOutAtMs: cell.scaledOutAtMs }),
  };
  if (!metrics) return base;
  const measured = metrics.consumedReadUnitsPerSec + metrics.consumedWriteUnitsPerSec;
  const utilization = Math.max(
    cell.capacityOpsPerSec > 0 ? measured / cell.capacityOpsPerSec : 0,
    (metrics.publishedUtilizationPercent ?? 0) / 100,
  );
  const throttled = metrics.throttledRequestsPerSec;
  return {
    ...base,
    measuredOpsPerSec: measured,
    utilization,
    throttledFraction: throttled > 0 ? throttled / (throttled + measured) : 0,
  };
}

/**
 * Cell state for scoring one shard. The shard scores only its own partitions, so the rest of a cell's load is
 * "other load": the measured load minus this shard's current demand on the cell, or, when the cell was not
 * measured, this shard's demand × (shards − 1) (partitions are spread over shards by a uniform hash).
 */
export function cellStatesForShard(
  cells: readonly CellSnapshot[],
  shardLoadByCell: ReadonlyMap<string, number>,
  shards: number,
): CellState[] {
  return cells
    .filter((cell) => cell.status !== 'RETIRED')
    .map((cell) => {
      const own = shardLoadByCell.get(cell.id) ?? 0;
      const other =
        cell.measuredOpsPerSec !== undefined ? Math.max(0, cell.measuredOpsPerSec - own) : own * (shards - 1);
      return {
        id: cell.id,
        capacityOpsPerSec: cell.capacityOpsPerSec,
        otherLoadOpsPerSec: other,
        ...(cell.utilization !== undefined && { utilization: cell.utilization }),
        ...(cell.throttledFraction !== undefined && { throttledFraction: cell.throttledFraction }),
      };
    });
}
