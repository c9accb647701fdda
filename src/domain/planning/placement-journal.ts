import { type TermCosts, zeroTerms } from './placement-cost.ts';
import type { PlacementModel } from './placement-model.ts';

/**
 * What a tentative change of a PlacementState needs to be undone exactly: the values of every cell and
 * partition it touched, saved on first touch (stamped with a generation number), the cost terms, the bytes
 * moved, and a log of the moved list. Preallocated and reset by counters: the search makes about 100,000
 * tentative changes per plan.
 *
 * A state and its clones share one journal, so a clone allocates none of it (the iterated local search
 * clones the best plan hundreds of times per plan run). That is safe because only one of them holds a
 * tentative change at a time: the planner is single-threaded and PlanEditor begins and ends every change
 * within one call; `begin` refuses a second owner.
 */
export class PlacementJournal {
  /** The state whose tentative change is under way, if any. */
  owner: object | undefined;
  generation = 1;
  /** Cells and partitions touched since `begin`: the first `cellCount` / `partitionCount` entries. */
  readonly cells: Int32Array;
  cellCount = 0;
  readonly partitions: Int32Array;
  partitionCount = 0;
  readonly cellStamp: Int32Array;
  readonly partitionStamp: Int32Array;
  readonly savedLoad: Float64Array;
  readonly savedBytes: Float64Array;
  readonly savedCount: Int32Array;
  readonly savedCell: Int32Array;
  readonly savedOffset: Float64Array;
  readonly savedLocality: Float64Array;
  readonly savedCosts: TermCosts = zeroTerms();
  savedBytesMoved = 0;
  /**
   * Changes to the cells' lists of moves since `begin`, in order: on cell `cellLogCell`, +(p+1) appended,
   * -(p+1) removed at `cellLogIndex` (undone in reverse, rather than saving each touched cell's list).
   */
  readonly cellLogCell: number[] = [];
  readonly cellLogEntry: number[] = [];
  readonly cellLogIndex: number[] = [];
  cellLogCount = 0;
  /** Changes to the moved list since `begin`: +(p+1) appended, -(p+1) removed at `movedLogIndex`. */
  readonly movedLog: number[] = [];
  readonly movedLogIndex: number[] = [];
  movedLogCount = 0;

  constructor(model: PlacementModel) {
    const C = model.cellCount;
    const P = model.partitionCount;
    this.cells = new Int32Array(C);
    this.partitions = new Int32Array(P);
    this.cellStamp = new Int32Array(C);
    this.partitionStamp = new Int32Array(P);
    this.savedLoad = new Float64Array(C * model.steps);
    this.savedBytes = new Float64Array(C);
    this.savedCount = new Int32Array(C);
    this.savedCell = new Int32Array(P);
    this.savedOffset = new Float64Array(P);
    this.savedLocality = new Float64Array(P);
  }
}

// The lists below hold a few entries (the moves on one cell, the moves of one plan) and change on every
// tentative change the search makes; shifting by hand with push/pop keeps V8 off the length setter and
// splice, both far slower than the loops at these sizes.

export function removeAt(list: number[], at: number): void {
  for (let i = at; i < list.length - 1; i++) list[i] = list[i + 1];
  list.pop();
}

export function insertAt(list: number[], at: number, value: number): void {
  list.push(value);
  for (let i = list.length - 1; i > at; i--) list[i] = list[i - 1];
  list[at] = value;
}

/** Make `to` a copy of `from`. */
export function copyList(from: readonly number[], to: number[]): void {
  const n = from.length;
  while (to.length > n) to.pop();
  for (let i = 0; i < to.length; i++) to[i] = from[i];
  for (let i = to.length; i < n; i++) to.push(from[i]);
}
