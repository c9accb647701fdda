import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  intervalCoverage,
  mape,
  mase,
  rollingOriginEvaluation,
  seasonalNaiveScale,
  smape,
} from '../../../../src/domain/forecasting/forecast-metrics.ts';
import { createSeasonalNaiveForecaster } from '../../../../src/domain/forecasting/seasonal-naive.ts';
import { assertProperty } from '../../../support/property.ts';

describe('point metrics', () => {
  it('computes the seasonal-naive scale over finite pairs only', () => {
    // |3−1|, |4−2|, pair (NaN, 3) skipped, |6−4|
    expect(seasonalNaiveScale([1, 2, 3, 4, Number.NaN, 6], 2)).toBe(2);
    expect(Number.isNaN(seasonalNaiveScale([1, 2], 5))).toBe(true);
  });

  it('computes MASE, MAPE and sMAPE on hand-checked values, skipping missing actuals', () => {
    const actual = [10, 0, 20, Number.NaN];
    const forecast = [12, 1, 10, 99];
    expect(mase(actual, forecast, 2)).toBeCloseTo((2 + 1 + 10) / 3 / 2, 12);
    // MAPE skips the zero actual: (0.2 + 0.5) / 2
    expect(mape(actual, forecast)).toBeCloseTo(35, 12);
    // sMAPE: 2·2/22, 2·1/1, 2·10/30
    expect(smape(actual, forecast)).toBeCloseTo((100 * (4 / 22 + 2 + 20 / 30)) / 3, 10);
    expect(smape([0], [0])).toBe(0);
  });

  it('measures interval coverage', () => {
    expect(intervalCoverage([1, 5, 9, Number.NaN], [0, 6, 8, 0], [2, 7, 9, 0])).toBeCloseTo(2 / 3, 12);
  });

  it('gives MASE 0 for a perfect forecast and sMAPE within [0, 200]', () => {
    assertProperty(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 50, maxLength: 50 }),
        (actual, other) => {
          expect(mase(actual, actual, 1)).toBe(0);
          const s = smape(actual, other);
          expect(s).toBeGreaterThanOrEqual(0);
          expect(s).toBeLessThanOrEqual(200);
        },
      ),
    );
  });
});

describe('rollingOriginEvaluation', () => {
  it('scores every origin from the warm-up on, and seasonal-naive of a pure cycle is exact', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i % 10);
    const result = rollingOriginEvaluation(values, createSeasonalNaiveForecaster(60_000, { period: 10 }), {
      horizon: 5,
      firstOrigin: 20,
      originStep: 5,
      season: 10,
    });
    // Origins 20, 25, …, 95 (lastOrigin = 100 − 5).
    expect(result.origins).toBe(16);
    expect(result.points).toBe(16 * 5);
    expect(result.mae).toBe(0);
    expect(result.scale).toBe(0); // a pure cycle: the in-sample seasonal-naive error is 0 too
    expect(result.coverage).toBe(1);
  });

  it('skips missing actuals and reports per-step errors', () => {
    const values = Float64Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 10 : 20));
    values[41] = Number.NaN;
    const result = rollingOriginEvaluation(values, createSeasonalNaiveForecaster(60_000, { period: 1 }), {
      horizon: 2,
      firstOrigin: 40,
      season: 2,
    });
    // Origins 40…58. Naive (period 1) is off by 10 at step 1, except at origin 42 where the last value
    // (bucket 41) is missing and the one before (10) is repeated; the missing actual is skipped.
    expect(result.origins).toBe(19);
    expect(result.maeByStep[0]).toBeCloseTo(170 / 18, 12);
    expect(result.points).toBe(19 * 2 - 2);
    expect(result.scale).toBe(0);
  });
});
