/**
 * The forecasting port. The embedded model, the seasonal-naive baseline and the SageMaker
 * adapters (DeepAR, Chronos) all implement `ForecastModel`, so the profiler, the simulator
 * and the CLI never know which one answered.
 */

/** A regular demand series. `values[i]` is the mean ops/s in bucket `startMs + i * intervalMs`; NaN = missing. */
export interface DemandSeries {
  readonly startMs: number;
  readonly intervalMs: number;
  readonly values: Float64Array;
}

/**
 * An operator-supplied known future event: demand in `region` (`*`: every region) is multiplied by `multiplier`
 * in [startMs, endMs); with `partition`, only that partition's demand.
 */
export interface KnownEvent {
  readonly name: string;
  readonly region: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly multiplier: number;
  /** Only this partition's demand; absent: every partition's demand in `region`. */
  readonly partition?: string;
}

export interface ForecastRequest {
  /** Stable id of the series, for example `partition#region`. */
  readonly itemId: string;
  readonly series: DemandSeries;
  /** Number of future steps, each `series.intervalMs` long. */
  readonly horizon: number;
  /** Quantile levels in (0, 1), for example [0.1, 0.5, 0.9]. */
  readonly quantileLevels: readonly number[];
  /**
   * Known events of this series (its region's, or `*`, and for its partition or every partition: see
   * eventsForSeries); past ones de-bias the history, future ones scale the forecast.
   */
  readonly events?: readonly KnownEvent[];
}

export interface Forecast {
  readonly itemId: string;
  /** Which model produced this forecast, including any fallback, for example `embedded:short-history`. */
  readonly model: string;
  /** Time of the first forecast step. */
  readonly startMs: number;
  readonly intervalMs: number;
  readonly mean: Float64Array;
  /** Quantile level → one value per step. */
  readonly quantiles: ReadonlyMap<number, Float64Array>;
}

export interface ForecastModel {
  readonly name: string;
  forecast(requests: readonly ForecastRequest[]): Promise<Forecast[]>;
}

/** Caller-owned output buffers, so a forecast allocates nothing. `quantiles[i]` matches `quantileLevels[i]`. */
export interface ForecastBuffers {
  readonly mean: Float64Array;
  readonly quantiles: Float64Array[];
}

/**
 * Incremental form of a forecaster: O(1) work per observation, O(horizon) per forecast.
 * The batch `ForecastModel`s replay a series through one of these, and the simulator keeps one per
 * partition × region, so both run the same code.
 */
export interface OnlineForecaster {
  /** Model in use right now; it can change as history grows, for example `embedded:short-history` → `embedded:daily+weekly`. */
  readonly model: string;
  /** Number of buckets observed so far (missing ones included). */
  readonly observed: number;
  /** Feed the next bucket's value (mean ops/s); NaN marks a missing bucket. `multiplier` is a known event's factor for that bucket. */
  observe(value: number, multiplier?: number): void;
  /**
   * Forecast the next `horizon` buckets into `out` without allocating.
   * `eventMultipliers[h]`, when given, scales step h for known future events.
   */
  forecastInto(
    horizon: number,
    quantileLevels: readonly number[],
    out: ForecastBuffers,
    eventMultipliers?: Float64Array,
  ): void;
}
