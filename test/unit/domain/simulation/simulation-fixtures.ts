import type { ForecastBuffers, OnlineForecaster } from '../../../../src/domain/forecasting/forecast-model.ts';
import type {
  MovementPlan,
  PlannedMove,
  PlannerInput,
} from '../../../../src/domain/planning/movement-plan.ts';
import {
  type DemandTrace,
  emptyTrace,
  type PartitionSpec,
} from '../../../../src/domain/simulation/demand-trace.ts';
import type {
  SimulationDependencies,
  SimulationInput,
} from '../../../../src/domain/simulation/simulation-options.ts';
import { parseTopology, type Topology } from '../../../../src/domain/topology.ts';

/** Test doubles and builders for the simulator tests. The real planner and forecaster are tested elsewhere. */

export const T0 = Date.parse('2024-01-01T00:00:00Z');
export const MIN = 60_000;
export const HOUR = 3_600_000;

export function twoRegionTopology(overrides: Partial<Record<string, unknown>> = {}): Topology {
  return parseTopology({
    regions: { east: { utcOffsetHours: -5 }, west: { utcOffsetHours: 1 } },
    latencyMs: { east: { west: 80 } },
    transferCostPerGB: 0.02,
    migrationBandwidthBytesPerSec: 1_000_000,
    cells: [
      { id: 'e1', region: 'east', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
      { id: 'w1', region: 'west', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
    ],
    scalingEvents: [],
    ...overrides,
  });
}

/** (bucket, partition, region) → [reads, writes] ops/s. */
export type DemandSpec = (bucket: number, partition: number, region: number) => readonly [number, number];

export function buildInput(
  topology: Topology,
  partitions: readonly PartitionSpec[],
  buckets: number,
  bucketMs: number,
  demand: DemandSpec,
): SimulationInput {
  const regions = Object.keys(topology.regions);
  const trace: DemandTrace = emptyTrace(
    T0,
    bucketMs,
    buckets,
    partitions.map((p) => p.id),
    regions,
  );
  for (let t = 0; t < buckets; t++) {
    for (let p = 0; p < partitions.length; p++) {
      for (let r = 0; r < regions.length; r++) {
        const [reads, writes] = demand(t, p, r);
        const i = (t * partitions.length + p) * regions.length + r;
        trace.reads[i] = reads;
        trace.writes[i] = writes;
      }
    }
  }
  return { topology, trace, partitions };
}

/** Persistence forecaster: the last observed value for every step and quantile. */
export function lastValueForecaster(): OnlineForecaster {
  let last = 0;
  let observed = 0;
  return {
    model: 'test:last-value',
    get observed() {
      return observed;
    },
    observe(value: number) {
      observed++;
      if (!Number.isNaN(value)) last = value;
    },
    forecastInto(horizon: number, _levels: readonly number[], out: ForecastBuffers) {
      out.mean.fill(last, 0, horizon);
      for (const q of out.quantiles) q.fill(last, 0, horizon);
    },
  };
}

/**
 * Follow-the-demand test planner: each partition goes to the first ACTIVE/PROVISIONING cell of the
 * region with the most forecast demand; DRAINING cells are emptied. No limits but the fence.
 */
export function greedyPlanner(input: PlannerInput): MovementPlan {
  const moving = new Set((input.inFlight ?? []).map((m) => m.partition));
  const status = (id: string) => input.cellStatus?.[id] ?? 'ACTIVE';
  const regionOf = new Map(input.topology.cells.map((c) => [c.id, c.region]));
  const moves: PlannedMove[] = [];
  for (const partition of input.partitions) {
    if (moving.has(partition.id)) continue;
    let best = '';
    let bestDemand = -1;
    for (const [region, steps] of Object.entries(partition.forecast)) {
      let sum = 0;
      for (let h = 0; h < steps.length; h++) sum += steps[h];
      if (sum > bestDemand) {
        best = region;
        bestDemand = sum;
      }
    }
    const draining = status(partition.cell) === 'DRAINING';
    if (bestDemand <= 0 && !draining) continue;
    if (regionOf.get(partition.cell) === best && !draining) continue;
    const target =
      input.topology.cells.find(
        (c) =>
          c.region === best && c.id !== partition.cell && ['ACTIVE', 'PROVISIONING'].includes(status(c.id)),
      ) ?? input.topology.cells.find((c) => c.id !== partition.cell && status(c.id) === 'ACTIVE');
    if (!target) continue;
    moves.push({
      partition: partition.id,
      from: partition.cell,
      to: target.id,
      bytes: partition.sizeBytes,
      priority: moves.length + 1,
      startByMs: input.nowMs,
      deadlineMs: input.nowMs,
      expectedDurationMs: 0,
      benefit: 1,
      reasons: { locality: 1 },
    });
  }
  return { createdAtMs: input.nowMs, moves, costBefore: 0, costAfter: 0, deferred: {}, capacityForecast: [] };
}

export const testDeps: SimulationDependencies = {
  planMoves: greedyPlanner,
  createForecaster: () => lastValueForecaster(),
};
