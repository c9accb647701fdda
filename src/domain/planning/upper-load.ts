import { DisjointSets } from '../disjoint-sets.ts';
import { InputValidationError } from '../errors.ts';
import type { PlannerInput } from './movement-plan.ts';
import type { DemandArrays } from './placement-demand.ts';

/**
 * The load capacity plans on when the input gives upper forecasts: the capacity forecast's sum of the upper
 * quantiles (`capacityDemand`), and each partition's diversified share of its cell's upper load added to
 * `demandTotal` (addUpperContributions).
 */

/** What the upper load is compiled against: the model's partitions, relationships, cells and steps. */
export interface UpperLoadContext {
  readonly partitionIndex: ReadonlyMap<string, number>;
  readonly origin: Int32Array;
  readonly relStart: Int32Array;
  readonly relPartner: Int32Array;
  readonly cellCount: number;
  readonly steps: number;
  /** The `upperCorrelation` option, used unless the input carries a measured one. */
  readonly upperCorrelation: number;
}

/**
 * Apply the upper forecasts to the demand: returns the model's `capacityDemand` (the array `demandTotal`
 * itself without upper forecasts), then adds the upper contributions to `demandTotal` in place. The input's
 * `errorGroups` and `upperCorrelation` are checked only when some partition gives an upper forecast.
 */
export function applyUpperForecasts(
  input: PlannerInput,
  demand: DemandArrays,
  context: UpperLoadContext,
): Float64Array {
  const { upperTotal, demandTotal } = demand;
  if (!upperTotal) return demandTotal;
  const capacityDemand = capacityDemandOf(upperTotal, demandTotal, context.steps);
  addUpperContributions(
    upperTotal,
    demandTotal,
    context.origin,
    context.relStart,
    context.relPartner,
    errorGroupsOf(input, context.partitionIndex),
    context.cellCount,
    context.steps,
    measuredCorrelationOf(input) ?? context.upperCorrelation,
  );
  return capacityDemand;
}

/**
 * Per partition × step, the mean total, or where the partition gives an upper forecast the larger of it and
 * the upper total.
 */
function capacityDemandOf(upperTotal: Float64Array, demandTotal: Float64Array, T: number): Float64Array {
  const capacityDemand = new Float64Array(demandTotal.length);
  for (let i = 0; i < capacityDemand.length; i++) {
    const u = upperTotal[i - (i % T)];
    capacityDemand[i] = Number.isNaN(u) ? demandTotal[i] : Math.max(demandTotal[i], upperTotal[i]);
  }
  return capacityDemand;
}

/** The input's `errorGroups` as each partition's group (-1: none), checked. */
function errorGroupsOf(
  input: PlannerInput,
  partitionIndex: ReadonlyMap<string, number>,
): Int32Array | undefined {
  const groups = input.errorGroups;
  if (groups === undefined) return undefined;
  const out = new Int32Array(partitionIndex.size).fill(-1);
  groups.forEach((members, g) => {
    members.forEach((id, k) => {
      const p = partitionIndex.get(id);
      const field = `errorGroups[${g}][${k}]`;
      if (p === undefined) throw new InputValidationError({ field }, `unknown partition '${id}'`);
      if (out[p] >= 0) throw new InputValidationError({ field }, `partition '${id}' is in two groups`);
      out[p] = g;
    });
  });
  return out;
}

/** The input's measured `upperCorrelation`, checked, or undefined when the caller did not measure one. */
function measuredCorrelationOf(input: PlannerInput): number | undefined {
  const rho = input.upperCorrelation;
  if (rho === undefined) return undefined;
  if (!(rho >= 0 && rho <= 1)) {
    throw new InputValidationError({ field: 'upperCorrelation' }, `expected [0, 1], found ${rho}`);
  }
  return rho;
}

/** Groups whose forecast errors burst together on one cell: each partition's group, and each group's cell. */
interface BurstGroups {
  readonly groupOf: Int32Array;
  readonly groupCell: Int32Array;
}

/**
 * Related groups: connected components of the relationships, joined by the input's measured `errorGroups`,
 * split by cell (at the current placement). Groups are numbered in order of their first partition.
 */
function burstGroupsOf(
  origin: Int32Array,
  relStart: Int32Array,
  relPartner: Int32Array,
  errorGroupOf: Int32Array | undefined,
  C: number,
): BurstGroups {
  const P = origin.length;
  const sets = new DisjointSets(P);
  for (let p = 0; p < P; p++) {
    for (let k = relStart[p]; k < relStart[p + 1]; k++) sets.union(p, relPartner[k]);
  }
  if (errorGroupOf) {
    const first = new Map<number, number>();
    for (let p = 0; p < P; p++) {
      const g = errorGroupOf[p];
      if (g < 0) continue;
      const q = first.get(g);
      if (q === undefined) first.set(g, p);
      else sets.union(p, q);
    }
  }
  const groupOf = new Int32Array(P);
  const groupIndex = new Map<number, number>();
  for (let p = 0; p < P; p++) {
    const key = sets.find(p) * C + origin[p];
    let g = groupIndex.get(key);
    if (g === undefined) {
      g = groupIndex.size;
      groupIndex.set(key, g);
    }
    groupOf[p] = g;
  }
  const groupCell = new Int32Array(groupIndex.size);
  for (const [key, g] of groupIndex) groupCell[g] = key % C;
  return { groupOf, groupCell };
}

/**
 * Capacity demand from the upper forecasts. A cell's upper load is mean + f(G), where G_g is the summed gap
 * (upper − mean) of group g on the cell (related partitions, and partitions in one of the input's measured
 * `errorGroups`, burst together: their gaps add) and
 * f(G) = √((1 − ρ) Σ G_g² + ρ (Σ G_g)²), ρ = `upperCorrelation` between groups (0: independent errors
 * diversify, √n; 1: the gaps add up, the sum of the upper quantiles). f is split over the partitions by
 * Euler allocation (p in group g gets gap_p × ((1 − ρ) G_g + ρ Σ G) / f, which sums to f), at the current
 * placement; a partition carries its share when it moves. The load stays additive, so the heuristic, the
 * ILP and the evaluator share it exactly: exact for the current placement, linearized for moved partitions.
 */
function addUpperContributions(
  upperTotal: Float64Array,
  demandTotal: Float64Array,
  origin: Int32Array,
  relStart: Int32Array,
  relPartner: Int32Array,
  errorGroupOf: Int32Array | undefined,
  C: number,
  T: number,
  correlation: number,
): void {
  const P = origin.length;
  const { groupOf, groupCell } = burstGroupsOf(origin, relStart, relPartner, errorGroupOf, C);
  const gap = new Float64Array(P * T);
  const groupGap = new Float64Array(groupCell.length * T);
  for (let p = 0; p < P; p++) {
    if (Number.isNaN(upperTotal[p * T])) continue;
    for (let t = 0; t < T; t++) {
      const d = Math.max(0, upperTotal[p * T + t] - demandTotal[p * T + t]);
      gap[p * T + t] = d;
      groupGap[groupOf[p] * T + t] += d;
    }
  }
  const variance = new Float64Array(C * T);
  for (let g = 0; g < groupCell.length; g++) {
    for (let t = 0; t < T; t++) variance[groupCell[g] * T + t] += groupGap[g * T + t] ** 2;
  }
  const linear = new Float64Array(C * T);
  for (let g = 0; g < groupCell.length; g++) {
    for (let t = 0; t < T; t++) linear[groupCell[g] * T + t] += groupGap[g * T + t];
  }
  const rho = correlation;
  for (let i = 0; i < C * T; i++) variance[i] = (1 - rho) * variance[i] + rho * linear[i] ** 2;
  for (let p = 0; p < P; p++) {
    const g = groupOf[p];
    const c = origin[p];
    for (let t = 0; t < T; t++) {
      const v = variance[c * T + t];
      if (v > 0)
        demandTotal[p * T + t] +=
          (gap[p * T + t] * ((1 - rho) * groupGap[g * T + t] + rho * linear[c * T + t])) / Math.sqrt(v);
    }
  }
}
