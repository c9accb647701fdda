import { describe, expect, it } from 'vitest';
import type { MovementPlan, PlannerInput } from '../../../../src/domain/planning/movement-plan.ts';
import { simulatePolicy } from '../../../../src/domain/simulation/backtest.ts';
import { planningMargin } from '../../../../src/domain/simulation/planner-policy.ts';
import {
  DEFAULT_SIMULATION_OPTIONS,
  type SimulationDependencies,
  type SimulationOptions,
} from '../../../../src/domain/simulation/simulation-options.ts';
import {
  buildInput,
  HOUR,
  lastValueForecaster,
  MIN,
  testDeps,
  twoRegionTopology,
} from './simulation-fixtures.ts';

const BUCKET = 15 * MIN;
const options = (overrides: Partial<SimulationOptions> = {}): SimulationOptions => ({
  ...DEFAULT_SIMULATION_OPTIONS,
  warmupMs: 0,
  horizonMs: 30 * MIN,
  ...overrides,
});

describe('planningMargin', () => {
  it('is undefined when diversified (the planner gets forecastUpper), and the given share otherwise (clamped)', () => {
    expect(planningMargin(options())).toBeUndefined();
    expect(planningMargin(options({ planningMargin: 0.3 }))).toBe(0.3);
    expect(planningMargin(options({ planningMargin: 7 }))).toBe(1);
  });
});

describe('PlannerPolicy', () => {
  /** A forecaster whose upper quantile is twice its mean. */
  const doubling: SimulationDependencies['createForecaster'] = () => {
    const inner = lastValueForecaster();
    return {
      get model() {
        return inner.model;
      },
      get observed() {
        return inner.observed;
      },
      observe: (v: number) => inner.observe(v),
      forecastInto(horizon, levels, out) {
        inner.forecastInto(horizon, levels, out);
        levels.forEach((level, i) => {
          if (level >= 0.9) for (let h = 0; h < horizon; h++) out.quantiles[i][h] = 2 * out.mean[h];
        });
      },
    };
  };

  it('feeds the planner the mean plus the margin times the gap to the planning quantile', () => {
    const input = buildInput(
      twoRegionTopology(),
      [{ id: 'p', sizeBytes: 1, cell: 'e1' }],
      3,
      BUCKET,
      (_t, _p, r) => (r === 0 ? [10, 0] : [0, 0]),
    );
    const seen: number[] = [];
    const deps: SimulationDependencies = {
      createForecaster: doubling,
      planMoves: (i: PlannerInput) => {
        seen.push(i.partitions[0].forecast.east[0]);
        return empty(i);
      },
    };
    simulatePolicy(input, 'predictive', deps, options({ planningMargin: 0.25 }));
    // Bucket 0 has no history; then mean 10, q0.9 20: 10 + 0.25 × 10.
    expect(seen).toEqual([0, 12.5, 12.5]);
    seen.length = 0;
    simulatePolicy(input, 'predictive', deps, options({ planningQuantile: 'mean' }));
    expect(seen).toEqual([0, 10, 10]);
  });

  it('by default feeds the mean as forecast and the planning quantile as forecastUpper', () => {
    const input = buildInput(
      twoRegionTopology(),
      [{ id: 'p', sizeBytes: 1, cell: 'e1' }],
      3,
      BUCKET,
      (_t, _p, r) => (r === 0 ? [10, 0] : [0, 0]),
    );
    const seen: [number, number | undefined][] = [];
    const deps: SimulationDependencies = {
      createForecaster: doubling,
      planMoves: (i: PlannerInput) => {
        const part = i.partitions[0];
        seen.push([part.forecast.east[0], part.forecastUpper?.east[0]]);
        return empty(i);
      },
    };
    simulatePolicy(input, 'predictive', deps, options());
    expect(seen).toEqual([
      [0, 0],
      [10, 20],
      [10, 20],
    ]);
  });

  it('plans capacity on the last observation grown by the jump at a burst onset, for the persistence hour', () => {
    // 30 ops/s, then a jump to 60 (×2) that the forecast (last value: q0.9 = 30) did not expect, then flat.
    const input = buildInput(
      twoRegionTopology(),
      [{ id: 'p', sizeBytes: 1, cell: 'e1' }],
      6,
      BUCKET,
      (t, _p, r) => (r === 0 ? [t < 3 ? 30 : 60, 0] : [0, 0]),
    );
    const run = (burstGrowth: SimulationOptions['burstGrowth']) => {
      const seen: number[][] = [];
      const deps: SimulationDependencies = {
        createForecaster: () => lastValueForecaster(),
        planMoves: (i: PlannerInput) => {
          seen.push(Array.from(i.partitions[0].forecastUpper?.east ?? []));
          return empty(i);
        },
      };
      simulatePolicy(input, 'predictive', deps, options({ horizonMs: 2 * HOUR, burstGrowth }));
      return seen;
    };
    const grown = run({ minRatio: 1.25, maxRatio: 2, minOpsPerSec: 20 });
    // Cycle 4 has seen the jump: 60 × 2 over the first hour (4 steps), the forecast after it.
    expect(grown[4]).toEqual([120, 120, 120, 120, 60, 60, 60, 60]);
    // The next cycle sees no new jump (60 → 60): plain persistence.
    expect(grown[5]).toEqual(Array(8).fill(60));
    expect(grown[3]).toEqual(Array(8).fill(30));
    expect(run(false)[4]).toEqual(Array(8).fill(60));
    // A cap on the growth.
    expect(run({ minRatio: 1.25, maxRatio: 1.5, minOpsPerSec: 20 })[4].slice(0, 4)).toEqual([90, 90, 90, 90]);
  });

  it('scales out ahead of a shortfall only once it is confirmed, and the predictive policy only after a day', () => {
    const input = buildInput(
      twoRegionTopology(),
      [{ id: 'p', sizeBytes: 1, cell: 'e1' }],
      2 * 96,
      BUCKET,
      () => [1, 0],
    );
    const shortfall: SimulationDependencies = {
      ...testDeps,
      planMoves: (i: PlannerInput) => ({
        ...empty(i),
        capacityForecast: i.topology.cells.some((c) => c.region === 'west' && c.id !== 'w1')
          ? []
          : [
              {
                region: 'west',
                atMs: i.nowMs + HOUR,
                scaleOutByMs: i.nowMs,
                peakDemandOpsPerSec: 2000,
                usableCapacityOpsPerSec: 800,
                cellsNeeded: 1,
              },
            ],
      }),
    };
    const added = (policy: 'oracle' | 'predictive') =>
      // Every due shortfall's cells: this is the timing rule, not the price (scale-out.test.ts).
      simulatePolicy(input, policy, shortfall, options({ scaleOut: false })).cellEvents.find(
        (e) => e.kind === 'added-by-forecast',
      );
    // Oracle: seen at 0:00 and again at 0:15.
    expect(added('oracle')?.atMs).toBe(input.trace.startMs + BUCKET);
    // Predictive: trusted after 96 buckets observed (at the start of bucket 96), confirmed one cycle later.
    expect(added('predictive')?.atMs).toBe(input.trace.startMs + 97 * BUCKET);
  });
});

describe('PlannerPolicy: measured error correlation (measureErrorCorrelation)', () => {
  /**
   * Two partitions on one cell whose demand swings 5 ↔ 15 ops/s every bucket, in step or against each other: a
   * last-value forecast is off by ±10 each time, so their errors correlate +1 or −1 (read as 0: the planner's ρ is
   * in [0, 1]). Planning every bucket; the estimate starts after a day of cycles (96).
   */
  const swinging = (inStep: boolean) =>
    buildInput(
      twoRegionTopology(),
      [
        { id: 'a', sizeBytes: 1, cell: 'e1' },
        { id: 'b', sizeBytes: 1, cell: 'e1' },
      ],
      130,
      BUCKET,
      (t, p, r) => (r === 0 ? [(t + (inStep || p === 0 ? 0 : 1)) % 2 === 0 ? 5 : 15, 0] : [0, 0]),
    );
  const measured = (input: ReturnType<typeof swinging>, measure: boolean) => {
    const seen: (number | undefined)[] = [];
    const deps: SimulationDependencies = {
      createForecaster: () => lastValueForecaster(),
      planMoves: (i: PlannerInput) => {
        seen.push(i.upperCorrelation);
        return empty(i);
      },
    };
    simulatePolicy(
      input,
      'predictive',
      deps,
      options({ planningIntervalMs: BUCKET, measureErrorCorrelation: measure }),
    );
    return seen;
  };

  it('passes the planner the correlation of the partitions’ forecast errors once it has a day of cycles', () => {
    const inStep = measured(swinging(true), true);
    expect(inStep.slice(0, 90).every((rho) => rho === undefined)).toBe(true);
    expect(inStep.at(-1)).toBeCloseTo(1, 2);
    expect(measured(swinging(false), true).at(-1)).toBe(0);
  });

  it('passes nothing when off (the planner keeps its upperCorrelation option)', () => {
    expect(measured(swinging(true), false).every((rho) => rho === undefined)).toBe(true);
  });
});

function empty(input: PlannerInput): MovementPlan {
  return {
    createdAtMs: input.nowMs,
    moves: [],
    costBefore: 0,
    costAfter: 0,
    deferred: {},
    capacityForecast: [],
  };
}
