import type { PlacementModel } from './placement-model.ts';

/**
 * Each cell's load with no planned move, and what the planner holds it to: the hard limits (headroom), the
 * soft load penalty's knees, and the cells too hot to copy from or to.
 */

export type CompiledCellLoad = Pick<
  PlacementModel,
  | 'initialLoad'
  | 'initialBytes'
  | 'loadLimit'
  | 'bytesLimit'
  | 'kneeUtilization'
  | 'kneeSlope'
  | 'kneeLoad'
  | 'firstHotStep'
  | 'overloaded'
>;

/** What the cells' load is compiled from: the cells, the partitions where the plan starts, their demand. */
export type CellLoadSource = Pick<
  PlacementModel,
  | 'options'
  | 'limits'
  | 'cellCount'
  | 'cellCapOps'
  | 'cellCapBytes'
  | 'partitionCount'
  | 'steps'
  | 'origin'
  | 'bytes'
  | 'demandTotal'
>;

/**
 * Compile the cells' initial load, limits, knees and hot steps. `dollarsPerMs`: dollars per latency-ms of one
 * request.
 */
export function compileCellLoad(
  source: CellLoadSource,
  stepSeconds: number,
  dollarsPerMs: number,
): CompiledCellLoad {
  const headroom = source.limits.headroom;
  const { initialLoad, initialBytes } = initialLoadOf(source);
  return {
    initialLoad,
    initialBytes,
    ...loadLimitsOf(source, initialLoad, initialBytes, headroom),
    ...loadKneesOf(source, stepSeconds, dollarsPerMs),
    ...hotCellsOf(source, initialLoad, headroom),
  };
}

/** Load per cell × step and bytes per cell with no planned move: every partition at its origin. */
function initialLoadOf(source: CellLoadSource): Pick<PlacementModel, 'initialLoad' | 'initialBytes'> {
  const { cellCount: C, partitionCount: P, steps: T, origin, bytes, demandTotal } = source;
  const initialLoad = new Float64Array(C * T);
  const initialBytes = new Float64Array(C);
  for (let p = 0; p < P; p++) {
    const c = origin[p];
    initialBytes[c] += bytes[p];
    const base = c * T;
    const pb = p * T;
    for (let t = 0; t < T; t++) initialLoad[base + t] += demandTotal[pb + t];
  }
  return { initialLoad, initialBytes };
}

/** Hard limits: headroom × capacity, or the current value where a cell is already above it (a plan may not make it worse). */
function loadLimitsOf(
  source: CellLoadSource,
  initialLoad: Float64Array,
  initialBytes: Float64Array,
  headroom: number,
): Pick<PlacementModel, 'loadLimit' | 'bytesLimit'> {
  const { cellCount: C, steps: T, cellCapOps, cellCapBytes } = source;
  const loadLimit = new Float64Array(C * T);
  const bytesLimit = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    bytesLimit[c] = Math.max(headroom * cellCapBytes[c], initialBytes[c]);
    for (let t = 0; t < T; t++) {
      loadLimit[c * T + t] = Math.max(headroom * cellCapOps[c], initialLoad[c * T + t]);
    }
  }
  return { loadLimit, bytesLimit };
}

/** The soft load penalty's knees (`loadPenaltyKnees`): utilizations, dollar slopes per step, cell loads. */
function loadKneesOf(
  source: CellLoadSource,
  stepSeconds: number,
  dollarsPerMs: number,
): Pick<PlacementModel, 'kneeUtilization' | 'kneeSlope' | 'kneeLoad'> {
  const { cellCount: C, cellCapOps } = source;
  const knees = source.options.loadPenaltyKnees;
  const kneeUtilization = new Float64Array(knees.map((k) => k.utilization));
  const kneeSlope = new Float64Array(knees.map((k) => k.extraMsPerRequest * stepSeconds * dollarsPerMs));
  const kneeLoad = new Float64Array(C * knees.length);
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < knees.length; j++)
      kneeLoad[c * knees.length + j] = knees[j].utilization * cellCapOps[c];
  }
  return { kneeUtilization, kneeSlope, kneeLoad };
}

/** Hot cells: copying from or to them adds load when they can least take it (and risks overload). */
function hotCellsOf(
  source: CellLoadSource,
  initialLoad: Float64Array,
  headroom: number,
): Pick<PlacementModel, 'firstHotStep' | 'overloaded'> {
  const { cellCount: C, steps: T, cellCapOps } = source;
  const firstHotStep = new Int32Array(C).fill(T);
  const overloaded = new Uint8Array(C);
  for (let c = 0; c < C; c++) {
    const hot = source.options.hotMoveUtilization * cellCapOps[c];
    for (let t = T - 1; t >= 0; t--) {
      const l = initialLoad[c * T + t];
      if (l > hot) firstHotStep[c] = t;
      if (l > headroom * cellCapOps[c] * (1 + 1e-9)) overloaded[c] = 1;
    }
  }
  return { firstHotStep, overloaded };
}
