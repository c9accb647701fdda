import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PLANNING_QUANTILE,
  forecastQuantileLevels,
  SCORING_QUANTILES,
} from '../../../../src/domain/forecasting/planning-quantile.ts';
import { resolveScaleOutOptions } from '../../../../src/domain/planning/scale-out.ts';
import { DEFAULT_SIMULATION_OPTIONS } from '../../../../src/domain/simulation/simulation-options.ts';
import { QUANTILE_LEVELS, UPPER_LEVEL } from '../../../../src/profiler/profiler-scoring.ts';

describe('the planning quantile', () => {
  it('is one value for the simulator, the profiler and the priced scale-out', () => {
    expect(DEFAULT_SIMULATION_OPTIONS.planningQuantile).toBe(DEFAULT_PLANNING_QUANTILE);
    expect(UPPER_LEVEL).toBe(DEFAULT_PLANNING_QUANTILE);
    expect(resolveScaleOutOptions({}).upperLevel).toBe(DEFAULT_PLANNING_QUANTILE);
  });

  it('is asked of the model with the scoring quantiles, ascending and once', () => {
    expect(QUANTILE_LEVELS).toEqual([...SCORING_QUANTILES, DEFAULT_PLANNING_QUANTILE].sort((a, b) => a - b));
    expect(forecastQuantileLevels(0.9)).toEqual([0.1, 0.5, 0.9]);
    expect(forecastQuantileLevels(0.97)).toEqual([0.1, 0.5, 0.9, 0.97]);
    expect(forecastQuantileLevels('mean')).toEqual([0.1, 0.5, 0.9]);
  });
});
