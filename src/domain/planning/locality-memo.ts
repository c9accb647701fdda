import { localityCost } from './placement-cost.ts';
import type { PlacementModel } from './placement-model.ts';

/** Remembered completion offsets per partition. */
const SLOTS = 4;

/**
 * `localityCost` remembered per partition for its last few (cell, completion offset) pairs. The search
 * retimes the same planned moves over and over (every change to a cell changes the bandwidth share of the
 * moves on it, and undoing the change restores it), and a move's completion takes one of a few values (one
 * per share), so most calls repeat an earlier one. The value is a function of (partition, cell, offset) for
 * one model, so a remembered one is the very number a new call would compute.
 *
 * One memo per plan run: a placement and its clones share it (like the journal).
 */
export class LocalityMemo {
  private readonly model: PlacementModel;
  private readonly cells: Int32Array;
  private readonly offsets: Float64Array;
  private readonly values: Float64Array;
  /** Per partition, the slot the next miss overwrites (round robin). */
  private readonly nextSlot: Uint8Array;

  constructor(model: PlacementModel) {
    this.model = model;
    const n = model.partitionCount * SLOTS;
    this.cells = new Int32Array(n).fill(-1);
    this.offsets = new Float64Array(n);
    this.values = new Float64Array(n);
    this.nextSlot = new Uint8Array(model.partitionCount);
  }

  /** localityCost(model, p, cell, offsetMs). */
  cost(p: number, cell: number, offsetMs: number): number {
    const m = this.model;
    const R = m.regionCount;
    const g = m.cellRegion[cell];
    // localityCost's own shortcut: in place from the start, or no change of region.
    if (g === m.cellRegion[m.origin[p]] || offsetMs <= 0) return m.locFull[p * R + g];
    const cells = this.cells;
    const offsets = this.offsets;
    const at = p * SLOTS;
    for (let i = at; i < at + SLOTS; i++) {
      if (cells[i] === cell && offsets[i] === offsetMs) return this.values[i];
    }
    const value = localityCost(m, p, cell, offsetMs);
    const slot = this.nextSlot[p];
    this.nextSlot[p] = slot + 1 === SLOTS ? 0 : slot + 1;
    cells[at + slot] = cell;
    offsets[at + slot] = offsetMs;
    this.values[at + slot] = value;
    return value;
  }
}
