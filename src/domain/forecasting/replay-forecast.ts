import type { Forecast, ForecastRequest, OnlineForecaster } from './forecast-model.ts';
import { eventMultipliersFor } from './known-events.ts';

/**
 * Shared by the batch models: past event windows de-bias the history (observe(value, multiplier)),
 * future ones scale the forecast.
 */
export function replayAndForecast(
  request: ForecastRequest,
  create: (intervalMs: number) => OnlineForecaster,
): Forecast {
  const { series, horizon, quantileLevels, events } = request;
  const forecaster = create(series.intervalMs);
  const n = series.values.length;
  const past = events?.length
    ? eventMultipliersFor(events, undefined, series.startMs, series.intervalMs, n)
    : undefined;
  for (let i = 0; i < n; i++) forecaster.observe(series.values[i], past ? past[i] : 1);
  const startMs = series.startMs + n * series.intervalMs;
  const future = events?.length
    ? eventMultipliersFor(events, undefined, startMs, series.intervalMs, horizon)
    : undefined;
  const mean = new Float64Array(horizon);
  const buffers = quantileLevels.map(() => new Float64Array(horizon));
  forecaster.forecastInto(horizon, quantileLevels, { mean, quantiles: buffers }, future);
  const quantiles = new Map<number, Float64Array>();
  quantileLevels.forEach((level, i) => {
    quantiles.set(level, buffers[i]);
  });
  return {
    itemId: request.itemId,
    model: forecaster.model,
    startMs,
    intervalMs: series.intervalMs,
    mean,
    quantiles,
  };
}
