import type { PlannerInput, PlannerPartition } from '../../../../src/domain/planning/movement-plan.ts';
import type { CellSpec, Topology } from '../../../../src/domain/topology.ts';

/** Small hand-built planner inputs: two regions 80 ms apart, two cells each, 12 five-minute steps. */
export const NOW = Date.parse('2026-03-01T00:00:00Z');
export const STEPS = 12;
export const STEP_SECONDS = 300;
export const GiB = 2 ** 30;

export function cell(
  id: string,
  region: string,
  capacityOpsPerSec = 10_000,
  capacityBytes = 100 * GiB,
): CellSpec {
  return { id, region, capacityOpsPerSec, capacityBytes };
}

export function topology(cells?: CellSpec[], extra: Partial<Topology> = {}): Topology {
  return {
    regions: { 'us-east-1': { utcOffsetHours: -5 }, 'eu-west-1': { utcOffsetHours: 0 } },
    latencyMs: { 'us-east-1': { 'eu-west-1': 80 } },
    transferCostPerGB: 0.02,
    migrationBandwidthBytesPerSec: 100e6,
    cells: cells ?? [
      cell('use1-a', 'us-east-1'),
      cell('use1-b', 'us-east-1'),
      cell('euw1-a', 'eu-west-1'),
      cell('euw1-b', 'eu-west-1'),
    ],
    scalingEvents: [],
    ...extra,
  };
}

/** A series of STEPS values: a constant, or the given array. */
export function series(value: number | readonly number[]): number[] {
  return typeof value === 'number' ? Array.from({ length: STEPS }, () => value) : [...value];
}

export function partition(
  id: string,
  cellId: string,
  demand: Readonly<Record<string, number | readonly number[]>>,
  extra: Partial<PlannerPartition> = {},
): PlannerPartition {
  const forecast: Record<string, number[]> = {};
  for (const [region, value] of Object.entries(demand)) forecast[region] = series(value);
  return { id, sizeBytes: GiB, cell: cellId, forecast, writeFraction: 0.2, ...extra };
}

export function plannerInput(
  partitions: PlannerPartition[],
  extra: Partial<PlannerInput> = {},
): PlannerInput {
  return { nowMs: NOW, stepSeconds: STEP_SECONDS, topology: topology(), partitions, ...extra };
}

/** Where each partition ends up after a plan. */
export function placementAfter(
  input: PlannerInput,
  moves: readonly { partition: string; to: string }[],
): Map<string, string> {
  const out = new Map(input.partitions.map((p) => [p.id, p.cell]));
  for (const f of input.inFlight ?? []) out.set(f.partition, f.to);
  for (const m of moves) out.set(m.partition, m.to);
  return out;
}
