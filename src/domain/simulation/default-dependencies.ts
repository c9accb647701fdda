import { createEmbeddedForecaster } from '../forecasting/embedded-forecaster.ts';
import type { EmbeddedForecasterOptions } from '../forecasting/embedded-tuning.ts';
import { planMoves } from '../planning/placement-planner.ts';
import type { PlannerOptions } from '../planning/planner-options.ts';
import { type ScoringOptions, scorePartitions } from '../scoring/affinity-scorer.ts';
import type { SimulationDependencies } from './simulation-options.ts';

export interface ProfilerAndPlannerOptions {
  readonly planner?: PlannerOptions;
  readonly forecaster?: EmbeddedForecasterOptions;
  readonly scoring?: Partial<ScoringOptions>;
}

/**
 * The production profiler and planner, as the simulator drives them: the embedded forecaster,
 * `scorePartitions` and `planMoves`, the same functions the Lambdas call. Demand beyond every cell's capacity is reported in
 * the capacity forecast rather than thrown, since a replay must go on through an overload; so is a drain that fits
 * nowhere yet (the deployed planner service holds the draining cells' partitions instead: both wait for room).
 */
export function productionDependencies(options: ProfilerAndPlannerOptions = {}): SimulationDependencies {
  const plannerOptions: PlannerOptions = {
    demandBeyondCapacity: 'report',
    unplaceableDrain: 'report',
    ...options.planner,
  };
  return {
    planMoves: (input) => planMoves(input, plannerOptions),
    createForecaster: (intervalMs) => createEmbeddedForecaster(intervalMs, options.forecaster),
    scorePartitions: (input) =>
      scorePartitions(options.scoring ? { ...input, options: options.scoring } : input),
  };
}
