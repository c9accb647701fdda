/**
 * The forecast quantile capacity plans on: the simulator's predictive policy (`planningQuantile`), the profiler's
 * upper forecast (`UPPER_LEVEL`, the quantile it asks the model for and writes to the score records), and the
 * priced scale-out's spread (`upperLevel`). One constant, so the backtest and AWS plan on the same quantile.
 *
 * 0.95, chosen on the scenario suite's tuning half once the forecaster's intervals were calibrated (the 0.9
 * quantile 4–8 steps ahead had been exceeded under 1% of the time, and planning on it was in effect planning on a
 * far higher one): at 0.9 predictive overloaded 2.2× its allowance; at 0.95 every pooled target but bytes moved
 * passed; at 0.97 locality fell to 85% of the gap. Checked on the real-series traces nothing was tuned on: tweets
 * 83 overloaded cell-minutes (85 before the calibration, at 0.9), taxi none (BENCHMARKS.md, "Calibrated intervals").
 */
export const DEFAULT_PLANNING_QUANTILE = 0.95;

/** The quantiles the profiler and the simulator score partitions on (hot soon, cold), besides the planning one. */
export const SCORING_QUANTILES: readonly number[] = [0.1, 0.5, 0.9];

/** The scoring quantiles and the planning quantile, ascending and without repeats. */
export function forecastQuantileLevels(planning: number | 'mean' = DEFAULT_PLANNING_QUANTILE): number[] {
  return [...new Set([...SCORING_QUANTILES, ...(planning === 'mean' ? [] : [planning])])].sort(
    (a, b) => a - b,
  );
}
