import { InputValidationError } from '../errors.ts';
import type { ColdCopyDrop, ColdCopyDropReason, PlannerPartition } from './movement-plan.ts';
import type { ResolvedPlannerOptions } from './planner-options.ts';

/**
 * Retained cold copies in the planner: what a move to a copy ships (the delta), whether a move keeps its source
 * as a copy, and which copies to garbage-collect. The simulator's policies and the planner Lambda call the same
 * planner, so both decide here.
 *
 * The dollars are the planner's own: a move is priced at the topology's transfer price per GB plus a fixed
 * overhead, so a move back to a fresh copy saves the transfer of the bytes it does not ship. A copy costs its
 * partition's full size at `storageCostPerGBMonth` for as long as it is kept.
 */

const MONTH_MS = 30 * 86_400_000;
const BYTES_PER_GB = 2 ** 30;

/** The cold copies of every partition, compiled (CSR by partition, like the rest of the model). */
export interface CompiledColdCopies {
  /** Copies of p at `coldStart[p]..coldStart[p+1]`. */
  readonly coldStart: Int32Array;
  readonly coldCell: Int32Array;
  readonly coldWatermarkMs: Float64Array;
  /** Bytes a move to the copy's cell ships: measured, or estimated from the write rate since the watermark. */
  readonly coldDeltaBytes: Float64Array;
  /**
   * 1 when the planner prices a move to the copy as a delta: the copy's cell, with the partition on it, stays
   * within `coldCopyDiscountUtilization` of its capacity over the horizon (see `markBusyColdCopies`).
   */
  readonly coldDiscount: Uint8Array;
}

/** What the compiler of the model knows when it compiles the copies. */
export interface ColdCopyContext {
  readonly nowMs: number;
  readonly cellIndex: ReadonlyMap<string, number>;
  readonly cellIds: readonly string[];
  /** Cell each partition starts the plan on (a copy there is becoming its primary: ignored). */
  readonly origin: Int32Array;
  readonly bytes: Float64Array;
  /** Forecast mean write ops/s per partition. */
  readonly writeOpsPerSec: Float64Array;
  readonly options: ResolvedPlannerOptions;
}

/** Expected bytes of a copy's delta after `elapsedMs` of writes at `writeOpsPerSec`: at most the partition. */
export function estimatedDeltaBytes(
  writeOpsPerSec: number,
  elapsedMs: number,
  sizeBytes: number,
  bytesPerWrite: number,
): number {
  return Math.min(sizeBytes, (writeOpsPerSec * Math.max(0, elapsedMs) * bytesPerWrite) / 1000);
}

/** Validate and compile `partitions[].coldCopies`; errors name the field. */
export function compileColdCopies(
  partitions: readonly PlannerPartition[],
  context: ColdCopyContext,
): CompiledColdCopies {
  const P = partitions.length;
  const coldStart = new Int32Array(P + 1);
  const cells: number[] = [];
  const watermarks: number[] = [];
  const deltas: number[] = [];
  for (let p = 0; p < P; p++) {
    coldStart[p] = cells.length;
    const copies = partitions[p].coldCopies;
    if (!copies) continue;
    const primary = context.cellIndex.get(partitions[p].cell);
    copies.forEach((copy, i) => {
      const field = `partitions[${p}].coldCopies[${i}]`;
      const c = context.cellIndex.get(copy.cell);
      if (c === undefined) {
        throw new InputValidationError(
          { field: `${field}.cell` },
          `unknown cell '${copy.cell}'; expected one of ${context.cellIds.join(', ')}`,
        );
      }
      if (!Number.isFinite(copy.watermarkMs)) {
        throw new InputValidationError(
          { field: `${field}.watermarkMs` },
          `expected a finite timestamp, found ${copy.watermarkMs}`,
        );
      }
      if (copy.deltaBytes !== undefined && !(copy.deltaBytes >= 0 && Number.isFinite(copy.deltaBytes))) {
        throw new InputValidationError(
          { field: `${field}.deltaBytes` },
          `expected a number >= 0, found ${copy.deltaBytes}`,
        );
      }
      // A copy on the primary (or on an in-flight move's target) is becoming the primary: nothing to plan.
      if (c === primary || c === context.origin[p] || cells.lastIndexOf(c) >= coldStart[p]) return;
      const size = context.bytes[p];
      cells.push(c);
      watermarks.push(copy.watermarkMs);
      deltas.push(
        Math.min(
          size,
          copy.deltaBytes ??
            estimatedDeltaBytes(
              context.writeOpsPerSec[p],
              context.nowMs - copy.watermarkMs,
              size,
              context.options.deltaBytesPerWrite,
            ),
        ),
      );
    });
  }
  coldStart[P] = cells.length;
  return {
    coldStart,
    coldCell: Int32Array.from(cells),
    coldWatermarkMs: Float64Array.from(watermarks),
    coldDeltaBytes: Float64Array.from(deltas),
    coldDiscount: new Uint8Array(cells.length).fill(1),
  };
}

/**
 * Clear `coldDiscount` of every copy whose cell, with the partition added, goes above
 * `coldCopyDiscountUtilization` × capacity at some step of the forecast before the plan (`initialLoad`, by cell
 * and step; `demandTotal`, by partition and step).
 */
export function markBusyColdCopies(
  copies: CompiledColdCopies,
  load: {
    readonly steps: number;
    readonly initialLoad: Float64Array;
    readonly demandTotal: Float64Array;
    readonly cellCapOps: Float64Array;
  },
  utilization: number,
): void {
  if (!Number.isFinite(utilization)) return;
  const T = load.steps;
  const P = copies.coldStart.length - 1;
  for (let p = 0; p < P; p++) {
    for (let k = copies.coldStart[p]; k < copies.coldStart[p + 1]; k++) {
      const c = copies.coldCell[k];
      const limit = utilization * load.cellCapOps[c] * (1 + 1e-9);
      for (let t = 0; t < T; t++) {
        if (load.initialLoad[c * T + t] + load.demandTotal[p * T + t] > limit) {
          copies.coldDiscount[k] = 0;
          break;
        }
      }
    }
  }
}

/** The parts of the placement model the copy rules read. */
export interface ColdCopyModel extends CompiledColdCopies {
  readonly nowMs: number;
  readonly options: ResolvedPlannerOptions;
  readonly input: { readonly topology: { readonly transferCostPerGB: number } };
  readonly partitionIds: readonly string[];
  readonly partitionCount: number;
  readonly cellIds: readonly string[];
  readonly cellCount: number;
  readonly cellRegion: Int32Array;
  readonly targetable: Uint8Array;
  readonly bytes: Float64Array;
  readonly bytesLimit: Float64Array;
  readonly transferCost: Float64Array;
  readonly writeOpsPerSec: Float64Array;
  readonly steps: number;
  readonly demandStart: Int32Array;
  readonly demandRegion: Int32Array;
  readonly demandSeries: Float64Array;
}

/** Index of p's copy on cell c, or -1. */
export function coldCopyOn(model: CompiledColdCopies, p: number, c: number): number {
  for (let k = model.coldStart[p]; k < model.coldStart[p + 1]; k++) if (model.coldCell[k] === c) return k;
  return -1;
}

/**
 * Bytes the planner counts for a move of p to cell c (its transfer, copy time and byte budget): the delta when c
 * holds a fresh-enough copy of p on a cell that is not busy (`coldDiscount`), else all of p.
 */
export function moveBytes(model: ColdCopyModel, p: number, c: number): number {
  if (model.coldStart[p] === model.coldStart[p + 1]) return model.bytes[p];
  const k = coldCopyOn(model, p, c);
  return k < 0 || model.coldDiscount[k] !== 1 || !isFresh(model, p, k)
    ? model.bytes[p]
    : model.coldDeltaBytes[k];
}

/** Bytes a move of p to cell c actually ships: the delta when c holds a fresh-enough copy of p, busy or not. */
export function shippedBytes(model: ColdCopyModel, p: number, c: number): number {
  if (model.coldStart[p] === model.coldStart[p + 1]) return model.bytes[p];
  const k = coldCopyOn(model, p, c);
  return k < 0 || !isFresh(model, p, k) ? model.bytes[p] : model.coldDeltaBytes[k];
}

/** Dollars of a move of p to c: the bytes it ships at the transfer price, plus the per-move overhead. */
export function moveTransferCost(model: ColdCopyModel, p: number, c: number): number {
  if (model.coldStart[p] === model.coldStart[p + 1]) return model.transferCost[p];
  const shipped = moveBytes(model, p, c);
  if (shipped === model.bytes[p]) return model.transferCost[p];
  return (
    (shipped / BYTES_PER_GB) * model.input.topology.transferCostPerGB + model.options.moveOverheadDollars
  );
}

/** The cheapest move of p anywhere (an upper bound of any move's saving on transfer). */
export function cheapestTransferCost(model: ColdCopyModel, p: number): number {
  let best = model.transferCost[p];
  for (let k = model.coldStart[p]; k < model.coldStart[p + 1]; k++) {
    best = Math.min(best, moveTransferCost(model, p, model.coldCell[k]));
  }
  return best;
}

/** A copy is fresh enough to move to while it is young enough and its delta is a small enough share. */
function isFresh(model: ColdCopyModel, p: number, k: number): boolean {
  return dropReasonOf(model, p, k) === undefined;
}

/** Why copy k of p must go regardless of the budget, or undefined. */
function dropReasonOf(model: ColdCopyModel, p: number, k: number): ColdCopyDropReason | undefined {
  if (model.targetable[model.coldCell[k]] !== 1) return 'cellLeaving';
  if (model.nowMs - model.coldWatermarkMs[k] > model.options.coldCopyMaxAgeMs) return 'age';
  if (model.coldDeltaBytes[k] > model.options.coldCopyMaxDeltaShare * model.bytes[p]) return 'stale';
  return undefined;
}

/** The retain decision of one move, and the numbers behind it. */
export interface RetainDecision {
  readonly retain: boolean;
  /** Probability that the partition moves back to the source's region within the copy's useful life. */
  readonly returnProbability: number;
  /** Expected transfer dollars the copy saves (the move back ships the delta, not the partition). */
  readonly expectedSavingDollars: number;
  /** Expected storage dollars of keeping the copy until the move back, or until it ages out. */
  readonly expectedStorageDollars: number;
}

const NO_RETAIN: RetainDecision = {
  retain: false,
  returnProbability: 0,
  expectedSavingDollars: 0,
  expectedStorageDollars: 0,
};

/**
 * Keep the source of p's move from cell `from` to cell `to` as a cold copy?
 *
 * The probability of a move back comes from the forecast: the demand the source's region still sends over the
 * horizon, relative to the target's, `min(1, share(source region) / share(target region))`. A partition that
 * follows a daily regional peak leaves a region that still sends it nearly as much as the one it goes to, and
 * comes back with the next peak; a misplaced partition leaves a region that sends it nothing, and stays away.
 * A move inside one region is load-driven, and nothing in the forecast says when the load comes back: no copy.
 *
 * Retain when p × (transfer of the bytes the move back does not ship, with the delta grown over
 * `coldCopyReturnMs`) exceeds the copy's storage until the move back (p × `coldCopyReturnMs`) or until it ages
 * out ((1 − p) × `coldCopyMaxAgeMs`). The fixed per-move overhead is paid either way and cancels.
 */
export function decideRetain(model: ColdCopyModel, p: number, from: number, to: number): RetainDecision {
  const options = model.options;
  if (!options.retainColdCopies) return NO_RETAIN;
  const source = model.cellRegion[from];
  const target = model.cellRegion[to];
  if (source === target || model.targetable[from] !== 1) return NO_RETAIN;
  let sourceDemand = 0;
  let targetDemand = 0;
  const T = model.steps;
  for (let k = model.demandStart[p]; k < model.demandStart[p + 1]; k++) {
    const region = model.demandRegion[k];
    if (region !== source && region !== target) continue;
    let sum = 0;
    for (let t = 0; t < T; t++) sum += model.demandSeries[k * T + t];
    if (region === source) sourceDemand += sum;
    else targetDemand += sum;
  }
  if (!(sourceDemand > 0)) return NO_RETAIN;
  const returnProbability = targetDemand > 0 ? Math.min(1, sourceDemand / targetDemand) : 1;
  const size = model.bytes[p];
  const returnMs = options.coldCopyReturnMs;
  const delta = estimatedDeltaBytes(model.writeOpsPerSec[p], returnMs, size, options.deltaBytesPerWrite);
  const expectedSavingDollars =
    (returnProbability * (size - delta) * model.input.topology.transferCostPerGB) / BYTES_PER_GB;
  const keptMs = returnProbability * returnMs + (1 - returnProbability) * options.coldCopyMaxAgeMs;
  const expectedStorageDollars = ((size / BYTES_PER_GB) * options.storageCostPerGBMonth * keptMs) / MONTH_MS;
  return {
    retain: expectedSavingDollars > expectedStorageDollars && size > 0,
    returnProbability,
    expectedSavingDollars,
    expectedStorageDollars,
  };
}

/**
 * The copies to garbage-collect after the plan, given where every partition ends up (`cellOf`) and the
 * primaries' bytes per cell after the plan (`primaryBytes`):
 * - a copy on a cell that is leaving (DRAINING/RETIRED), older than `coldCopyMaxAgeMs`, or whose delta is above
 *   `coldCopyMaxDeltaShare` of its partition (stale: a move back would ship nearly all of it);
 * - then, oldest first, copies beyond the storage budget: all copies within `coldCopyBudgetShare` of the
 *   primaries' bytes and, with the primaries, within `storedBytesCeilingShare` of full replication (primaries ×
 *   the regions with a targetable cell), and each cell's primaries and copies within its byte limit (headroom ×
 *   capacity).
 * A copy the plan moves its partition onto becomes the primary and is never dropped.
 */
export function planColdCopyDrops(
  model: ColdCopyModel,
  cellOf: Int32Array,
  primaryBytes: Float64Array,
): ColdCopyDrop[] {
  const drops: ColdCopyDrop[] = [];
  const kept: { p: number; k: number }[] = [];
  for (let p = 0; p < model.partitionCount; p++) {
    for (let k = model.coldStart[p]; k < model.coldStart[p + 1]; k++) {
      if (model.coldCell[k] === cellOf[p]) continue;
      const reason = dropReasonOf(model, p, k);
      if (reason) drops.push(dropOf(model, p, k, reason));
      else kept.push({ p, k });
    }
  }
  kept.sort(
    (a, b) =>
      model.coldWatermarkMs[a.k] - model.coldWatermarkMs[b.k] ||
      (model.partitionIds[a.p] < model.partitionIds[b.p] ? -1 : 1) ||
      model.coldCell[a.k] - model.coldCell[b.k],
  );
  let primaryTotal = 0;
  for (let p = 0; p < model.partitionCount; p++) primaryTotal += model.bytes[p];
  const cellBytes = Float64Array.from(primaryBytes);
  let coldTotal = 0;
  for (const { p, k } of kept) {
    coldTotal += model.bytes[p];
    cellBytes[model.coldCell[k]] += model.bytes[p];
  }
  const budget = coldCopyBudget(model, primaryTotal);
  for (const { p, k } of kept) {
    const c = model.coldCell[k];
    const overCell = cellBytes[c] > model.bytesLimit[c];
    if (coldTotal <= budget && !overCell) continue;
    drops.push(dropOf(model, p, k, 'budget'));
    coldTotal -= model.bytes[p];
    cellBytes[c] -= model.bytes[p];
  }
  return drops;
}

/** Bytes all cold copies may hold: the share of the primaries, capped by the stored-bytes ceiling. */
function coldCopyBudget(model: ColdCopyModel, primaryTotal: number): number {
  const regions = new Set<number>();
  for (let c = 0; c < model.cellCount; c++) if (model.targetable[c] === 1) regions.add(model.cellRegion[c]);
  const underCeiling = (model.options.storedBytesCeilingShare * regions.size - 1) * primaryTotal;
  // A relative 1e-9 of slack: 0.6 × 2 − 1 is 0.19999999999999996 in doubles, which would drop a copy that fits.
  return Math.max(0, Math.min(model.options.coldCopyBudgetShare * primaryTotal, underCeiling) * (1 + 1e-9));
}

function dropOf(model: ColdCopyModel, p: number, k: number, reason: ColdCopyDropReason): ColdCopyDrop {
  return {
    partition: model.partitionIds[p],
    cell: model.cellIds[model.coldCell[k]],
    bytes: model.bytes[p],
    reason,
  };
}
