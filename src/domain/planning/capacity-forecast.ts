import type { CapacityShortfall, PlannerInput } from './movement-plan.ts';
import { CELL_PROVISIONING, compilePlacementModel, type PlacementModel } from './placement-model.ts';
import { PlacementState } from './placement-state.ts';
import type { PlannerOptions } from './planner-options.ts';

/**
 * When and where a region runs short of usable capacity (headroom × the ops capacity of its ACTIVE and
 * PROVISIONING cells), from the load the forecasts put on its cells (their upper forecasts added up), and when to start scaling out so the
 * new cells are provisioned and filled before that step (P-Store plans scale-outs to finish before the
 * peak; EC2 predictive scaling launches capacity ahead of the forecast).
 *
 * scaleOutByMs = atMs − (provisionMs + time to fill one new cell at the migration bandwidth), where the
 * fill is the hottest partitions of the region, enough to carry the excess over usable capacity at the peak.
 */
export function capacityForecastFor(
  model: PlacementModel,
  load: Float64Array,
  cellOf: Int32Array,
): CapacityShortfall[] {
  const T = model.steps;
  const R = model.regionCount;
  const C = model.cellCount;
  const headroom = model.limits.headroom;
  const out: CapacityShortfall[] = [];
  // Each region's load after the plan (moves landing mid-step count at both ends in proportion), with every
  // partition's planning load raised to its upper forecast (model.capacityDemand) in the region it ends in.
  const regionDemand = new Float64Array(R * T);
  for (let c = 0; c < C; c++) {
    const base = model.cellRegion[c] * T;
    for (let t = 0; t < T; t++) regionDemand[base + t] += load[c * T + t];
  }
  if (model.capacityDemand !== model.demandTotal) {
    for (let p = 0; p < model.partitionCount; p++) {
      const base = model.cellRegion[cellOf[p]] * T;
      for (let t = 0; t < T; t++)
        regionDemand[base + t] += model.capacityDemand[p * T + t] - model.demandTotal[p * T + t];
    }
  }
  for (let g = 0; g < R; g++) {
    let usable = 0;
    let capSum = 0;
    let capCount = 0;
    const hosted = regionDemand.subarray(g * T, (g + 1) * T);
    for (let c = 0; c < C; c++) {
      if (model.cellRegion[c] !== g) continue;
      if (model.cellState[c] <= CELL_PROVISIONING) {
        usable += headroom * model.cellCapOps[c];
        capSum += model.cellCapOps[c];
        capCount++;
      }
    }
    let at = -1;
    let peakStep = 0;
    for (let t = 0; t < T; t++) {
      if (at < 0 && hosted[t] > usable * (1 + 1e-9)) at = t;
      if (hosted[t] > hosted[peakStep]) peakStep = t;
    }
    if (at < 0) continue;
    const peak = hosted[peakStep];
    const cellCapacity =
      model.input.topology.alarmScaling?.cellCapacityOpsPerSec ??
      (capCount > 0 ? capSum / capCount : meanCapacity(model));
    const excess = peak - usable;
    const cellsNeeded = Math.max(1, Math.ceil(excess / (headroom * cellCapacity) - 1e-9));
    const fillBytes = hottestBytesCarrying(model, cellOf, g, peakStep, excess);
    const fillMs =
      model.options.moveSetupMs +
      ((fillBytes / cellsNeeded) * 1000) / model.input.topology.migrationBandwidthBytesPerSec;
    const atMs = model.nowMs + at * model.stepMs;
    out.push({
      region: model.regionIds[g],
      atMs,
      scaleOutByMs: atMs - model.options.provisionMs - fillMs,
      peakDemandOpsPerSec: peak,
      usableCapacityOpsPerSec: usable,
      cellsNeeded,
    });
  }
  return out.sort((a, b) => a.atMs - b.atMs || a.region.localeCompare(b.region));
}

/** Capacity forecast of the current placement (no plan applied). */
export function forecastCapacity(input: PlannerInput, options?: PlannerOptions): CapacityShortfall[] {
  const model = compilePlacementModel(input, options);
  const state = new PlacementState(model);
  return capacityForecastFor(model, state.load, state.cellOf);
}

function meanCapacity(model: PlacementModel): number {
  let s = 0;
  for (let c = 0; c < model.cellCount; c++) s += model.cellCapOps[c];
  return s / Math.max(1, model.cellCount);
}

/** Bytes of the hottest partitions hosted in region g (at step t) whose demand adds up to `ops`. */
function hottestBytesCarrying(
  model: PlacementModel,
  cellOf: Int32Array,
  g: number,
  t: number,
  ops: number,
): number {
  const T = model.steps;
  const hot: number[] = [];
  for (let p = 0; p < model.partitionCount; p++) {
    if (model.cellRegion[cellOf[p]] === g && model.demandTotal[p * T + t] > 0) hot.push(p);
  }
  hot.sort((a, b) => model.demandTotal[b * T + t] - model.demandTotal[a * T + t] || a - b);
  let carried = 0;
  let bytes = 0;
  for (const p of hot) {
    if (carried >= ops) break;
    carried += model.demandTotal[p * T + t];
    bytes += model.bytes[p];
  }
  return bytes;
}
