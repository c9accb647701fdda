import type { CandidateMoves } from './candidate-moves.ts';
import { moveBytes } from './cold-copies.ts';
import { copyTerms, moveDurationMs, sumTerms, type TermCosts, zeroTerms } from './placement-cost.ts';
import { copyList } from './placement-journal.ts';
import type { PlacementModel } from './placement-model.ts';
import type { PlacementState } from './placement-state.ts';
import { LimitEnforcement, OperationKind, type Placement, type SearchOperation } from './search-operation.ts';
import { ThrottleDryRun } from './throttle-dry-run.ts';

/** Cost changes within this many dollars are ties. */
export const EPS = 1e-9;

/**
 * Evaluated changes so far and the cap for the intensification phases, shared by a run's builders; and the
 * copies of a plan their editors evaluate DropThenRelocates on (see PlanEditor.evaluateAfterDrops), shared
 * too rather than allocated per builder (the forced insertions and restarts make dozens of builders).
 */
export class SearchBudget {
  used = 0;
  limit = Number.POSITIVE_INFINITY;
  readonly dropCopies: DropCopies = { copies: [], uses: 0 };
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
  /**
   * The last change `run` made in full: the plan revision, its limits, whether it made every step and
   * failed on a cell's capacity alone, its cost change.
   */
  private lastOp: SearchOperation | undefined;
  private lastRevision = -1;
  private lastEnforce = LimitEnforcement.All;
  private lastCapacityFailed = false;
  private lastTotal = 0;
  /** Set by evaluateRelaxed: whether the change fits the hard capacity limits once the throttles are freed. */
  relaxedFits = false;

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
   * `op` (a Relocate or RelocateAfter) with every limit ignored, as `evaluate(op, LimitEnforcement.None)`, and
   * in `relaxedFits` whether `evaluate(op, LimitEnforcement.CapacityOnly)` would be defined; counted as those
   * two evaluations. Both make the same steps (only the throttles differ from the fully enforced run, and
   * neither enforces them), so one run answers both. When `op` (the same object) was just evaluated under
   * every limit against this plan, made every step and failed on a cell's capacity alone, its cost change is
   * the unconstrained one, and it does not fit.
   */
  evaluateRelaxed(op: SearchOperation): number | undefined {
    this.budget.used += 2;
    const state = this.state;
    if (
      this.lastOp === op &&
      this.lastRevision === state.revision() &&
      this.lastEnforce === LimitEnforcement.All &&
      this.lastCapacityFailed &&
      op.kind === OperationKind.Relocate
    ) {
      this.relaxedFits = false;
      return this.lastTotal;
    }
    this.resetDelta();
    state.begin();
    let ok = this.perform(op, LimitEnforcement.None);
    if (!ok && op.kind === OperationKind.RelocateAfter) {
      state.rollback();
      state.begin();
      this.resetDelta();
      ok = this.relocate(op.partition, op.cell, LimitEnforcement.None);
      for (let i = op.first.length - 1; ok && i >= 0; i--)
        ok = this.relocateTo(op.first[i], LimitEnforcement.None);
    }
    let fits = ok;
    const touched = state.touchedCellCount();
    for (let i = 0; fits && i < touched; i++) fits = state.cellWithinLimits(state.touchedCell(i));
    const total = sumTerms(this.delta);
    state.rollback();
    this.relaxedFits = fits;
    return ok ? total : undefined;
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
    if (!keep && op.kind === OperationKind.DropThenRelocate)
      return this.evaluateAfterDrops(op.dropped, op.partition, op.cell, enforce);
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
    this.lastOp = op;
    this.lastRevision = state.revision();
    this.lastEnforce = enforce;
    const performed = ok;
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
    this.lastCapacityFailed = performed && !ok;
    this.lastTotal = total;
    if (ok && keep && enforce === LimitEnforcement.All) {
      this.mark(state.bytesMoved < bytesBefore);
      state.commit();
    } else {
      state.rollback();
    }
    return ok ? total : undefined;
  }

  /**
   * A DropThenRelocate (drop `dropped`, then p → c) evaluated as `run` would, from a copy of the plan with
   * the drops already made. The local search tries many of them against one plan, and they drop the same
   * few cheapest moves (every partition short of bytes takes a prefix of cheapestBytes' order, which is the
   * plan's): the drops are made once per plan revision and list, on a copy (a few copies, the least recently
   * used replaced), and each change then only relocates its partition there. The copy is the very placement
   * `run` reaches after the drops (the same operations on the same numbers), the cost change starts from the
   * drops' terms and adds the relocation's in the same order, and the limits are checked on every cell
   * either touched: the answer is `run`'s, bit for bit. Undefined when a step breaks a limit.
   */
  private evaluateAfterDrops(
    dropped: readonly number[],
    p: number,
    c: number,
    enforce: LimitEnforcement,
  ): number | undefined {
    const copy = this.dropCopy(dropped);
    if (!copy.ok) return undefined;
    const editor = copy.editor;
    const s = editor.state;
    const delta = editor.delta;
    s.begin();
    copyTerms(copy.terms, delta);
    let ok = editor.relocate(p, c, enforce);
    if (ok && enforce !== LimitEnforcement.None) {
      for (let i = 0; ok && i < copy.cellCount; i++) ok = s.cellWithinLimits(copy.cells[i]);
      const touched = s.touchedCellCount();
      for (let i = 0; ok && i < touched; i++) ok = s.cellWithinLimits(s.touchedCell(i));
    }
    const total = sumTerms(delta);
    s.rollback();
    return ok ? total : undefined;
  }

  /** The copy of this plan with `dropped` dropped, made now if no copy holds them. */
  private dropCopy(dropped: readonly number[]): DropCopy {
    const state = this.state;
    const revision = state.revision();
    const pool = this.budget.dropCopies;
    const use = ++pool.uses;
    let victim: DropCopy | undefined;
    for (const copy of pool.copies) {
      if (copy.source === state && copy.revision === revision && sameList(copy.dropped, dropped)) {
        copy.lastUse = use;
        return copy;
      }
      if (victim === undefined || copy.lastUse < victim.lastUse) victim = copy;
    }
    if (pool.copies.length < DROP_COPIES) {
      victim = new DropCopy(
        new PlanEditor(this.model, this.candidates, state.clone(), this.marks, this.budget),
        this.model.cellCount,
      );
      pool.copies.push(victim);
    }
    const copy = victim as DropCopy;
    const editor = copy.editor;
    const s = editor.state;
    s.copyFrom(state);
    editor.resetDelta();
    s.begin();
    let ok = true;
    for (let i = 0; ok && i < dropped.length; i++) ok = editor.removeMove(dropped[i]);
    const touched = s.touchedCellCount();
    for (let i = 0; i < touched; i++) copy.cells[i] = s.touchedCell(i);
    copy.cellCount = touched;
    copyTerms(editor.delta, copy.terms);
    if (ok) s.commit();
    else s.rollback();
    copy.ok = ok;
    copy.source = state;
    copy.revision = revision;
    copy.lastUse = use;
    copyList(dropped, copy.dropped);
    return copy;
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

/** How many copies of the plan evaluateAfterDrops keeps. */
const DROP_COPIES = 4;

/** The copies of plans evaluateAfterDrops keeps, and a counter for least-recent use. */
interface DropCopies {
  readonly copies: DropCopy[];
  uses: number;
}

/** A copy of a plan with some planned moves dropped, what that cost per term and the cells it touched. */
class DropCopy {
  readonly editor: PlanEditor;
  /** The plan it copies, and that plan's revision (-1: none yet). */
  source: PlacementState | undefined;
  revision = -1;
  readonly dropped: number[] = [];
  /** Whether every drop could be made. */
  ok = false;
  readonly terms: TermCosts = zeroTerms();
  readonly cells: Int32Array;
  cellCount = 0;
  lastUse = 0;

  constructor(editor: PlanEditor, cells: number) {
    this.editor = editor;
    this.cells = new Int32Array(cells);
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
