import type { CapacityShortfall } from '../planning/movement-plan.ts';

/**
 * When a forecast capacity shortfall is acted on: the one rule the simulator's predictive policy
 * (domain/simulation/planner-policy.ts) and the profiler (src/profiler/cycle-completion.ts) both call, so a
 * backtest scales out and in on the same cycles as the deployment does for the same forecasts.
 *
 * - A shortfall is *due* when its latest provisioning start (`scaleOutByMs`) falls before the next cycle: a later
 *   start would not have the cells provisioned and filled before demand passes usable capacity.
 * - A due shortfall is *confirmed* when its region also had a due shortfall in the previous cycle: one noisy
 *   forecast does not buy a cell that stays. Only confirmed shortfalls are priced (scale-out.ts) and bought.
 * - A region with a due shortfall, confirmed or not, or a scale-out this cycle keeps its cells (no scale-in).
 */

/** What the rule carries from one cycle to the next (the profiler persists it; Lambdas keep no memory). */
export interface ShortfallMemory {
  /** Regions that had a due shortfall in the previous cycle. */
  readonly shortRegions: readonly string[];
}

export interface ShortfallTrigger {
  /** Regions with a due shortfall this cycle, sorted: the next cycle's memory. */
  readonly shortRegions: readonly string[];
  /** The due shortfalls whose region was short in the previous cycle too: the ones to price and buy. */
  readonly confirmed: readonly CapacityShortfall[];
}

export interface ShortfallTriggerInput {
  /** The cycle's capacity forecast. */
  readonly shortfalls: readonly CapacityShortfall[];
  /** Start of the next planning cycle: a shortfall whose latest start falls before it is due now. */
  readonly nextCycleMs: number;
  /** The previous cycle's memory; absent on the first cycle (nothing is confirmed then). */
  readonly previous?: ShortfallMemory;
}

export function triggerShortfalls(input: ShortfallTriggerInput): ShortfallTrigger {
  const before = new Set(input.previous?.shortRegions ?? []);
  const short = new Set<string>();
  const confirmed: CapacityShortfall[] = [];
  for (const shortfall of input.shortfalls) {
    if (!(shortfall.scaleOutByMs <= input.nextCycleMs && shortfall.cellsNeeded > 0)) continue;
    short.add(shortfall.region);
    if (before.has(shortfall.region)) confirmed.push(shortfall);
  }
  return { shortRegions: [...short].sort(), confirmed };
}

/** The regions that give up no cell this cycle: every region short now, and every region scaling out now. */
export function regionsHeldFromScaleIn(
  trigger: ShortfallTrigger,
  scaleOutRegions: Iterable<string>,
): string[] {
  return [...new Set([...trigger.shortRegions, ...scaleOutRegions])].sort();
}
