import { describe, expect, it } from 'vitest';
import { ErrorCorrelationEstimator } from '../../../../src/domain/forecasting/error-correlation.ts';

/** A seeded uniform stream (mulberry32) and standard normals from it (Box-Muller). */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * 30 partitions on 6 cells, errors with pairwise correlation `rho` inside a cell (a shared shock per cell) and
 * scales from 1 to 30, as partitions of very different sizes have.
 */
function estimateFor(
  rho: number,
  options: { shared?: 'cell' | 'none'; samples?: number } = {},
): number | undefined {
  const P = 30;
  const next = normals(7);
  const estimator = new ErrorCorrelationEstimator(P, { halfLifeSamples: 2000, minSamples: 96 });
  const cellOf = Int32Array.from({ length: P }, (_, p) => p % 6);
  const errors = new Float64Array(P);
  for (let s = 0; s < (options.samples ?? 4000); s++) {
    const shock = Array.from({ length: 6 }, () => next());
    for (let p = 0; p < P; p++) {
      const common = options.shared === 'none' ? 0 : Math.sqrt(rho) * shock[cellOf[p]];
      errors[p] = (1 + p) * (common + Math.sqrt(1 - rho) * next());
    }
    estimator.observe(errors, cellOf, 6);
  }
  return estimator.estimate();
}

describe('ErrorCorrelationEstimator', () => {
  it('recovers the correlation of errors within a cell, whatever the partitions’ scales', () => {
    for (const rho of [0, 0.3, 0.7, 1]) expect(estimateFor(rho)).toBeCloseTo(rho, 1);
  });

  it('reads independent errors as 0 (negative control: the same scales with no shared shock)', () => {
    expect(estimateFor(0.7, { shared: 'none' })).toBeLessThan(0.05);
  });

  it('gives no estimate before minSamples, nor when no cell holds two partitions', () => {
    expect(estimateFor(0.5, { samples: 95 })).toBeUndefined();
    const alone = new ErrorCorrelationEstimator(3, { halfLifeSamples: 10, minSamples: 1 });
    for (let s = 0; s < 20; s++) alone.observe([1, -2, 3], [0, 1, -1], 2);
    expect(alone.estimate()).toBeUndefined();
  });

  it('rejects a sample of the wrong length, and bad options', () => {
    const estimator = new ErrorCorrelationEstimator(2, { halfLifeSamples: 10, minSamples: 1 });
    expect(() => estimator.observe([1], [0, 0], 1)).toThrow(/expected 2 partitions/);
    expect(() => new ErrorCorrelationEstimator(2, { halfLifeSamples: 0, minSamples: 1 })).toThrow(/halfLife/);
  });
});
