import { generateCandidates } from './candidate-moves.ts';
import { CounterRandom } from './counter-random.ts';
import type { MovementPlan, PlannerInput } from './movement-plan.ts';
import { checkFeasibility } from './placement-feasibility.ts';
import { compilePlacementModel } from './placement-model.ts';
import { PlacementState } from './placement-state.ts';
import { assemblePlan } from './plan-assembly.ts';
import { type GreedyOrder, PlanBuilder } from './plan-builder.ts';
import { EPS } from './plan-editor.ts';
import type { PlannerOptions } from './planner-options.ts';
import { slotPrices } from './slot-prices.ts';

/**
 * The Adaptive Data Shuffler: plan partition moves ahead of forecast demand (synchronous, deterministic).
 *
 * 1. Compile the input into typed arrays; reject infeasible inputs (InfeasiblePlacementError) and bad ones
 *    (InputValidationError).
 * 2. Candidates: per partition, the best cells per region (every cell on small topologies), kept when the
 *    move alone clears the hysteresis threshold (see candidate-moves.ts).
 * 3. Lazy greedy with a priority queue (candidate-heap.ts), three times: by net benefit, by benefit per byte
 *    for the bytes budget, and by benefit net of the throttles' Lagrangian prices (slot-prices.ts),
 *    re-evaluating a popped candidate exactly against the moves already taken (load, co-location, and the
 *    bandwidth its cells now share), under the hard capacity limits and the throttles (plan-builder.ts).
 * 4. Local search (local-search.ts): move a partition to another candidate cell or back (drop its move),
 *    alone or while dropping or re-targeting one planned move that blocks it; move related pairs together.
 *    Every change is a typed SearchOperation run by PlanEditor (plan-editor.ts). Partitions whose cells did
 *    not change since they were last examined are skipped (don't-look marks).
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
    chosen.useLightSearch();
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
  const random = new CounterRandom(0x5eed + model.partitionCount);
  // The plan a restart did not keep (or the one it replaced) is the next restart's copy: hundreds of
  // restarts per run would otherwise allocate a placement each.
  let spare: PlanBuilder | undefined;
  for (let i = 0; i < model.options.perturbationRounds && best && budget.used < budget.limit; i++) {
    const builder = best.clone(spare);
    spare = undefined;
    if (!builder.perturb(random, i % 2 === 1)) break;
    builder.greedy(ORDERS[i % ORDERS.length], random, prices);
    builder.improve(model.options.localSearchRounds);
    if (builder.state.total() < best.state.total() - EPS) {
      spare = best;
      best = builder;
    } else {
      spare = builder;
    }
  }
  const state = (best as PlanBuilder).state;
  const choices = [...state.movedPartitions()].map((p) => ({ partition: p, cell: state.cellOf[p] }));
  return assemblePlan(model, choices, candidates);
}

const ORDERS: readonly GreedyOrder[] = ['priced', 'gain', 'density'];
/** Large inputs: evaluated changes the light local search may spend (keeps 100k partitions near 1 s). */
const LARGE_SEARCH_BUDGET = 25_000;
