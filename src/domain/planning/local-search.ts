import { moveBytes } from './cold-copies.ts';
import { moveDurationMs, sumTerms, type TermCosts, zeroTerms } from './placement-cost.ts';
import { EPS, type PlanEditor } from './plan-editor.ts';
import {
  dropThenRelocateOp,
  LimitEnforcement,
  relocateAfterOp,
  relocateOp,
  removeOp,
  type SearchOperation,
} from './search-operation.ts';

/** Planned moves in the way of a move (see LocalSearch.blockers). */
interface Blockers {
  readonly source: number[];
  readonly target: number[];
  readonly other: number[];
}

/** Local search looks at this many held-back partitions per round on large inputs. */
const LOCAL_SEARCH_CANDIDATES = 200;
/** On large inputs, when the bytes budget blocks, swaps consider this many of the weakest planned moves. */
const SWAP_WEAKEST = 12;
/** Moves out of a full cell tried to make room on it. */
const ROOM_MAKERS = 6;
/** A blocking move may be re-targeted to this many of its other candidate cells. */
const RETARGET_ALTERNATIVES = 3;

/**
 * Local search on one plan: move a partition to another candidate cell or back (drop its move), alone or
 * while dropping or re-targeting one planned move that blocks it (or two, one on each side, when both its
 * cells are saturated; not on large inputs); move related pairs together. Partitions whose cells did not
 * change since they were last examined are skipped (don't-look marks).
 */
export class LocalSearch {
  /** Large inputs: fewer held-back partitions, no double swaps, fewer alternatives. */
  light = false;
  private readonly editor: PlanEditor;
  /** Per origin cell, the partitions with candidates, busiest (peak demand) first. */
  private readonly onCell: readonly number[][];
  /** The partitions with candidates, best standalone gain first (ties: lower index). */
  private readonly byGain: readonly number[];
  private readonly scratch: TermCosts = zeroTerms();
  /** The best change bestRelocation found so far, and its cost change. */
  private bestDelta = -EPS;
  private best: SearchOperation | undefined;
  private losses = new Map<number, number>();
  private lossesAt = -1;
  /** cheapestBytes' order of the planned moves, for the plan of `byDensityAt` (see sortByDensity). */
  private byDensity: number[] = [];
  private byDensityShipped: number[] = [];
  private byDensityAt = -1;
  /** blockers' answer and its scratch list, reused. */
  private readonly found: Blockers = { source: [], target: [], other: [] };
  private readonly weak: number[] = [];

  constructor(editor: PlanEditor, onCell: readonly number[][], byGain: readonly number[]) {
    this.editor = editor;
    this.onCell = onCell;
    this.byGain = byGain;
  }

  /** Forget what was cached for the plan (its placement was replaced wholesale: see PlanBuilder.clone). */
  forgetPlan(): void {
    this.lossesAt = -1;
    this.byDensityAt = -1;
    this.light = false;
  }

  /** Local search until no step improves the objective (or `rounds` run out). */
  improve(rounds: number): void {
    const budget = this.editor.budget;
    const marks = this.editor.marks;
    for (let round = 0; round < rounds; round++) {
      let improved = false;
      for (const p of this.searchOrder()) {
        if (budget.used >= budget.limit) return;
        if (!this.isDirty(p)) continue;
        marks.examinedAt[p] = marks.clock;
        if (this.bestRelocation(p)) improved = true;
      }
      improved = this.improvePairs() || improved;
      if (!improved) return;
    }
  }

  /** Planned partitions first, then held-back ones by their best standalone gain (capped on large inputs). */
  private searchOrder(): number[] {
    const state = this.editor.state;
    const planned = [...state.movedPartitions()];
    // The partitions with candidates come sorted by their best standalone gain (ties by index, a total
    // order), so dropping the moved ones gives the order sorting the held-back ones would.
    const held: number[] = [];
    for (const p of this.byGain) if (!state.isMoved(p)) held.push(p);
    if (this.light && held.length > LOCAL_SEARCH_CANDIDATES) held.length = LOCAL_SEARCH_CANDIDATES;
    return [...planned, ...held];
  }

  /** Has anything p's moves depend on changed since p was last examined? */
  private isDirty(p: number): boolean {
    const { marks, model, state, candidates: cand } = this.editor;
    const seen = marks.examinedAt[p];
    if (seen === 0 || seen < marks.partitionVersion[p] || seen < marks.bytesVersion) return true;
    const cv = marks.cellVersion;
    if (cv[model.origin[p]] > seen || cv[state.cellOf[p]] > seen) return true;
    for (let k = cand.start[p]; k < cand.start[p + 1]; k++) if (cv[cand.cell[k]] > seen) return true;
    return false;
  }

  /**
   * The best improving change that puts p somewhere else: on another candidate cell, back on its origin
   * (drop the move), either alone or together with dropping or re-targeting one planned move that blocks it.
   * (Loops and methods rather than closures and filtered copies: this runs for every dirty partition of
   * every round, and under tsx each closure also costs a `__name` call.)
   */
  private bestRelocation(p: number): boolean {
    const editor = this.editor;
    const { model: m, candidates: cand, state: s } = editor;
    const limit = editor.limit;
    const current = s.cellOf[p];
    this.bestDelta = -EPS;
    this.best = undefined;
    if (s.isMoved(p)) this.consider(removeOp(p));
    const held = !s.isMoved(p);
    for (let k = cand.start[p]; k < cand.start[p + 1]; k++) {
      const c = cand.cell[k];
      if (c === current) continue;
      // A held-back partition's move is worth about its standalone gain (with co-access to its partners
      // where they are now): skip those that cannot win.
      if (held && this.currentGain(p, k) <= Math.max(EPS, -this.bestDelta) * 0.5) continue;
      let unconstrained: number | undefined;
      let lacksRoom: boolean;
      if (held) {
        // Cheap screen for a held-back partition: its standalone change now (sharing effects aside).
        const o = m.origin[p];
        const throttled =
          s.moveCount[o] >= limit ||
          s.moveCount[c] >= limit ||
          s.bytesMoved + moveBytes(m, p, c) > m.limits.maxBytesPerCycle;
        const share = Math.max(s.moveCount[o], s.moveCount[c]) + 1;
        const fits = s.evaluateMove(p, c, moveDurationMs(m, p, share, c), this.scratch);
        editor.budget.used++;
        unconstrained = sumTerms(this.scratch);
        if (!throttled && fits) {
          // Sharing bandwidth only slows the others down: the exact change is no better than this.
          if (unconstrained < this.bestDelta) this.consider(relocateOp(p, c));
          continue;
        }
        lacksRoom = !fits;
      } else {
        const op = relocateOp(p, c);
        if (this.consider(op)) continue;
        // Blocked. Freeing room costs the value of what blocks it, so this can only win if the move is
        // worth more than the best change so far even with the throttles and capacity ignored (and does
        // it fit once they are freed? One run answers both; see PlanEditor.evaluateRelaxed).
        unconstrained = editor.evaluateRelaxed(op);
        lacksRoom = !editor.relaxedFits;
      }
      if (unconstrained === undefined) continue;
      // Free what blocks it by dropping one planned move or sending it elsewhere, or, when both its cells
      // are saturated, one on each side. (A blocker related to p may gain by going along, so it stays;
      // when even the unconstrained change cannot win, only those are kept.)
      const bound = unconstrained;
      const hopeless = bound >= this.bestDelta;
      const found = this.blockers(p, c);
      const source = hopeless ? this.relatedOnly(p, found.source) : found.source;
      const target = hopeless ? this.relatedOnly(p, found.target) : found.target;
      const other = hopeless ? this.relatedOnly(p, found.other) : found.other;
      const freed = s.isMoved(p) ? current : -1;
      const alternatives = this.light ? 1 : RETARGET_ALTERNATIVES;
      for (const q of source) this.retargetBlocker(p, c, q, alternatives, freed, bound);
      for (const q of target) this.retargetBlocker(p, c, q, alternatives, freed, bound);
      for (const q of other) this.retargetBlocker(p, c, q, alternatives, freed, bound);
      // No room on c: make room by moving one of its held-back partitions out.
      if (lacksRoom) {
        for (const r of this.roomMakers(c, p)) {
          for (const rc of this.placesFor(r, c, 2, freed)) {
            if (rc !== m.origin[r] && this.promising(p, r, rc, bound, 0))
              this.consider(relocateAfterOp(p, c, [{ partition: r, cell: rc }]));
          }
        }
      }
      // Out of bytes: drop the planned moves worth least per byte until this one fits.
      const short = s.isMoved(p) ? 0 : s.bytesMoved + moveBytes(m, p, c) - m.limits.maxBytesPerCycle;
      if (short > 0 && !this.light) {
        const drop = this.cheapestBytes(p, short);
        if (drop.length > 1) this.consider(dropThenRelocateOp(p, c, drop));
      }
      if (this.light || source.length === 0 || target.length === 0 || cand.gain[k] <= 0) continue;
      for (const q1 of source) {
        if (target.includes(q1)) continue;
        for (const q2 of target) {
          for (const c1 of this.placesFor(q1, c, 1)) {
            for (const c2 of this.placesFor(q2, c, 1)) {
              if (c1 === c2 && c1 !== m.origin[q1]) continue;
              if (this.promising(p, q2, c2, bound, this.estimatedLoss(q1, c1)))
                this.consider(
                  relocateAfterOp(p, c, [
                    { partition: q1, cell: c1 },
                    { partition: q2, cell: c2 },
                  ]),
                );
            }
          }
        }
      }
    }
    const best = this.best;
    if (best === undefined) return false;
    editor.apply(best);
    return true;
  }

  /** Evaluate `op` for bestRelocation, keeping it when it beats the best so far; false when it breaks a limit. */
  private consider(op: SearchOperation): boolean {
    const delta = this.editor.evaluate(op);
    if (delta !== undefined && delta < this.bestDelta) {
      this.bestDelta = delta;
      this.best = op;
    }
    return delta !== undefined;
  }

  /** Try p → c after sending blocker q to its origin or one of its other candidate cells. */
  private retargetBlocker(
    p: number,
    c: number,
    q: number,
    alternatives: number,
    freed: number,
    bound: number,
  ): void {
    // placesFor(q, c, alternatives, freed), walked in place: this runs for every blocker of every blocked
    // candidate, and most of the changes it tries are rejected by a throttle before they are built.
    const { model, candidates: cand, state, limit } = this.editor;
    const here = state.cellOf[q];
    this.tryRetarget(p, c, q, model.origin[q], bound);
    let found = 1;
    for (let j = cand.start[q]; j < cand.start[q + 1] && found <= alternatives; j++) {
      const qc = cand.cell[j];
      if (qc !== here && qc !== c && (state.moveCount[qc] < limit || qc === freed)) {
        found++;
        this.tryRetarget(p, c, q, qc, bound);
      }
    }
  }

  private tryRetarget(p: number, c: number, q: number, qc: number, bound: number): void {
    if (!this.promising(p, q, qc, bound, 0) || this.editor.throttlesReject(p, c, q, qc)) return;
    this.consider(relocateAfterOp(p, c, [{ partition: q, cell: qc }]));
  }

  /**
   * Could moving blocker q to qc (plus `extra` estimated loss) let p's move beat the best change so far?
   * Estimated from standalone gains (halved: only to skip hopeless tries); a partner of p always could.
   */
  private promising(p: number, q: number, qc: number, bound: number, extra: number): boolean {
    return this.related(p, q) || bound + 0.5 * (this.estimatedLoss(q, qc) + extra) < this.bestDelta;
  }

  /** The partitions of `list` related to p. */
  private relatedOnly(p: number, list: readonly number[]): number[] {
    const out: number[] = [];
    for (const q of list) if (this.related(p, q)) out.push(q);
    return out;
  }

  /** Where a blocking move q may go instead: back to its origin, or its best other candidate cells. */
  private placesFor(q: number, avoid: number, alternatives: number, freed = -1): number[] {
    const { candidates: cand, state, limit } = this.editor;
    const here = state.cellOf[q];
    const out = [this.editor.model.origin[q]];
    for (let j = cand.start[q]; j < cand.start[q + 1] && out.length <= alternatives; j++) {
      const qc = cand.cell[j];
      if (qc !== here && qc !== avoid && (state.moveCount[qc] < limit || qc === freed)) out.push(qc);
    }
    return out;
  }

  /**
   * Planned moves whose removal could unblock p → c: those holding a slot on a saturated source (`source`)
   * or target (`target`) cell, those moving into c (c may lack room), and, when the bytes budget is spent,
   * those big enough to make room (the weakest few on large inputs).
   */
  private blockers(p: number, c: number): Blockers {
    const { model: m, state: s, limit } = this.editor;
    const o = m.origin[p];
    const sourceFull = !s.isMoved(p) && s.moveCount[o] >= limit;
    const targetFull = s.moveCount[c] >= limit;
    const bytesShort = s.isMoved(p) ? 0 : s.bytesMoved + moveBytes(m, p, c) - m.limits.maxBytesPerCycle;
    // Reused lists (valid until the next call; no caller holds them across one).
    const found = this.found;
    const { source, target, other } = found;
    const weak = this.weak;
    source.length = 0;
    target.length = 0;
    other.length = 0;
    weak.length = 0;
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
        else if (bytesShort > 0 && moveBytes(m, q, qc) >= bytesShort) weak.push(q);
      }
    }
    if (weak.length > SWAP_WEAKEST && this.light) {
      weak.sort(
        (a, b) =>
          this.candidateGain(a) / (m.bytes[a] + 1) - this.candidateGain(b) / (m.bytes[b] + 1) || a - b,
      );
      weak.length = SWAP_WEAKEST;
    }
    for (let i = 0; i < weak.length; i++) other.push(weak[i]);
    return found;
  }

  /** Held-back partitions on cell c with an eligible move elsewhere, the busiest few (their leaving frees the most). */
  private roomMakers(c: number, except: number): number[] {
    const { candidates: cand, state } = this.editor;
    const out: number[] = [];
    for (const r of this.onCell[c]) {
      if (r !== except && !state.isMoved(r) && cand.start[r] < cand.start[r + 1]) out.push(r);
      if (out.length >= ROOM_MAKERS) break;
    }
    return out;
  }

  /** Standalone estimate of what sending planned q to cell qc (its origin: dropping it) gives up. */
  private estimatedLoss(q: number, qc: number): number {
    const editor = this.editor;
    const now = editor.candidateGainAt(q, editor.state.cellOf[q]);
    return qc === editor.model.origin[q] ? now : now - editor.candidateGainAt(q, qc);
  }

  private related(p: number, q: number): boolean {
    const m = this.editor.model;
    for (let k = m.relStart[p]; k < m.relStart[p + 1]; k++) if (m.relPartner[k] === q) return true;
    return false;
  }

  /** Planned moves (not p's) worth least per byte, until their bytes cover `bytes`. */
  private cheapestBytes(p: number, bytes: number): number[] {
    this.sortByDensity();
    const order = this.byDensity;
    const shipped = this.byDensityShipped;
    const out: number[] = [];
    let freed = 0;
    for (let i = 0; i < order.length; i++) {
      const q = order[i];
      if (q === p) continue;
      if (freed >= bytes) break;
      out.push(q);
      freed += shipped[i];
    }
    return freed >= bytes ? out : [];
  }

  /**
   * The planned moves that can be dropped, least removal loss per shipped byte first (ties by partition),
   * with their shipped bytes; sorted once per plan (with the losses) rather than once per blocked candidate.
   */
  private sortByDensity(): void {
    const losses = this.removalLosses();
    if (this.byDensityAt === this.lossesAt) return;
    const m = this.editor.model;
    const state = this.editor.state;
    const planned = state.movedPartitions().filter((q) => Number.isFinite(losses.get(q) ?? Number.NaN));
    const shipped = new Map<number, number>();
    const density = new Map<number, number>();
    for (const q of planned) {
      const bytes = moveBytes(m, q, state.cellOf[q]);
      shipped.set(q, bytes);
      density.set(q, (losses.get(q) as number) / (bytes + 1));
    }
    planned.sort((x, y) => (density.get(x) as number) - (density.get(y) as number) || x - y);
    this.byDensity = planned;
    this.byDensityShipped = planned.map((q) => shipped.get(q) as number);
    this.byDensityAt = this.lossesAt;
  }

  /**
   * What dropping each planned move alone would cost now (Infinity if it cannot be dropped); cached until
   * the plan changes. The cache is per search: evaluations count against the budget, so sharing it between
   * plans would change what the budget buys.
   */
  private removalLosses(): Map<number, number> {
    const editor = this.editor;
    if (this.lossesAt === editor.marks.clock) return this.losses;
    const losses = new Map<number, number>();
    for (const q of [...editor.state.movedPartitions()]) {
      const d = editor.evaluate(removeOp(q));
      losses.set(q, d === undefined ? Number.POSITIVE_INFINITY : d);
    }
    this.losses = losses;
    this.lossesAt = editor.marks.clock;
    return losses;
  }

  /** Standalone gain of candidate k of unmoved p, its co-access term updated to where partners are now. */
  private currentGain(p: number, k: number): number {
    const { model, candidates: cand, state } = this.editor;
    if (model.relStart[p] === model.relStart[p + 1]) return cand.gain[k];
    const o = model.origin[p];
    return cand.gain[k] - cand.relatednessGain[k] - state.relatednessDelta(p, o, cand.cell[k]);
  }

  private candidateGain(p: number): number {
    const cand = this.editor.candidates;
    const k = cand.start[p];
    return k < cand.start[p + 1] ? cand.gain[k] : 0;
  }

  /** Move both partners of a relationship to one cell (when no single move pays on its own). */
  private improvePairs(): boolean {
    const editor = this.editor;
    const { model: m, candidates: cand, state } = editor;
    let improved = false;
    for (let i = 0; i < m.pairA.length; i++) {
      const a = m.pairA[i];
      const b = m.pairB[i];
      if (cand.start[a] === cand.start[a + 1] && cand.start[b] === cand.start[b + 1]) continue;
      if (!this.isDirty(a) && !this.isDirty(b)) continue;
      let bestDelta = -EPS;
      let best: SearchOperation | undefined;
      // Single relocations already cover one joining the other; here both go to a cell both may use.
      for (let k = cand.start[a]; k < cand.start[a + 1]; k++) {
        const c = cand.cell[k];
        if (state.cellOf[a] === c || state.cellOf[b] === c) continue;
        if (c !== m.origin[b] && !editor.isCandidate(b, c)) continue;
        const pair = relocateAfterOp(a, c, [{ partition: b, cell: c }]);
        const d = editor.evaluate(pair);
        if (d !== undefined) {
          if (d < bestDelta) {
            bestDelta = d;
            best = pair;
          }
          continue;
        }
        // Blocked: worth freeing room only if the pair move would win with the throttles ignored.
        const unconstrained = editor.evaluate(pair, LimitEnforcement.None);
        if (unconstrained === undefined || unconstrained >= bestDelta) continue;
        const blockers = new Set<number>();
        for (const p of [a, b]) {
          const found = this.blockers(p, c);
          for (const q of [...found.source, ...found.target, ...found.other])
            if (q !== a && q !== b) blockers.add(q);
        }
        for (const q of blockers) {
          // Drop the blocker's move, then move the pair.
          const freed = relocateAfterOp(a, c, [
            { partition: q, cell: m.origin[q] },
            { partition: b, cell: c },
          ]);
          const dq = editor.evaluate(freed);
          if (dq !== undefined && dq < bestDelta) {
            bestDelta = dq;
            best = freed;
          }
        }
      }
      if (best !== undefined) {
        editor.apply(best);
        improved = true;
      }
    }
    return improved;
  }
}
