import { ErrorQuantileTracks } from './error-quantiles.ts';
import type {
  Forecast,
  ForecastBuffers,
  ForecastModel,
  ForecastRequest,
  OnlineForecaster,
} from './forecast-model.ts';
import { replayAndForecast } from './replay-forecast.ts';
import { seasonalPeriods } from './seasonal-periods.ts';

export interface SeasonalNaiveOptions {
  /**
   * Which cycle to repeat. @default 'daily' for sub-daily buckets, 'weekly' for daily buckets
   * (where the daily period would be one bucket, i.e. plain naive).
   */
  readonly season?: 'daily' | 'weekly';
  /** Explicit season length in buckets; overrides `season`. */
  readonly period?: number;
}

/**
 * The baseline: y[t + h] = y[t + h − m], m = the season in buckets. A missing bucket keeps the slot's
 * previous value. Until one season has been seen it repeats the last value (`seasonal-naive:short-history`).
 * Quantiles come from its own past errors y[t] − y[t − m], which are the same for every h ≤ m;
 * beyond one season they widen with √(seasons ahead).
 */
export function createSeasonalNaiveForecaster(
  intervalMs: number,
  options: SeasonalNaiveOptions = {},
): OnlineForecaster {
  const periods = seasonalPeriods(intervalMs);
  let period = options.period;
  let label = 'custom';
  if (period === undefined) {
    const season = options.season ?? (periods.daily ? 'daily' : 'weekly');
    const cycle = season === 'daily' ? periods.daily : periods.weekly;
    period = cycle?.slots ?? 1;
    label = cycle ? season : 'naive';
  }
  if (!Number.isInteger(period) || period < 1) {
    throw new RangeError(`seasonal-naive period must be a positive integer, got ${period}`);
  }
  return new SeasonalNaiveForecaster(period, `seasonal-naive:${label}`);
}

class SeasonalNaiveForecaster implements OnlineForecaster {
  private readonly period: number;
  private readonly label: string;
  private readonly ring: Float64Array;
  private readonly errors = new ErrorQuantileTracks(1);
  private last = Number.NaN;
  observed = 0;

  constructor(period: number, label: string) {
    this.period = period;
    this.label = label;
    this.ring = new Float64Array(period).fill(Number.NaN);
  }

  get model(): string {
    return this.observed < this.period ? 'seasonal-naive:short-history' : this.label;
  }

  observe(value: number, multiplier = 1): void {
    const y = multiplier > 0 && Number.isFinite(multiplier) ? value / multiplier : value;
    const slot = this.observed % this.period;
    if (Number.isFinite(y)) {
      const previous = Number.isNaN(this.ring[slot]) ? this.last : this.ring[slot];
      if (!Number.isNaN(previous)) this.errors.update(0, y - previous);
      this.ring[slot] = y;
      this.last = y;
    }
    this.observed++;
  }

  forecastInto(
    horizon: number,
    quantileLevels: readonly number[],
    out: ForecastBuffers,
    eventMultipliers?: Float64Array,
  ): void {
    const n = this.observed;
    for (let k = 0; k < horizon; k++) {
      const m =
        eventMultipliers !== undefined && k < eventMultipliers.length && eventMultipliers[k] > 0
          ? eventMultipliers[k]
          : 1;
      const fromSlot = this.ring[(n + k) % this.period];
      const point = Number.isNaN(fromSlot) ? (Number.isNaN(this.last) ? 0 : this.last) : fromSlot;
      out.mean[k] = point * m;
      const widen = Math.sqrt(Math.ceil((k + 1) / this.period));
      for (let q = 0; q < quantileLevels.length; q++) {
        const e = this.errors.quantile(0, quantileLevels[q]);
        const v = point + (Number.isNaN(e) ? 0 : e * widen);
        out.quantiles[q][k] = Math.max(v, 0) * m;
      }
    }
  }
}

/** Batch form of the baseline. */
export class SeasonalNaiveForecastModel implements ForecastModel {
  readonly name = 'seasonal-naive';
  private readonly options: SeasonalNaiveOptions;

  constructor(options: SeasonalNaiveOptions = {}) {
    this.options = options;
  }

  async forecast(requests: readonly ForecastRequest[]): Promise<Forecast[]> {
    return requests.map((request) =>
      replayAndForecast(request, (interval) => createSeasonalNaiveForecaster(interval, this.options)),
    );
  }
}
