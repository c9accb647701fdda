import type { PlacementModel } from './placement-model.ts';
import { cellPairPenaltyMs } from './placement-relationships.ts';

/**
 * The dollars the objective prices each partition with, computed once per model: the locality cost of each
 * region over the horizon, what a move of it costs, what it costs while it stays on a draining cell, and the
 * least benefit a move of it must bring (hysteresis).
 */

/** Bytes in a GB for `transferCostPerGB` (AWS bills data transfer per GiB). */
export const BYTES_PER_GB = 2 ** 30;

/** Locality cost of each region for the whole horizon, `[p * regionCount + g]`, from the mean demand. */
export function localityCostsOf(
  model: Pick<
    PlacementModel,
    | 'partitionCount'
    | 'regionCount'
    | 'steps'
    | 'latency'
    | 'latencyWeight'
    | 'demandStart'
    | 'demandRegion'
    | 'demandSeries'
  >,
): Float64Array {
  const { partitionCount: P, regionCount: R, steps: T, latency, latencyWeight } = model;
  const { demandStart, demandRegion, demandSeries } = model;
  const locFull = new Float64Array(P * R);
  for (let p = 0; p < P; p++) {
    const w = latencyWeight[p];
    for (let k = demandStart[p]; k < demandStart[p + 1]; k++) {
      let total = 0;
      for (let t = 0; t < T; t++) total += demandSeries[k * T + t];
      const r = demandRegion[k];
      for (let g = 0; g < R; g++) locFull[p * R + g] += total * latency[r * R + g] * w;
    }
  }
  return locFull;
}

/**
 * Per partition, the dollars to move it (bytes × the topology's price per GB + per-move overhead) and the
 * dollars it costs while it stays on a DRAINING/RETIRED cell (per partition + per request over the horizon).
 */
export function moveAndDrainPricesOf(
  model: Pick<PlacementModel, 'input' | 'options' | 'partitionCount' | 'steps' | 'bytes' | 'demandTotal'>,
): Pick<PlacementModel, 'transferCost' | 'drainValue'> {
  const { input, options, partitionCount: P, steps: T, bytes, demandTotal } = model;
  const transferCostPerGB = input.topology.transferCostPerGB;
  const stepSeconds = input.stepSeconds;
  const transferCost = new Float64Array(P);
  const drainValue = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    transferCost[p] = (bytes[p] / BYTES_PER_GB) * transferCostPerGB + options.moveOverheadDollars;
    let requests = 0;
    for (let t = 0; t < T; t++) requests += demandTotal[p * T + t];
    requests *= stepSeconds;
    drainValue[p] =
      options.drainDollarsPerPartition + (options.drainDollarsPerMillionRequests * requests) / 1e6;
  }
  return { transferCost, drainValue };
}

/**
 * Hysteresis threshold: a fraction of what the partition costs where it is now (locality from `locFull`, and
 * its relationships).
 */
export function hysteresisThresholdsOf(
  model: Pick<
    PlacementModel,
    | 'options'
    | 'partitionCount'
    | 'regionCount'
    | 'latency'
    | 'cellRegion'
    | 'limits'
    | 'origin'
    | 'relStart'
    | 'relPartner'
    | 'relWeight'
  >,
  locFull: Float64Array,
): Float64Array {
  const { options, limits, partitionCount: P, regionCount: R, latency, cellRegion, origin } = model;
  const { relStart, relPartner, relWeight } = model;
  const threshold = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    const o = origin[p];
    let current = locFull[p * R + cellRegion[o]];
    for (let k = relStart[p]; k < relStart[p + 1]; k++) {
      const q = relPartner[k];
      current +=
        relWeight[k] * cellPairPenaltyMs(o, origin[q], cellRegion, latency, R, options.crossCellPenaltyMs);
    }
    threshold[p] = limits.minBenefitMargin * current + options.minBenefitDollars;
  }
  return threshold;
}
