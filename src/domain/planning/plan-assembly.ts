import { InfeasiblePlacementError } from '../errors.ts';
import type { CandidateMoves } from './candidate-moves.ts';
import { capacityForecastFor } from './capacity-forecast.ts';
import { coldCopyOn, decideRetain, moveBytes, planColdCopyDrops, shippedBytes } from './cold-copies.ts';
import type { BenefitTerm, MovementPlan, PlannedMove } from './movement-plan.ts';
import { moveDurationMs, regionDemand, sumTerms, type TermCosts, zeroTerms } from './placement-cost.ts';
import { formatBytes } from './placement-feasibility.ts';
import { isMovable, mustLeave, type PlacementModel } from './placement-model.ts';
import { PlacementState } from './placement-state.ts';
import { applyMoveSet, type MoveChoice } from './plan-evaluator.ts';

/**
 * Turn a chosen set of moves (from the heuristic or the ILP) into a MovementPlan, the same way for both:
 * timing (bandwidth shares → durations), deadlines, priorities, per-term reasons, deferred counts and the
 * capacity forecast.
 *
 * Copies: a move to a cell holding a fresh cold copy ships the delta (`bytes`, with `delta` and a note), and each
 * move says whether it keeps its source as a cold copy (`retainSource`, decideRetain); the plan lists the copies
 * to garbage-collect (`coldCopyDrops`, planColdCopyDrops).
 *
 * Deadline: the predicted peak the move must beat — for a drain, now; for a move driven by load relief,
 * the peak step of the source cell's load; otherwise the peak step of the partition's demand in the
 * target region. startByMs = deadline − duration, never before now (a late move starts at once).
 * Priority 1 = first: earliest start-by, then (drains) the hottest partition, then benefit per byte
 * weighted by the profiler's affinity.
 *
 * Reasons are marginal: moves are applied in priority order and each gets the change of every term, so
 * the benefits add up to costBefore − costAfter. `locality` and `loadBalance` are counted as if the move
 * were in place for the whole horizon; `prefetch` is the timing correction — the part of those gains
 * lost while the copy runs (0 for a move done before any demand arrives, very negative for one that
 * completes after the peak).
 */
export function assemblePlan(
  model: PlacementModel,
  choices: readonly MoveChoice[],
  candidates: CandidateMoves,
): MovementPlan {
  const { offsetsMs } = applyMoveSet(model, choices);
  const initial = new PlacementState(model);
  const T = model.steps;
  const terms = zeroTerms();
  const meta = choices.map((choice, i) => {
    const p = choice.partition;
    const c = choice.cell;
    const o = model.origin[p];
    initial.evaluateMove(p, c, offsetsMs[i], terms);
    const gain = -sumTerms(terms);
    let deadlineStep = 0;
    if (mustLeave(model, p)) {
      deadlineStep = 0;
    } else if (-terms.loadBalance > -(terms.locality + terms.relatedness)) {
      deadlineStep = argmax(T, (t) => model.initialLoad[o * T + t] / model.cellCapOps[o]);
    } else {
      const g = model.cellRegion[c];
      const region = (t: number) => regionDemand(model, p, g, t);
      deadlineStep =
        maxOf(T, region) > 0 ? argmax(T, region) : argmax(T, (t) => model.demandTotal[p * T + t]);
    }
    const deadlineMs = model.nowMs + deadlineStep * model.stepMs;
    const durationMs = offsetsMs[i];
    const startByMs = Math.max(model.nowMs, deadlineMs - durationMs);
    const affinity = Number.isNaN(model.affinity[p]) ? 0.5 : model.affinity[p];
    let hotness = 0;
    if (mustLeave(model, p)) for (let t = 0; t < T; t++) hotness += model.demandTotal[p * T + t];
    return {
      index: i,
      p,
      c,
      deadlineMs,
      durationMs,
      startByMs,
      hotness,
      urgency: (gain / (moveBytes(model, p, c) + 1)) * (0.5 + affinity),
    };
  });
  meta.sort(
    (a, b) =>
      a.startByMs - b.startByMs ||
      b.hotness - a.hotness ||
      b.urgency - a.urgency ||
      (model.partitionIds[a.p] < model.partitionIds[b.p] ? -1 : 1),
  );

  const state = new PlacementState(model);
  const costBefore = state.total();
  const instant = zeroTerms();
  const moves: PlannedMove[] = meta.map((m, rank) => {
    state.evaluateMove(m.p, m.c, 0, instant);
    const actual = zeroTerms();
    state.applyMove(m.p, m.c, offsetsMs[m.index], actual);
    const reasons = reasonsOf(instant, actual);
    let benefit = 0;
    for (const v of Object.values(reasons)) benefit += v;
    const o = model.origin[m.p];
    const shipped = shippedBytes(model, m.p, m.c);
    const copy = coldCopyOn(model, m.p, m.c);
    const delta = copy >= 0 && shipped < model.bytes[m.p];
    const retain = decideRetain(model, m.p, o, m.c);
    const notes: string[] = [];
    if (delta) notes.push(`delta move, ~${formatBytes(shipped)}`);
    if (retain.retain)
      notes.push(
        `keeps a cold copy on ${model.cellIds[o]} (move back p≈${retain.returnProbability.toFixed(2)}, ` +
          `saves ~$${retain.expectedSavingDollars.toFixed(4)} for ~$${retain.expectedStorageDollars.toFixed(4)} of storage)`,
      );
    return {
      partition: model.partitionIds[m.p],
      from: model.cellIds[o],
      to: model.cellIds[m.c],
      bytes: shipped,
      priority: rank + 1,
      startByMs: m.startByMs,
      deadlineMs: m.deadlineMs,
      expectedDurationMs: m.durationMs,
      benefit,
      reasons,
      retainSource: retain.retain,
      ...(delta ? { delta: { sizeBytes: model.bytes[m.p], watermarkMs: model.coldWatermarkMs[copy] } } : {}),
      ...(notes.length > 0 ? { notes } : {}),
    };
  });
  const deferred = countDeferred(model, state, candidates);
  const blockedDrains = checkDrainsPlaced(model, state);
  if (blockedDrains > 0) deferred.drainBlocked = blockedDrains;
  return {
    createdAtMs: model.nowMs,
    moves,
    costBefore,
    costAfter: state.total(),
    deferred,
    capacityForecast: capacityForecastFor(model, state.load, state.cellOf),
    coldCopyDrops: planColdCopyDrops(model, state.cellOf, state.bytes),
  };
}

function reasonsOf(instant: TermCosts, actual: TermCosts): Record<BenefitTerm, number> {
  const timing = actual.locality + actual.loadBalance - (instant.locality + instant.loadBalance);
  const reasons: Record<BenefitTerm, number> = {
    locality: -instant.locality,
    relatedness: -actual.relatedness,
    loadBalance: -instant.loadBalance,
    transferCost: -actual.transfer,
    prefetch: -timing,
    drain: -actual.drain,
  };
  for (const key of Object.keys(reasons) as BenefitTerm[]) {
    if (reasons[key] === 0) delete reasons[key];
    else reasons[key] = reasons[key] + 0; // normalize -0
  }
  return reasons;
}

/**
 * Partitions with an eligible, beneficial move that the plan left out because a limit binds, by the limit's
 * name (`maxConcurrentMovesPerCell`, `maxBytesPerCycle`, `headroom`, and `cooldownMs` for partitions cooling down).
 */
function countDeferred(
  model: PlacementModel,
  state: PlacementState,
  candidates: CandidateMoves,
): Record<string, number> {
  const deferred: Record<string, number> = {};
  const add = (key: string) => {
    deferred[key] = (deferred[key] ?? 0) + 1;
  };
  if (candidates.coolingBlocked > 0) deferred.cooldownMs = candidates.coolingBlocked;
  if (candidates.hotBlocked > 0) deferred.hotCells = candidates.hotBlocked;
  const limit = model.limits.maxConcurrentMovesPerCell;
  const terms = zeroTerms();
  for (let p = 0; p < model.partitionCount; p++) {
    if (state.isMoved(p) || !isMovable(model, p)) continue;
    const k = candidates.start[p];
    if (k === candidates.start[p + 1] || (candidates.gain[k] <= 0 && !mustLeave(model, p))) continue;
    const reason = blockingLimit(model, state, p, candidates.cell[k], limit, terms);
    if (reason) add(reason);
  }
  return deferred;
}

function blockingLimit(
  model: PlacementModel,
  state: PlacementState,
  p: number,
  c: number,
  limit: number,
  terms: TermCosts,
): string | undefined {
  const o = model.origin[p];
  if (state.moveCount[o] >= limit || state.moveCount[c] >= limit) return 'maxConcurrentMovesPerCell';
  if (state.bytesMoved + moveBytes(model, p, c) > model.limits.maxBytesPerCycle) return 'maxBytesPerCycle';
  const share = Math.max(state.moveCount[o], state.moveCount[c]) + 1;
  if (!state.evaluateMove(p, c, moveDurationMs(model, p, share, c), terms)) return 'headroom';
  return undefined;
}

/**
 * Every partition on a draining cell leaves, or waits only for a throttle. One that fits nowhere below the headroom
 * throws (`unplaceableDrain: 'throw'`), or is counted and stays, the drain waiting for room (`'report'`, the
 * simulator's choice: the scale-in's own fit check plans cells on a coarser load than this one, and a replay must
 * go on). Returns how many wait.
 */
function checkDrainsPlaced(model: PlacementModel, state: PlacementState): number {
  let blocked = 0;
  const limit = model.limits.maxConcurrentMovesPerCell;
  const terms = zeroTerms();
  for (let p = 0; p < model.partitionCount; p++) {
    if (!mustLeave(model, p) || state.isMoved(p) || !isMovable(model, p)) continue;
    const o = model.origin[p];
    if (state.moveCount[o] >= limit) continue;
    let throttled = false;
    let fitsSomewhere = false;
    let bytesBlocked = false;
    for (let c = 0; c < model.cellCount && !fitsSomewhere; c++) {
      if (model.targetable[c] !== 1) continue;
      const share = Math.max(state.moveCount[o], state.moveCount[c]) + 1;
      if (state.evaluateMove(p, c, moveDurationMs(model, p, share, c), terms)) fitsSomewhere = true;
      else if (state.bytes[c] + model.bytes[p] > model.bytesLimit[c]) bytesBlocked = true;
      if (
        state.moveCount[c] >= limit ||
        state.bytesMoved + moveBytes(model, p, c) > model.limits.maxBytesPerCycle
      ) {
        throttled = true;
      }
    }
    if (fitsSomewhere || throttled) continue;
    if (model.options.unplaceableDrain === 'report') {
      blocked++;
      continue;
    }
    const region = model.regionIds[model.cellRegion[o]];
    throw new InfeasiblePlacementError(
      bytesBlocked ? 'capacityBytes' : 'capacityOpsPerSec',
      `partition '${model.partitionIds[p]}' (${formatBytes(model.bytes[p])}) must leave draining cell '${model.cellIds[o]}' (${region}) but no remaining cell has room below the ${Math.round(model.limits.headroom * 100)}% headroom`,
    );
  }
  return blocked;
}

function argmax(n: number, f: (t: number) => number): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let t = 0; t < n; t++) {
    const v = f(t);
    if (v > bestValue) {
      bestValue = v;
      best = t;
    }
  }
  return best;
}

function maxOf(n: number, f: (t: number) => number): number {
  let m = 0;
  for (let t = 0; t < n; t++) m = Math.max(m, f(t));
  return m;
}
