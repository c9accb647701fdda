import { describe, expect, it } from 'vitest';
import { cellEventsOf, cellsInServiceAvg } from '../../../src/live/cell-timeline.ts';
import type { LiveCellChange } from '../../../src/live/live-scaling.ts';

const HOUR = 3_600_000;
const change = (traceMs: number, cell: string, status: LiveCellChange['status']): LiveCellChange => ({
  traceMs,
  cell,
  region: 'us-east-1',
  status,
});

describe('cells in service over the window, from ScaleCluster status writes', () => {
  it('counts ACTIVE and DRAINING, not PROVISIONING or RETIRED, weighted by trace time', () => {
    const changes = [
      change(2 * HOUR, 'new', 'PROVISIONING'),
      // Serves from hour 4 to the end: 6 of 10 hours.
      change(4 * HOUR, 'new', 'ACTIVE'),
      // Draining still serves; retired from hour 8: 'old' served 8 of 10 hours.
      change(6 * HOUR, 'old', 'DRAINING'),
      change(8 * HOUR, 'old', 'RETIRED'),
    ];
    // 'a' all 10 hours, 'old' 8, 'new' 6: 24 cell-hours over 10 hours.
    expect(cellsInServiceAvg(['a', 'old'], changes, 0, 10 * HOUR)).toBeCloseTo(2.4, 10);
  });

  it('a change before the window sets its starting state; one after it counts for nothing', () => {
    const changes = [change(-HOUR, 'new', 'ACTIVE'), change(11 * HOUR, 'a', 'RETIRED')];
    expect(cellsInServiceAvg(['a'], changes, 0, 10 * HOUR)).toBe(2);
    expect(cellsInServiceAvg(['a'], [], 0, 10 * HOUR)).toBe(1);
  });

  it('the dashboard events: added once when a cell turns ACTIVE, removed when it is RETIRED', () => {
    const changes = [
      change(1, 'new', 'PROVISIONING'),
      change(2, 'new', 'ACTIVE'),
      change(3, 'new', 'DRAINING'),
      change(4, 'new', 'ACTIVE'),
      change(5, 'old', 'DRAINING'),
      change(6, 'old', 'RETIRED'),
    ];
    expect(cellEventsOf(changes)).toEqual([
      { traceMs: 2, cell: 'new', region: 'us-east-1', kind: 'added' },
      { traceMs: 6, cell: 'old', region: 'us-east-1', kind: 'removed' },
    ]);
  });
});
