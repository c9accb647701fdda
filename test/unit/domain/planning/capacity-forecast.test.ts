import { describe, expect, it } from 'vitest';
import { forecastCapacity } from '../../../../src/domain/planning/capacity-forecast.ts';
import { planMoves } from '../../../../src/domain/planning/placement-planner.ts';
import { GiB, NOW, partition, plannerInput, STEP_SECONDS, topology } from './planner-fixtures.ts';

/** Ten us-east-1 partitions whose demand grows from 1,200 to 2,000 ops/s each over the horizon. */
function growing() {
  const rising = Array.from({ length: 12 }, (_, t) => 1200 + (800 * t) / 11);
  return Array.from({ length: 10 }, (_, i) =>
    partition(`p${i}`, i % 2 ? 'use1-a' : 'use1-b', { 'us-east-1': rising }),
  );
}

describe('capacity forecast', () => {
  it('says when a region runs short of usable capacity and when to start scaling out', () => {
    const alarm = {
      utilizationThreshold: 0.8,
      sustainMinutes: 10,
      provisionMinutes: 10,
      cooldownMinutes: 60,
      maxCellsPerRegion: 8,
      cellCapacityOpsPerSec: 10_000,
      cellCapacityBytes: 100 * GiB,
    };
    const input = plannerInput(growing(), { topology: topology(undefined, { alarmScaling: alarm }) });
    const shortfalls = forecastCapacity(input);
    expect(shortfalls).toHaveLength(1);
    const [s] = shortfalls;
    expect(s.region).toBe('us-east-1');
    // 12,000 → 20,000 ops/s against 0.8 × 2 × 10,000 = 16,000 usable: first above at step 6.
    expect(s.atMs).toBe(NOW + 6 * STEP_SECONDS * 1000);
    expect(s.usableCapacityOpsPerSec).toBe(16_000);
    expect(s.peakDemandOpsPerSec).toBeCloseTo(20_000, 6);
    expect(s.cellsNeeded).toBe(1);
    // Provision 10 min, then fill the new cell with the two hottest partitions (4,000 ops/s, 2 GiB).
    const fillMs = 60_000 + ((2 * GiB) / 100e6) * 1000;
    expect(s.scaleOutByMs).toBeCloseTo(s.atMs - 10 * 60_000 - fillMs, 3);
  });

  it('reports nothing while demand stays below usable capacity', () => {
    expect(forecastCapacity(plannerInput([partition('p', 'use1-a', { 'us-east-1': 5000 })]))).toEqual([]);
  });

  it('comes with every plan, computed on the placement after the moves', () => {
    const plan = planMoves(plannerInput(growing()));
    expect(plan.capacityForecast.map((s) => s.region)).toEqual(['us-east-1']);
    expect(plan.capacityForecast[0].scaleOutByMs).toBeLessThan(plan.capacityForecast[0].atMs);
  });
});
