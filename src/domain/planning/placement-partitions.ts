import { InputValidationError } from '../errors.ts';
import type { PlannerInput, PlannerLimits, PlannerPartition } from './movement-plan.ts';
import type { CompiledCells, CompiledRegions } from './placement-cells.ts';
import { addMeanForecast, addUpperForecast, allocateDemand, type DemandArrays } from './placement-demand.ts';
import type { PlacementModel } from './placement-model.ts';
import type { ResolvedPlannerOptions } from './planner-options.ts';

/**
 * The input's partitions compiled for the placement model: ids, sizes, the cell each starts the plan on, why
 * it may not move (cooldown, in-flight move), its affinity, its locality and write weights, and its forecasts
 * (placement-demand.ts). Validated on the way; errors name the field.
 */

/** Why a partition may not move in this plan. */
export const LOCK_NONE = 0;
export const LOCK_IN_FLIGHT = 1;
export const LOCK_COOLDOWN = 2;

/** The partitions as they compile: the model's per-partition fields and their demand (placement-demand.ts). */
export interface CompiledPartitions
  extends Pick<
    PlacementModel,
    'partitionCount' | 'bytes' | 'origin' | 'lock' | 'affinity' | 'latencyWeight' | 'writeOpsPerSec'
  > {
  readonly partitionIds: string[];
  readonly partitionIndex: Map<string, number>;
  readonly demand: DemandArrays;
}

/** What the partitions compile against. */
export interface PartitionContext {
  readonly input: PlannerInput;
  readonly options: ResolvedPlannerOptions;
  readonly limits: PlannerLimits;
  readonly regions: CompiledRegions;
  readonly cells: CompiledCells;
  /** Forecast steps (the horizon). */
  readonly steps: number;
  /** Dollars per latency-ms of one request. */
  readonly dollarsPerMs: number;
}

/** Validate and compile every partition with its forecasts, in input order. */
export function compilePartitions(context: PartitionContext): CompiledPartitions {
  const partitions = context.input.partitions;
  const P = partitions.length;
  const T = context.steps;
  const compiled: CompiledPartitions = {
    partitionIds: new Array<string>(P),
    partitionIndex: new Map<string, number>(),
    partitionCount: P,
    bytes: new Float64Array(P),
    origin: new Int32Array(P),
    lock: new Uint8Array(P),
    affinity: new Float64Array(P),
    latencyWeight: new Float64Array(P),
    writeOpsPerSec: new Float64Array(P),
    demand: allocateDemand(partitions, T),
  };
  const demandTotal = compiled.demand.demandTotal;
  for (let p = 0; p < P; p++) {
    const part = partitions[p];
    const writeFraction = compilePartitionFields(compiled, p, part, context);
    addMeanForecast(compiled.demand, p, part.forecast, context.regions, T);
    if (T > 0) {
      const totalBase = p * T;
      let meanOps = 0;
      for (let t = 0; t < T; t++) meanOps += demandTotal[totalBase + t];
      compiled.writeOpsPerSec[p] = (meanOps / T) * writeFraction;
    }
    addUpperForecast(compiled.demand, p, part, context.regions, P, T);
  }
  return compiled;
}

/** Check partition p's own fields (all but its forecasts) and record them; returns its write fraction. */
function compilePartitionFields(
  compiled: CompiledPartitions,
  p: number,
  part: PlannerPartition,
  context: PartitionContext,
): number {
  const { options, cells } = context;
  const field = () => `partitions[${p}]`;
  if (typeof part.id !== 'string' || part.id === '') {
    throw new InputValidationError({ field: `${field()}.id` }, 'expected a non-empty string');
  }
  const partitionIndex = compiled.partitionIndex;
  if (partitionIndex.has(part.id)) {
    throw new InputValidationError({ field: `${field()}.id` }, `duplicate partition id '${part.id}'`);
  }
  partitionIndex.set(part.id, p);
  compiled.partitionIds[p] = part.id;
  const size = part.sizeBytes;
  if (!(size >= 0 && size < Number.POSITIVE_INFINITY)) {
    throw new InputValidationError(
      { field: `${field()}.sizeBytes` },
      `expected a number >= 0, found ${size}`,
    );
  }
  compiled.bytes[p] = size;
  const cell = cells.cellIndex.get(part.cell);
  if (cell === undefined) {
    throw new InputValidationError(
      { field: `${field()}.cell` },
      `unknown cell '${part.cell}'; expected one of ${cells.cellIds.join(', ')}`,
    );
  }
  compiled.origin[p] = cell;
  const wf = part.writeFraction ?? options.defaultWriteFraction;
  if (!(wf >= 0 && wf <= 1)) {
    throw new InputValidationError({ field: `${field()}.writeFraction` }, `expected [0, 1], found ${wf}`);
  }
  compiled.latencyWeight[p] =
    context.input.stepSeconds * context.dollarsPerMs * (1 - wf + wf * options.writeLatencyWeight);
  const aff = part.affinity;
  if (aff !== undefined && !(aff >= 0 && aff <= 1)) {
    throw new InputValidationError({ field: `${field()}.affinity` }, `expected [0, 1], found ${aff}`);
  }
  compiled.affinity[p] = aff ?? Number.NaN;
  const lastMoved = part.lastMovedAtMs;
  if (lastMoved !== undefined) {
    if (!Number.isFinite(lastMoved)) {
      throw new InputValidationError({ field: `${field()}.lastMovedAtMs` }, 'expected a finite timestamp');
    }
    if (lastMoved + context.limits.cooldownMs > context.input.nowMs) compiled.lock[p] = LOCK_COOLDOWN;
  }
  return wf;
}

/**
 * In-flight moves: the partition counts at its target (its `origin` becomes the target, and it is locked);
 * the move holds a slot on both cells.
 */
export function applyInFlightMoves(
  input: PlannerInput,
  partitions: CompiledPartitions,
  cells: CompiledCells,
): Pick<PlacementModel, 'inFlightCount' | 'inFlightBytes'> {
  const { partitionIndex, origin, lock } = partitions;
  const { cellIndex, cellIds } = cells;
  const inFlightCount = new Int32Array(cells.cellCount);
  let inFlightBytes = 0;
  const seenInFlight = new Set<number>();
  (input.inFlight ?? []).forEach((move, i) => {
    const field = `inFlight[${i}]`;
    const p = partitionIndex.get(move.partition);
    if (p === undefined) {
      throw new InputValidationError(
        { field: `${field}.partition` },
        `unknown partition '${move.partition}'`,
      );
    }
    if (seenInFlight.has(p)) {
      throw new InputValidationError(
        { field: `${field}.partition` },
        `partition '${move.partition}' is already in flight (a partition moves once at a time)`,
      );
    }
    seenInFlight.add(p);
    const from = cellIndex.get(move.from);
    const to = cellIndex.get(move.to);
    for (const [name, id, idx] of [
      ['from', move.from, from],
      ['to', move.to, to],
    ] as const) {
      if (idx === undefined) {
        throw new InputValidationError(
          { field: `${field}.${name}` },
          `unknown cell '${id}'; expected one of ${cellIds.join(', ')}`,
        );
      }
    }
    if (!(Number.isFinite(move.bytes) && move.bytes >= 0)) {
      throw new InputValidationError(
        { field: `${field}.bytes` },
        `expected a number >= 0, found ${move.bytes}`,
      );
    }
    inFlightCount[from as number]++;
    if (to !== from) inFlightCount[to as number]++;
    inFlightBytes += move.bytes;
    origin[p] = to as number;
    lock[p] = LOCK_IN_FLIGHT;
  });
  return { inFlightCount, inFlightBytes };
}
