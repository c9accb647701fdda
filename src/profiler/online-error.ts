import { mape, mase, seasonalNaiveScale } from '../domain/forecasting/forecast-metrics.ts';
import { DAY_MS } from '../domain/forecasting/seasonal-periods.ts';
import type { ScoreRecord } from '../domain/scoring/score-record.ts';
import type { DemandHistory } from './demand-series.ts';

export interface OnlineError {
  /** Pooled MASE: Σ|error| / Σ(points × in-sample seasonal-naive MAE), over series with a positive scale. */
  readonly mase: number;
  /** Pooled MAPE in percent, over points whose actual is not 0. */
  readonly mape: number;
  /** Forecast steps compared (a step is compared once its bucket has been observed). */
  readonly points: number;
  /** Partition × region series with at least one compared step. */
  readonly series: number;
}

/**
 * The online error of earlier forecasts: each partition's previous ScoreRecord holds the forecast made at
 * `forecastStartMs`; its first steps have since been observed, and this cycle's history has them. The MASE
 * scale is the seasonal-naive MAE of the history before that forecast (daily season when two days are
 * known, else the one-step naive), so the error is judged against the data the forecast had.
 */
export class OnlineErrorAccumulator {
  private maseWeighted = 0;
  private maseWeight = 0;
  private apeWeighted = 0;
  private apeCount = 0;
  private points = 0;
  private series = 0;

  add(previous: ScoreRecord, history: DemandHistory): void {
    const stepMs = previous.stepSeconds * 1000;
    if (stepMs !== history.intervalMs) return;
    const offset = (previous.forecastStartMs - history.startMs) / stepMs;
    if (!Number.isInteger(offset) || offset < 0) return;
    const daySteps = Math.round(DAY_MS / stepMs);
    for (const [region, forecast] of Object.entries(previous.mean)) {
      const values = history.regions.get(region);
      if (!values) continue;
      const observed = Math.min(forecast.length, values.length - offset);
      if (observed <= 0) continue;
      const actual = values.subarray(offset, offset + observed);
      const predicted = forecast.slice(0, observed);
      const season = offset >= 2 * daySteps ? daySteps : 1;
      const scale = seasonalNaiveScale(values, season, offset);
      this.points += observed;
      this.series++;
      if (scale > 0) {
        const weight = observed * scale;
        this.maseWeighted += mase(actual, predicted, scale) * weight;
        this.maseWeight += weight;
      }
      let nonZero = 0;
      for (const a of actual) if (a !== 0) nonZero++;
      if (nonZero > 0) {
        this.apeWeighted += mape(actual, predicted) * nonZero;
        this.apeCount += nonZero;
      }
    }
  }

  merge(other: OnlineErrorAccumulator): void {
    this.maseWeighted += other.maseWeighted;
    this.maseWeight += other.maseWeight;
    this.apeWeighted += other.apeWeighted;
    this.apeCount += other.apeCount;
    this.points += other.points;
    this.series += other.series;
  }

  result(): OnlineError {
    return {
      mase: this.maseWeight > 0 ? this.maseWeighted / this.maseWeight : Number.NaN,
      mape: this.apeCount > 0 ? this.apeWeighted / this.apeCount : Number.NaN,
      points: this.points,
      series: this.series,
    };
  }
}
