import type { CellRecord, CellStatus } from '../domain/data-plane/cell-record.ts';
import type { LiveCellChange } from './live-scaling.ts';
import type { LiveCell, LiveCellEvent, LiveCellStatus } from './live-snapshot.ts';

/** The simulator's "in service" (metrics-accumulator.ts): ACTIVE or DRAINING; not PROVISIONING, not RETIRED. */
function inService(status: CellStatus): boolean {
  return status === 'ACTIVE' || status === 'DRAINING';
}

/**
 * Average cells in service over the trace window [startMs, endMs): the topology's cells ACTIVE from the start, then
 * every status change ScaleCluster's steps made, at its trace time. A change before the window (the warm-up's)
 * sets the state the window starts from; one after it counts for nothing.
 */
export function cellsInServiceAvg(
  initialCells: readonly string[],
  changes: readonly LiveCellChange[],
  startMs: number,
  endMs: number,
): number {
  if (!(endMs > startMs)) return initialCells.length;
  const status = new Map<string, CellStatus>(initialCells.map((id) => [id, 'ACTIVE']));
  const count = () => [...status.values()].filter(inService).length;
  const sorted = [...changes].sort((a, b) => a.traceMs - b.traceMs);
  let i = 0;
  for (; i < sorted.length && sorted[i].traceMs <= startMs; i++) status.set(sorted[i].cell, sorted[i].status);
  let cellMs = 0;
  let at = startMs;
  for (; i < sorted.length && sorted[i].traceMs < endMs; i++) {
    cellMs += count() * (sorted[i].traceMs - at);
    at = sorted[i].traceMs;
    status.set(sorted[i].cell, sorted[i].status);
  }
  cellMs += count() * (endMs - at);
  return cellMs / (endMs - startMs);
}

/** The dashboard's "cells added and removed": a cell added when it turns ACTIVE (serves), removed when RETIRED. */
export function cellEventsOf(changes: readonly LiveCellChange[]): LiveCellEvent[] {
  const events: LiveCellEvent[] = [];
  const added = new Set<string>();
  for (const c of changes) {
    if (c.status === 'ACTIVE' && !added.has(c.cell)) {
      added.add(c.cell);
      events.push({ traceMs: c.traceMs, cell: c.cell, region: c.region, kind: 'added' });
    } else if (c.status === 'RETIRED') {
      events.push({ traceMs: c.traceMs, cell: c.cell, region: c.region, kind: 'removed' });
    }
  }
  return events;
}

/** Cells now in service (ACTIVE or DRAINING) among the registered ones. */
export function cellsInServiceNow(cells: readonly Pick<CellRecord, 'status'>[]): number {
  return cells.filter((c) => inService(c.status)).length;
}

/** The dashboard's cells: every registered cell (the topology's first, then the added ones) with its partitions. */
export function liveCellsOf(
  cells: readonly Pick<CellRecord, 'id' | 'region' | 'status'>[],
  partitionsOf: (cellId: string) => LiveCell['partitions'],
): LiveCell[] {
  return cells.map((c) => ({
    id: c.id,
    region: c.region,
    status: c.status.toLowerCase() as LiveCellStatus,
    partitions: partitionsOf(c.id),
  }));
}
