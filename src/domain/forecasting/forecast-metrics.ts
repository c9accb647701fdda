import type { OnlineForecaster } from './forecast-model.ts';

/**
 * Point and interval accuracy of forecasts. Missing actuals (NaN) are skipped everywhere.
 */

/** In-sample MAE of the seasonal-naive forecast y[t] ≈ y[t − m]: the MASE denominator. NaN if no pair exists. */
export function seasonalNaiveScale(values: ArrayLike<number>, season: number, end = values.length): number {
  let sum = 0;
  let count = 0;
  for (let t = season; t < end; t++) {
    const a = values[t];
    const b = values[t - season];
    if (Number.isFinite(a) && Number.isFinite(b)) {
      sum += Math.abs(a - b);
      count++;
    }
  }
  return count > 0 ? sum / count : Number.NaN;
}

/** Mean absolute scaled error: MAE of the forecast divided by `scale` (see seasonalNaiveScale). */
export function mase(actual: ArrayLike<number>, forecast: ArrayLike<number>, scale: number): number {
  return meanOf(actual, forecast, (a, f) => Math.abs(a - f)) / scale;
}

/** Mean absolute percentage error, in percent; buckets whose actual is 0 are skipped (undefined there). */
export function mape(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  return 100 * meanOf(actual, forecast, (a, f) => (a === 0 ? Number.NaN : Math.abs((a - f) / a)));
}

/** Symmetric MAPE in percent (0..200); a bucket where both are 0 counts as 0 error. */
export function smape(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  return 100 * meanOf(actual, forecast, smapeTerm);
}

/** Fraction of actuals inside [lower, upper]. */
export function intervalCoverage(
  actual: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
): number {
  let inside = 0;
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    if (!Number.isFinite(a)) continue;
    count++;
    if (a >= lower[i] && a <= upper[i]) inside++;
  }
  return count > 0 ? inside / count : Number.NaN;
}

function smapeTerm(a: number, f: number): number {
  const denominator = Math.abs(a) + Math.abs(f);
  return denominator === 0 ? 0 : (2 * Math.abs(a - f)) / denominator;
}

function meanOf(
  actual: ArrayLike<number>,
  forecast: ArrayLike<number>,
  term: (a: number, f: number) => number,
) {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i])) continue;
    const v = term(actual[i], forecast[i]);
    if (Number.isNaN(v)) continue;
    sum += v;
    count++;
  }
  return count > 0 ? sum / count : Number.NaN;
}

export interface RollingOriginOptions {
  /** Steps forecast at each origin. */
  readonly horizon: number;
  /** Buckets observed before the first forecast (the warm-up). */
  readonly firstOrigin: number;
  /** Buckets between consecutive origins. @default 1 */
  readonly originStep?: number;
  /** Last origin; @default values.length − horizon (every forecast step has an actual) */
  readonly lastOrigin?: number;
  /** Season (in buckets) of the MASE scale, computed on the warm-up part values[0, firstOrigin). */
  readonly season: number;
  /** Lower and upper quantile levels of the interval whose coverage is measured. @default [0.1, 0.9] */
  readonly interval?: readonly [number, number];
}

export interface ForecastAccuracy {
  readonly origins: number;
  /** Forecast steps with a finite actual. */
  readonly points: number;
  /** Of the `mean` output. */
  readonly mae: number;
  /** MAE / in-sample seasonal-naive MAE (`scale`). */
  readonly mase: number;
  /**
   * MAE and MASE of the 0.5 quantile: the point forecast MAE rewards, and the one GluonTS-style
   * evaluations of probabilistic models score.
   */
  readonly medianMae: number;
  readonly medianMase: number;
  readonly scale: number;
  readonly smape: number;
  readonly mape: number;
  /** Actuals inside the interval: count and fraction. */
  readonly covered: number;
  readonly coverage: number;
  /** Mean width of the interval relative to the mean actual. */
  readonly relativeIntervalWidth: number;
  /** MAE (of the mean) per horizon step. */
  readonly maeByStep: Float64Array;
}

/**
 * Rolling-origin evaluation: the series is replayed once through `forecaster`; at every origin o
 * (o buckets observed) it forecasts `horizon` steps, which are scored against values[o, o + horizon).
 */
export function rollingOriginEvaluation(
  values: Float64Array,
  forecaster: OnlineForecaster,
  options: RollingOriginOptions,
): ForecastAccuracy {
  const { horizon, firstOrigin, season } = options;
  const step = options.originStep ?? 1;
  const lastOrigin = options.lastOrigin ?? values.length - horizon;
  const [lowLevel, highLevel] = options.interval ?? [0.1, 0.9];
  const levels = [lowLevel, highLevel, 0.5];
  const mean = new Float64Array(horizon);
  const median = new Float64Array(horizon);
  const buffers = { mean, quantiles: [new Float64Array(horizon), new Float64Array(horizon), median] };

  const maeSum = new Float64Array(horizon);
  const maeCount = new Float64Array(horizon);
  let origins = 0;
  let points = 0;
  let absSum = 0;
  let medianAbsSum = 0;
  let smapeSum = 0;
  let apeSum = 0;
  let apeCount = 0;
  let covered = 0;
  let widthSum = 0;
  let actualSum = 0;
  let nextOrigin = firstOrigin;
  for (let t = 0; t <= Math.min(lastOrigin, values.length); t++) {
    if (t === nextOrigin) {
      nextOrigin += step;
      origins++;
      forecaster.forecastInto(horizon, levels, buffers);
      for (let k = 0; k < horizon && t + k < values.length; k++) {
        const a = values[t + k];
        if (!Number.isFinite(a)) continue;
        const f = mean[k];
        const err = Math.abs(a - f);
        points++;
        absSum += err;
        medianAbsSum += Math.abs(a - median[k]);
        maeSum[k] += err;
        maeCount[k]++;
        smapeSum += smapeTerm(a, f);
        if (a !== 0) {
          apeSum += err / Math.abs(a);
          apeCount++;
        }
        const lo = buffers.quantiles[0][k];
        const hi = buffers.quantiles[1][k];
        if (a >= lo && a <= hi) covered++;
        widthSum += hi - lo;
        actualSum += a;
      }
    }
    if (t < values.length) forecaster.observe(values[t]);
  }
  const scale = seasonalNaiveScale(values, season, firstOrigin);
  const mae = points > 0 ? absSum / points : Number.NaN;
  for (let k = 0; k < horizon; k++) maeSum[k] = maeCount[k] > 0 ? maeSum[k] / maeCount[k] : Number.NaN;
  return {
    origins,
    points,
    mae,
    mase: mae / scale,
    medianMae: points > 0 ? medianAbsSum / points : Number.NaN,
    medianMase: (points > 0 ? medianAbsSum / points : Number.NaN) / scale,
    scale,
    smape: points > 0 ? (100 * smapeSum) / points : Number.NaN,
    mape: apeCount > 0 ? (100 * apeSum) / apeCount : Number.NaN,
    covered,
    coverage: points > 0 ? covered / points : Number.NaN,
    relativeIntervalWidth: actualSum > 0 ? widthSum / actualSum : Number.NaN,
    maeByStep: maeSum,
  };
}
