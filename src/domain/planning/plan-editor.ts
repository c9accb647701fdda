import type { CandidateMoves } from './candidate-moves.ts';
import { moveBytes } from './cold-copies.ts';
import { moveDurationMs, sumTerms, type TermCosts, zeroTerms } from './placement-cost.ts';
import type { PlacementModel } from './placement-model.ts';
import type { PlacementState } from './placement-state.ts';
import { LimitEnforcement, OperationKind, type Placement, type SearchOperation } from './search-operation.ts';
import { ThrottleDryRun } from './throttle-dry-run.ts';

/** Cost changes within this many dollars are ties. */
export const EPS = 1e-9;

/** Evaluated changes so far and the cap for the intensification phases, shared by a run's builders. */
export class SearchBudget {
  used = 0;
  limit = Number.POSITIVE_INFINITY;
}

/** Don't-look marks: when each cell and partition last changed, and when each partition was last examined. */
export class SearchMarks {
  clock = 1;
  readonly cellVersion: Int32Array;
  readonly partitionVersion: Int32Array;
  readonly examinedAt: Int32Array;
  bytesVersion = 0;

  constructor(cells: number, partitions: number, from?: SearchMarks) {
    this.cellVersion = from ? from.cellVersion.slice() : new Int32Array(cells);
    this.partitionVersion = from ? from.partitionVersion.slice() : new Int32Array(partitions);
    this.examinedAt = from ? from.examinedAt.slice() : new Int32Array(partitions);
    if (from) {
      this.clock = from.clock;
      this.bytesVersion = from.bytesVersion;
    }
  }

  /** Make these marks equal to `from` (same sizes), reusing the arrays. */
  copyFrom(from: SearchMarks): void {
    this.cellVersion.set(from.cellVersion);
    this.partitionVersion.set(from.partitionVersion);
    this.examinedAt.set(from.examinedAt);
    this.clock = from.clock;
    this.bytesVersion = from.bytesVersion;
  }
}

/**
 * Changes to one plan: runs a SearchOperation on the placement inside its journal and returns the exact
 * cost change when the result respects the limits (undefined otherwise). `evaluate` always undoes the
 * change; `apply` keeps it when it is feasible and stamps the don't-look marks. Moves that share a cell
 * with a changed one are retimed, since they share its migration bandwidth.
 */
export class PlanEditor {
  readonly model: PlacementModel;
  readonly candidates: CandidateMoves;
  readonly state: PlacementState;
  readonly marks: SearchMarks;
  readonly budget: SearchBudget;
  /** Concurrent moves allowed per cell. */
  readonly limit: number;
  private readonly delta: TermCosts = zeroTerms();
  private readonly throttles: ThrottleDryRun;

  constructor(
    model: PlacementModel,
    candidates: CandidateMoves,
    state: PlacementState,
    marks: SearchMarks,
    budget: SearchBudget,
  ) {
    this.model = model;
    this.candidates = candidates;
    this.state = state;
    this.marks = marks;
    this.budget = budget;
    this.limit = model.limits.maxConcurrentMovesPerCell;
    this.throttles = new ThrottleDryRun(model, candidates, state, this.limit);
  }

  /** The cost change of `op` under the `enforce`d limits, or undefined if it breaks one; never kept. */
  evaluate(op: SearchOperation, enforce: LimitEnforcement = LimitEnforcement.All): number | undefined {
    return this.run(op, false, enforce);
  }

  /** Make `op` if it respects every limit; returns its cost change, or undefined (and no change). */
  apply(op: SearchOperation): number | undefined {
    return this.run(op, true, LimitEnforcement.All);
  }

  /**
   * Whether the throttles reject relocating q to qc and then p to c in both orders; when they do, this
   * counts as the evaluation of that RelocateAfter (whose answer would be undefined), so the search need
   * not build the change.
   */
  throttlesReject(p: number, c: number, q: number, qc: number): boolean {
    if (this.throttles.mayPass(p, c, q, qc, -1, -1)) return false;
    this.budget.used++;
    return true;
  }

  isCandidate(p: number, c: number): boolean {
    const cand = this.candidates;
    for (let k = cand.start[p]; k < cand.start[p + 1]; k++) if (cand.cell[k] === c) return true;
    return false;
  }

  /** Standalone gain of candidate cell c of p; 0 when c is not a candidate. */
  candidateGainAt(p: number, c: number): number {
    const cand = this.candidates;
    for (let k = cand.start[p]; k < cand.start[p + 1]; k++) if (cand.cell[k] === c) return cand.gain[k];
    return 0;
  }

  private run(op: SearchOperation, keep: boolean, enforce: LimitEnforcement): number | undefined {
    this.budget.used++;
    // Most re-targets tried on a throttled plan hit a throttle in both orders: tell those from the dry run,
    // without applying and undoing the first relocation.
    if (
      enforce === LimitEnforcement.All &&
      op.kind === OperationKind.RelocateAfter &&
      !this.throttles.relocateAfterMayPass(op.partition, op.cell, op.first)
    )
      return undefined;
    const state = this.state;
    const delta = this.delta;
    this.resetDelta();
    const bytesBefore = state.bytesMoved;
    state.begin();
    let ok = this.perform(op, enforce);
    if (!ok && op.kind === OperationKind.RelocateAfter) {
      // A throttle may bind only in this order (one's leaving frees the slot the other needs): reverse it.
      state.rollback();
      state.begin();
      this.resetDelta();
      ok = this.relocate(op.partition, op.cell, enforce);
      for (let i = op.first.length - 1; ok && i >= 0; i--) ok = this.relocateTo(op.first[i], enforce);
    }
    if (ok && enforce !== LimitEnforcement.None) {
      const touched = state.touchedCellCount();
      for (let i = 0; i < touched; i++) {
        if (!state.cellWithinLimits(state.touchedCell(i))) {
          ok = false;
          break;
        }
      }
    }
    const total = sumTerms(delta);
    if (ok && keep && enforce === LimitEnforcement.All) {
      this.mark(state.bytesMoved < bytesBefore);
      state.commit();
    } else {
      state.rollback();
    }
    return ok ? total : undefined;
  }

  private perform(op: SearchOperation, enforce: LimitEnforcement): boolean {
    switch (op.kind) {
      case OperationKind.Add:
        return this.addMove(op.partition, op.cell, enforce);
      case OperationKind.Remove:
        return this.removeMove(op.partition);
      case OperationKind.Relocate:
        return this.relocate(op.partition, op.cell, enforce);
      case OperationKind.RelocateAfter:
        for (const placement of op.first) if (!this.relocateTo(placement, enforce)) return false;
        return this.relocate(op.partition, op.cell, enforce);
      case OperationKind.DropThenRelocate:
        for (const q of op.dropped) if (!this.removeMove(q)) return false;
        return this.relocate(op.partition, op.cell, enforce);
    }
  }

  private resetDelta(): void {
    const delta = this.delta;
    delta.locality = 0;
    delta.relatedness = 0;
    delta.loadBalance = 0;
    delta.transfer = 0;
    delta.drain = 0;
  }

  /** Record what a kept change touched, for the don't-look marks. */
  private mark(bytesFreed: boolean): void {
    const marks = this.marks;
    const m = this.model;
    const clock = ++marks.clock;
    if (bytesFreed) marks.bytesVersion = clock;
    const state = this.state;
    for (let i = 0; i < state.touchedCellCount(); i++) marks.cellVersion[state.touchedCell(i)] = clock;
    for (let i = 0; i < state.touchedPartitionCount(); i++) {
      const p = state.touchedPartition(i);
      marks.partitionVersion[p] = clock;
      for (let k = m.relStart[p]; k < m.relStart[p + 1]; k++) marks.partitionVersion[m.relPartner[k]] = clock;
    }
  }

  private relocateTo(placement: Placement, enforce: LimitEnforcement): boolean {
    return this.relocate(placement.partition, placement.cell, enforce);
  }

  /** Put p on cell c (moving it, retargeting it, or undoing its move when c is its origin); c must be a candidate. */
  private relocate(p: number, c: number, enforce: LimitEnforcement): boolean {
    const m = this.model;
    if (this.state.cellOf[p] === c) return true;
    if (c === m.origin[p]) return this.removeMove(p);
    if (!this.isCandidate(p, c)) return false;
    if (this.state.isMoved(p) && !this.removeMove(p)) return false;
    return this.addMove(p, c, enforce);
  }

  /** Plan p → c (p unmoved), retiming the moves that now share a cell with it. False if a throttle binds. */
  private addMove(p: number, c: number, enforce: LimitEnforcement): boolean {
    const m = this.model;
    const s = this.state;
    const o = m.origin[p];
    if (s.isMoved(p) || c === o) return false;
    if (enforce === LimitEnforcement.All) {
      if (s.moveCount[o] >= this.limit || s.moveCount[c] >= this.limit) return false;
      if (s.bytesMoved + moveBytes(m, p, c) > m.limits.maxBytesPerCycle) return false;
    }
    const share = Math.max(s.moveCount[o], s.moveCount[c]) + 1;
    s.applyMove(p, c, moveDurationMs(m, p, share, c), this.delta);
    this.retimeAround(p, o, c);
    return true;
  }

  /** Unplan p's move, retiming the moves that shared a cell with it. */
  private removeMove(p: number): boolean {
    const s = this.state;
    if (!s.isMoved(p)) return false;
    const o = this.model.origin[p];
    const c = s.cellOf[p];
    s.undoMove(p, this.delta);
    this.retimeAround(p, o, c);
    return true;
  }

  private retimeAround(p: number, a: number, b: number): void {
    this.retimeOn(p, a);
    if (b !== a) this.retimeOn(p, b);
  }

  private retimeOn(p: number, cell: number): void {
    const m = this.model;
    const s = this.state;
    const moves = s.movesOnCell(cell);
    for (let i = 0; i < moves.length; i++) {
      const q = moves[i];
      if (q === p) continue;
      const offset = moveDurationMs(m, q, s.shareOf(q), s.cellOf[q]);
      if (offset !== s.offsetMs[q]) s.retime(q, offset, this.delta);
    }
  }
}
