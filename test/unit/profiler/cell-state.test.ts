import { describe, expect, it } from 'vitest';
import type { CellRecord } from '../../../src/domain/data-plane/cell-record.ts';
import { cellSnapshot, cellStatesForShard } from '../../../src/profiler/cell-state.ts';

const cell: CellRecord = {
  id: 'c1',
  region: 'us-east-1',
  table: 't',
  capacityOpsPerSec: 200,
  capacityBytes: 1e9,
  status: 'ACTIVE',
  version: 1,
};

describe('cell state', () => {
  it('derives load, utilization and throttled share from the metrics', () => {
    const snapshot = cellSnapshot(cell, {
      cellId: 'c1',
      consumedReadUnitsPerSec: 90,
      consumedWriteUnitsPerSec: 10,
      throttledRequestsPerSec: 25,
      publishedUtilizationPercent: 30,
    });
    expect(snapshot).toMatchObject({ measuredOpsPerSec: 100, utilization: 0.5, throttledFraction: 0.2 });
    // A cell that was hotter last cycle (published 70%) keeps that pressure for one more cycle.
    expect(
      cellSnapshot(cell, {
        cellId: 'c1',
        consumedReadUnitsPerSec: 20,
        consumedWriteUnitsPerSec: 0,
        throttledRequestsPerSec: 0,
        publishedUtilizationPercent: 70,
      }),
    ).toMatchObject({ utilization: 0.7, throttledFraction: 0 });
    expect(cellSnapshot(cell, undefined)).not.toHaveProperty('utilization');
  });

  it("counts the other shards' partitions as other load", () => {
    const measured = cellSnapshot(cell, {
      cellId: 'c1',
      consumedReadUnitsPerSec: 100,
      consumedWriteUnitsPerSec: 0,
      throttledRequestsPerSec: 0,
    });
    const unmeasured = { ...cellSnapshot({ ...cell, id: 'c2' }, undefined) };
    const retired = cellSnapshot({ ...cell, id: 'c3', status: 'RETIRED' }, undefined);
    const states = cellStatesForShard(
      [measured, unmeasured, retired],
      new Map([
        ['c1', 30],
        ['c2', 10],
      ]),
      4,
    );
    expect(states.map((s) => [s.id, s.otherLoadOpsPerSec])).toEqual([
      ['c1', 70],
      ['c2', 30],
    ]);
  });
});
