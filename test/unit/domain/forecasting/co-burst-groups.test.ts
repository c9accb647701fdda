import { describe, expect, it } from 'vitest';
import { CoBurstEstimator } from '../../../../src/domain/forecasting/co-burst-groups.ts';
import { compilePlacementModel } from '../../../../src/domain/planning/placement-model.ts';
import { seededRandom } from '../../../../src/domain/seeded-random.ts';
import { partition, plannerInput, series } from '../planning/planner-fixtures.ts';

/**
 * 24 partitions fed by 4 sources, 6 each (partition p reads source p % 4), over `samples` cycles: small noise of
 * their own, and a source's burst (about one cycle in 20) lands on all its partitions at once, scaled by each
 * partition's size. `shared: false` gives every partition bursts of its own at the same rate: the control.
 */
function observe(options: { shared: boolean; samples?: number; estimator?: CoBurstEstimator }) {
  const P = 24;
  const random = seededRandom(11);
  const estimator = options.estimator ?? new CoBurstEstimator(P, { halfLifeSamples: 500, minSamples: 96 });
  const errors = new Float64Array(P);
  for (let s = 0; s < (options.samples ?? 1500); s++) {
    const sourceBurst = [0, 1, 2, 3].map(() => (random() < 0.05 ? 6 + 4 * random() : 0));
    for (let p = 0; p < P; p++) {
      const burst = options.shared ? sourceBurst[p % 4] : random() < 0.05 ? 6 + 4 * random() : 0;
      errors[p] = (1 + p) * (random() - 0.5 + burst);
    }
    estimator.observe(errors);
  }
  return estimator;
}

describe('CoBurstEstimator', () => {
  it('groups the partitions of a source whose bursts land together, and no others', () => {
    const groups = observe({ shared: true }).groups()!;
    for (let p = 0; p < 24; p++) {
      expect(groups[p]).toBeGreaterThanOrEqual(0);
      for (let q = 0; q < 24; q++) expect(groups[p] === groups[q]).toBe(p % 4 === q % 4);
    }
  });

  it('links nothing when every partition bursts on its own (the control)', () => {
    expect([...observe({ shared: false }).groups()!].every((g) => g === -1)).toBe(true);
  });

  it('gives no groups before minSamples, and counts pairs among the largest bursts only', () => {
    expect(observe({ shared: true, samples: 50 }).groups()).toBeUndefined();
    // With room for 2 bursting partitions per sample, only the two largest of each source burst pair up.
    const narrow = new CoBurstEstimator(24, { halfLifeSamples: 500, minSamples: 96, maxBurstsPerSample: 2 });
    const groups = observe({ shared: true, estimator: narrow }).groups()!;
    expect(groups.filter((g) => g >= 0).length).toBeLessThan(24);
  });

  it('rejects options out of range', () => {
    expect(() => new CoBurstEstimator(4, { halfLifeSamples: 0, minSamples: 1 })).toThrow(/halfLifeSamples/);
    expect(() => new CoBurstEstimator(4, { halfLifeSamples: 1, minSamples: 1, linkShare: 1.5 })).toThrow(
      /linkShare/,
    );
    expect(() => new CoBurstEstimator(4, { halfLifeSamples: 1, minSamples: 1 }).observe([1, 2])).toThrow(
      /expected 4/,
    );
  });
});

describe('PlannerInput.errorGroups', () => {
  // Four partitions of mean 1000 and upper 1300 on one cell, diversified (ρ = 0).
  const upper = { forecastUpper: { 'us-east-1': series(1300) } };
  const parts = [0, 1, 2, 3].map((i) => partition(`p${i}`, 'use1-a', { 'us-east-1': 1000 }, upper));
  const cellLoad = (errorGroups?: string[][]) => {
    const model = compilePlacementModel(plannerInput(parts, errorGroups ? { errorGroups } : {}), {
      upperCorrelation: 0,
    });
    return model.initialLoad[model.cellIndex.get('use1-a')! * model.steps];
  };

  it('adds the gaps of a group up on its cell, and diversifies across groups', () => {
    expect(cellLoad()).toBeCloseTo(4000 + Math.sqrt(4 * 300 ** 2), 6);
    expect(cellLoad([['p0', 'p1', 'p2']])).toBeCloseTo(4000 + Math.sqrt(900 ** 2 + 300 ** 2), 6);
    expect(cellLoad([['p0', 'p1', 'p2', 'p3']])).toBeCloseTo(4000 + 1200, 6);
  });

  it('names an unknown or repeated partition', () => {
    expect(() => cellLoad([['p0', 'nope']])).toThrow(/errorGroups\[0\]\[1\]/);
    expect(() => cellLoad([['p0'], ['p0']])).toThrow(/two groups/);
  });
});
