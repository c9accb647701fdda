import { InputValidationError } from '../errors.ts';
import type { PlannerInput, PlannerPartition } from './movement-plan.ts';
import type { CompiledRegions } from './placement-cells.ts';
import type { PlacementModel } from './placement-model.ts';

/**
 * The partitions' forecasts compiled into the model's sparse demand arrays (mean ops/s per partition, region
 * and step), their totals per partition and step, and the totals of the upper forecasts. Filled one partition
 * at a time as the partitions compile; errors name the field.
 */

export interface DemandArrays
  extends Pick<PlacementModel, 'demandStart' | 'demandRegion' | 'demandSeries' | 'demandTotal'> {
  /** Σ over regions of `forecastUpper` per partition × step; NaN row = no upper forecast given. */
  upperTotal: Float64Array | undefined;
}

/** The horizon: the common length of every forecast array (0 when there is none). */
export function horizonOf(input: PlannerInput): number {
  for (const part of input.partitions) {
    for (const region in part.forecast) return part.forecast[region].length;
  }
  return 0;
}

/** Empty demand arrays sized for every partition's forecast regions over `steps`. */
export function allocateDemand(partitions: readonly PlannerPartition[], steps: number): DemandArrays {
  const P = partitions.length;
  const T = steps;
  const demandStart = new Int32Array(P + 1);
  for (let p = 0; p < P; p++) {
    let n = 0;
    for (const _ in partitions[p].forecast) n++;
    demandStart[p + 1] = demandStart[p] + n;
  }
  return {
    demandStart,
    demandRegion: new Int32Array(demandStart[P]),
    demandSeries: new Float64Array(demandStart[P] * T),
    demandTotal: new Float64Array(P * T),
    upperTotal: undefined,
  };
}

/** Check partition p's mean `forecast` and add it to the demand arrays (its entries and its total). */
export function addMeanForecast(
  demand: DemandArrays,
  p: number,
  forecast: PlannerPartition['forecast'],
  regions: CompiledRegions,
  T: number,
): void {
  const { demandRegion, demandSeries, demandTotal } = demand;
  let k = demand.demandStart[p];
  const totalBase = p * T;
  for (const region in forecast) {
    const r = regions.regionIndex.get(region);
    if (r === undefined) {
      throw new InputValidationError(
        { field: `partitions[${p}].forecast.${region}` },
        `unknown region '${region}'; expected one of ${regions.regionIds.join(', ')}`,
      );
    }
    const series = forecast[region];
    if (series.length !== T) {
      throw new InputValidationError(
        { field: `partitions[${p}].forecast.${region}` },
        `expected ${T} steps like the other forecasts, found ${series.length}`,
      );
    }
    demandRegion[k] = r;
    const base = k * T;
    for (let t = 0; t < T; t++) {
      const v = series[t];
      if (!(v >= 0 && v < Number.POSITIVE_INFINITY)) {
        throw new InputValidationError(
          { field: `partitions[${p}].forecast.${region}[${t}]` },
          `expected a finite number of ops/s >= 0, found ${v}`,
        );
      }
      demandSeries[base + t] = v;
      demandTotal[totalBase + t] += v;
    }
    k++;
  }
}

/**
 * Check partition p's `forecastUpper` and record its total per step in `upperTotal`: the mean total, plus
 * each given region's upper forecast in place of its mean. Call after `addMeanForecast` for p.
 */
export function addUpperForecast(
  demand: DemandArrays,
  p: number,
  part: PlannerPartition,
  regions: CompiledRegions,
  P: number,
  T: number,
): void {
  const upper = part.forecastUpper;
  if (upper === undefined) return;
  const forecast = part.forecast;
  const demandTotal = demand.demandTotal;
  const totalBase = p * T;
  demand.upperTotal ??= new Float64Array(P * T).fill(Number.NaN);
  const upperTotal = demand.upperTotal;
  for (let t = 0; t < T; t++) upperTotal[totalBase + t] = demandTotal[totalBase + t];
  for (const region in upper) {
    const mean = forecast[region];
    if (!regions.regionIndex.has(region)) {
      throw new InputValidationError(
        { field: `partitions[${p}].forecastUpper.${region}` },
        `unknown region '${region}'; expected one of ${regions.regionIds.join(', ')}`,
      );
    }
    const series = upper[region];
    if (series.length !== T) {
      throw new InputValidationError(
        { field: `partitions[${p}].forecastUpper.${region}` },
        `expected ${T} steps like the forecasts, found ${series.length}`,
      );
    }
    for (let t = 0; t < T; t++) {
      const v = series[t];
      if (!(v >= 0 && v < Number.POSITIVE_INFINITY)) {
        throw new InputValidationError(
          { field: `partitions[${p}].forecastUpper.${region}[${t}]` },
          `expected a finite number of ops/s >= 0, found ${v}`,
        );
      }
      upperTotal[totalBase + t] += v - (mean ? mean[t] : 0);
    }
  }
}
