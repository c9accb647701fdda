import { describe, expect, it } from 'vitest';
import { simulatePolicy } from '../../../../src/domain/simulation/backtest.ts';
import {
  DEFAULT_SIMULATION_OPTIONS,
  type PolicyName,
  type SimulationInput,
  type SimulationOptions,
} from '../../../../src/domain/simulation/simulation-options.ts';
import { buildInput, HOUR, MIN, T0, testDeps, twoRegionTopology } from './simulation-fixtures.ts';

/**
 * The predictive policy's forecast-driven scale-in in the simulator: the domain's decideScaleIns chooses, the cell
 * lifecycle drains (the planner empties the cell) and retires; flaps are counted. The test planner and the
 * last-value forecaster stand in for the real ones (tested elsewhere); the decision is the production code.
 */

const BUCKET = 15 * MIN;
const DAY = 24 * HOUR;

const options = (overrides: Partial<SimulationOptions> = {}): SimulationOptions => ({
  ...DEFAULT_SIMULATION_OPTIONS,
  warmupMs: 0,
  horizonMs: 30 * MIN,
  ...overrides,
});

/** Three east cells carrying 300 ops/s from the east (room for it in one), one west cell; three days. */
function spareEast(topology: Record<string, unknown> = {}, eastOps = (_t: number) => 100): SimulationInput {
  return buildInput(
    twoRegionTopology({
      cells: [
        { id: 'e1', region: 'east', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
        { id: 'e2', region: 'east', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
        { id: 'e3', region: 'east', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
        { id: 'w1', region: 'west', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
      ],
      ...topology,
    }),
    [
      { id: 'p0', sizeBytes: 60e6, cell: 'e1' },
      { id: 'p1', sizeBytes: 50e6, cell: 'e2' },
      { id: 'p2', sizeBytes: 1e6, cell: 'e3' },
    ],
    (3 * DAY) / BUCKET,
    BUCKET,
    (t, _p, r) => (r === 0 ? [eastOps(t), 0] : [0, 0]),
  );
}

const run = (input: SimulationInput, policy: PolicyName, overrides: Partial<SimulationOptions> = {}) =>
  simulatePolicy(input, policy, testDeps, options(overrides));

describe('forecast-driven scale-in in the simulator', () => {
  it('predictive drains and retires the cheapest cells of a region with spare capacity, down to what it needs', () => {
    const result = run(spareEast(), 'predictive');
    const events = result.cellEvents.filter((e) => e.kind === 'draining' || e.kind === 'retired');
    // p2's cell first (fewest bytes); then the one with fewer bytes of the two left; never the west's only cell.
    expect(events.map((e) => `${e.cell} ${e.kind}`)).toEqual([
      'e3 draining',
      'e3 retired',
      'e2 draining',
      'e2 retired',
    ]);
    // Not before a day of trusted forecasts and 24 hourly slots of their peaks (the current one included).
    expect(events[0].atMs - T0).toBe(2 * DAY - HOUR);
    expect(result.details.cellsScaledIn).toBe(2);
    expect(result.details.scaleFlaps).toBe(0);
    expect(result.details.cellsRetired).toBe(2);
    expect(result.metrics.overloadCellMinutes).toBe(0);
    expect(result.details.cellsInServiceAvg).toBeLessThan(4);
    expect(result.series.cells.at(-1)).toBe(2);
  });

  it('is off for the oracle and reactive, and for predictive with scaleIn: false', () => {
    const input = spareEast();
    for (const [policy, overrides] of [
      ['oracle', {}],
      ['reactive', {}],
      ['predictive', { scaleIn: false }],
    ] as const) {
      const result = run(input, policy, overrides);
      expect(result.cellEvents.filter((e) => e.kind === 'draining')).toEqual([]);
      expect(result.details.cellsScaledIn).toBeUndefined();
      expect(result.details.cellsInServiceAvg).toBe(4);
    }
  });

  it('keeps the cells when their hours are worth less than the drain', () => {
    const result = run(spareEast({ cellHourPriceUsd: 0.0001 }), 'predictive');
    expect(result.details.cellsScaledIn).toBe(0);
    expect(result.details.cellsInServiceAvg).toBe(4);
  });

  it('counts a scale-out of a region soon after its scale-in as a flap', () => {
    const alarmScaling = {
      utilizationThreshold: 0.8,
      sustainMinutes: 10,
      provisionMinutes: 5,
      cooldownMinutes: 60,
      maxCellsPerRegion: 5,
      cellCapacityOpsPerSec: 1000,
      cellCapacityBytes: 1e12,
    };
    // 900 ops/s from the east from day 2 + 6 h: one cell is not enough any more.
    const surge = (t: number) => (t * BUCKET >= 2 * DAY + 6 * HOUR ? 300 : 100);
    const result = run(spareEast({ alarmScaling }, surge), 'predictive');
    expect(result.details.cellsScaledIn).toBe(2);
    expect(result.details.cellsAddedByAlarm).toBeGreaterThanOrEqual(1);
    expect(result.details.scaleFlaps).toBeGreaterThanOrEqual(1);
    // With a flap window of a minute, the same run counts none.
    expect(
      run(spareEast({ alarmScaling }, surge), 'predictive', { flapWindowMs: MIN }).details.scaleFlaps,
    ).toBe(0);
  });
});
