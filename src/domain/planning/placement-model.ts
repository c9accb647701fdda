import { InputValidationError } from '../errors.ts';
import { compileCellLoad } from './cell-load.ts';
import { type CompiledColdCopies, compileColdCopies, markBusyColdCopies, moveBytes } from './cold-copies.ts';
import type { PlannerInput, PlannerLimits } from './movement-plan.ts';
import { hysteresisThresholdsOf, localityCostsOf, moveAndDrainPricesOf } from './partition-prices.ts';
import { CELL_DRAINING, compileCells, compileRegions } from './placement-cells.ts';
import { horizonOf } from './placement-demand.ts';
import { applyInFlightMoves, compilePartitions, LOCK_COOLDOWN, LOCK_NONE } from './placement-partitions.ts';
import { cellPairPenaltyMs, compileRelationships } from './placement-relationships.ts';
import {
  type PlannerOptions,
  type ResolvedPlannerOptions,
  resolveLimits,
  resolvePlannerOptions,
} from './planner-options.ts';
import { applyUpperForecasts } from './upper-load.ts';

/**
 * The planner input compiled once into struct-of-arrays form (typed arrays indexed by partition, cell,
 * region and step), validated on the way. The heuristic, the exact ILP and the cost evaluator all read it,
 * so they see the same numbers.
 *
 * The compiler is a sequence of steps, each in its own module: regions and cells (placement-cells.ts),
 * partitions and their forecasts (placement-partitions.ts, placement-demand.ts), in-flight moves,
 * relationships (placement-relationships.ts), the upper forecasts' load (upper-load.ts), the dollars per
 * partition (partition-prices.ts), the cells' load and limits (cell-load.ts) and the cold copies
 * (cold-copies.ts).
 */

export { BYTES_PER_GB } from './partition-prices.ts';
export { CELL_ACTIVE, CELL_DRAINING, CELL_PROVISIONING, CELL_RETIRED } from './placement-cells.ts';
export { LOCK_COOLDOWN, LOCK_IN_FLIGHT, LOCK_NONE } from './placement-partitions.ts';

export interface PlacementModel extends CompiledColdCopies {
  readonly input: PlannerInput;
  readonly options: ResolvedPlannerOptions;
  readonly limits: PlannerLimits;
  readonly nowMs: number;
  readonly stepMs: number;
  /** Forecast steps (the horizon). */
  readonly steps: number;
  readonly regionIds: readonly string[];
  readonly regionCount: number;
  /** Region × region latency in ms. */
  readonly latency: Float64Array;
  readonly cellIds: readonly string[];
  readonly cellIndex: ReadonlyMap<string, number>;
  readonly cellCount: number;
  readonly cellRegion: Int32Array;
  readonly cellCapOps: Float64Array;
  readonly cellCapBytes: Float64Array;
  readonly cellState: Uint8Array;
  /** 1 when the cell may receive partitions (ACTIVE or PROVISIONING). */
  readonly targetable: Uint8Array;
  /** Time until the cell can take data (ms from nowMs; 0 = ready). */
  readonly readyDelayMs: Float64Array;
  readonly partitionIds: readonly string[];
  readonly partitionIndex: ReadonlyMap<string, number>;
  readonly partitionCount: number;
  readonly bytes: Float64Array;
  /** Cell at the start of the plan: the current primary, or the target of an in-flight move. */
  readonly origin: Int32Array;
  readonly lock: Uint8Array;
  /** Profiler affinity in [0, 1]; NaN when not given. */
  readonly affinity: Float64Array;
  /**
   * Mean ops/s per partition, region and step, sparse: partition p's regions are entries
   * `demandStart[p]..demandStart[p+1]`; entry k is region `demandRegion[k]` with steps at `demandSeries[k * steps + t]`.
   */
  readonly demandStart: Int32Array;
  readonly demandRegion: Int32Array;
  readonly demandSeries: Float64Array;
  /**
   * Ops/s per partition × step that capacity plans on (hard limits, load penalty, capacity forecast): the
   * total mean, plus the partition's diversified share of the upper forecast when `forecastUpper` is given.
   */
  readonly demandTotal: Float64Array;
  /**
   * Ops/s per partition × step that the capacity forecast adds up per region: the total mean plus the whole gap
   * to the upper forecast, every partition at its upper quantile at once (`demandTotal` where no upper is given).
   * A region's shortfall is flagged on that sum whatever `upperCorrelation` packs cells on; the priced scale-out
   * then judges it on a diversified spread (scale-out.ts). The same array as `demandTotal` without upper forecasts.
   */
  readonly capacityDemand: Float64Array;
  /** Dollars per (ops/s × latency-ms) over one step, write-weighted, per partition. */
  readonly latencyWeight: Float64Array;
  /** Mean forecast write ops/s per partition over the horizon (a cold copy's delta grows at this rate). */
  readonly writeOpsPerSec: Float64Array;
  /** Locality cost of hosting the partition in each region for the whole horizon: `[p * regionCount + g]`. */
  readonly locFull: Float64Array;
  /** Relationships as a symmetric adjacency list (CSR): partners of p at `relStart[p]..relStart[p+1]`. */
  readonly relStart: Int32Array;
  readonly relPartner: Int32Array;
  /** Dollars per penalty-ms over the horizon for that pair (co-access requests × latency value). */
  readonly relWeight: Float64Array;
  /** The same relationships once each (a < b), merged. */
  readonly pairA: Int32Array;
  readonly pairB: Int32Array;
  readonly pairWeight: Float64Array;
  readonly inFlightCount: Int32Array;
  readonly inFlightBytes: number;
  /** Dollars to move the partition (bytes × price per GB + per-move overhead). */
  readonly transferCost: Float64Array;
  /** Dollars the partition costs while it stays on a DRAINING/RETIRED cell. */
  readonly drainValue: Float64Array;
  /** Minimum net benefit of a move of this partition (hysteresis). */
  readonly threshold: Float64Array;
  /** Load per cell × step with no planned move. */
  readonly initialLoad: Float64Array;
  readonly initialBytes: Float64Array;
  /** Hard limits: headroom × capacity, or the current value where a cell is already above it (a plan may not make it worse). */
  readonly loadLimit: Float64Array;
  readonly bytesLimit: Float64Array;
  /** Soft load penalty: knee utilizations and dollars per (ops/s above the knee) per step. */
  readonly kneeUtilization: Float64Array;
  readonly kneeSlope: Float64Array;
  /** Knee loads per cell, `kneeLoad[c * knees + j]` = utilization j × capacity of c. */
  readonly kneeLoad: Float64Array;
  /**
   * Per cell, the first step whose forecast load (no plan) is above `hotMoveUtilization` × capacity
   * (`steps` when none): a non-urgent move running into that step from or to the cell is deferred.
   */
  readonly firstHotStep: Int32Array;
  /** Per cell, 1 when its forecast load (no plan) exceeds headroom × capacity at some step: moves out are urgent. */
  readonly overloaded: Uint8Array;
}

/** Validate a PlannerInput and compile it. Errors name the field, e.g. `partitions[3].forecast.eu-west-1[5]`. */
export function compilePlacementModel(input: PlannerInput, plannerOptions?: PlannerOptions): PlacementModel {
  const topology = input.topology;
  const options = resolvePlannerOptions(plannerOptions, topology.alarmScaling?.provisionMinutes);
  const limits = resolveLimits(input.limits);
  validateClockAndTransfer(input);
  const stepSeconds = input.stepSeconds;
  const dollarsPerMs = options.dollarsPerLatencyMsPerMillionRequests / 1e6;

  const regions = compileRegions(topology);
  const cells = compileCells(input, regions);
  const steps = horizonOf(input);
  const partitions = compilePartitions({ input, options, limits, regions, cells, steps, dollarsPerMs });
  const demand = partitions.demand;
  const inFlight = applyInFlightMoves(input, partitions, cells);
  const relationships = compileRelationships(
    input.relationships ?? [],
    partitions.partitionIndex,
    steps * stepSeconds,
    dollarsPerMs,
  );
  // After in-flight moves and relationships: upper shares split at the starting placement, by related group.
  const capacityDemand = applyUpperForecasts(input, demand, {
    partitionIndex: partitions.partitionIndex,
    origin: partitions.origin,
    relStart: relationships.relStart,
    relPartner: relationships.relPartner,
    cellCount: cells.cellCount,
    steps,
    upperCorrelation: options.upperCorrelation,
  });

  // The validated input in model form; the derived constants below read it.
  const compiled = {
    input,
    options,
    limits,
    capacityDemand,
    nowMs: input.nowMs,
    stepMs: stepSeconds * 1000,
    steps,
    regionIds: regions.regionIds,
    regionCount: regions.regionCount,
    latency: regions.latency,
    ...cells,
    partitionIds: partitions.partitionIds,
    partitionIndex: partitions.partitionIndex,
    partitionCount: partitions.partitionCount,
    bytes: partitions.bytes,
    origin: partitions.origin,
    lock: partitions.lock,
    affinity: partitions.affinity,
    demandStart: demand.demandStart,
    demandRegion: demand.demandRegion,
    demandSeries: demand.demandSeries,
    demandTotal: demand.demandTotal,
    latencyWeight: partitions.latencyWeight,
    writeOpsPerSec: partitions.writeOpsPerSec,
    ...relationships,
    ...inFlight,
  };
  const locFull = localityCostsOf(compiled);
  const prices = moveAndDrainPricesOf(compiled);
  const load = compileCellLoad(compiled, stepSeconds, dollarsPerMs);
  const threshold = hysteresisThresholdsOf(compiled, locFull);
  const coldCopies = compileColdCopies(input.partitions, {
    nowMs: input.nowMs,
    cellIndex: cells.cellIndex,
    cellIds: cells.cellIds,
    origin: partitions.origin,
    bytes: partitions.bytes,
    writeOpsPerSec: partitions.writeOpsPerSec,
    options,
  });
  markBusyColdCopies(
    coldCopies,
    { steps, initialLoad: load.initialLoad, demandTotal: demand.demandTotal, cellCapOps: cells.cellCapOps },
    options.coldCopyDiscountUtilization,
  );
  return { ...compiled, ...coldCopies, locFull, ...prices, threshold, ...load };
}

/** Check the input's clock (`nowMs`, `stepSeconds`) and the topology's migration bandwidth and transfer price. */
function validateClockAndTransfer(input: PlannerInput): void {
  const topology = input.topology;
  if (!Number.isFinite(input.nowMs)) {
    throw new InputValidationError({ field: 'nowMs' }, `expected a finite timestamp, found ${input.nowMs}`);
  }
  if (!(Number.isFinite(input.stepSeconds) && input.stepSeconds > 0)) {
    throw new InputValidationError(
      { field: 'stepSeconds' },
      `expected a number > 0, found ${input.stepSeconds}`,
    );
  }
  if (!(topology.migrationBandwidthBytesPerSec > 0)) {
    throw new InputValidationError(
      { field: 'topology.migrationBandwidthBytesPerSec' },
      `expected a number > 0, found ${topology.migrationBandwidthBytesPerSec}`,
    );
  }
  if (!(topology.transferCostPerGB >= 0)) {
    throw new InputValidationError(
      { field: 'topology.transferCostPerGB' },
      `expected a number >= 0, found ${topology.transferCostPerGB}`,
    );
  }
}

/**
 * A move p → c runs into a hot step of its source or target (forecast above `hotMoveUtilization`), at full
 * bandwidth, and is not urgent (p must leave a draining cell, or its source is forecast over headroom).
 * Such moves are deferred: the copy load would land on a cell at its peak.
 */
export function isHotMove(model: PlacementModel, p: number, c: number): boolean {
  const o = model.origin[p];
  if (model.overloaded[o] === 1 || model.cellState[o] >= CELL_DRAINING) return false;
  const steps = Math.ceil(
    (model.options.moveSetupMs +
      (moveBytes(model, p, c) * 1000) / model.input.topology.migrationBandwidthBytesPerSec) /
      model.stepMs,
  );
  return model.firstHotStep[o] < steps || model.firstHotStep[c] < steps;
}

/** Latency-ms equivalent charged per co-access request when two related partitions sit on cells a and b. */
export function pairPenaltyMs(model: PlacementModel, a: number, b: number): number {
  return cellPairPenaltyMs(
    a,
    b,
    model.cellRegion,
    model.latency,
    model.regionCount,
    model.options.crossCellPenaltyMs,
  );
}

/** True when the partition sits on a cell that is going away (it must leave). */
export function mustLeave(model: PlacementModel, p: number): boolean {
  return model.cellState[model.origin[p]] >= CELL_DRAINING;
}

/** May this partition move in this plan? In-flight never; cooling down only off a draining cell. */
export function isMovable(model: PlacementModel, p: number): boolean {
  const lock = model.lock[p];
  if (lock === LOCK_NONE) return true;
  if (lock === LOCK_COOLDOWN) return mustLeave(model, p);
  return false;
}
