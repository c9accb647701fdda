import { describe, expect, it } from 'vitest';
import {
  createSeasonalNaiveForecaster,
  SeasonalNaiveForecastModel,
} from '../../../../src/domain/forecasting/seasonal-naive.ts';

const FIVE_MIN = 300_000;

function forecast(f: ReturnType<typeof createSeasonalNaiveForecaster>, horizon: number, levels = [0.1, 0.9]) {
  const out = { mean: new Float64Array(horizon), quantiles: levels.map(() => new Float64Array(horizon)) };
  f.forecastInto(horizon, levels, out);
  return out;
}

describe('createSeasonalNaiveForecaster', () => {
  it('repeats the value one day earlier (288 buckets at 5 minutes)', () => {
    const f = createSeasonalNaiveForecaster(FIVE_MIN);
    for (let i = 0; i < 600; i++) f.observe(i);
    expect(f.model).toBe('seasonal-naive:daily');
    const out = forecast(f, 300);
    for (let k = 0; k < 288; k++) expect(out.mean[k]).toBe(600 + k - 288);
    // Beyond one season the last cycle repeats again.
    expect(out.mean[288]).toBe(600 - 288);
  });

  it('uses the weekly season for daily data, or on request', () => {
    const daily = createSeasonalNaiveForecaster(86_400_000);
    for (let i = 0; i < 20; i++) daily.observe(i);
    expect(daily.model).toBe('seasonal-naive:weekly');
    expect(forecast(daily, 2).mean).toEqual(Float64Array.from([13, 14]));

    const weekly = createSeasonalNaiveForecaster(FIVE_MIN, { season: 'weekly' });
    for (let i = 0; i < 2016 + 5; i++) weekly.observe(i);
    expect(weekly.model).toBe('seasonal-naive:weekly');
    expect(forecast(weekly, 1).mean[0]).toBe(5);
  });

  it('falls back to the last value with a short history, and keeps a slot value across a missing bucket', () => {
    const f = createSeasonalNaiveForecaster(FIVE_MIN, { period: 4 });
    f.observe(7);
    expect(f.model).toBe('seasonal-naive:short-history');
    expect(forecast(f, 3).mean).toEqual(Float64Array.from([7, 7, 7]));
    for (const v of [8, 9, 10, Number.NaN, 12]) f.observe(v);
    // Bucket 4 (missing) would repeat bucket 0's value 7.
    expect(forecast(f, 4).mean).toEqual(Float64Array.from([9, 10, 7, 12]));
  });

  it('draws its interval from its own past errors', () => {
    const f = createSeasonalNaiveForecaster(FIVE_MIN, { period: 10 });
    // y[t] − y[t − 10] alternates −5 / +5: the 10–90% interval is about ±5 around the repeated value.
    for (let i = 0; i < 400; i++)
      f.observe(100 + (Math.floor(i / 10) % 2 === 0 ? 0 : 5) * (i % 2 === 0 ? 1 : -1));
    const out = forecast(f, 10);
    for (let k = 0; k < 10; k++) {
      expect(out.quantiles[0][k]).toBeLessThan(out.mean[k]);
      expect(out.quantiles[1][k]).toBeGreaterThan(out.mean[k]);
      expect(out.quantiles[1][k] - out.quantiles[0][k]).toBeGreaterThan(5);
      expect(out.quantiles[1][k] - out.quantiles[0][k]).toBeLessThan(25);
    }
  });

  it('rejects a non-integer period', () => {
    expect(() => createSeasonalNaiveForecaster(FIVE_MIN, { period: 2.5 })).toThrow(/positive integer/);
  });
});

describe('SeasonalNaiveForecastModel', () => {
  it('forecasts a batch and scales future event windows', async () => {
    const values = Float64Array.from({ length: 300 }, (_, i) => 10 + (i % 288));
    const startMs = Date.UTC(2024, 0, 1);
    const endMs = startMs + 300 * FIVE_MIN;
    const [forecast] = await new SeasonalNaiveForecastModel().forecast([
      {
        itemId: 'x',
        series: { startMs, intervalMs: FIVE_MIN, values },
        horizon: 4,
        quantileLevels: [0.5],
        events: [
          {
            name: 'sale',
            region: 'eu-west-1',
            startMs: endMs + 2 * FIVE_MIN,
            endMs: endMs + 3 * FIVE_MIN,
            multiplier: 2,
          },
        ],
      },
    ]);
    expect(forecast.model).toBe('seasonal-naive:daily');
    expect(forecast.startMs).toBe(endMs);
    expect(Array.from(forecast.mean)).toEqual([values[12], values[13], 2 * values[14], values[15]]);
  });
});
