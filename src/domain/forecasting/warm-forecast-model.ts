import { EmbeddedForecastModel } from './embedded-forecaster.ts';
import type { EmbeddedForecasterOptions } from './embedded-tuning.ts';
import type { Forecast, ForecastModel, ForecastRequest, OnlineForecaster } from './forecast-model.ts';
import { forecastAfter, pastEventMultipliers } from './replay-forecast.ts';

/** One series' forecaster kept between calls, and exactly what it has observed. */
interface WarmSeries {
  readonly startMs: number;
  readonly intervalMs: number;
  readonly maxHorizon: number;
  readonly forecaster: OnlineForecaster;
  /** The values observed, in order (a copy: the caller's array is not kept). */
  values: Float64Array;
  /** The event multiplier each value was observed with; undefined: all 1. */
  multipliers: Float64Array | undefined;
}

export interface WarmForecastStats {
  /** Series replayed from their first bucket (never seen, or their history changed). */
  replayed: number;
  /** Series whose kept forecaster was fed only the buckets after the ones it had observed. */
  extended: number;
  /** Buckets observed in all (replays and extensions). */
  observedBuckets: number;
}

/** The multiplier of bucket `i`: 1 where there is no event array. */
function multiplierAt(multipliers: Float64Array | undefined, i: number): number {
  return multipliers ? multipliers[i] : 1;
}

/**
 * The embedded model, with each series' fitted forecaster kept between calls (as a warm Lambda environment keeps
 * its module state): when a request's series is the one seen last time with buckets appended (same start, same
 * interval and horizon, every bucket seen before unchanged, bit for bit, with the same known-event multiplier),
 * only the new buckets are observed; otherwise (a late count changed a past bucket, the series starts elsewhere,
 * an event was added) the series is replayed from its start, as `EmbeddedForecastModel` does every time. Either way
 * the forecast equals a replay of the whole series: the forecaster is the same deterministic online model, and
 * forecasting does not change its state. This pays only while a series keeps its start: the profiler holds the
 * start of its lookback on a grid for that (`lookbackAnchorMs`).
 */
export class WarmEmbeddedForecastModel implements ForecastModel {
  readonly name = 'embedded';
  readonly stats: WarmForecastStats = { replayed: 0, extended: 0, observedBuckets: 0 };
  private readonly replay: EmbeddedForecastModel;
  private readonly maxSeries: number;
  /** In order of last use: the first entry is evicted first. */
  private readonly series = new Map<string, WarmSeries>();

  /** @param maxSeries series kept at most (the least recently used go first). @default 20,000 */
  constructor(options: EmbeddedForecasterOptions = {}, maxSeries = 20_000) {
    if (!(Number.isInteger(maxSeries) && maxSeries >= 1))
      throw new RangeError(`maxSeries must be a positive integer, got ${maxSeries}`);
    this.replay = new EmbeddedForecastModel(options);
    this.maxSeries = maxSeries;
  }

  async forecast(requests: readonly ForecastRequest[]): Promise<Forecast[]> {
    return requests.map((request) => forecastAfter(this.observed(request), request));
  }

  /** The request's series' forecaster, having observed exactly its history. */
  private observed(request: ForecastRequest): OnlineForecaster {
    const { series, itemId } = request;
    const values = series.values;
    const multipliers = pastEventMultipliers(request);
    const kept = this.series.get(itemId);
    this.series.delete(itemId);
    let entry: WarmSeries;
    let from: number;
    if (kept && this.extends(kept, request, multipliers)) {
      entry = kept;
      from = kept.values.length;
      this.stats.extended += 1;
    } else {
      entry = {
        startMs: series.startMs,
        intervalMs: series.intervalMs,
        maxHorizon: this.replay.maxHorizonFor(request.horizon),
        forecaster: this.replay.forecasterFor(series.intervalMs, request.horizon),
        values: new Float64Array(0),
        multipliers: undefined,
      };
      from = 0;
      this.stats.replayed += 1;
    }
    for (let i = from; i < values.length; i++)
      entry.forecaster.observe(values[i], multiplierAt(multipliers, i));
    this.stats.observedBuckets += values.length - from;
    entry.values = values.slice();
    entry.multipliers = multipliers?.slice();
    this.series.set(itemId, entry);
    if (this.series.size > this.maxSeries) this.series.delete(this.series.keys().next().value!);
    return entry.forecaster;
  }

  /** Whether `request`'s series is what `kept` observed, with zero or more buckets appended. */
  private extends(
    kept: WarmSeries,
    request: ForecastRequest,
    multipliers: Float64Array | undefined,
  ): boolean {
    const { series } = request;
    if (
      kept.startMs !== series.startMs ||
      kept.intervalMs !== series.intervalMs ||
      kept.maxHorizon !== this.replay.maxHorizonFor(request.horizon) ||
      kept.values.length > series.values.length
    )
      return false;
    for (let i = 0; i < kept.values.length; i++) {
      if (!Object.is(kept.values[i], series.values[i])) return false;
      if (!Object.is(multiplierAt(kept.multipliers, i), multiplierAt(multipliers, i))) return false;
    }
    return true;
  }
}
