import { CandidateHeap } from './candidate-heap.ts';
import type { CandidateMoves } from './candidate-moves.ts';
import { moveBytes } from './cold-copies.ts';
import { CounterRandom } from './counter-random.ts';
import { LocalSearch } from './local-search.ts';
import type { PlacementModel } from './placement-model.ts';
import type { PlacementState } from './placement-state.ts';
import { EPS, PlanEditor, SearchBudget, SearchMarks } from './plan-editor.ts';
import { addOp, removeOp } from './search-operation.ts';
import type { ThrottlePrices } from './slot-prices.ts';

/** The keys the greedy can order candidates by: net benefit, benefit per byte, or benefit net of slot prices. */
export type GreedyOrder = 'gain' | 'density' | 'priced';

/** Share of the planned moves a perturbation drops. */
const PERTURBATION_DROP = 0.35;
/** Relative noise on greedy keys after a perturbation. */
const PERTURBATION_NOISE = 0.3;

/**
 * One plan under construction and the phases that build it: the lazy greedy, the local search, forced
 * insertions and the perturbations of the iterated local search. Clones share the model, the candidates
 * and the search budget, and copy the placement and the don't-look marks.
 */
export class PlanBuilder {
  readonly model: PlacementModel;
  readonly budget: SearchBudget;
  readonly state: PlacementState;
  readonly candidates: CandidateMoves;
  private readonly editor: PlanEditor;
  private readonly search: LocalSearch;
  /** Per origin cell, the partitions with candidates, busiest (peak demand) first. */
  private readonly onCell: readonly number[][];
  /** The partitions with candidates, best standalone gain first (ties: lower index). */
  private readonly byGain: readonly number[];
  /** The same partitions in index order. */
  private readonly byIndex: Int32Array;

  constructor(
    model: PlacementModel,
    state: PlacementState,
    candidates: CandidateMoves,
    marks?: SearchMarks,
    onCell?: readonly number[][],
    budget?: SearchBudget,
    byGain?: readonly number[],
  ) {
    this.budget = budget ?? new SearchBudget();
    this.model = model;
    this.state = state;
    this.candidates = candidates;
    this.onCell = onCell ?? partitionsByCell(model, candidates);
    this.byGain = byGain ?? partitionsByGain(model, candidates);
    this.byIndex = Int32Array.from(this.byGain).sort();
    this.editor = new PlanEditor(
      model,
      candidates,
      state,
      new SearchMarks(model.cellCount, model.partitionCount, marks),
      this.budget,
    );
    this.search = new LocalSearch(this.editor, this.onCell, this.byGain);
  }

  /** Large inputs: a lighter local search (see LocalSearch.light). */
  useLightSearch(): void {
    this.search.light = true;
  }

  /**
   * A copy of this plan under construction. With `spare` (a builder of the same run no longer in use) the
   * copy is written into it rather than allocated; its search caches are forgotten, since they are keyed by
   * the marks' clock, which the copy takes over.
   */
  clone(spare?: PlanBuilder): PlanBuilder {
    if (spare) {
      spare.state.copyFrom(this.state);
      spare.editor.marks.copyFrom(this.editor.marks);
      spare.search.forgetPlan();
      return spare;
    }
    return new PlanBuilder(
      this.model,
      this.state.clone(),
      this.candidates,
      this.editor.marks,
      this.onCell,
      this.budget,
      this.byGain,
    );
  }

  /** Local search until no step improves the objective (or `rounds` run out). */
  improve(rounds: number): void {
    this.search.improve(rounds);
  }

  /** Drop a random share of the planned moves (at least one). False when there is nothing to drop. */
  perturb(random: CounterRandom, byCell: boolean): boolean {
    const m = this.model;
    const planned = [...this.state.movedPartitions()];
    if (planned.length === 0) return false;
    const forced = planned[Math.floor(random.next() * planned.length)];
    // Either a random share of the moves, or every move touching one cell of a random planned move.
    const cell = random.next() < 0.5 ? m.origin[forced] : this.state.cellOf[forced];
    for (const p of planned) {
      const drop = byCell
        ? m.origin[p] === cell || this.state.cellOf[p] === cell
        : p === forced || random.next() < PERTURBATION_DROP;
      if (drop) this.editor.apply(removeOp(p));
    }
    return true;
  }

  /**
   * Lazy greedy over candidates, best key first: net benefit, benefit per byte, or net benefit minus the
   * Lagrangian prices of the throttles the move uses (`prices`). Keys are jittered when `random` is given:
   * partition p's key by the p-th of P draws, computed when the key is (the greedy reads a few; the stream
   * moves on by P, as if all were drawn).
   */
  greedy(order: GreedyOrder, random?: CounterRandom, prices?: ThrottlePrices): void {
    const m = this.model;
    const cand = this.candidates;
    const editor = this.editor;
    const limit = editor.limit;
    const jitter = random !== undefined;
    const base = random ? random.skip(m.partitionCount) : 0;
    const noise = (p: number) =>
      jitter ? 1 + PERTURBATION_NOISE * (CounterRandom.drawAt(base, p) - 0.5) : 1;
    /** The greedy key of candidate k (cell cand.cell[k]) of p at the given gain. */
    const keyAt = (gain: number, p: number, k: number) => {
      if (order === 'density') return (gain / (m.bytes[p] + 1)) * noise(p);
      if (order === 'gain' || !prices) return gain * noise(p);
      return (
        (gain - prices.cell[m.origin[p]] - prices.cell[cand.cell[k]] - prices.perByte * m.bytes[p]) * noise(p)
      );
    };
    const heap = new CandidateHeap();
    // The partitions with candidates, in index order (as a scan of every partition would push them).
    const movable = this.byIndex;
    for (let i = 0; i < movable.length; i++) {
      const p = movable[i];
      const k = cand.start[p];
      if (this.state.isMoved(p)) continue;
      // With prices the best-keyed candidate need not be the best-gain one.
      let bestK = k;
      if (order === 'priced') {
        for (let j = k + 1; j < cand.start[p + 1]; j++)
          if (keyAt(cand.gain[j], p, j) > keyAt(cand.gain[bestK], p, bestK)) bestK = j;
      }
      if (cand.gain[bestK] > 0) heap.push(keyAt(cand.gain[bestK], p, bestK), p, bestK);
    }
    // The greedy only adds moves, so the bytes moved only grow: a candidate over the bytes budget now will
    // still be when it is popped, and popping it would only queue the next one. Where keys fall along a
    // partition's candidates (by gain or density; not with prices), queueing that next one at once pops it
    // no earlier than the skipped one would have been, so the plan is the same and the heap does less work.
    const keysFall = order !== 'priced';
    const maxBytes = m.limits.maxBytesPerCycle;
    const next = (p: number, k: number) => {
      for (let j = k + 1; j < cand.start[p + 1]; j++) {
        if (cand.gain[j] <= 0) return;
        const c = cand.cell[j];
        if (keysFall && this.state.bytesMoved + moveBytes(m, p, c) > maxBytes) continue;
        if (this.state.moveCount[c] < limit) {
          heap.push(keyAt(cand.gain[j], p, j), p, j);
          return;
        }
      }
    };
    while (heap.size > 0) {
      const p = heap.topP();
      const k = heap.topK();
      heap.pop();
      if (this.state.isMoved(p)) continue;
      const o = m.origin[p];
      if (this.state.moveCount[o] >= limit) continue;
      const c = cand.cell[k];
      if (
        this.state.moveCount[c] >= limit ||
        this.state.bytesMoved + moveBytes(m, p, c) > m.limits.maxBytesPerCycle
      ) {
        next(p, k);
        continue;
      }
      const move = addOp(p, c);
      const delta = editor.evaluate(move);
      if (delta === undefined) {
        next(p, k);
        continue;
      }
      const gain = -delta;
      const key = keyAt(gain, p, k);
      if (heap.size > 0 && key < heap.topKey() - EPS) {
        if (gain > EPS) heap.push(key, p, k);
        else next(p, k);
        continue;
      }
      if (gain <= EPS) {
        next(p, k);
        continue;
      }
      editor.apply(move);
      // Related partners may now gain more by joining p: queue them at their new value (lazy keys only fall).
      for (let j = m.relStart[p]; j < m.relStart[p + 1]; j++) {
        const r = m.relPartner[j];
        if (this.state.isMoved(r)) continue;
        for (let kr = cand.start[r]; kr < cand.start[r + 1]; kr++) {
          if (cand.cell[kr] !== c) continue;
          const dr = editor.evaluate(addOp(r, c));
          if (dr !== undefined && -dr > EPS) heap.push(keyAt(-dr, r, kr), r, kr);
          break;
        }
      }
    }
  }

  /**
   * Forced insertions: the held-back partitions with the best standalone gain, each put on its best cell
   * after dropping the weakest planned moves in its way (slots, bytes, room), then repaired by local search.
   */
  forceInsertions(count: number, rounds: number): PlanBuilder {
    let current: PlanBuilder = this;
    const cand = this.candidates;
    const held: number[] = [];
    for (let p = 0; p < this.model.partitionCount; p++) {
      if (cand.start[p] < cand.start[p + 1] && cand.gain[cand.start[p]] > 0 && !this.state.isMoved(p))
        held.push(p);
    }
    held.sort((a, b) => cand.gain[cand.start[b]] - cand.gain[cand.start[a]] || a - b);
    for (const p of held.slice(0, count)) {
      if (this.budget.used >= this.budget.limit) break;
      if (current.state.isMoved(p)) continue;
      for (let k = cand.start[p]; k < Math.min(cand.start[p + 1], cand.start[p] + 2); k++) {
        const trial = current.clone();
        if (!trial.force(p, cand.cell[k])) continue;
        trial.improve(rounds);
        if (trial.state.total() < current.state.total() - EPS) {
          current = trial;
          break;
        }
      }
    }
    return current;
  }

  /** Drop the weakest planned moves blocking p → c, then make the move. False if it still cannot be made. */
  private force(p: number, c: number): boolean {
    const m = this.model;
    const s = this.state;
    const editor = this.editor;
    const limit = editor.limit;
    const o = m.origin[p];
    const value = (q: number) => editor.candidateGainAt(q, s.cellOf[q]);
    const weakestOn = (cell: number) => {
      let weakest = -1;
      for (const q of s.movedPartitions()) {
        if (m.origin[q] !== cell && s.cellOf[q] !== cell) continue;
        if (weakest < 0 || value(q) < value(weakest)) weakest = q;
      }
      return weakest;
    };
    for (let guard = 0; guard < 2 * limit + 4; guard++) {
      if (editor.apply(addOp(p, c)) !== undefined) return true;
      let drop = -1;
      if (s.moveCount[o] >= limit) drop = weakestOn(o);
      else if (s.moveCount[c] >= limit) drop = weakestOn(c);
      else if (s.bytesMoved + moveBytes(m, p, c) > m.limits.maxBytesPerCycle) {
        let weakest = -1;
        for (const q of s.movedPartitions()) {
          if (weakest < 0 || value(q) / (m.bytes[q] + 1) < value(weakest) / (m.bytes[weakest] + 1))
            weakest = q;
        }
        drop = weakest;
      } else {
        // No room on c: drop the weakest move into c.
        let weakest = -1;
        for (const q of s.movedPartitions()) {
          if (s.cellOf[q] === c && (weakest < 0 || value(q) < value(weakest))) weakest = q;
        }
        drop = weakest;
      }
      if (drop < 0 || editor.apply(removeOp(drop)) === undefined) return false;
    }
    return false;
  }
}

/**
 * The partitions that have candidate moves, best standalone gain first (ties: lower index); sorted once per
 * plan run, where the local search used to sort its held-back partitions every round.
 */
function partitionsByGain(model: PlacementModel, cand: CandidateMoves): number[] {
  const out: number[] = [];
  for (let p = 0; p < model.partitionCount; p++) if (cand.start[p] < cand.start[p + 1]) out.push(p);
  return out.sort((a, b) => cand.gain[cand.start[b]] - cand.gain[cand.start[a]] || a - b);
}

/** Per origin cell, the partitions that have candidate moves, highest peak demand first. */
function partitionsByCell(model: PlacementModel, cand: CandidateMoves): number[][] {
  const T = model.steps;
  const out: number[][] = Array.from({ length: model.cellCount }, () => []);
  const peak = new Float64Array(model.partitionCount);
  for (let p = 0; p < model.partitionCount; p++) {
    if (cand.start[p] === cand.start[p + 1]) continue;
    for (let t = 0; t < T; t++) peak[p] = Math.max(peak[p], model.demandTotal[p * T + t]);
    out[model.origin[p]].push(p);
  }
  for (const list of out) list.sort((a, b) => peak[b] - peak[a] || a - b);
  return out;
}
