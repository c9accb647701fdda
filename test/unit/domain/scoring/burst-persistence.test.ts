import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BURST_GROWTH,
  PERSISTENCE_MS,
  persistenceLevel,
  persistenceSteps,
} from '../../../../src/domain/scoring/burst-persistence.ts';

describe('persistenceLevel', () => {
  const growth = DEFAULT_BURST_GROWTH;

  it('grows the last observation by the jump at a burst onset beyond the expected upper quantile', () => {
    // 100 → 150 ops/s (×1.5) where the forecast expected at most 120: plan on 150 × 1.5.
    expect(persistenceLevel(150, 100, 120, growth)).toBeCloseTo(225);
  });

  it('caps the growth at maxRatio', () => {
    expect(persistenceLevel(500, 100, 120, growth)).toBe(875);
    expect(persistenceLevel(500, 100, 120, { ...growth, maxRatio: 1.5 })).toBe(750);
  });

  it('keeps the last observation for a jump the forecast expected (a daily ramp)', () => {
    expect(persistenceLevel(150, 100, 160, growth)).toBe(150);
  });

  it('keeps the last observation for a small rise, a small series, or no history', () => {
    expect(persistenceLevel(120, 100, 110, growth)).toBe(120); // ×1.2 < minRatio
    expect(persistenceLevel(15, 5, 6, growth)).toBe(15); // below minOpsPerSec
    expect(persistenceLevel(150, 0, 10, growth)).toBe(150); // nothing before: a new series, not a jump
    expect(persistenceLevel(150, undefined, 10, growth)).toBe(150);
    expect(persistenceLevel(150, 100, undefined, growth)).toBe(150);
    expect(persistenceLevel(150, 100, Number.NaN, growth)).toBe(150);
  });

  it('is plain persistence when growth is off', () => {
    expect(persistenceLevel(150, 100, 120, false)).toBe(150);
  });

  it('covers the persistence window in whole steps', () => {
    expect(persistenceSteps(900_000)).toBe(4);
    expect(persistenceSteps(300_000)).toBe(12);
    expect(persistenceSteps(7 * 60_000)).toBe(Math.ceil(PERSISTENCE_MS / (7 * 60_000)));
  });
});
