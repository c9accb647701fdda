import type { CandidateMoves } from './candidate-moves.ts';
import { moveBytes } from './cold-copies.ts';
import type { PlacementModel } from './placement-model.ts';
import type { PlacementState } from './placement-state.ts';

/** Partitions and cells one dry run may touch: three relocations, each on its origin, old and new cell. */
const MAX_PARTITIONS = 3;
const MAX_CELLS = 3 * MAX_PARTITIONS;

/**
 * A dry run of the throttle checks (concurrent moves per cell, bytes per cycle) of a chain of relocations,
 * on a small overlay of the placement: only the move counts, the bytes moved and where the few partitions
 * involved sit. It follows PlanEditor's relocate/addMove/removeMove step for step, with the same
 * floating-point operations on the bytes, so it fails exactly where the editor's run would fail.
 *
 * Why: most changes the local search tries on a throttled plan (free a slot by re-targeting one planned
 * move, then make the blocked one) still hit a throttle in both orders. The editor used to find that out by
 * applying the first relocation to the placement (load per step, locality, retiming the moves that share
 * its cells) and undoing it; the dry run finds it with a few integer updates. A chain that may pass is
 * still evaluated in full, so the dry run decides nothing on its own.
 */
export class ThrottleDryRun {
  private readonly model: PlacementModel;
  private readonly candidates: CandidateMoves;
  private readonly state: PlacementState;
  private readonly limit: number;
  private bytesMoved = 0;
  private cellCount = 0;
  private readonly cellIds = new Int32Array(MAX_CELLS);
  private readonly moveCounts = new Int32Array(MAX_CELLS);
  private partitionCount = 0;
  private readonly partitionIds = new Int32Array(MAX_PARTITIONS);
  private readonly partitionCells = new Int32Array(MAX_PARTITIONS);
  private readonly partitionMoved = new Uint8Array(MAX_PARTITIONS);

  constructor(model: PlacementModel, candidates: CandidateMoves, state: PlacementState, limit: number) {
    this.model = model;
    this.candidates = candidates;
    this.state = state;
    this.limit = limit;
  }

  /**
   * Would the relocations `first[0..]` then `partition → cell` pass the throttles, in this order or, as the
   * editor retries a RelocateAfter, in the reverse one? False only when both orders fail.
   */
  relocateAfterMayPass(
    partition: number,
    cell: number,
    first: readonly { readonly partition: number; readonly cell: number }[],
  ): boolean {
    if (first.length === 1) return this.mayPass(partition, cell, first[0].partition, first[0].cell, -1, -1);
    if (first.length === 2)
      return this.mayPass(
        partition,
        cell,
        first[0].partition,
        first[0].cell,
        first[1].partition,
        first[1].cell,
      );
    return true;
  }

  /**
   * relocateAfterMayPass for q1 → c1, then q2 → c2 (q2 = -1: none), then p → c, without building the
   * change (the local search asks this for every blocker it would try).
   */
  mayPass(p: number, c: number, q1: number, c1: number, q2: number, c2: number): boolean {
    if (q2 < 0 && q1 !== p) return this.pairPasses(q1, c1, p, c) || this.pairPasses(p, c, q1, c1);
    this.reset();
    if (this.relocate(q1, c1) && (q2 < 0 || this.relocate(q2, c2)) && this.relocate(p, c)) return true;
    this.reset();
    return this.relocate(p, c) && (q2 < 0 || this.relocate(q2, c2)) && this.relocate(q1, c1);
  }

  /**
   * Would relocating a → ac, then b → bc (b ≠ a), pass the throttles? The overlay's steps (relocate,
   * removeMove, addMove) for two partitions, on locals: the second relocation reads the move counts the
   * first one left (it changes at most a's origin, old cell and new cell) and the bytes after it, computed
   * with the same operations in the same order. The local search asks this for every blocker it would
   * re-target, so it avoids the overlay's slot scans.
   */
  private pairPasses(a: number, ac: number, b: number, bc: number): boolean {
    const m = this.model;
    const s = this.state;
    const limit = this.limit;
    const counts = s.moveCount;
    let bytes = s.bytesMoved;
    // a → ac: the cells whose count it changes, and by how much.
    const ao = m.origin[a];
    const aCell = s.cellOf[a];
    let dOrigin = 0;
    let dOld = 0;
    let dNew = 0;
    if (aCell !== ac) {
      const aMoved = s.isMoved(a);
      if (ac === ao) {
        if (!aMoved) return false;
        dOrigin--;
        if (aCell !== ao) dOld--;
        bytes -= moveBytes(m, a, aCell);
      } else {
        if (!this.isCandidate(a, ac)) return false;
        if (aMoved) {
          dOrigin--;
          if (aCell !== ao) dOld--;
          bytes -= moveBytes(m, a, aCell);
        }
        // addMove: ac is neither a's origin nor its old cell here.
        if (counts[ao] + dOrigin >= limit || counts[ac] >= limit) return false;
        const add = moveBytes(m, a, ac);
        if (bytes + add > m.limits.maxBytesPerCycle) return false;
        dOrigin++;
        dNew++;
        bytes += add;
      }
    }
    // b → bc, on the counts and bytes a left.
    const bo = m.origin[b];
    const bCell = s.cellOf[b];
    if (bCell === bc) return true;
    const bMoved = s.isMoved(b);
    if (bc === bo) return bMoved;
    if (!this.isCandidate(b, bc)) return false;
    let dbOrigin = 0;
    if (bMoved) {
      // removeMove: b's origin and old cell lose a move (only the origin's count is read below).
      dbOrigin--;
      bytes -= moveBytes(m, b, bCell);
    }
    // addMove: bc is neither b's origin nor its old cell here.
    const originCount =
      counts[bo] + (bo === ao ? dOrigin : 0) + (bo === aCell ? dOld : 0) + (bo === ac ? dNew : 0) + dbOrigin;
    const targetCount =
      counts[bc] + (bc === ao ? dOrigin : 0) + (bc === aCell ? dOld : 0) + (bc === ac ? dNew : 0);
    if (originCount >= limit || targetCount >= limit) return false;
    return bytes + moveBytes(m, b, bc) <= m.limits.maxBytesPerCycle;
  }

  private reset(): void {
    this.bytesMoved = this.state.bytesMoved;
    this.cellCount = 0;
    this.partitionCount = 0;
  }

  /** PlanEditor.relocate's throttle path. */
  private relocate(p: number, c: number): boolean {
    const i = this.partitionSlot(p);
    if (this.partitionCells[i] === c) return true;
    if (c === this.model.origin[p]) return this.removeMove(i, p);
    if (!this.isCandidate(p, c)) return false;
    if (this.partitionMoved[i] === 1) this.removeMove(i, p);
    return this.addMove(i, p, c);
  }

  /** PlanEditor.addMove's checks, then PlacementState.applyMove's counts and bytes. */
  private addMove(i: number, p: number, c: number): boolean {
    const m = this.model;
    const o = m.origin[p];
    if (this.partitionMoved[i] === 1 || c === o) return false;
    const so = this.cellSlot(o);
    const sc = this.cellSlot(c);
    if (this.moveCounts[so] >= this.limit || this.moveCounts[sc] >= this.limit) return false;
    const bytes = moveBytes(m, p, c);
    if (this.bytesMoved + bytes > m.limits.maxBytesPerCycle) return false;
    this.moveCounts[so]++;
    this.moveCounts[sc]++;
    this.bytesMoved += bytes;
    this.partitionCells[i] = c;
    this.partitionMoved[i] = 1;
    return true;
  }

  /** PlacementState.undoMove's counts and bytes. */
  private removeMove(i: number, p: number): boolean {
    if (this.partitionMoved[i] === 0) return false;
    const o = this.model.origin[p];
    const cell = this.partitionCells[i];
    this.moveCounts[this.cellSlot(o)]--;
    if (cell !== o) this.moveCounts[this.cellSlot(cell)]--;
    this.bytesMoved -= moveBytes(this.model, p, cell);
    this.partitionCells[i] = o;
    this.partitionMoved[i] = 0;
    return true;
  }

  private isCandidate(p: number, c: number): boolean {
    const cand = this.candidates;
    for (let k = cand.start[p]; k < cand.start[p + 1]; k++) if (cand.cell[k] === c) return true;
    return false;
  }

  /** The overlay slot of cell c, taking its move count from the placement on first use. */
  private cellSlot(c: number): number {
    for (let i = 0; i < this.cellCount; i++) if (this.cellIds[i] === c) return i;
    const i = this.cellCount++;
    this.cellIds[i] = c;
    this.moveCounts[i] = this.state.moveCount[c];
    return i;
  }

  /** The overlay slot of partition p, taking its cell and moved flag from the placement on first use. */
  private partitionSlot(p: number): number {
    for (let i = 0; i < this.partitionCount; i++) if (this.partitionIds[i] === p) return i;
    const i = this.partitionCount++;
    this.partitionIds[i] = p;
    this.partitionCells[i] = this.state.cellOf[p];
    this.partitionMoved[i] = this.state.isMoved(p) ? 1 : 0;
    return i;
  }
}
