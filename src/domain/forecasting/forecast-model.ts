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

/** An operator-supplied known future event: demand in `region` is multiplied by `multiplier` in [startMs, endMs). */
export interface KnownEvent {
  readonly name: string;
  readonly region: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly multiplier: number;
}

export interface ForecastRequest {
  /** Stable id of the series, for example `partition#region`. */
  readonly itemId: string;
  readonly series: DemandSeries;
  /** Number of future steps, each `series.intervalMs` long. */
  readonly horizon: number;
  /** Quantile levels in (0, 1), for example [0.1, 0.5, 0.9]. */
  readonly quantileLevels: readonly number[];
  /** Known events for this series' region (past ones de-bias the history, future ones scale the forecast). */
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
