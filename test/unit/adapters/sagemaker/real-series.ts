import type { ForecastRequest, KnownEvent } from '../../../../src/domain/forecasting/forecast-model.ts';
import { readSeriesCsv } from '../../../../src/io/series-csv.ts';

/** NYC taxi passengers per 30 minutes (NAB, MIT): real daily and weekly cycles. */
export const TAXI_CSV = 'data/real/nab/realKnownCause/nyc_taxi.csv';
export const HALF_HOUR = 1_800_000;

/**
 * `count` forecast requests cut from the real taxi series: windows of `length` buckets at different offsets,
 * scaled so each looks like a different partition's demand. Every `nanEvery`-th bucket is missing.
 */
export async function taxiRequests(
  count: number,
  options: {
    length?: number;
    horizon?: number;
    quantileLevels?: number[];
    nanEvery?: number;
    events?: readonly KnownEvent[];
  } = {},
): Promise<ForecastRequest[]> {
  const series = await readSeriesCsv(TAXI_CSV);
  const length = options.length ?? 672;
  const stride = Math.max(1, Math.floor((series.values.length - length) / Math.max(1, count)));
  return Array.from({ length: count }, (_, i) => {
    const from = i * stride;
    const values = series.values.slice(from, from + length).map((v) => v / (100 + 7 * i));
    if (options.nanEvery) for (let t = 3; t < values.length; t += options.nanEvery) values[t] = Number.NaN;
    return {
      itemId: `p${i}#us-east-1`,
      series: { startMs: series.startMs + from * series.intervalMs, intervalMs: series.intervalMs, values },
      horizon: options.horizon ?? 8,
      quantileLevels: options.quantileLevels ?? [0.1, 0.5, 0.9],
      events: options.events,
    };
  });
}
