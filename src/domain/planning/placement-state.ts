import { moveBytes, moveTransferCost } from './cold-copies.ts';
import { LocalityMemo } from './locality-memo.ts';
import {
  copyTerms,
  drainCost,
  loadPenalty,
  presenceAt,
  sumTerms,
  type TermCosts,
  zeroTerms,
} from './placement-cost.ts';
import { copyList, insertAt, PlacementJournal, removeAt } from './placement-journal.ts';
import { type PlacementModel, pairPenaltyMs } from './placement-model.ts';

/** Presence on the target in step t: NaN offset = not moved (0), offset ≤ 0 = from the start (1). */
function presence(stepMs: number, t: number, offsetMs: number): number {
  if (Number.isNaN(offsetMs)) return 0;
  return offsetMs <= 0 ? 1 : presenceAt(stepMs, t, offsetMs);
}

const LOAD_TOLERANCE = 1e-9;

/**
 * The mutable placement during planning: where every partition ends up, when moved ones complete, the
 * per-cell per-step load, bytes, move counts and the cost per term, all kept incrementally.
 * `begin`/`commit`/`rollback` make tentative changes exact to undo (a journal of the touched entries).
 */
export class PlacementState {
  readonly model: PlacementModel;
  readonly cellOf: Int32Array;
  /** Completion offset of moved partitions; NaN when not moved by this plan. */
  readonly offsetMs: Float64Array;
  /** Locality cost counted for each moved partition (so undo and retime need not recompute it). */
  private readonly appliedLocality: Float64Array;
  readonly load: Float64Array;
  readonly bytes: Float64Array;
  readonly moveCount: Int32Array;
  bytesMoved: number;
  readonly costs: TermCosts;
  /** Partitions moved by this plan, in the order they were added. */
  private readonly movedList: number[];
  /** Per cell, the partitions moved by this plan from or to it (a few: the concurrency limit bounds it). */
  private readonly cellMoves: number[][];

  /** Whether a tentative change of this state is under way (its journal is `journal`). */
  private journaling = false;
  /**
   * Grows whenever this placement changes for good (a committed change, a move made outside a change,
   * `copyFrom`): equal revisions of one state object mean the same placement, so a cache may key on it.
   */
  private revisionCount = 0;
  /** Shared with the clones of this state (see PlacementJournal). */
  private readonly journal: PlacementJournal;
  /** localityCost, remembered; shared with the clones of this state. */
  private readonly locality: LocalityMemo;

  constructor(model: PlacementModel, from?: PlacementState) {
    this.model = model;
    const C = model.cellCount;
    const P = model.partitionCount;
    this.journal = from ? from.journal : new PlacementJournal(model);
    this.locality = from ? from.locality : new LocalityMemo(model);
    if (from) {
      this.cellOf = from.cellOf.slice();
      this.offsetMs = from.offsetMs.slice();
      this.appliedLocality = from.appliedLocality.slice();
      this.load = from.load.slice();
      this.bytes = from.bytes.slice();
      this.moveCount = from.moveCount.slice();
      this.bytesMoved = from.bytesMoved;
      this.costs = { ...from.costs };
      this.movedList = [...from.movedList];
      this.cellMoves = from.cellMoves.map((list) => [...list]);
      return;
    }
    this.cellOf = model.origin.slice();
    this.offsetMs = new Float64Array(P).fill(Number.NaN);
    this.appliedLocality = new Float64Array(P);
    this.load = model.initialLoad.slice();
    this.bytes = model.initialBytes.slice();
    this.moveCount = model.inFlightCount.slice();
    this.bytesMoved = model.inFlightBytes;
    this.movedList = [];
    this.cellMoves = Array.from({ length: C }, () => []);
    const costs = zeroTerms();
    const R = model.regionCount;
    for (let p = 0; p < P; p++) {
      const o = model.origin[p];
      costs.locality += model.locFull[p * R + model.cellRegion[o]];
      costs.drain += drainCost(model, p, o);
    }
    for (let i = 0; i < model.pairA.length; i++) {
      costs.relatedness +=
        model.pairWeight[i] *
        pairPenaltyMs(model, model.origin[model.pairA[i]], model.origin[model.pairB[i]]);
    }
    const T = model.steps;
    for (let c = 0; c < C; c++) {
      for (let t = 0; t < T; t++) costs.loadBalance += loadPenalty(model, c, this.load[c * T + t]);
    }
    this.costs = costs;
  }

  clone(): PlacementState {
    return new PlacementState(this.model, this);
  }

  /**
   * Make this state equal to `from`, a state of the same model and journal, reusing this one's arrays (what
   * `from.clone()` would give, without allocating: the iterated local search recycles discarded plans).
   */
  copyFrom(from: PlacementState): void {
    if (from.journal !== this.journal || this.journaling || from.journaling)
      throw new Error('PlacementState.copyFrom: not a clone of the same plan run, or a change under way');
    this.cellOf.set(from.cellOf);
    this.offsetMs.set(from.offsetMs);
    this.appliedLocality.set(from.appliedLocality);
    this.load.set(from.load);
    this.bytes.set(from.bytes);
    this.moveCount.set(from.moveCount);
    this.bytesMoved = from.bytesMoved;
    copyTerms(from.costs, this.costs);
    copyList(from.movedList, this.movedList);
    for (let c = 0; c < this.cellMoves.length; c++) copyList(from.cellMoves[c], this.cellMoves[c]);
    this.revisionCount++;
  }

  /** See revisionCount. */
  revision(): number {
    return this.revisionCount;
  }

  total(): number {
    return sumTerms(this.costs);
  }

  isMoved(p: number): boolean {
    return !Number.isNaN(this.offsetMs[p]);
  }

  /** Partitions currently moved by this plan, in the order they were added (a live view: copy to keep). */
  movedPartitions(): readonly number[] {
    return this.movedList;
  }

  /** Partitions moved by this plan from or to cell c (a live view). */
  movesOnCell(c: number): readonly number[] {
    return this.cellMoves[c];
  }

  /** Bandwidth share of a moved partition: the most moves on its source or target cell. */
  shareOf(p: number): number {
    return Math.max(this.moveCount[this.model.origin[p]], this.moveCount[this.cellOf[p]]);
  }

  /**
   * Cost change per term of moving unmoved p to `cell`, completing at `offsetMs`, without changing anything.
   * Returns false when the target cell's hard capacity (ops at any step, or bytes) would be exceeded.
   */
  evaluateMove(p: number, cell: number, offsetMs: number, out: TermCosts): boolean {
    const m = this.model;
    const o = this.cellOf[p];
    const T = m.steps;
    const stepMs = m.stepMs;
    let feasible = this.bytes[cell] + m.bytes[p] <= m.bytesLimit[cell] * (1 + LOAD_TOLERANCE);
    let dLoad = 0;
    const dt = p * T;
    const oRow = o * T;
    const cRow = cell * T;
    for (let t = 0; t < T; t++) {
      const w = offsetMs <= 0 ? 1 : presenceAt(stepMs, t, offsetMs);
      const x = w * m.demandTotal[dt + t];
      if (x === 0) continue;
      const lo = this.load[oRow + t];
      const lc = this.load[cRow + t];
      dLoad +=
        loadPenalty(m, o, lo - x) -
        loadPenalty(m, o, lo) +
        loadPenalty(m, cell, lc + x) -
        loadPenalty(m, cell, lc);
      if (lc + x > m.loadLimit[cRow + t] * (1 + LOAD_TOLERANCE)) feasible = false;
    }
    out.loadBalance = dLoad;
    out.locality = this.locality.cost(p, cell, offsetMs) - m.locFull[p * m.regionCount + m.cellRegion[o]];
    out.relatedness = this.relatednessDelta(p, o, cell);
    out.transfer = moveTransferCost(m, p, cell);
    out.drain = drainCost(m, p, cell) - drainCost(m, p, o);
    return feasible;
  }

  /** Co-access cost change of p going from cell a to cell b, partners where they are now. */
  relatednessDelta(p: number, a: number, b: number): number {
    const m = this.model;
    let s = 0;
    for (let k = m.relStart[p]; k < m.relStart[p + 1]; k++) {
      const q = this.cellOf[m.relPartner[k]];
      s += m.relWeight[k] * (pairPenaltyMs(m, b, q) - pairPenaltyMs(m, a, q));
    }
    return s;
  }

  /** Move unmoved p to `cell`, completing at `offsetMs`; adds the cost change per term to `out`. */
  applyMove(p: number, cell: number, offsetMs: number, out?: TermCosts): void {
    const m = this.model;
    if (!this.journaling) this.revisionCount++;
    const o = m.origin[p];
    this.touchPartition(p);
    this.touchCell(o);
    this.touchCell(cell);
    const locality = this.locality.cost(p, cell, offsetMs);
    const loadBalance = this.shiftLoad(p, o, cell, Number.NaN, offsetMs, m.steps);
    const relatedness = this.relatednessDelta(p, o, cell);
    this.addCosts(
      locality - m.locFull[p * m.regionCount + m.cellRegion[o]],
      relatedness,
      loadBalance,
      moveTransferCost(m, p, cell),
      drainCost(m, p, cell) - drainCost(m, p, o),
      out,
    );
    this.bytes[o] -= m.bytes[p];
    this.bytes[cell] += m.bytes[p];
    this.moveCount[o]++;
    if (cell !== o) this.moveCount[cell]++;
    this.bytesMoved += moveBytes(m, p, cell);
    this.cellOf[p] = cell;
    this.offsetMs[p] = offsetMs;
    this.appliedLocality[p] = locality;
    this.movedList.push(p);
    if (this.journaling) this.logMoved(p + 1, this.movedList.length - 1);
    this.cellMoves[o].push(p);
    if (this.journaling) this.logCellMove(o, p + 1, 0);
    if (cell !== o) {
      this.cellMoves[cell].push(p);
      if (this.journaling) this.logCellMove(cell, p + 1, 0);
    }
  }

  /** Undo p's move: it stays on its origin. */
  undoMove(p: number, out?: TermCosts): void {
    const m = this.model;
    if (!this.journaling) this.revisionCount++;
    const o = m.origin[p];
    const cell = this.cellOf[p];
    const offsetMs = this.offsetMs[p];
    this.touchPartition(p);
    this.touchCell(o);
    this.touchCell(cell);
    const loadBalance = this.shiftLoad(p, o, cell, offsetMs, Number.NaN, m.steps);
    this.cellOf[p] = o;
    const relatedness = this.relatednessDelta(p, cell, o);
    this.addCosts(
      m.locFull[p * m.regionCount + m.cellRegion[o]] - this.appliedLocality[p],
      relatedness,
      loadBalance,
      -moveTransferCost(m, p, cell),
      drainCost(m, p, o) - drainCost(m, p, cell),
      out,
    );
    this.bytes[o] += m.bytes[p];
    this.bytes[cell] -= m.bytes[p];
    this.moveCount[o]--;
    if (cell !== o) this.moveCount[cell]--;
    this.bytesMoved -= moveBytes(m, p, cell);
    this.offsetMs[p] = Number.NaN;
    this.appliedLocality[p] = 0;
    const at = this.movedList.lastIndexOf(p);
    removeAt(this.movedList, at);
    if (this.journaling) this.logMoved(-(p + 1), at);
    this.dropCellMove(o, p);
    if (cell !== o) this.dropCellMove(cell, p);
  }

  /** Take p off cell c's list of moves, logging where it was when a change is under way. */
  private dropCellMove(c: number, p: number): void {
    const list = this.cellMoves[c];
    const at = list.indexOf(p);
    if (at < 0) return;
    removeAt(list, at);
    if (this.journaling) this.logCellMove(c, -(p + 1), at);
  }

  /** Change when a moved partition completes (its bandwidth share changed). */
  retime(p: number, offsetMs: number, out?: TermCosts): void {
    const old = this.offsetMs[p];
    if (old === offsetMs) return;
    if (!this.journaling) this.revisionCount++;
    const m = this.model;
    const o = m.origin[p];
    const cell = this.cellOf[p];
    this.touchPartition(p);
    this.touchCell(o);
    this.touchCell(cell);
    // Only the steps before the later completion change.
    const end = Math.min(m.steps, Math.ceil(Math.max(old, offsetMs) / m.stepMs));
    const loadBalance = this.shiftLoad(p, o, cell, old, offsetMs, end);
    const locality = this.locality.cost(p, cell, offsetMs);
    this.addCosts(locality - this.appliedLocality[p], 0, loadBalance, 0, 0, out);
    this.offsetMs[p] = offsetMs;
    this.appliedLocality[p] = locality;
  }

  /** Within the hard limits: every step's load and the bytes of cell c. */
  cellWithinLimits(c: number): boolean {
    const m = this.model;
    if (this.bytes[c] > m.bytesLimit[c] * (1 + LOAD_TOLERANCE)) return false;
    const T = m.steps;
    for (let t = 0; t < T; t++) {
      if (this.load[c * T + t] > m.loadLimit[c * T + t] * (1 + LOAD_TOLERANCE)) return false;
    }
    return true;
  }

  /**
   * Shift p's demand between its origin `from` and its target `to` as its presence on `to` changes from
   * completion at `oldOffset` to completion at `newOffset` (NaN = not moved: absent from `to`). Only steps
   * below `end` are visited. Returns the load-penalty change.
   */
  private shiftLoad(
    p: number,
    from: number,
    to: number,
    oldOffset: number,
    newOffset: number,
    end: number,
  ): number {
    const m = this.model;
    const T = m.steps;
    const stepMs = m.stepMs;
    const load = this.load;
    const slopes = m.kneeSlope;
    const K = slopes.length;
    const knees = m.kneeLoad;
    const demand = m.demandTotal;
    const row = p * T;
    const fromRow = from * T;
    const toRow = to * T;
    const fromKnees = from * K;
    const toKnees = to * K;
    let d = 0;
    for (let t = 0; t < end; t++) {
      const x = (presence(stepMs, t, newOffset) - presence(stepMs, t, oldOffset)) * demand[row + t];
      if (x === 0) continue;
      const i = fromRow + t;
      const j = toRow + t;
      const li = load[i];
      const lj = load[j];
      const ni = li - x;
      const nj = lj + x;
      load[i] = ni;
      load[j] = nj;
      for (let k = 0; k < K; k++) {
        const kf = knees[fromKnees + k];
        const kt = knees[toKnees + k];
        const a = li > kf ? li - kf : 0;
        const b = ni > kf ? ni - kf : 0;
        const c = lj > kt ? lj - kt : 0;
        const e = nj > kt ? nj - kt : 0;
        if (a === 0 && b === 0 && c === 0 && e === 0) break;
        d += slopes[k] * (b - a + e - c);
      }
    }
    return d;
  }

  private addCosts(
    locality: number,
    relatedness: number,
    loadBalance: number,
    transfer: number,
    drain: number,
    out?: TermCosts,
  ): void {
    const c = this.costs;
    c.locality += locality;
    c.relatedness += relatedness;
    c.loadBalance += loadBalance;
    c.transfer += transfer;
    c.drain += drain;
    if (out) {
      out.locality += locality;
      out.relatedness += relatedness;
      out.loadBalance += loadBalance;
      out.transfer += transfer;
      out.drain += drain;
    }
  }

  /** Start a tentative change; `rollback` restores the exact previous state. */
  begin(): void {
    const j = this.journal;
    if (j.owner !== undefined && j.owner !== this)
      throw new Error('PlacementState: a clone of this state has a tentative change under way');
    j.owner = this;
    this.journaling = true;
    j.generation++;
    j.cellCount = 0;
    j.partitionCount = 0;
    j.savedBytesMoved = this.bytesMoved;
    copyTerms(this.costs, j.savedCosts);
    j.movedLogCount = 0;
    j.cellLogCount = 0;
  }

  /** How many cells changed since `begin`; `touchedCell(i)` is the i-th (no view allocated: called per change). */
  touchedCellCount(): number {
    return this.journal.cellCount;
  }

  touchedCell(i: number): number {
    return this.journal.cells[i];
  }

  /** How many partitions changed since `begin`; `touchedPartition(i)` is the i-th. */
  touchedPartitionCount(): number {
    return this.journal.partitionCount;
  }

  touchedPartition(i: number): number {
    return this.journal.partitions[i];
  }

  commit(): void {
    this.revisionCount++;
    this.journaling = false;
    this.journal.owner = undefined;
  }

  rollback(): void {
    const j = this.journal;
    const T = this.model.steps;
    for (let i = 0; i < j.cellCount; i++) {
      const c = j.cells[i];
      for (let t = 0; t < T; t++) this.load[c * T + t] = j.savedLoad[c * T + t];
      this.bytes[c] = j.savedBytes[c];
      this.moveCount[c] = j.savedCount[c];
    }
    for (let i = j.cellLogCount - 1; i >= 0; i--) {
      const list = this.cellMoves[j.cellLogCell[i]];
      const entry = j.cellLogEntry[i];
      if (entry > 0) list.pop();
      else insertAt(list, j.cellLogIndex[i], -entry - 1);
    }
    for (let i = 0; i < j.partitionCount; i++) {
      const p = j.partitions[i];
      this.cellOf[p] = j.savedCell[p];
      this.offsetMs[p] = j.savedOffset[p];
      this.appliedLocality[p] = j.savedLocality[p];
    }
    this.bytesMoved = j.savedBytesMoved;
    copyTerms(j.savedCosts, this.costs);
    for (let i = j.movedLogCount - 1; i >= 0; i--) {
      const entry = j.movedLog[i];
      if (entry > 0) this.movedList.pop();
      else insertAt(this.movedList, j.movedLogIndex[i], -entry - 1);
    }
    this.journaling = false;
    j.owner = undefined;
  }

  private touchCell(c: number): void {
    const j = this.journal;
    if (!this.journaling || j.cellStamp[c] === j.generation) return;
    j.cellStamp[c] = j.generation;
    const T = this.model.steps;
    for (let t = 0; t < T; t++) j.savedLoad[c * T + t] = this.load[c * T + t];
    j.savedBytes[c] = this.bytes[c];
    j.savedCount[c] = this.moveCount[c];
    j.cells[j.cellCount++] = c;
  }

  private touchPartition(p: number): void {
    const j = this.journal;
    if (!this.journaling || j.partitionStamp[p] === j.generation) return;
    j.partitionStamp[p] = j.generation;
    j.savedCell[p] = this.cellOf[p];
    j.savedOffset[p] = this.offsetMs[p];
    j.savedLocality[p] = this.appliedLocality[p];
    j.partitions[j.partitionCount++] = p;
  }

  private logCellMove(c: number, entry: number, index: number): void {
    const j = this.journal;
    const i = j.cellLogCount++;
    if (i < j.cellLogEntry.length) {
      j.cellLogCell[i] = c;
      j.cellLogEntry[i] = entry;
      j.cellLogIndex[i] = index;
    } else {
      j.cellLogCell.push(c);
      j.cellLogEntry.push(entry);
      j.cellLogIndex.push(index);
    }
  }

  private logMoved(entry: number, index: number): void {
    const j = this.journal;
    const i = j.movedLogCount++;
    if (i < j.movedLog.length) {
      j.movedLog[i] = entry;
      j.movedLogIndex[i] = index;
    } else {
      j.movedLog.push(entry);
      j.movedLogIndex.push(index);
    }
  }
}
