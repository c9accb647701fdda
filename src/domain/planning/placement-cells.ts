import { InputValidationError } from '../errors.ts';
import { latencyBetween, type Topology } from '../topology.ts';
import type { CellStatus, PlannerInput } from './movement-plan.ts';
import type { PlacementModel } from './placement-model.ts';

/**
 * The topology's regions and cells compiled for the placement model: region ids and the latency matrix, the
 * cells' regions and capacities, and the cells' status and readiness from the input. Validated on the way;
 * errors name the field.
 */

export const CELL_ACTIVE = 0;
export const CELL_PROVISIONING = 1;
export const CELL_DRAINING = 2;
export const CELL_RETIRED = 3;
const CELL_STATE_CODE: Record<CellStatus, number> = {
  ACTIVE: CELL_ACTIVE,
  PROVISIONING: CELL_PROVISIONING,
  DRAINING: CELL_DRAINING,
  RETIRED: CELL_RETIRED,
};

/** The regions of the model, and each region's index for the compilers that look regions up by id. */
export type CompiledRegions = Pick<PlacementModel, 'regionIds' | 'regionCount' | 'latency'> & {
  readonly regionIndex: ReadonlyMap<string, number>;
};

export type CompiledCells = Pick<
  PlacementModel,
  | 'cellIds'
  | 'cellIndex'
  | 'cellCount'
  | 'cellRegion'
  | 'cellCapOps'
  | 'cellCapBytes'
  | 'cellState'
  | 'targetable'
  | 'readyDelayMs'
>;

/** Index the topology's regions and check the latency between every pair of them. */
export function compileRegions(topology: Topology): CompiledRegions {
  const regionIds = Object.keys(topology.regions);
  const regionIndex = new Map(regionIds.map((r, i) => [r, i]));
  const R = regionIds.length;
  const latency = new Float64Array(R * R);
  for (let a = 0; a < R; a++) {
    for (let b = 0; b < R; b++) {
      const ms = latencyBetween(topology, regionIds[a], regionIds[b]);
      if (!(Number.isFinite(ms) && ms >= 0)) {
        throw new InputValidationError(
          { field: `topology.latencyMs.${regionIds[a]}.${regionIds[b]}` },
          `missing or invalid latency between '${regionIds[a]}' and '${regionIds[b]}'`,
        );
      }
      latency[a * R + b] = ms;
    }
  }
  return { regionIds, regionIndex, regionCount: R, latency };
}

/** Index the topology's cells, then apply the input's `cellStatus` and `cellReadyAtMs` to them. */
export function compileCells(input: PlannerInput, regions: CompiledRegions): CompiledCells {
  const cells = input.topology.cells;
  const C = cells.length;
  const cellIds = cells.map((c) => c.id);
  const cellIndex = new Map<string, number>();
  const cellRegion = new Int32Array(C);
  const cellCapOps = new Float64Array(C);
  const cellCapBytes = new Float64Array(C);
  cells.forEach((cell, i) => {
    if (cellIndex.has(cell.id)) {
      throw new InputValidationError({ field: `topology.cells[${i}].id` }, `duplicate cell id '${cell.id}'`);
    }
    cellIndex.set(cell.id, i);
    const region = regions.regionIndex.get(cell.region);
    if (region === undefined) {
      throw new InputValidationError(
        { field: `topology.cells[${i}].region` },
        `unknown region '${cell.region}'; expected one of ${regions.regionIds.join(', ')}`,
      );
    }
    if (!(cell.capacityOpsPerSec > 0) || !(cell.capacityBytes > 0)) {
      throw new InputValidationError(
        { field: `topology.cells[${i}]` },
        'expected capacityOpsPerSec and capacityBytes > 0',
      );
    }
    cellRegion[i] = region;
    cellCapOps[i] = cell.capacityOpsPerSec;
    cellCapBytes[i] = cell.capacityBytes;
  });
  const cellState = cellStatesOf(input, cellIndex, cellIds);
  const targetable = new Uint8Array(C);
  for (let c = 0; c < C; c++) targetable[c] = cellState[c] <= CELL_PROVISIONING ? 1 : 0;
  const readyDelayMs = readyDelaysOf(input, cellIndex, cellIds);
  return {
    cellIds,
    cellIndex,
    cellCount: C,
    cellRegion,
    cellCapOps,
    cellCapBytes,
    cellState,
    targetable,
    readyDelayMs,
  };
}

/** The input's `cellStatus` as a state code per cell (ACTIVE where not given), checked. */
function cellStatesOf(
  input: PlannerInput,
  cellIndex: ReadonlyMap<string, number>,
  cellIds: readonly string[],
): Uint8Array {
  const cellState = new Uint8Array(cellIds.length);
  for (const [id, status] of Object.entries(input.cellStatus ?? {})) {
    const c = cellIndex.get(id);
    if (c === undefined) {
      throw new InputValidationError(
        { field: `cellStatus.${id}` },
        `unknown cell '${id}'; expected one of ${cellIds.join(', ')}`,
      );
    }
    const code = CELL_STATE_CODE[status];
    if (code === undefined) {
      throw new InputValidationError(
        { field: `cellStatus.${id}` },
        `expected ACTIVE, PROVISIONING, DRAINING or RETIRED, found '${String(status)}'`,
      );
    }
    cellState[c] = code;
  }
  return cellState;
}

/** The input's `cellReadyAtMs` as ms from `nowMs` per cell (0 where ready or not given), checked. */
function readyDelaysOf(
  input: PlannerInput,
  cellIndex: ReadonlyMap<string, number>,
  cellIds: readonly string[],
): Float64Array {
  const readyDelayMs = new Float64Array(cellIds.length);
  for (const [id, readyAtMs] of Object.entries(input.cellReadyAtMs ?? {})) {
    const c = cellIndex.get(id);
    if (c === undefined || !Number.isFinite(readyAtMs)) {
      throw new InputValidationError(
        { field: `cellReadyAtMs.${id}` },
        c === undefined
          ? `unknown cell '${id}'; expected one of ${cellIds.join(', ')}`
          : `expected a finite timestamp, found ${readyAtMs}`,
      );
    }
    readyDelayMs[c] = Math.max(0, readyAtMs - input.nowMs);
  }
  return readyDelayMs;
}
