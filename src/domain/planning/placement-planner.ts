import { seededRandom } from '../seeded-random.ts';
import { type CandidateMoves, generateCandidates } from './candidate-moves.ts';
import type { MovementPlan, PlannerInput } from './movement-plan.ts';
import { moveDurationMs, PlacementState, sumTerms, type TermCosts, zeroTerms } from './placement-cost.ts';
import { checkFeasibility } from './placement-feasibility.ts';
import { compilePlacementModel, type PlacementModel } from './placement-model.ts';
import { assemblePlan } from './plan-assembly.ts';
import type { PlannerOptions } from './planner-options.ts';

/**
 * The Adaptive Data Shuffler: plan partition moves ahead of forecast demand (synchronous, deterministic).
 *
 * 1. Compile the input into typed arrays; reject infeasible inputs (InfeasiblePlacementError) and bad ones
 *    (InputValidationError).
 * 2. Candidates: per partition, the best cells per region (every cell on small topologies), kept when the
 *    move alone clears the hysteresis threshold (see candidate-moves.ts).
 * 3. Lazy greedy with a priority queue, twice (by net benefit, and by benefit per byte for the bytes budget),
 *    re-evaluating a popped candidate exactly against the moves already taken (load, co-location, and the
 *    bandwidth its cells now share), under the hard capacity limits and the throttles.
 * 4. Local search: move a partition to another candidate cell or back (drop its move), alone or while
 *    dropping or re-targeting one planned move that blocks it; move related pairs together. Partitions
 *    whose cells did not change since they were last examined are skipped (don't-look marks).
 * 5. On inputs up to 5,000 partitions, iterated local search: drop a random part of the best plan, refill
 *    greedily with jittered keys, repair; keep the best (seeded, so the result is deterministic).
 * 6. The best placement becomes a MovementPlan (priorities, deadlines, reasons, capacity forecast).
 */
export function planMoves(input: PlannerInput, options?: PlannerOptions): MovementPlan {
  const model = compilePlacementModel(input, options);
  checkFeasibility(model);
  const base = new PlacementState(model);
  const exhaustive = model.cellCount <= model.options.exhaustiveCellLimit;
  const candidates = generateCandidates(model, base, exhaustive);
  let best: PlanBuilder | undefined;
  const prices = slotPrices(model, candidates);
  const large = model.partitionCount > model.options.largeInputPartitions;
  if (large) {
    // Large inputs: the best of the three greedy plans, then a light local search within a budget.
    for (const order of ORDERS) {
      const builder = new PlanBuilder(model, base.clone(), candidates);
      builder.greedy(order, undefined, prices);
      if (!best || builder.state.total() < best.state.total() - EPS) best = builder;
    }
    const chosen = best as PlanBuilder;
    chosen.light = true;
    chosen.budget.limit = chosen.budget.used + Math.min(model.options.searchBudget, LARGE_SEARCH_BUDGET);
    chosen.improve(model.options.localSearchRounds);
  } else {
    for (const order of ORDERS) {
      const builder = new PlanBuilder(model, base.clone(), candidates);
      builder.greedy(order, undefined, prices);
      builder.improve(model.options.localSearchRounds);
      if (!best || builder.state.total() < best.state.total() - EPS) best = builder;
    }
  }
  // Intensify while the search budget lasts (counted in evaluated changes, so the result is deterministic).
  const budget = (best as PlanBuilder).budget;
  budget.limit = budget.used + (large ? 0 : model.options.searchBudget);
  if (best && budget.used < budget.limit) {
    best = best.forceInsertions(model.options.forcedInsertions, model.options.localSearchRounds);
  }
  const random = seededRandom(0x5eed + model.partitionCount);
  for (let i = 0; i < model.options.perturbationRounds && best && budget.used < budget.limit; i++) {
    const builder = best.clone();
    if (!builder.perturb(random, i % 2 === 1)) break;
    builder.greedy(ORDERS[i % ORDERS.length], random, prices);
    builder.improve(model.options.localSearchRounds);
    if (builder.state.total() < best.state.total() - EPS) best = builder;
  }
  const state = (best as PlanBuilder).state;
  const choices = [...state.movedPartitions()].map((p) => ({ partition: p, cell: state.cellOf[p] }));
  return assemblePlan(model, choices, candidates);
}

const EPS = 1e-9;
const ORDERS = ['priced', 'gain', 'density'] as const;
/** Share of the planned moves a perturbation drops. */
const PERTURBATION_DROP = 0.35;
/** Relative noise on greedy keys after a perturbation. */
const PERTURBATION_NOISE = 0.3;
/** Large inputs: evaluated changes the light local search may spend (keeps 100k partitions near 1 s). */
const LARGE_SEARCH_BUDGET = 25_000;
/** Local search looks at this many held-back partitions per round on large inputs. */
const LOCAL_SEARCH_CANDIDATES = 200;
/** On large inputs, when the bytes budget blocks, swaps consider this many of the weakest planned moves. */
const SWAP_WEAKEST = 12;
/** Moves out of a full cell tried to make room on it. */
const ROOM_MAKERS = 6;
/** A blocking move may be re-targeted to this many of its other candidate cells. */
const RETARGET_ALTERNATIVES = 3;

/** Lagrangian prices of the throttles: dollars per move slot on each cell, and per byte of the cycle budget. */
interface ThrottlePrices {
  readonly cell: Float64Array;
  readonly perByte: number;
}

/** Subgradient iterations for the throttle prices. */
const PRICE_ITERATIONS = 40;

/**
 * Prices for the per-cell concurrency limit and the bytes budget from a Lagrangian relaxation on the
 * standalone gains: each partition takes its best priced candidate; prices rise on over-used cells (and
 * bytes) and fall on idle ones. A greedy keyed by priced gains then spends scarce slots on moves that use
 * them best (weighted b-matching), which plain gain order does not.
 */
function slotPrices(model: PlacementModel, cand: CandidateMoves): ThrottlePrices {
  const C = model.cellCount;
  const P = model.partitionCount;
  const L = model.limits.maxConcurrentMovesPerCell;
  const budget = model.limits.maxBytesPerCycle;
  const cell = new Float64Array(C);
  let perByte = 0;
  let gainSum = 0;
  let count = 0;
  for (let k = 0; k < cand.gain.length; k++) {
    if (cand.gain[k] > 0) {
      gainSum += cand.gain[k];
      count++;
    }
  }
  if (count === 0) return { cell, perByte };
  const scale = gainSum / count;
  const used = new Float64Array(C);
  for (let it = 0; it < PRICE_ITERATIONS; it++) {
    used.set(model.inFlightCount);
    let bytes = model.inFlightBytes;
    for (let p = 0; p < P; p++) {
      let best = 0;
      let bestCell = -1;
      const o = model.origin[p];
      for (let k = cand.start[p]; k < cand.start[p + 1]; k++) {
        const v = cand.gain[k] - cell[o] - cell[cand.cell[k]] - perByte * model.bytes[p];
        if (v > best) {
          best = v;
          bestCell = cand.cell[k];
        }
      }
      if (bestCell >= 0) {
        used[o]++;
        used[bestCell]++;
        bytes += model.bytes[p];
      }
    }
    const step = scale / (2 + it);
    for (let c = 0; c < C; c++) cell[c] = Math.max(0, cell[c] + (step * (used[c] - L)) / Math.max(1, L));
    if (budget > 0)
      perByte = Math.max(0, perByte + (step * (bytes - budget)) / budget / Math.max(1, budget / 8));
  }
  return { cell, perByte };
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

// Operations the search tries (codes instead of closures: they run hundreds of thousands of times).
const OP_ADD = 0;
const OP_REMOVE = 1;
/** Put a on cell b. */
const OP_RELOCATE = 2;
/** Put c on cell d, then a on cell b. */
const OP_RELOCATE_TWO = 3;
/** Put e on cell f, c on cell d, then a on cell b. */
const OP_RELOCATE_THREE = 4;
/** Drop every planned move in `dropList`, then put a on cell b. */
const OP_DROP_THEN_RELOCATE = 5;

/** Don't-look marks: when each cell and partition last changed, and when each partition was last examined. */
class SearchMarks {
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
}

/** Evaluated changes so far and the cap for the intensification phases, shared by a run's builders. */
class SearchBudget {
  used = 0;
  limit = Number.POSITIVE_INFINITY;
}

class PlanBuilder {
  readonly model: PlacementModel;
  readonly budget: SearchBudget;
  readonly state: PlacementState;
  readonly candidates: CandidateMoves;
  private readonly marks: SearchMarks;
  private readonly limit: number;
  /** Per origin cell, the partitions with candidates, busiest (peak demand) first. */
  private readonly onCell: readonly number[][];
  private readonly delta: TermCosts = zeroTerms();
  private readonly scratch: TermCosts = zeroTerms();
  /** Large inputs: fewer held-back partitions, no double swaps, fewer alternatives. */
  light = false;
  /** Extra operands of OP_RELOCATE_THREE and OP_DROP_THEN_RELOCATE. */
  private e = 0;
  private f = 0;
  private dropList: number[] = [];
  private losses = new Map<number, number>();
  private lossesAt = -1;
  /** Evaluate ignoring the throttles (1) or the throttles and the hard capacity (2); for bounds only, never kept. */
  private relaxed = 0;

  constructor(
    model: PlacementModel,
    state: PlacementState,
    candidates: CandidateMoves,
    marks?: SearchMarks,
    onCell?: readonly number[][],
    budget?: SearchBudget,
  ) {
    this.budget = budget ?? new SearchBudget();
    this.model = model;
    this.state = state;
    this.candidates = candidates;
    this.marks = new SearchMarks(model.cellCount, model.partitionCount, marks);
    this.limit = model.limits.maxConcurrentMovesPerCell;
    this.onCell = onCell ?? partitionsByCell(model, candidates);
  }

  clone(): PlanBuilder {
    return new PlanBuilder(
      this.model,
      this.state.clone(),
      this.candidates,
      this.marks,
      this.onCell,
      this.budget,
    );
  }

  /** Drop a random share of the planned moves (at least one). False when there is nothing to drop. */
  perturb(random: () => number, byCell: boolean): boolean {
    const m = this.model;
    const planned = [...this.state.movedPartitions()];
    if (planned.length === 0) return false;
    const forced = planned[Math.floor(random() * planned.length)];
    // Either a random share of the moves, or every move touching one cell of a random planned move.
    const cell = random() < 0.5 ? m.origin[forced] : this.state.cellOf[forced];
    for (const p of planned) {
      const drop = byCell
        ? m.origin[p] === cell || this.state.cellOf[p] === cell
        : p === forced || random() < PERTURBATION_DROP;
      if (drop) this.tryOp(OP_REMOVE, p, 0, 0, 0, true);
    }
    return true;
  }

  /**
   * Lazy greedy over candidates, best key first: net benefit, benefit per byte, or net benefit minus the
   * Lagrangian prices of the throttles the move uses (`prices`). Keys are jittered when `random` is given.
   */
  greedy(order: 'gain' | 'density' | 'priced', random?: () => number, prices?: ThrottlePrices): void {
    const m = this.model;
    const cand = this.candidates;
    const noise = new Float64Array(m.partitionCount).fill(1);
    if (random) for (let p = 0; p < noise.length; p++) noise[p] = 1 + PERTURBATION_NOISE * (random() - 0.5);
    let keyCell = -1;
    const keyOf = (gain: number, p: number) => {
      if (order === 'density') return (gain / (m.bytes[p] + 1)) * noise[p];
      if (order === 'gain' || !prices) return gain * noise[p];
      return (
        (gain - prices.cell[m.origin[p]] - prices.cell[keyCell] - prices.perByte * m.bytes[p]) * noise[p]
      );
    };
    const keyAt = (gain: number, p: number, k: number) => {
      keyCell = cand.cell[k];
      return keyOf(gain, p);
    };
    const heap = new CandidateHeap();
    for (let p = 0; p < m.partitionCount; p++) {
      const k = cand.start[p];
      if (k >= cand.start[p + 1] || this.state.isMoved(p)) continue;
      // With prices the best-keyed candidate need not be the best-gain one.
      let bestK = k;
      if (order === 'priced') {
        for (let j = k + 1; j < cand.start[p + 1]; j++)
          if (keyAt(cand.gain[j], p, j) > keyAt(cand.gain[bestK], p, bestK)) bestK = j;
      }
      if (cand.gain[bestK] > 0) heap.push(keyAt(cand.gain[bestK], p, bestK), p, bestK);
    }
    const next = (p: number, k: number) => {
      for (let j = k + 1; j < cand.start[p + 1]; j++) {
        if (cand.gain[j] <= 0) return;
        if (this.state.moveCount[cand.cell[j]] < this.limit) {
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
      if (this.state.moveCount[o] >= this.limit) continue;
      const c = cand.cell[k];
      if (
        this.state.moveCount[c] >= this.limit ||
        this.state.bytesMoved + m.bytes[p] > m.limits.maxBytesPerCycle
      ) {
        next(p, k);
        continue;
      }
      const delta = this.tryOp(OP_ADD, p, c, 0, 0, false);
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
      this.tryOp(OP_ADD, p, c, 0, 0, true);
      // Related partners may now gain more by joining p: queue them at their new value (lazy keys only fall).
      for (let j = m.relStart[p]; j < m.relStart[p + 1]; j++) {
        const r = m.relPartner[j];
        if (this.state.isMoved(r)) continue;
        for (let kr = cand.start[r]; kr < cand.start[r + 1]; kr++) {
          if (cand.cell[kr] !== c) continue;
          const dr = this.tryOp(OP_ADD, r, c, 0, 0, false);
          if (dr !== undefined && -dr > EPS) heap.push(keyAt(-dr, r, kr), r, kr);
          break;
        }
      }
    }
  }

  /** Local search until no step improves the objective (or `rounds` run out). */
  improve(rounds: number): void {
    for (let round = 0; round < rounds; round++) {
      let improved = false;
      for (const p of this.searchOrder()) {
        if (this.budget.used >= this.budget.limit) return;
        if (!this.isDirty(p)) continue;
        this.marks.examinedAt[p] = this.marks.clock;
        if (this.bestRelocation(p)) improved = true;
      }
      improved = this.improvePairs() || improved;
      if (!improved) return;
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
    const o = m.origin[p];
    const value = (q: number) => this.candidateGainAt(q, s.cellOf[q]);
    const weakestOn = (cell: number) => {
      let weakest = -1;
      for (const q of s.movedPartitions()) {
        if (m.origin[q] !== cell && s.cellOf[q] !== cell) continue;
        if (weakest < 0 || value(q) < value(weakest)) weakest = q;
      }
      return weakest;
    };
    for (let guard = 0; guard < 2 * this.limit + 4; guard++) {
      if (this.tryOp(OP_ADD, p, c, 0, 0, true) !== undefined) return true;
      let drop = -1;
      if (s.moveCount[o] >= this.limit) drop = weakestOn(o);
      else if (s.moveCount[c] >= this.limit) drop = weakestOn(c);
      else if (s.bytesMoved + m.bytes[p] > m.limits.maxBytesPerCycle) {
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
      if (drop < 0 || this.tryOp(OP_REMOVE, drop, 0, 0, 0, true) === undefined) return false;
    }
    return false;
  }

  /** Planned partitions first, then held-back ones by their best standalone gain (capped on large inputs). */
  private searchOrder(): number[] {
    const m = this.model;
    const cand = this.candidates;
    const planned = [...this.state.movedPartitions()];
    const held: number[] = [];
    for (let p = 0; p < m.partitionCount; p++) {
      if (cand.start[p] < cand.start[p + 1] && !this.state.isMoved(p)) held.push(p);
    }
    held.sort((a, b) => cand.gain[cand.start[b]] - cand.gain[cand.start[a]] || a - b);
    if (this.light && held.length > LOCAL_SEARCH_CANDIDATES) held.length = LOCAL_SEARCH_CANDIDATES;
    return [...planned, ...held];
  }

  /** Has anything p's moves depend on changed since p was last examined? */
  private isDirty(p: number): boolean {
    const marks = this.marks;
    const seen = marks.examinedAt[p];
    if (seen === 0 || seen < marks.partitionVersion[p] || seen < marks.bytesVersion) return true;
    const cv = marks.cellVersion;
    if (cv[this.model.origin[p]] > seen || cv[this.state.cellOf[p]] > seen) return true;
    const cand = this.candidates;
    for (let k = cand.start[p]; k < cand.start[p + 1]; k++) if (cv[cand.cell[k]] > seen) return true;
    return false;
  }

  /**
   * The best improving change that puts p somewhere else: on another candidate cell, back on its origin
   * (drop the move), either alone or together with dropping or re-targeting one planned move that blocks it.
   */
  private bestRelocation(p: number): boolean {
    const m = this.model;
    const cand = this.candidates;
    const current = this.state.cellOf[p];
    let bestDelta = -EPS;
    let bestOp = -1;
    const bestArgs = [0, 0, 0, 0, 0, 0];
    let bestDrop: number[] = [];
    const consider = (op: number, a: number, b: number, c: number, d: number, e = 0, f = 0): boolean => {
      this.e = e;
      this.f = f;
      const delta = this.tryOp(op, a, b, c, d, false);
      if (delta !== undefined && delta < bestDelta) {
        bestDelta = delta;
        bestOp = op;
        bestArgs[0] = a;
        bestArgs[1] = b;
        bestArgs[2] = c;
        bestArgs[3] = d;
        bestArgs[4] = e;
        bestArgs[5] = f;
      }
      return delta !== undefined;
    };
    if (this.state.isMoved(p)) consider(OP_REMOVE, p, 0, 0, 0);
    const held = !this.state.isMoved(p);
    for (let k = cand.start[p]; k < cand.start[p + 1]; k++) {
      const c = cand.cell[k];
      if (c === current) continue;
      // A held-back partition's move is worth about its standalone gain (with co-access to its partners
      // where they are now): skip those that cannot win.
      if (held && this.currentGain(p, k) <= Math.max(EPS, -bestDelta) * 0.5) continue;
      let unconstrained: number | undefined;
      let lacksRoom: boolean;
      if (held) {
        // Cheap screen for a held-back partition: its standalone change now (sharing effects aside).
        const s = this.state;
        const o = m.origin[p];
        const throttled =
          s.moveCount[o] >= this.limit ||
          s.moveCount[c] >= this.limit ||
          s.bytesMoved + m.bytes[p] > m.limits.maxBytesPerCycle;
        const share = Math.max(s.moveCount[o], s.moveCount[c]) + 1;
        const fits = s.evaluateMove(p, c, moveDurationMs(m, p, share, c), this.scratch);
        this.budget.used++;
        unconstrained = sumTerms(this.scratch);
        if (!throttled && fits) {
          // Sharing bandwidth only slows the others down: the exact change is no better than this.
          if (unconstrained < bestDelta) consider(OP_RELOCATE, p, c, 0, 0);
          continue;
        }
        lacksRoom = !fits;
      } else {
        if (consider(OP_RELOCATE, p, c, 0, 0)) continue;
        // Blocked. Freeing room costs the value of what blocks it, so this can only win if the move is
        // worth more than the best change so far even with the throttles and capacity ignored.
        this.relaxed = 2;
        unconstrained = this.tryOp(OP_RELOCATE, p, c, 0, 0, false);
        this.relaxed = 1;
        lacksRoom = this.tryOp(OP_RELOCATE, p, c, 0, 0, false) === undefined;
        this.relaxed = 0;
      }
      if (unconstrained === undefined) continue;
      // Free what blocks it by dropping one planned move or sending it elsewhere, or, when both its cells
      // are saturated, one on each side. (A blocker related to p may gain by going along, so it stays.)
      const hopeless = unconstrained >= bestDelta;
      const keep = (q: number) => !hopeless || this.related(p, q);
      const found = this.blockers(p, c);
      const source = found.source.filter(keep);
      const target = found.target.filter(keep);
      const other = found.other.filter(keep);
      // Estimated loss of sending blocker q to qc, from standalone gains (halved: only to skip hopeless tries).
      const promising = (q: number, qc: number, extra = 0) =>
        this.related(p, q) || unconstrained + 0.5 * (this.estimatedLoss(q, qc) + extra) < bestDelta;
      const freed = this.state.isMoved(p) ? current : -1;
      for (const q of [...source, ...target, ...other]) {
        for (const qc of this.placesFor(q, c, this.light ? 1 : RETARGET_ALTERNATIVES, freed)) {
          if (promising(q, qc)) consider(OP_RELOCATE_TWO, p, c, q, qc);
        }
      }
      // No room on c: make room by moving one of its held-back partitions out.
      if (lacksRoom) {
        for (const r of this.roomMakers(c, p)) {
          for (const rc of this.placesFor(r, c, 2, freed)) {
            if (rc !== m.origin[r] && promising(r, rc)) consider(OP_RELOCATE_TWO, p, c, r, rc);
          }
        }
      }
      // Out of bytes: drop the planned moves worth least per byte until this one fits.
      const short = this.state.isMoved(p)
        ? 0
        : this.state.bytesMoved + m.bytes[p] - m.limits.maxBytesPerCycle;
      if (short > 0 && !this.light) {
        const drop = this.cheapestBytes(p, short);
        if (drop.length > 1) {
          this.dropList = drop;
          consider(OP_DROP_THEN_RELOCATE, p, c, 0, 0);
          if (bestOp === OP_DROP_THEN_RELOCATE && bestArgs[0] === p && bestArgs[1] === c) bestDrop = drop;
        }
      }
      if (this.light || source.length === 0 || target.length === 0 || cand.gain[k] <= 0) continue;
      for (const q1 of source) {
        if (target.includes(q1)) continue;
        for (const q2 of target) {
          for (const c1 of this.placesFor(q1, c, 1)) {
            for (const c2 of this.placesFor(q2, c, 1)) {
              if (c1 === c2 && c1 !== m.origin[q1]) continue;
              if (promising(q2, c2, this.estimatedLoss(q1, c1)))
                consider(OP_RELOCATE_THREE, p, c, q2, c2, q1, c1);
            }
          }
        }
      }
    }
    if (bestOp < 0) return false;
    this.e = bestArgs[4];
    this.f = bestArgs[5];
    this.dropList = bestDrop;
    this.tryOp(bestOp, bestArgs[0], bestArgs[1], bestArgs[2], bestArgs[3], true);
    return true;
  }

  /** Where a blocking move q may go instead: back to its origin, or its best other candidate cells. */
  private placesFor(q: number, avoid: number, alternatives: number, freed = -1): number[] {
    const cand = this.candidates;
    const here = this.state.cellOf[q];
    const out = [this.model.origin[q]];
    for (let j = cand.start[q]; j < cand.start[q + 1] && out.length <= alternatives; j++) {
      const qc = cand.cell[j];
      if (qc !== here && qc !== avoid && (this.state.moveCount[qc] < this.limit || qc === freed))
        out.push(qc);
    }
    return out;
  }

  /**
   * Planned moves whose removal could unblock p → c: those holding a slot on a saturated source (`source`)
   * or target (`target`) cell, those moving into c (c may lack room), and, when the bytes budget is spent,
   * those big enough to make room (the weakest few on large inputs).
   */
  private blockers(p: number, c: number): { source: number[]; target: number[]; other: number[] } {
    const m = this.model;
    const s = this.state;
    const o = m.origin[p];
    const sourceFull = !s.isMoved(p) && s.moveCount[o] >= this.limit;
    const targetFull = s.moveCount[c] >= this.limit;
    const bytesShort = s.isMoved(p) ? 0 : s.bytesMoved + m.bytes[p] - m.limits.maxBytesPerCycle;
    const source: number[] = [];
    const target: number[] = [];
    const other: number[] = [];
    const weak: number[] = [];
    for (const q of s.movedPartitions()) {
      if (q === p) continue;
      const qo = m.origin[q];
      const qc = s.cellOf[q];
      const onSource = sourceFull && (qo === o || qc === o);
      const onTarget = targetFull && (qo === c || qc === c);
      if (onSource) source.push(q);
      if (onTarget) target.push(q);
      if (!onSource && !onTarget) {
        if (qc === c) other.push(q);
        else if (bytesShort > 0 && m.bytes[q] >= bytesShort) weak.push(q);
      }
    }
    if (weak.length > SWAP_WEAKEST && this.light) {
      weak.sort(
        (a, b) =>
          this.candidateGain(a) / (m.bytes[a] + 1) - this.candidateGain(b) / (m.bytes[b] + 1) || a - b,
      );
      weak.length = SWAP_WEAKEST;
    }
    return { source, target, other: other.concat(weak) };
  }

  /** Held-back partitions on cell c with an eligible move elsewhere, the busiest few (their leaving frees the most). */
  private roomMakers(c: number, except: number): number[] {
    const m = this.model;
    const list = this.onCell[c];
    const out: number[] = [];
    for (const r of list) {
      if (r !== except && !this.state.isMoved(r) && this.candidates.start[r] < this.candidates.start[r + 1])
        out.push(r);
      if (out.length >= ROOM_MAKERS) break;
    }
    void m;
    return out;
  }

  /** Standalone estimate of what sending planned q to cell qc (its origin: dropping it) gives up. */
  private estimatedLoss(q: number, qc: number): number {
    const now = this.candidateGainAt(q, this.state.cellOf[q]);
    return qc === this.model.origin[q] ? now : now - this.candidateGainAt(q, qc);
  }

  private candidateGainAt(p: number, c: number): number {
    const cand = this.candidates;
    for (let k = cand.start[p]; k < cand.start[p + 1]; k++) if (cand.cell[k] === c) return cand.gain[k];
    return 0;
  }

  private related(p: number, q: number): boolean {
    const m = this.model;
    for (let k = m.relStart[p]; k < m.relStart[p + 1]; k++) if (m.relPartner[k] === q) return true;
    return false;
  }

  /** Planned moves (not p's) worth least per byte, until their bytes cover `bytes`. */
  private cheapestBytes(p: number, bytes: number): number[] {
    const m = this.model;
    const values = this.removalLosses();
    const planned = this.state
      .movedPartitions()
      .filter((q) => q !== p && Number.isFinite(values.get(q) ?? Number.NaN));
    const density = (q: number) => (values.get(q) as number) / (m.bytes[q] + 1);
    planned.sort((x, y) => density(x) - density(y) || x - y);
    const out: number[] = [];
    let freed = 0;
    for (const q of planned) {
      if (freed >= bytes) break;
      out.push(q);
      freed += m.bytes[q];
    }
    return freed >= bytes ? out : [];
  }

  /** What dropping each planned move alone would cost now (Infinity if it cannot be dropped); cached per change. */
  private removalLosses(): Map<number, number> {
    if (this.lossesAt === this.marks.clock) return this.losses;
    const losses = new Map<number, number>();
    for (const q of [...this.state.movedPartitions()]) {
      const d = this.tryOp(OP_REMOVE, q, 0, 0, 0, false);
      losses.set(q, d === undefined ? Number.POSITIVE_INFINITY : d);
    }
    this.losses = losses;
    this.lossesAt = this.marks.clock;
    return losses;
  }

  /** Standalone gain of candidate k of unmoved p, its co-access term updated to where partners are now. */
  private currentGain(p: number, k: number): number {
    const cand = this.candidates;
    if (this.model.relStart[p] === this.model.relStart[p + 1]) return cand.gain[k];
    const o = this.model.origin[p];
    return cand.gain[k] - cand.relatednessGain[k] - this.state.relatednessDelta(p, o, cand.cell[k]);
  }

  private candidateGain(p: number): number {
    const k = this.candidates.start[p];
    return k < this.candidates.start[p + 1] ? this.candidates.gain[k] : 0;
  }

  /** Move both partners of a relationship to one cell (when no single move pays on its own). */
  private improvePairs(): boolean {
    const m = this.model;
    const cand = this.candidates;
    let improved = false;
    for (let i = 0; i < m.pairA.length; i++) {
      const a = m.pairA[i];
      const b = m.pairB[i];
      if (cand.start[a] === cand.start[a + 1] && cand.start[b] === cand.start[b + 1]) continue;
      if (!this.isDirty(a) && !this.isDirty(b)) continue;
      let bestDelta = -EPS;
      let bestCell = -1;
      let bestBlocker = -1;
      // Single relocations already cover one joining the other; here both go to a cell both may use.
      for (let k = cand.start[a]; k < cand.start[a + 1]; k++) {
        const c = cand.cell[k];
        if (this.state.cellOf[a] === c || this.state.cellOf[b] === c) continue;
        if (c !== m.origin[b] && !this.isCandidate(b, c)) continue;
        const d = this.tryOp(OP_RELOCATE_TWO, a, c, b, c, false);
        if (d !== undefined) {
          if (d < bestDelta) {
            bestDelta = d;
            bestCell = c;
            bestBlocker = -1;
          }
          continue;
        }
        // Blocked: worth freeing room only if the pair move would win with the throttles ignored.
        this.relaxed = 2;
        const unconstrained = this.tryOp(OP_RELOCATE_TWO, a, c, b, c, false);
        this.relaxed = 0;
        if (unconstrained === undefined || unconstrained >= bestDelta) continue;
        const blockers = new Set<number>();
        for (const p of [a, b]) {
          const found = this.blockers(p, c);
          for (const q of [...found.source, ...found.target, ...found.other])
            if (q !== a && q !== b) blockers.add(q);
        }
        for (const q of blockers) {
          this.e = q;
          this.f = m.origin[q];
          const dq = this.tryOp(OP_RELOCATE_THREE, a, c, b, c, false);
          if (dq !== undefined && dq < bestDelta) {
            bestDelta = dq;
            bestCell = c;
            bestBlocker = q;
          }
        }
      }
      if (bestCell >= 0) {
        if (bestBlocker >= 0) {
          this.e = bestBlocker;
          this.f = m.origin[bestBlocker];
          this.tryOp(OP_RELOCATE_THREE, a, bestCell, b, bestCell, true);
        } else {
          this.tryOp(OP_RELOCATE_TWO, a, bestCell, b, bestCell, true);
        }
        improved = true;
      }
    }
    return improved;
  }

  /**
   * Run an operation tentatively; returns the cost change if the result respects the hard limits, else
   * undefined. Keeps the change only when `keep` (and it is feasible).
   */
  private tryOp(op: number, a: number, b: number, c: number, d: number, keep: boolean): number | undefined {
    this.budget.used++;
    const state = this.state;
    const delta = this.delta;
    delta.locality = 0;
    delta.relatedness = 0;
    delta.loadBalance = 0;
    delta.transfer = 0;
    delta.drain = 0;
    const bytesBefore = state.bytesMoved;
    state.begin();
    let ok: boolean;
    if (op === OP_ADD) ok = this.addMove(a, b);
    else if (op === OP_REMOVE) ok = this.removeMove(a);
    else if (op === OP_RELOCATE) ok = this.relocate(a, b);
    else if (op === OP_RELOCATE_TWO) ok = this.relocate(c, d) && this.relocate(a, b);
    else if (op === OP_DROP_THEN_RELOCATE)
      ok = this.dropList.every((q) => this.removeMove(q)) && this.relocate(a, b);
    else ok = this.relocate(this.e, this.f) && this.relocate(c, d) && this.relocate(a, b);
    if (!ok && (op === OP_RELOCATE_TWO || op === OP_RELOCATE_THREE)) {
      // A throttle may bind only in this order (one's leaving frees the slot the other needs): reverse it.
      state.rollback();
      state.begin();
      delta.locality = 0;
      delta.relatedness = 0;
      delta.loadBalance = 0;
      delta.transfer = 0;
      delta.drain = 0;
      ok =
        this.relocate(a, b) &&
        this.relocate(c, d) &&
        (op === OP_RELOCATE_TWO || this.relocate(this.e, this.f));
    }
    if (ok && this.relaxed < 2) {
      for (const cell of state.touchedCells()) {
        if (!state.cellWithinLimits(cell)) {
          ok = false;
          break;
        }
      }
    }
    const total = sumTerms(delta);
    if (ok && keep && this.relaxed === 0) {
      this.mark(state.bytesMoved < bytesBefore);
      state.commit();
    } else {
      state.rollback();
    }
    return ok ? total : undefined;
  }

  /** Record what a kept change touched, for the don't-look marks. */
  private mark(bytesFreed: boolean): void {
    const marks = this.marks;
    const m = this.model;
    const clock = ++marks.clock;
    if (bytesFreed) marks.bytesVersion = clock;
    for (const c of this.state.touchedCells()) marks.cellVersion[c] = clock;
    for (const p of this.state.touchedPartitions()) {
      marks.partitionVersion[p] = clock;
      for (let k = m.relStart[p]; k < m.relStart[p + 1]; k++) marks.partitionVersion[m.relPartner[k]] = clock;
    }
  }

  /** Put p on cell c (moving it, retargeting it, or undoing its move when c is its origin); c must be a candidate. */
  private relocate(p: number, c: number): boolean {
    const m = this.model;
    if (this.state.cellOf[p] === c) return true;
    if (c === m.origin[p]) return this.removeMove(p);
    if (!this.isCandidate(p, c)) return false;
    if (this.state.isMoved(p) && !this.removeMove(p)) return false;
    return this.addMove(p, c);
  }

  private isCandidate(p: number, c: number): boolean {
    const cand = this.candidates;
    for (let k = cand.start[p]; k < cand.start[p + 1]; k++) if (cand.cell[k] === c) return true;
    return false;
  }

  /** Plan p → c (p unmoved), retiming the moves that now share a cell with it. False if a throttle binds. */
  private addMove(p: number, c: number): boolean {
    const m = this.model;
    const s = this.state;
    const o = m.origin[p];
    if (s.isMoved(p) || c === o) return false;
    if (this.relaxed === 0) {
      if (s.moveCount[o] >= this.limit || s.moveCount[c] >= this.limit) return false;
      if (s.bytesMoved + m.bytes[p] > m.limits.maxBytesPerCycle) return false;
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

/** Max-heap of (key, partition, candidate index); ties: lower partition, then lower candidate index, first. */
class CandidateHeap {
  private keys: number[] = [];
  private ps: number[] = [];
  private ks: number[] = [];

  get size(): number {
    return this.keys.length;
  }
  topKey(): number {
    return this.keys[0];
  }
  topP(): number {
    return this.ps[0];
  }
  topK(): number {
    return this.ks[0];
  }

  push(key: number, p: number, k: number): void {
    this.keys.push(key);
    this.ps.push(p);
    this.ks.push(k);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): void {
    const last = this.keys.length - 1;
    this.swap(0, last);
    this.keys.pop();
    this.ps.pop();
    this.ks.pop();
    let i = 0;
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < n && this.before(l, top)) top = l;
      if (r < n && this.before(r, top)) top = r;
      if (top === i) return;
      this.swap(i, top);
      i = top;
    }
  }

  private before(i: number, j: number): boolean {
    const a = this.keys[i];
    const b = this.keys[j];
    if (a !== b) return a > b;
    if (this.ps[i] !== this.ps[j]) return this.ps[i] < this.ps[j];
    return this.ks[i] < this.ks[j];
  }

  private swap(i: number, j: number): void {
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
    const p = this.ps[i];
    this.ps[i] = this.ps[j];
    this.ps[j] = p;
    const q = this.ks[i];
    this.ks[i] = this.ks[j];
    this.ks[j] = q;
  }
}
