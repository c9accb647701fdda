import { moveBytes } from './cold-copies.ts';
import { CELL_DRAINING, type PlacementModel } from './placement-model.ts';

/**
 * The planner's one objective, in US dollars over the forecast horizon (lower is better), shared by the
 * heuristic, the exact ILP and the evaluator, so all three optimize and measure the same thing:
 *
 * - locality: Σ over steps and regions of requests × latency(request region → cell region) × write weight;
 * - relatedness: co-access requests × (cross-cell penalty + inter-region latency) when two related
 *   partitions sit on different cells (on the placement after the plan);
 * - loadBalance: per cell and step, a convex piecewise-linear queueing penalty (`loadPenaltyKnees`);
 *   the hard limit (headroom × capacity) is a constraint, not a cost;
 * - transfer: bytes shipped × price per GB + per-move overhead (to a cell with a cold copy: only the delta);
 * - drain: a large cost for every partition still on a DRAINING/RETIRED cell.
 *
 * Time matters: a move completes `moveSetupMs + bytes × share / bandwidth` after the plan starts
 * (`share` = the most moves on its source or target cell, which split that cell's bandwidth), and the
 * partition counts on its new cell only for the part of each step after that (locality and load).
 */

export interface TermCosts {
  locality: number;
  relatedness: number;
  loadBalance: number;
  transfer: number;
  drain: number;
}

export function zeroTerms(): TermCosts {
  return { locality: 0, relatedness: 0, loadBalance: 0, transfer: 0, drain: 0 };
}

/** Copy every term of `from` into `to` (no allocation: the search keeps and restores term totals in place). */
export function copyTerms(from: TermCosts, to: TermCosts): void {
  to.locality = from.locality;
  to.relatedness = from.relatedness;
  to.loadBalance = from.loadBalance;
  to.transfer = from.transfer;
  to.drain = from.drain;
}

export function sumTerms(t: TermCosts): number {
  return t.locality + t.relatedness + t.loadBalance + t.transfer + t.drain;
}

/** Fraction of step `t` during which a move that completes `offsetMs` after the plan starts is in place. */
export function presenceAt(stepMs: number, t: number, offsetMs: number): number {
  const w = ((t + 1) * stepMs - offsetMs) / stepMs;
  return w <= 0 ? 0 : Math.min(w, 1);
}

/**
 * Expected time from the plan's start until p is in place on cell c, when its busiest cell runs `share`
 * moves at once (a cell still being provisioned delays the start).
 */
export function moveDurationMs(model: PlacementModel, p: number, share: number, c: number): number {
  return (
    model.readyDelayMs[c] +
    model.options.moveSetupMs +
    (moveBytes(model, p, c) * Math.max(1, share) * 1000) / model.input.topology.migrationBandwidthBytesPerSec
  );
}

/** Locality cost (dollars per step) of p's requests in step t if served from region g. */
export function localityStepCost(model: PlacementModel, p: number, g: number, t: number): number {
  const R = model.regionCount;
  const T = model.steps;
  const latency = model.latency;
  let s = 0;
  for (let k = model.demandStart[p]; k < model.demandStart[p + 1]; k++) {
    s += model.demandSeries[k * T + t] * latency[model.demandRegion[k] * R + g];
  }
  return s * model.latencyWeight[p];
}

/** Mean ops/s of partition p from region g at step t. */
export function regionDemand(model: PlacementModel, p: number, g: number, t: number): number {
  for (let k = model.demandStart[p]; k < model.demandStart[p + 1]; k++) {
    if (model.demandRegion[k] === g) return model.demandSeries[k * model.steps + t];
  }
  return 0;
}

/**
 * Locality cost of p over the horizon if it moves from its origin to `cell`, completing `offsetMs` after
 * the start (the steps before that are served from the origin).
 */
export function localityCost(model: PlacementModel, p: number, cell: number, offsetMs: number): number {
  const R = model.regionCount;
  const g = model.cellRegion[cell];
  const go = model.cellRegion[model.origin[p]];
  let cost = model.locFull[p * R + g];
  if (g === go || offsetMs <= 0) return cost;
  const partial = Math.min(model.steps, Math.ceil(offsetMs / model.stepMs));
  for (let t = 0; t < partial; t++) {
    const stay = 1 - presenceAt(model.stepMs, t, offsetMs);
    if (stay > 0) cost += stay * (localityStepCost(model, p, go, t) - localityStepCost(model, p, g, t));
  }
  return cost;
}

/** Soft load penalty of cell c carrying `load` ops/s for one step. */
export function loadPenalty(model: PlacementModel, c: number, load: number): number {
  const slopes = model.kneeSlope;
  const K = slopes.length;
  const knees = model.kneeLoad;
  let s = 0;
  for (let j = 0; j < K; j++) {
    const over = load - knees[c * K + j];
    if (over <= 0) break;
    s += slopes[j] * over;
  }
  return s;
}

/** Dollars p costs while it sits on `cell` (draining cells only). */
export function drainCost(model: PlacementModel, p: number, cell: number): number {
  return model.cellState[cell] >= CELL_DRAINING ? model.drainValue[p] : 0;
}
