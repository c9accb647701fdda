import { InfeasiblePlacementError } from '../errors.ts';
import { CELL_DRAINING, mustLeave, type PlacementModel } from './placement-model.ts';

/**
 * Inputs no plan can satisfy, checked before planning (the heuristic and the ILP share this):
 * - the partitions' bytes exceed the raw capacity of every cell that stays;
 * - forecast demand at some step exceeds the raw ops capacity of every cell that stays (unless the options
 *   say `demandBeyondCapacity: 'report'`);
 * - the partitions on a DRAINING cell do not fit, below the headroom limit, in the room left on the cells
 *   that stay (bytes, or ops at some step), when `unplaceableDrain` is 'throw'; under 'report' the plan counts
 *   the partitions that cannot leave yet, `deferred.drainBlocked`, and the drain waits for room.
 */
export function checkFeasibility(model: PlacementModel): void {
  const C = model.cellCount;
  const T = model.steps;
  let totalBytes = 0;
  for (let p = 0; p < model.partitionCount; p++) totalBytes += model.bytes[p];
  let capBytes = 0;
  let capOps = 0;
  for (let c = 0; c < C; c++) {
    if (model.cellState[c] >= CELL_DRAINING) continue;
    capBytes += model.cellCapBytes[c];
    capOps += model.cellCapOps[c];
  }
  const leaving = [...Array(C).keys()]
    .filter((c) => model.cellState[c] >= CELL_DRAINING)
    .map((c) => `'${model.cellIds[c]}' (${model.regionIds[model.cellRegion[c]]})`);
  const without = leaving.length > 0 ? ` without draining cell(s) ${leaving.join(', ')}` : '';
  if (totalBytes > capBytes) {
    throw new InfeasiblePlacementError(
      'capacityBytes',
      `the partitions hold ${formatBytes(totalBytes)} but the cells${without} hold at most ${formatBytes(capBytes)}; add cells`,
    );
  }
  if (model.options.demandBeyondCapacity === 'throw') {
    for (let t = 0; t < T; t++) {
      let demand = 0;
      for (let c = 0; c < C; c++) demand += model.initialLoad[c * T + t];
      if (demand > capOps) {
        throw new InfeasiblePlacementError(
          'capacityOpsPerSec',
          `forecast demand of ${demand.toFixed(0)} ops/s at step ${t} (${new Date(model.nowMs + t * model.stepMs).toISOString()}) exceeds the ${capOps.toFixed(0)} ops/s of all cells${without}; add cells`,
        );
      }
    }
  }
  checkDrains(model);
}

function checkDrains(model: PlacementModel): void {
  const C = model.cellCount;
  const T = model.steps;
  const drainBytes = new Float64Array(C);
  const drainLoad = new Float64Array(C * T);
  let largest = -1;
  let any = false;
  for (let p = 0; p < model.partitionCount; p++) {
    if (!mustLeave(model, p) || model.lock[p] === 1) continue;
    any = true;
    const o = model.origin[p];
    drainBytes[o] += model.bytes[p];
    for (let t = 0; t < T; t++) drainLoad[o * T + t] += model.demandTotal[p * T + t];
    if (largest < 0 || model.bytes[p] > model.bytes[largest]) largest = p;
  }
  if (!any) return;
  let freeBytes = 0;
  let maxFree = 0;
  const freeOps = new Float64Array(T);
  for (let c = 0; c < C; c++) {
    if (model.targetable[c] !== 1) continue;
    const free = Math.max(0, model.bytesLimit[c] - model.initialBytes[c]);
    freeBytes += free;
    maxFree = Math.max(maxFree, free);
    for (let t = 0; t < T; t++) {
      freeOps[t] += Math.max(0, model.loadLimit[c * T + t] - model.initialLoad[c * T + t]);
    }
  }
  const draining = [...Array(C).keys()].filter(
    (c) => drainBytes[c] > 0 || model.cellState[c] >= CELL_DRAINING,
  );
  const where = draining
    .filter((c) => drainBytes[c] > 0 || drainLoad.subarray(c * T, (c + 1) * T).some((x) => x > 0))
    .map((c) => `'${model.cellIds[c]}' (${model.regionIds[model.cellRegion[c]]})`)
    .join(', ');
  // Reported, not thrown: the plan counts what cannot leave yet (`deferred.drainBlocked`) and the drain waits,
  // whether bytes or ops/s are short (cold copies can fill the other cells' bytes until they are collected).
  if (model.options.unplaceableDrain === 'report') return;
  const totalDrainBytes = drainBytes.reduce((a, b) => a + b, 0);
  const headroom = `${Math.round(model.limits.headroom * 100)}%`;
  if (totalDrainBytes > freeBytes) {
    throw new InfeasiblePlacementError(
      'capacityBytes',
      `draining cell(s) ${where} hold ${formatBytes(totalDrainBytes)} but the remaining cells have only ${formatBytes(freeBytes)} free below the ${headroom} headroom`,
    );
  }
  if (largest >= 0 && model.bytes[largest] > maxFree) {
    throw new InfeasiblePlacementError(
      'capacityBytes',
      `partition '${model.partitionIds[largest]}' (${formatBytes(model.bytes[largest])}) on draining cell ${where} fits in no remaining cell (largest free space ${formatBytes(maxFree)} below the ${headroom} headroom)`,
    );
  }
  for (let t = 0; t < T; t++) {
    let need = 0;
    for (const c of draining) need += drainLoad[c * T + t];
    if (need > freeOps[t] * (1 + 1e-9)) {
      throw new InfeasiblePlacementError(
        'capacityOpsPerSec',
        `draining cell(s) ${where} serve ${need.toFixed(0)} ops/s at step ${t} but the remaining cells have only ${freeOps[t].toFixed(0)} ops/s free below the ${headroom} headroom`,
      );
    }
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}
