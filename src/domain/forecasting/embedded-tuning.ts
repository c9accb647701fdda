import { DAY_MS, WEEK_MS } from './seasonal-periods.ts';

/** The embedded forecaster's options (embedded-forecaster.ts) and its smoothing constants, with their defaults. */

export interface EmbeddedForecasterOptions {
  /** Longest horizon (in steps) with its own error quantiles and coefficients; longer steps extrapolate. @default 24 */
  readonly maxHorizon?: number;
  /** Model the weekly cycle when the interval allows it. @default true */
  readonly weekly?: boolean;
  /** Advanced: override internal smoothing constants (for experiments and the benchmark). */
  readonly tuning?: Partial<EmbeddedTuning>;
}

export interface EmbeddedTuning {
  /** Level memory. @default 6 hours for sub-daily data, 4 weeks for daily data */
  readonly levelMemoryMs: number;
  /** Memory of the reference level the profiles learn against. @default 1 week (8 weeks for daily data) */
  readonly referenceMemoryMs: number;
  /** EWMA weight of a daily profile slot per visit. @default 0.15 */
  readonly dailyRate: number;
  /** EWMA weight of a weekly profile slot per visit. @default 0.25 */
  readonly weeklyRate: number;
  /** Width of a coarse profile slot (read with linear interpolation); never below the interval. @default 30 minutes */
  readonly resolutionMs: number;
  /** Residuals beyond clip × σ (σ = recent mean |residual|) are clipped. @default 4 */
  readonly clip: number;
  /** EWMA weight of r̄, the short-term mean of residuals. @default 0.3 */
  readonly residualRate: number;
  /** Memory of the horizon regressions, in buckets. @default two days of buckets, at least 200 */
  readonly regressionMemory: number;
  /** Ridge penalty, in pseudo-observations. @default 3 */
  readonly ridge: number;
  /** Memory of the error quantiles, in errors. @default 500 */
  readonly errorMemory: number;
  /** Quantile step size as a fraction of the error scale. @default 0.02 */
  readonly quantileStep: number;
  /** Lower bound of S in the error scale, so quiet hours still get a sensible interval. @default 0.1 */
  readonly scaleFloor: number;
  /** Decay of the residual features per missing bucket. @default 0.9 */
  readonly missingDecay: number;
}

/** The tuning of a forecaster at `intervalMs` (sub-daily: the interval has a daily cycle), overrides applied. */
export function embeddedTuning(
  intervalMs: number,
  subDaily: boolean,
  overrides: Partial<EmbeddedTuning> | undefined,
): EmbeddedTuning {
  const dailyBuckets = subDaily ? Math.round(DAY_MS / intervalMs) : 0;
  return {
    levelMemoryMs: subDaily ? 6 * 3_600_000 : 28 * DAY_MS,
    referenceMemoryMs: subDaily ? WEEK_MS : 8 * WEEK_MS,
    dailyRate: 0.15,
    weeklyRate: 0.25,
    resolutionMs: 30 * 60_000,
    clip: 4,
    residualRate: 0.3,
    regressionMemory: Math.max(200, 2 * dailyBuckets),
    ridge: 3,
    errorMemory: 500,
    quantileStep: 0.02,
    scaleFloor: 0.1,
    missingDecay: 0.9,
    ...overrides,
  };
}
