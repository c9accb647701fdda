import { describe, expect, it } from 'vitest';
import {
  ErrorQuantileTracks,
  inverseNormalCdf,
  normalCdf,
} from '../../../../src/domain/forecasting/error-quantiles.ts';
import { phaseOf, seasonalPeriods } from '../../../../src/domain/forecasting/seasonal-periods.ts';
import { SeasonalProfile } from '../../../../src/domain/forecasting/seasonal-profile.ts';

describe('inverseNormalCdf / normalCdf', () => {
  it('matches tabulated normal quantiles and inverts the CDF', () => {
    expect(inverseNormalCdf(0.5)).toBeCloseTo(0, 9);
    expect(inverseNormalCdf(0.9)).toBeCloseTo(1.2815515655, 6);
    expect(inverseNormalCdf(0.01)).toBeCloseTo(-2.326347874, 6);
    for (const p of [0.001, 0.05, 0.3, 0.7, 0.975]) expect(normalCdf(inverseNormalCdf(p))).toBeCloseTo(p, 6);
  });
});

describe('ErrorQuantileTracks', () => {
  it('converges to the quantiles of the errors it sees, per track', () => {
    const tracks = new ErrorQuantileTracks(2);
    let s = 12_345;
    const uniform = () => {
      s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
      return s / 4_294_967_296;
    };
    for (let i = 0; i < 20_000; i++) {
      tracks.update(0, uniform() * 10); // U(0, 10)
      tracks.update(1, uniform() * 2 - 1); // U(−1, 1)
    }
    expect(tracks.quantile(0, 0.1)).toBeCloseTo(1, 0);
    expect(tracks.quantile(0, 0.5)).toBeCloseTo(5, 0);
    expect(tracks.quantile(0, 0.9)).toBeCloseTo(9, 0);
    expect(Math.abs(tracks.quantile(1, 0.25) + 0.5)).toBeLessThan(0.1);
    // Monotone in the level, including the extrapolated tails.
    let previous = Number.NEGATIVE_INFINITY;
    for (const level of [0.001, 0.02, 0.07, 0.3, 0.6, 0.93, 0.99, 0.999]) {
      const q = tracks.quantile(0, level);
      expect(q).toBeGreaterThanOrEqual(previous);
      previous = q;
    }
  });

  it('answers NaN before any error and a normal approximation during warm-up', () => {
    const tracks = new ErrorQuantileTracks(1);
    expect(Number.isNaN(tracks.quantile(0, 0.9))).toBe(true);
    tracks.update(0, -1);
    tracks.update(0, 1);
    expect(tracks.quantile(0, 0.9)).toBeCloseTo(1.2815515655 * Math.sqrt(Math.PI / 2), 6);
    tracks.reset();
    expect(tracks.countOf(0)).toBe(0);
  });
});

describe('seasonal periods and profiles', () => {
  it('derives daily and weekly cycles from the interval', () => {
    expect(seasonalPeriods(300_000)).toMatchObject({
      daily: { slots: 288, exact: true },
      weekly: { slots: 2016 },
    });
    expect(seasonalPeriods(86_400_000)).toMatchObject({
      daily: undefined,
      weekly: { slots: 7, exact: true },
    });
    expect(seasonalPeriods(7 * 86_400_000)).toEqual({ daily: undefined, weekly: undefined });
    const odd = seasonalPeriods(7 * 60_000).daily!;
    expect(odd).toMatchObject({ slots: 206, exact: false });
    // 7-minute buckets: bucket 206 starts at 24h 02min, so it is in the first slot of the next day.
    expect(phaseOf(206, 7 * 60_000, odd)).toBe(0);
    expect(phaseOf(205, 7 * 60_000, odd)).toBe(205);
    expect(() => seasonalPeriods(0)).toThrow(RangeError);
  });

  it('reads a coarse profile with linear interpolation between slot centres', () => {
    const profile = new SeasonalProfile(86_400_000, 300_000, 1_800_000, 0.5);
    expect(profile.slots).toBe(48);
    // Fill slots 0 and 1 (00:00–01:00) with 1 and 3.
    for (let i = 0; i < 6; i++) {
      profile.locate(i);
      profile.update(1);
    }
    for (let i = 6; i < 12; i++) {
      profile.locate(i);
      profile.update(3);
    }
    profile.locate(3); // 00:15–00:20, centre 00:17:30: just past slot 0's centre (00:15)
    const between = profile.value();
    expect(between).toBeGreaterThan(1);
    expect(between).toBeLessThan(3);
    profile.locate(100); // far from any seen slot
    expect(Number.isNaN(profile.value())).toBe(true);
  });
});
