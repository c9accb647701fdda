import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfeasiblePlacementError, InputValidationError } from '../../../../src/domain/errors.ts';
import type { MovementPlan, PlannerInput } from '../../../../src/domain/planning/movement-plan.ts';
import { checkFeasible, runBacktest, simulatePolicy } from '../../../../src/domain/simulation/backtest.ts';
import {
  DEFAULT_SIMULATION_OPTIONS,
  type PolicyName,
  type SimulationDependencies,
  type SimulationInput,
  type SimulationOptions,
} from '../../../../src/domain/simulation/simulation-options.ts';
import { assertProperty } from '../../../support/property.ts';
import {
  buildInput,
  greedyPlanner,
  HOUR,
  lastValueForecaster,
  MIN,
  T0,
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

function run(
  input: SimulationInput,
  policy: PolicyName,
  overrides: Partial<SimulationOptions> = {},
  deps: SimulationDependencies = testDeps,
) {
  return simulatePolicy(input, policy, deps, options(overrides));
}

/** One 60 MB partition on the east cell, all of whose 10 reads/s come from the west. */
function westernDemand(buckets = 4, sizeBytes = 60e6) {
  return buildInput(
    twoRegionTopology(),
    [{ id: 'p', sizeBytes, cell: 'e1' }],
    buckets,
    BUCKET,
    (_t, _p, r) => (r === 1 ? [10, 0] : [0, 0]),
  );
}

describe('ClusterSimulator: latency and locality', () => {
  it('static serves every request remotely at the inter-region latency plus the local base', () => {
    const { metrics, details } = run(westernDemand(), 'static');
    expect(metrics.remoteShare).toBe(1);
    expect(metrics.meanLatencyMs).toBeCloseTo(85);
    expect(metrics.p99LatencyMs).toBeCloseTo(85);
    expect(metrics.moves).toBe(0);
    expect(metrics.storedBytesAvg).toBeCloseTo(60e6);
    expect(details.requests).toBeCloseTo(4 * 900 * 10);
    // 4 KiB per remote read, at $0.02 per GiB.
    expect(metrics.transferCostUsd).toBeCloseTo(((4 * 900 * 10 * 4096) / 2 ** 30) * 0.02, 9);
  });

  it('keeps traffic at the old cell until the copy finishes at the migration bandwidth, then cuts over', () => {
    // The oracle plans at t=0; 60 MB at 1 MB/s takes 60 s, during which requests stay remote.
    const { metrics } = run(westernDemand(), 'oracle');
    const total = 4 * 900 * 10;
    expect(metrics.moves).toBe(1);
    expect(metrics.bytesMoved).toBeCloseTo(60e6);
    expect(metrics.remoteShare).toBeCloseTo((60 * 10) / total, 6);
    expect(metrics.meanLatencyMs).toBeCloseTo(5 + (80 * 600) / total, 6);
    // The bytes count at both cells during the 60 s copy.
    expect(metrics.storedBytesAvg).toBeCloseTo(60e6 * (1 + 60 / (4 * 900)), 0);
  });

  it('splits a cell’s bandwidth between concurrent moves out of it', () => {
    const input = buildInput(
      twoRegionTopology(),
      [
        { id: 'a', sizeBytes: 60e6, cell: 'e1' },
        { id: 'b', sizeBytes: 60e6, cell: 'e1' },
      ],
      2,
      BUCKET,
      (_t, _p, r) => (r === 1 ? [10, 0] : [0, 0]),
    );
    const { metrics } = run(input, 'oracle');
    // Each copy runs at 0.5 MB/s, so both take 120 s.
    expect(metrics.moves).toBe(2);
    expect(metrics.remoteShare).toBeCloseTo((2 * 120 * 10) / (2 * 2 * 900 * 10), 6);
  });

  it('reactive acts one planning interval late, from what it has seen', () => {
    const { metrics } = run(westernDemand(), 'reactive');
    // No history at t=0: the first bucket is fully remote, then 60 s of copy.
    expect(metrics.remoteShare).toBeCloseTo((900 * 10 + 600) / (4 * 900 * 10), 6);
  });

  it('predictive observes every bucket of every partition × region through its forecasters', () => {
    let observed = 0;
    const deps: SimulationDependencies = {
      planMoves: greedyPlanner,
      createForecaster: () => {
        const inner = lastValueForecaster();
        return {
          get model() {
            return inner.model;
          },
          get observed() {
            return inner.observed;
          },
          observe: (value: number) => {
            observed++;
            inner.observe(value);
          },
          forecastInto: inner.forecastInto,
        };
      },
    };
    const { metrics } = run(westernDemand(6), 'predictive', {}, deps);
    expect(observed).toBe(6 * 1 * 2);
    expect(metrics.moves).toBe(1);
  });
});

describe('ClusterSimulator: load and overload', () => {
  const spike = (buckets: number, at: number, ops: number) =>
    buildInput(twoRegionTopology(), [{ id: 'p', sizeBytes: 1e6, cell: 'e1' }], buckets, BUCKET, (t, _p, r) =>
      r === 0 ? [t === at ? ops : 100, 0] : [0, 0],
    );

  it('counts one overloaded cell-minute per minute above capacity', () => {
    expect(run(spike(4, 2, 1500), 'static').metrics.overloadCellMinutes).toBeCloseTo(15);
    expect(run(spike(4, 2, 1000), 'static').metrics.overloadCellMinutes).toBe(0);
  });

  it('does not count the warm-up', () => {
    const { metrics, series } = run(spike(8, 2, 1500), 'static', { warmupMs: 1 * HOUR });
    expect(metrics.overloadCellMinutes).toBe(0);
    // The report's series still shows it.
    expect(series.overloadCellMinutes[0]).toBeCloseTo(15);
  });

  it('counts bytes moved while the source or target is above 70% utilization as moved under load', () => {
    const input = buildInput(
      twoRegionTopology(),
      [{ id: 'p', sizeBytes: 60e6, cell: 'e1' }],
      2,
      BUCKET,
      (_t, _p, r) => (r === 1 ? [800, 0] : [0, 0]),
    );
    const hot = run(input, 'oracle').metrics;
    expect(hot.bytesMovedUnderLoad).toBeCloseTo(60e6);
    const cool = run(westernDemand(2), 'oracle').metrics;
    expect(cool.bytesMovedUnderLoad).toBe(0);
  });

  it('replicate-all reads locally, applies every write in every region and stores a copy per region', () => {
    const input = buildInput(
      twoRegionTopology(),
      [{ id: 'p', sizeBytes: 1e6, cell: 'e1' }],
      2,
      BUCKET,
      (_t, _p, r) => (r === 0 ? [100, 600] : [100, 0]),
    );
    const { metrics, details } = run(input, 'replicate-all');
    expect(metrics.remoteShare).toBe(0);
    expect(metrics.meanLatencyMs).toBeCloseTo(5);
    expect(metrics.storedBytesAvg).toBeCloseTo(2e6);
    // Each cell carries its reads plus all 600 writes/s: 700 (east) and 700 (west), below 1000.
    expect(metrics.overloadCellMinutes).toBe(0);
    expect(details.replicatedWriteBytes).toBeCloseTo(2 * 900 * 600 * 1024);
    const heavy = buildInput(
      twoRegionTopology(),
      [{ id: 'p', sizeBytes: 1e6, cell: 'e1' }],
      2,
      BUCKET,
      (_t, _p, r) => (r === 0 ? [0, 1200] : [0, 0]),
    );
    // 1200 writes/s in the east overload both regions' replicas.
    expect(run(heavy, 'replicate-all').metrics.overloadCellMinutes).toBeCloseTo(2 * 2 * 15);
  });
});

describe('ClusterSimulator: scaling events', () => {
  const withEvents = (events: unknown[], alarmScaling?: unknown) =>
    twoRegionTopology({
      scalingEvents: events,
      cells: [
        { id: 'e1', region: 'east', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
        { id: 'e2', region: 'east', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
        { id: 'w1', region: 'west', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
      ],
      ...(alarmScaling ? { alarmScaling } : {}),
    });

  it('drains a removed cell by force under static, into its own region first, and retires it', () => {
    const topology = withEvents([
      { at: new Date(T0 + BUCKET).toISOString(), action: 'remove', cellId: 'e1' },
    ]);
    const input = buildInput(topology, [{ id: 'p', sizeBytes: 60e6, cell: 'e1' }], 4, BUCKET, (_t, _p, r) =>
      r === 0 ? [10, 0] : [0, 0],
    );
    const { metrics, details } = run(input, 'static');
    expect(details.forcedMoves).toBe(1);
    expect(details.cellsRetired).toBe(1);
    expect(metrics.moves).toBe(1);
    // Moved within the east region: still local.
    expect(metrics.remoteShare).toBe(0);
  });

  it('gives a planning policy the grace period, then drains by force', () => {
    const topology = withEvents([{ at: new Date(T0).toISOString(), action: 'remove', cellId: 'e1' }]);
    const input = buildInput(topology, [{ id: 'p', sizeBytes: 1e6, cell: 'e1' }], 8, BUCKET, () => [1, 0]);
    const idle: SimulationDependencies = { ...testDeps, planMoves: (i) => emptyPlan(i) };
    const forced = run(input, 'oracle', { drainGraceMs: HOUR }, idle).details;
    expect(forced.forcedMoves).toBe(1);
    expect(forced.cellsRetired).toBe(1);
    const drained = run(input, 'oracle', { drainGraceMs: HOUR }).details;
    expect(drained.forcedMoves).toBe(0);
    expect(drained.cellsRetired).toBe(1);
  });

  it('adds a scheduled cell as PROVISIONING, then ACTIVE; moves into it wait for it', () => {
    const at = T0 + BUCKET;
    const topology = twoRegionTopology({
      scalingEvents: [
        {
          at: new Date(at).toISOString(),
          action: 'add',
          cell: { id: 'w2', region: 'west', capacityOpsPerSec: 10, capacityBytes: 1e12 },
        },
      ],
      cells: [{ id: 'e1', region: 'east', capacityOpsPerSec: 1000, capacityBytes: 1e12 }],
      latencyMs: { east: { west: 80 } },
    });
    const input = buildInput(topology, [{ id: 'p', sizeBytes: 1e6, cell: 'e1' }], 4, BUCKET, (_t, _p, r) =>
      r === 1 ? [5, 0] : [0, 0],
    );
    const statuses: string[] = [];
    const deps: SimulationDependencies = {
      ...testDeps,
      planMoves: (i) => {
        statuses.push(i.cellStatus?.w2 ?? 'absent');
        return greedyPlanner(i);
      },
    };
    const { metrics } = run(input, 'oracle', { provisionMs: 10 * MIN }, deps);
    expect(statuses.slice(0, 3)).toEqual(['absent', 'PROVISIONING', 'ACTIVE']);
    // Planned at 15 min into a PROVISIONING cell, copied from 25 min (1 s): remote until then.
    const total = 4 * 900 * 5;
    expect(metrics.remoteShare).toBeCloseTo(((25 * 60 + 1) * 5) / total, 4);
    expect(metrics.cellsAdded).toBe(0);
  });

  it('adds a cell when a region stays above the alarm threshold, with cooldown and a cap', () => {
    const alarm = {
      utilizationThreshold: 0.8,
      sustainMinutes: 10,
      provisionMinutes: 5,
      cooldownMinutes: 60,
      maxCellsPerRegion: 3,
      cellCapacityOpsPerSec: 1000,
      cellCapacityBytes: 1e12,
    };
    const topology = withEvents([], alarm);
    // East: 1800 ops/s on two cells of 1000 = 90% for 4 hours.
    const input = buildInput(topology, [{ id: 'p', sizeBytes: 1e6, cell: 'e1' }], 16, BUCKET, (_t, _p, r) =>
      r === 0 ? [1800, 0] : [0, 0],
    );
    const { details, series } = run(input, 'static');
    // The first alarm fires after 10 min; with the new (empty) cell the region is at 60%; no more.
    expect(details.cellsAddedByAlarm).toBe(1);
    expect(series.cells[0]).toBe(4);
    const hotter = buildInput(topology, [{ id: 'p', sizeBytes: 1e6, cell: 'e1' }], 16, BUCKET, (_t, _p, r) =>
      r === 0 ? [2900, 0] : [0, 0],
    );
    // 2900 stays above 80% of 3000: a second cell is due but the region is capped at 3 cells.
    expect(run(hotter, 'static').details.cellsAddedByAlarm).toBe(1);
    const uncapped = twoRegionTopology({ ...topology, alarmScaling: { ...alarm, maxCellsPerRegion: 8 } });
    const hot = buildInput(uncapped, [{ id: 'p', sizeBytes: 1e6, cell: 'e1' }], 16, BUCKET, (_t, _p, r) =>
      r === 0 ? [5000, 0] : [0, 0],
    );
    // Cooldown: while 5000 ops/s stays above 80% of the region, one alarm per hour: 10, 70, 130, 190 min.
    expect(run(hot, 'static').details.cellsAddedByAlarm).toBe(4);
  });

  it('scales out ahead of a forecast shortfall (predictive and oracle) and counts it in cellsAdded', () => {
    const topology = withEvents([], {
      utilizationThreshold: 0.99,
      sustainMinutes: 600,
      provisionMinutes: 5,
      cooldownMinutes: 60,
      maxCellsPerRegion: 5,
      cellCapacityOpsPerSec: 1000,
      cellCapacityBytes: 1e12,
    });
    const input = buildInput(topology, [{ id: 'p', sizeBytes: 1e6, cell: 'e1' }], 4, BUCKET, () => [1, 0]);
    // The shortfall asks for three west cells until they exist (provisioning ones count, as in the planner).
    const shortfall: SimulationDependencies = {
      ...testDeps,
      planMoves: (i) => {
        const west = i.topology.cells.filter((c) => c.region === 'west').length;
        const needed = 3 - west;
        return {
          ...emptyPlan(i),
          capacityForecast:
            needed > 0
              ? [
                  {
                    region: 'west',
                    atMs: i.nowMs + HOUR,
                    scaleOutByMs: i.nowMs,
                    peakDemandOpsPerSec: 2000,
                    usableCapacityOpsPerSec: 800,
                    cellsNeeded: needed,
                  },
                ]
              : [],
        };
      },
    };
    const oracle = run(input, 'oracle', {}, shortfall);
    // Two cells at the first cycle; later cycles see them (provisioning or not) and add no more.
    expect(oracle.metrics.cellsAdded).toBe(2);
    expect(oracle.details.cellsAddedByForecast).toBe(2);
    expect(run(input, 'reactive', {}, shortfall).metrics.cellsAdded).toBe(0);
  });
});

describe('ClusterSimulator: churn', () => {
  it('counts a move that undoes the previous one within 6 h as thrash', () => {
    const pingPong = (input: PlannerInput): MovementPlan => {
      const p = input.partitions[0];
      if ((input.inFlight ?? []).length > 0) return emptyPlan(input);
      const to = p.cell === 'e1' ? 'w1' : 'e1';
      return { ...emptyPlan(input), moves: [{ ...moveOf(input, p.id, p.cell, to) }] };
    };
    const { metrics } = run(westernDemand(4, 1e6), 'oracle', {}, { ...testDeps, planMoves: pingPong });
    expect(metrics.moves).toBe(4);
    expect(metrics.thrashMoves).toBe(3);
    const slow = run(
      westernDemand(4, 1e6),
      'oracle',
      { thrashWindowMs: 60_000 },
      { ...testDeps, planMoves: pingPong },
    );
    expect(slow.metrics.thrashMoves).toBe(0);
  });

  it('rejects moves of a partition already moving, or from a cell it is not in', () => {
    const stale = (input: PlannerInput): MovementPlan => ({
      ...emptyPlan(input),
      moves: [moveOf(input, 'p', 'w1', 'e1')],
    });
    const { metrics, details } = run(westernDemand(2), 'oracle', {}, { ...testDeps, planMoves: stale });
    expect(metrics.moves).toBe(0);
    expect(details.rejectedMoves).toBe(2);
  });
});

describe('runBacktest', () => {
  it('runs every policy and is deterministic', () => {
    const input = westernDemand(8);
    const first = runBacktest(input, testDeps, { warmupMs: HOUR });
    const second = runBacktest(input, testDeps, { warmupMs: HOUR });
    expect(Object.keys(first.policies)).toEqual([
      'static',
      'reactive',
      'replicate-all',
      'predictive',
      'oracle',
    ]);
    for (const name of Object.keys(first.policies) as PolicyName[]) {
      expect(first.policies[name]!.metrics).toEqual(second.policies[name]!.metrics);
    }
    expect(first.evaluationStartMs).toBe(T0 + HOUR);
  });

  it('reports progress per policy up to the last bucket', () => {
    const seen: string[] = [];
    runBacktest(westernDemand(8), testDeps, {
      warmupMs: HOUR,
      policies: ['static', 'oracle'],
      onProgress: (p) => {
        if (p.bucket === p.buckets) seen.push(p.policy);
      },
    });
    expect(seen).toEqual(['static', 'oracle']);
  });

  it('rejects an interval that is not a multiple of the bucket, and a warm-up longer than the trace', () => {
    const input = westernDemand(8);
    expect(() => runBacktest(input, testDeps, { planningIntervalMs: 10 * MIN })).toThrow(
      InputValidationError,
    );
    expect(() => runBacktest(input, testDeps, { warmupMs: 2 * HOUR })).toThrow(/warm-up/);
  });

  it('names the violated constraint when the partitions cannot fit', () => {
    const topology = twoRegionTopology({
      cells: [
        { id: 'e1', region: 'east', capacityOpsPerSec: 10, capacityBytes: 100 },
        { id: 'w1', region: 'west', capacityOpsPerSec: 10, capacityBytes: 100 },
      ],
    });
    const tooMany = buildInput(
      topology,
      [
        { id: 'a', sizeBytes: 90, cell: 'e1' },
        { id: 'b', sizeBytes: 90, cell: 'e1' },
        { id: 'c', sizeBytes: 90, cell: 'w1' },
      ],
      2,
      BUCKET,
      () => [1, 0],
    );
    expect(() => checkFeasible(tooMany)).toThrow(InfeasiblePlacementError);
    expect(() => checkFeasible(tooMany)).toThrow(/constraint 'capacityBytes'/);
    const tooBig = buildInput(topology, [{ id: 'a', sizeBytes: 101, cell: 'e1' }], 2, BUCKET, () => [1, 0]);
    expect(() => runBacktest(tooBig, testDeps, { warmupMs: 0 })).toThrow(/partition 'a'/);
  });
});

describe('ClusterSimulator invariants (property)', () => {
  it('conserves requests and keeps every metric in range for any demand and placement', () => {
    assertProperty(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 400 }), fc.nat({ max: 100 })), { minLength: 48, maxLength: 48 }),
        fc.array(fc.constantFrom('e1', 'w1'), { minLength: 3, maxLength: 3 }),
        fc.constantFrom<PolicyName>('static', 'reactive', 'replicate-all', 'oracle'),
        (demand, cells, policy) => {
          const input = buildInput(
            twoRegionTopology(),
            cells.map((cell, i) => ({ id: `p${i}`, sizeBytes: 1e6 * (i + 1), cell })),
            8,
            BUCKET,
            (t, p, r) => demand[(t * 6 + p * 2 + r) % demand.length],
          );
          const { metrics, details, series } = run(input, policy);
          let expected = 0;
          for (let i = 0; i < input.trace.reads.length; i++)
            expected += input.trace.reads[i] + input.trace.writes[i];
          expect(details.requests).toBeCloseTo(expected * 900, 3);
          expect(metrics.remoteShare).toBeGreaterThanOrEqual(-1e-9);
          expect(metrics.remoteShare).toBeLessThanOrEqual(1 + 1e-9);
          if (details.requests > 0) {
            expect(metrics.meanLatencyMs).toBeGreaterThanOrEqual(5 - 1e-9);
            expect(metrics.meanLatencyMs).toBeLessThanOrEqual(85 + 1e-9);
            expect(metrics.p99LatencyMs).toBeGreaterThanOrEqual(5);
          }
          const total = 6e6;
          expect(metrics.storedBytesAvg).toBeGreaterThanOrEqual(
            (policy === 'replicate-all' ? 2 : 1) * total - 1,
          );
          expect(metrics.bytesMovedUnderLoad).toBeLessThanOrEqual(metrics.bytesMoved + 1e-6);
          expect(metrics.thrashMoves).toBeLessThanOrEqual(metrics.moves);
          for (const share of series.remoteShare) expect(share).toBeLessThanOrEqual(1 + 1e-9);
        },
      ),
      { numRuns: 60 },
    );
  });
});

function emptyPlan(input: PlannerInput): MovementPlan {
  return {
    createdAtMs: input.nowMs,
    moves: [],
    costBefore: 0,
    costAfter: 0,
    deferred: {},
    capacityForecast: [],
  };
}

function moveOf(input: PlannerInput, partition: string, from: string, to: string) {
  return {
    partition,
    from,
    to,
    bytes: 1,
    priority: 1,
    startByMs: input.nowMs,
    deadlineMs: input.nowMs,
    expectedDurationMs: 0,
    benefit: 1,
    reasons: {},
  };
}
