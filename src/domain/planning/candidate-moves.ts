import { cheapestTransferCost } from './cold-copies.ts';
import { loadPenalty, moveDurationMs, sumTerms, zeroTerms } from './placement-cost.ts';
import {
  CELL_PROVISIONING,
  isHotMove,
  isMovable,
  LOCK_COOLDOWN,
  mustLeave,
  type PlacementModel,
  pairPenaltyMs,
} from './placement-model.ts';
import type { PlacementState } from './placement-state.ts';

/**
 * Candidate moves and the eligibility rule (hysteresis) shared by the heuristic and the exact ILP.
 *
 * A move p → c is eligible when p may move, c may receive partitions, and either p must leave a draining
 * cell, or the move on its own (everything else where it is now) is worth at least p's threshold
 * (`minBenefitMargin` × p's current cost + `minBenefitDollars`), counted with or without the relatedness
 * term (without it, so a related group can move together when no single member would move alone).
 */
export interface CandidateMoves {
  /** CSR by partition: candidates of p are at `start[p]..start[p+1]`, best standalone gain first. */
  readonly start: Int32Array;
  readonly cell: Int32Array;
  /** Standalone net benefit in dollars (cost before − cost after), at the share the move would get alone. */
  readonly gain: Float64Array;
  /** The relatedness part of `gain` (partners where they were at the start). */
  readonly relatednessGain: Float64Array;
  /** Standalone, the move keeps its target within the hard capacity limits. */
  readonly fits: Uint8Array;
  /** Cooling-down partitions that would otherwise have an eligible move (for `deferred.cooldownMs`). */
  readonly coolingBlocked: number;
  /** Partitions whose every eligible move was deferred as running into a hot cell (for `deferred.hotCells`). */
  readonly hotBlocked: number;
}

/**
 * Build candidates. `exhaustive` evaluates every target cell; otherwise, per partition, the
 * `candidateCellsPerRegion` least-loaded cells of each region plus its related partners' cells, after an
 * upper bound on the gain has ruled out regions that cannot pay off.
 */
export function generateCandidates(
  model: PlacementModel,
  state: PlacementState,
  exhaustive: boolean,
): CandidateMoves {
  const P = model.partitionCount;
  const C = model.cellCount;
  const R = model.regionCount;
  const T = model.steps;
  const start = new Int32Array(P + 1);
  const cells: number[] = [];
  const gains: number[] = [];
  const relGains: number[] = [];
  const fits: number[] = [];
  let coolingBlocked = 0;
  let hotBlocked = 0;
  const perRegion = exhaustive
    ? []
    : leastLoadedCellsPerRegion(model, state, model.options.candidateCellsPerRegion + 1);
  const terms = zeroTerms();
  const local: { c: number; gain: number; rel: number; fits: boolean }[] = [];
  const seen = new Int32Array(C).fill(-1);
  for (let p = 0; p < P; p++) {
    start[p] = cells.length;
    const cooling = model.lock[p] === LOCK_COOLDOWN && !mustLeave(model, p);
    if (!isMovable(model, p) && !cooling) continue;
    const o = model.origin[p];
    const leave = mustLeave(model, p);
    const threshold = model.threshold[p];
    local.length = 0;
    let hot = false;
    const consider = (c: number) => {
      if (c === o || model.targetable[c] !== 1 || seen[c] === p) return;
      seen[c] = p;
      const share = Math.max(state.moveCount[o], state.moveCount[c]) + 1;
      const ok = state.evaluateMove(p, c, moveDurationMs(model, p, share, c), terms);
      const gain = -sumTerms(terms);
      if (leave || gain >= threshold || gain + terms.relatedness >= threshold) {
        if (!leave && isHotMove(model, p, c)) hot = true;
        else local.push({ c, gain, rel: -terms.relatedness, fits: ok });
      }
    };
    if (exhaustive || leave) {
      for (let c = 0; c < C; c++) consider(c);
    } else {
      // Upper bound of any move's gain from region g: full locality gain, full relief of the source,
      // every co-access penalty removed, minus the transfer.
      let relief = 0;
      for (let t = 0; t < T; t++) {
        const x = model.demandTotal[p * T + t];
        if (x === 0) continue;
        const l = state.load[o * T + t];
        relief += loadPenalty(model, o, l) - loadPenalty(model, o, l - x);
      }
      let relMax = 0;
      for (let k = model.relStart[p]; k < model.relStart[p + 1]; k++) {
        relMax += model.relWeight[k] * pairPenaltyMs(model, o, state.cellOf[model.relPartner[k]]);
      }
      const here = model.locFull[p * R + model.cellRegion[o]];
      const slack = relief + relMax - cheapestTransferCost(model, p) - threshold;
      for (let g = 0; g < R; g++) {
        if (here - model.locFull[p * R + g] + slack < 0) continue;
        for (const c of perRegion[g]) consider(c);
      }
      for (let k = model.relStart[p]; k < model.relStart[p + 1]; k++) {
        const c = state.cellOf[model.relPartner[k]];
        if (here - model.locFull[p * R + model.cellRegion[c]] + slack >= 0) consider(c);
      }
    }
    if (cooling) {
      if (local.some((x) => x.gain > 0)) coolingBlocked++;
      continue;
    }
    if (hot && local.length === 0) hotBlocked++;
    // Ties go to a PROVISIONING cell (it is being added to take load), then to the lower index.
    local.sort(
      (a, b) =>
        b.gain - a.gain ||
        Number(model.cellState[b.c] === CELL_PROVISIONING) -
          Number(model.cellState[a.c] === CELL_PROVISIONING) ||
        a.c - b.c,
    );
    for (const x of local) {
      cells.push(x.c);
      gains.push(x.gain);
      relGains.push(x.rel);
      fits.push(x.fits ? 1 : 0);
    }
  }
  start[P] = cells.length;
  return {
    start,
    cell: Int32Array.from(cells),
    gain: Float64Array.from(gains),
    relatednessGain: Float64Array.from(relGains),
    fits: Uint8Array.from(fits),
    coolingBlocked,
    hotBlocked,
  };
}

/** Per region, the `k` target cells with the lowest peak utilization (ties by index). */
function leastLoadedCellsPerRegion(model: PlacementModel, state: PlacementState, k: number): number[][] {
  const T = model.steps;
  const peak = new Float64Array(model.cellCount);
  for (let c = 0; c < model.cellCount; c++) {
    let m = 0;
    for (let t = 0; t < T; t++) m = Math.max(m, state.load[c * T + t]);
    peak[c] = Math.max(m / model.cellCapOps[c], state.bytes[c] / model.cellCapBytes[c]);
  }
  const out: number[][] = Array.from({ length: model.regionCount }, () => []);
  for (let c = 0; c < model.cellCount; c++) if (model.targetable[c] === 1) out[model.cellRegion[c]].push(c);
  for (const list of out) {
    list.sort((a, b) => peak[a] - peak[b] || a - b);
    list.length = Math.min(list.length, k);
  }
  return out;
}
