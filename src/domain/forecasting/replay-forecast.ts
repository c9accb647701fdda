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
  const { series } = request;
  const forecaster = create(series.intervalMs);
  const past = pastEventMultipliers(request);
  for (let i = 0; i < series.values.length; i++) forecaster.observe(series.values[i], past ? past[i] : 1);
  return forecastAfter(forecaster, request);
}

/** The multiplier of each bucket of the request's history (its past known events); undefined: all 1. */
export function pastEventMultipliers(request: ForecastRequest): Float64Array | undefined {
  const { series, events } = request;
  return events?.length
    ? eventMultipliersFor(events, undefined, series.startMs, series.intervalMs, series.values.length)
    : undefined;
}

/** The request's forecast from a forecaster that has observed its whole history (and nothing after it). */
export function forecastAfter(forecaster: OnlineForecaster, request: ForecastRequest): Forecast {
  const { series, horizon, quantileLevels, events } = request;
  const startMs = series.startMs + series.values.length * series.intervalMs;
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
