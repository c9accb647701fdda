import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CellState,
  FULL_CELL_TOLERANCE,
  type PartitionForecast,
  QuantileGrid,
  type RegionForecast,
  scorePartitions,
  toRegionForecast,
} from '../../../../src/domain/scoring/affinity-scorer.ts';
import { assertProperty } from '../../../support/property.ts';

const STEPS = 24;
const LEVELS = [0.1, 0.5, 0.9];

/** A flat forecast: mean m, 10/90% at m·(1 ∓ spread). */
function region(mean: number, spread = 0.2, model = 'embedded:daily+weekly'): RegionForecast {
  const m = new Float64Array(STEPS).fill(mean);
  return {
    mean: m,
    quantiles: [
      new Float64Array(STEPS).fill(mean * (1 - spread)),
      m,
      new Float64Array(STEPS).fill(mean * (1 + spread)),
    ],
    model,
  };
}

function partition(
  id: string,
  cell: string,
  regions: Record<string, RegionForecast>,
  writeFraction?: number,
): PartitionForecast {
  return { id, cell, regions, writeFraction };
}

describe('scorePartitions', () => {
  it('sees a hotspot made of many lukewarm partitions: identical partitions score higher on an over-committed cell', () => {
    // 40 identical partitions at 30 ops/s each (1200 ops/s) on cell A (usable 0.8 × 1000 = 800) and on cell B
    // (usable 8000). A fixed threshold of 100 ops/s sees none of them; neither does the fleet percentile.
    const partitions: PartitionForecast[] = [];
    for (let i = 0; i < 40; i++) partitions.push(partition(`a${i}`, 'A', { 'us-east-1': region(30) }));
    for (let i = 0; i < 40; i++) partitions.push(partition(`b${i}`, 'B', { 'us-east-1': region(30) }));
    const cells: CellState[] = [
      { id: 'A', capacityOpsPerSec: 1000 },
      { id: 'B', capacityOpsPerSec: 10_000 },
    ];
    const scores = scorePartitions({
      quantileLevels: LEVELS,
      partitions,
      cells,
      options: { hotOpsPerSec: 100, fleetPercentile: 0.99 },
    });
    const onA = scores.filter((s) => s.partition.startsWith('a')).map((s) => s.affinity);
    const onB = scores.filter((s) => s.partition.startsWith('b')).map((s) => s.affinity);
    expect(Math.min(...onA)).toBeGreaterThan(0.9);
    expect(Math.max(...onB)).toBeLessThan(0.2);
    expect(scores.every((s) => s.peakOpsPerSec < 100)).toBe(true);
  });

  it('ranks a partition above its fair share on a busy cell higher than small ones there', () => {
    const partitions = [
      partition('big', 'A', { 'us-east-1': region(300) }),
      ...Array.from({ length: 9 }, (_, i) => partition(`small${i}`, 'A', { 'us-east-1': region(60) })),
    ];
    const scores = scorePartitions({
      quantileLevels: LEVELS,
      partitions,
      cells: [{ id: 'A', capacityOpsPerSec: 1000 }], // usable 800 < 840 expected
      options: { fleetPercentile: 1 },
    });
    const big = scores.find((s) => s.partition === 'big')!;
    const small = scores.find((s) => s.partition === 'small0')!;
    expect(big.affinity).toBeGreaterThan(0.9);
    expect(small.affinity).toBeLessThan(big.affinity);
  });

  it('raises scores on a throttling or hot cell', () => {
    const partitions = [
      partition('p', 'A', { 'us-east-1': region(10) }),
      partition('q', 'A', { 'us-east-1': region(10) }),
    ];
    const calm = scorePartitions({
      quantileLevels: LEVELS,
      partitions,
      cells: [{ id: 'A', capacityOpsPerSec: 1000 }],
    });
    const throttled = scorePartitions({
      quantileLevels: LEVELS,
      partitions,
      cells: [{ id: 'A', capacityOpsPerSec: 1000, throttledFraction: 0.02 }],
    });
    const hot = scorePartitions({
      quantileLevels: LEVELS,
      partitions,
      cells: [{ id: 'A', capacityOpsPerSec: 1000, utilization: 0.95 }],
    });
    expect(throttled[0].affinity).toBeGreaterThan(calm[0].affinity + 0.3);
    expect(hot[0].affinity).toBeGreaterThan(calm[0].affinity + 0.5);
  });

  it('judges partitions without a known cell against the fleet and the fixed threshold', () => {
    const partitions = Array.from({ length: 100 }, (_, i) => ({
      id: `p${i}`,
      regions: { r: region(i + 1) },
    }));
    const scores = scorePartitions({
      quantileLevels: LEVELS,
      partitions,
      options: { fleetPercentile: 0.95 },
    });
    expect(scores[99].affinity).toBeGreaterThan(0.5);
    expect(scores[50].affinity).toBeLessThan(0.01);
    const fixed = scorePartitions({
      quantileLevels: LEVELS,
      partitions,
      options: { fleetPercentile: 1, hotOpsPerSec: 50 },
    });
    expect(fixed[80].affinity).toBeGreaterThan(0.99);
    expect(fixed[20].affinity).toBeLessThan(0.01);
  });

  it('builds a prediction vector that sums to 1, weighting writes more, and reports peak and models', () => {
    const mean = new Float64Array(STEPS).fill(10);
    mean[7] = 40;
    const scores = scorePartitions({
      quantileLevels: LEVELS,
      partitions: [
        {
          id: 'p',
          regions: {
            'us-east-1': { mean, quantiles: [mean, mean, mean], model: 'embedded:daily' },
            'eu-west-1': { ...region(10, 0.2, 'sagemaker:chronos'), writeFraction: 1 },
          },
          writeFraction: 0,
        },
      ],
      options: { writeWeight: 3 },
    });
    const [score] = scores;
    const us = 10 * 23 + 40;
    const eu = 3 * 10 * 24;
    expect(score.predictionVector['us-east-1']).toBeCloseTo(us / (us + eu), 12);
    expect(score.predictionVector['eu-west-1']).toBeCloseTo(eu / (us + eu), 12);
    expect(score.peakStep).toBe(7);
    expect(score.peakOpsPerSec).toBe(50);
    expect(score.models).toEqual(['embedded:daily', 'sagemaker:chronos']);
  });

  it('gives an empty vector for zero demand and confidence falling with interval width', () => {
    const [zero, narrow, wide] = scorePartitions({
      quantileLevels: LEVELS,
      partitions: [
        { id: 'z', regions: { r: region(0) } },
        { id: 'n', regions: { r: region(100, 0.05) } },
        { id: 'w', regions: { r: region(100, 0.8) } },
      ],
    });
    expect(zero.predictionVector).toEqual({});
    expect(zero.affinity).toBe(0);
    expect(narrow.confidence).toBeGreaterThan(wide.confidence);
    expect(narrow.confidence).toBeGreaterThan(0.8);
    const [noQuantiles] = scorePartitions({
      quantileLevels: [],
      partitions: [{ id: 'm', regions: { r: { mean: new Float64Array(STEPS).fill(5) } } }],
    });
    expect(noQuantiles.confidence).toBe(0);
  });

  it('raises a partition co-accessed with a hot one', () => {
    const partitions = [
      partition('hot', 'A', { r: region(900) }),
      partition('friend', 'B', { r: region(10) }),
      partition('stranger', 'B', { r: region(10) }),
    ];
    const cells = [
      { id: 'A', capacityOpsPerSec: 1000 },
      { id: 'B', capacityOpsPerSec: 10_000 },
    ];
    const scores = scorePartitions({
      quantileLevels: LEVELS,
      partitions,
      cells,
      relationships: [{ a: 'hot', b: 'friend', coAccessPerSec: 8 }],
      options: { fleetPercentile: 1 },
    });
    const [hot, friend, stranger] = scores;
    expect(hot.affinity).toBeGreaterThan(0.9);
    expect(friend.affinity).toBeGreaterThan(stranger.affinity + 0.5);
  });

  it('keeps affinity in [0, 1], monotone in demand / threshold (in demand on a cell that is not over-committed), and the vector summing to 1', () => {
    assertProperty(
      fc.property(
        fc.array(fc.double({ min: 0, max: 2000, noNaN: true }), { minLength: 2, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        checkScores,
      ),
      { numRuns: 50, examples: PROPERTY_COUNTEREXAMPLES },
    );
  });

  it('scores the partitions of a cell that is full to within rounding consistently', () => {
    // The cell's expected demand is 4000 ± 4000·|wobble|: within FULL_CELL_TOLERANCE (1e-9) the cell counts as
    // exactly full, beyond it the excess is resolved. Either way no partition may be judged on rounding.
    assertProperty(
      fc.property(
        fc
          .array(fc.double({ min: 0, max: 2000, noNaN: true }), { minLength: 2, maxLength: 30 })
          .filter((raw) => raw.some((d) => d > 1e-3)),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: -1e-8, max: 1e-8, noNaN: true }),
        (raw, spread, wobble) => {
          const sum = raw.reduce((a, b) => a + b, 0);
          checkScores(
            raw.map((d) => (d * 3000 * (1 + wobble)) / sum),
            spread,
          );
        },
      ),
      { numRuns: 50, examples: FULL_CELL_COUNTEREXAMPLES },
    );
  });

  it.each([
    // fast-check seed 1053330280 (the reported failure: 0.99 for the bigger partition, 0.9996 for the smaller).
    { demands: [1319.412456535033, 1680.5875434649672, 0], spread: 5.551115123125784e-17 },
    // Same edge with point forecasts: 0.19 and 0.99, although both sit exactly at their threshold.
    { demands: [1638.4708540207484, 1361.5291459792513, 0, 0], spread: 0 },
  ])(
    'judges every partition of a cell full to rounding at its own demand: $demands, spread $spread',
    ({ demands, spread }) => {
      // Σ (d + d/3) is 4000 ± 4e-13 (an ulp of 4000): the cell is exactly full, so each partition's room is its own
      // demand. The spreads are 0 or rounding (10/50/90% equal to within an ulp), so P(D > demand) = 1 − 0.9 at
      // every step: affinity 1 − 0.9² = 0.19 for both, not 0.19 / 0.99 or 0.9996 / 0.99 depending on the rounding
      // of usable − (cell demand − own demand).
      const scores = scoreOnCell(demands, spread);
      expect(scores[0].affinity).toBeCloseTo(0.19, 12);
      expect(scores[1].affinity).toBe(scores[0].affinity);
      for (const s of scores.slice(2)) expect(s.affinity).toBe(0);
      checkScores(demands, spread);
    },
  );

  it('ranks two partitions that each exceed fair share + excess on an over-committed cell by demand / threshold, not demand', () => {
    // Documents the threshold rule (see demandOverThreshold): totals 1800, 1900, 400 on usable 4000, excess 100,
    // fair share 1333. Rooms 1700 and 1800 are above the fair share, so they are the thresholds. With 10/50/90% at
    // total·(0.8, 1, 1.2): P = 1 − (0.1 + 0.4·260/360) = 0.6111 and 1 − (0.1 + 0.4·280/380) = 0.6053 per step,
    // affinity 1 − (1 − P)² = 0.8488 and 0.8442. The bigger partition's demand / threshold is the lower
    // (1900/1800 < 1800/1700), so it scores lower. Changing this is a change of the scoring rule, not of this test.
    const scores = scoreOnCell([1350, 1425, 300], 0.2);
    const step = (below: number, width: number) => 1 - (0.1 + (0.4 * below) / width);
    expect(scores[0].affinity).toBeCloseTo(1 - (1 - step(260, 360)) ** 2, 9);
    expect(scores[1].affinity).toBeCloseTo(1 - (1 - step(280, 380)) ** 2, 9);
    expect(scores[1].affinity).toBeLessThan(scores[0].affinity);
    const { ratio } = demandOverThreshold([1350, 1425, 300]);
    expect(ratio[1]).toBeLessThan(ratio[0]);
  });
});

/** Capacity of the property tests' cell; usable = 5000 × the default headroom 0.8 = 4000. */
const CAPACITY = 5000;

/** Partitions with demand d in region x and d/3 in region y, all on cell A, scored. */
function scoreOnCell(demands: readonly number[], spread: number) {
  const partitions = demands.map((d, i) =>
    partition(`p${i}`, 'A', { x: region(d, spread), y: region(d / 3, spread) }),
  );
  return scorePartitions({
    quantileLevels: LEVELS,
    partitions,
    cells: [{ id: 'A', capacityOpsPerSec: CAPACITY }],
  });
}

/**
 * Each partition's demand over its threshold as the scorer documents it, with the scorer's arithmetic: the fleet
 * threshold (max of the 99th percentile and 2 × the median of the peaks) capped by the cell's max(fair share,
 * room), room = demand − excess, excess = cell demand − usable (0 within FULL_CELL_TOLERANCE).
 *
 * Why affinity is checked against this ratio and not against demand alone: every partition here has the same
 * forecast shape (10/50/90% at total·(1 − spread), total, total·(1 + spread)) and the CDF is interpolated linearly
 * with exponential tails, so P(D > T) depends on total / T only and rises with it. Where T does not depend on the
 * partition's own demand (fleet threshold, fair share), or grows slower than it (room = total + |excess| on a
 * roomy cell), total / T rises with demand, hence "monotone in demand". On an over-committed cell a partition
 * above fair share + excess has T = total − excess, and total / (total − excess) falls as total grows: a bigger
 * partition there scores lower (see the 1350 / 1425 test), by up to ~0.03 with spread near 1.
 */
function demandOverThreshold(demands: readonly number[]): { ratio: number[]; excess: number } {
  const totals = demands.map((d) => d + d / 3);
  const usable = CAPACITY * 0.8 - 0;
  let expected = 0;
  for (const total of totals) expected += total;
  let excess = expected - usable;
  if (Math.abs(excess) <= FULL_CELL_TOLERANCE * Math.max(Math.abs(usable), expected)) excess = 0;
  const fair = usable / totals.length;
  const sorted = Float64Array.from(totals).sort();
  const percentile = (level: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(level * sorted.length) - 1))];
  const fleet = Math.max(percentile(0.99), 2 * percentile(0.5));
  const ratio = totals.map((total) => {
    const threshold = Math.min(fleet, Math.max(fair, total - excess));
    return threshold > 0 ? total / threshold : total > 0 ? Number.POSITIVE_INFINITY : 0;
  });
  return { ratio, excess };
}

/** The invariants of the property tests for one input. */
function checkScores(demands: readonly number[], spread: number): void {
  const scores = scoreOnCell(demands, spread);
  for (const [i, s] of scores.entries()) {
    expect(s.affinity).toBeGreaterThanOrEqual(0);
    expect(s.affinity).toBeLessThanOrEqual(1);
    if (demands[i] > 0) expect(s.predictionVector.x + s.predictionVector.y).toBeCloseTo(1, 12);
  }
  const { ratio, excess } = demandOverThreshold(demands);
  const inOrder = (key: readonly number[]) => {
    const order = demands.map((_, i) => i).sort((a, b) => key[a] - key[b]);
    for (let k = 1; k < order.length; k++) {
      expect(scores[order[k]].affinity).toBeGreaterThanOrEqual(scores[order[k - 1]].affinity - 1e-9);
    }
  };
  inOrder(ratio);
  if (excess <= 0) inOrder(demands);
}

/**
 * Every counterexample fast-check has found for the first property, replayed before the random cases. The first
 * is the reported failure (seed 1053330280); the rest came from 2000 seeds against the scorer before the full-cell
 * fix (shrunk, then the unshrunk originals of two of them) and from the monotone-in-demand claim.
 */
const PROPERTY_COUNTEREXAMPLES: [number[], number][] = [
  [[1319.412456535033, 1680.5875434649672, 0], 5.551115123125784e-17],
  [[1616.0932044866665, 1383.8030051570015, 0.072919418689537, 0.03087093764185056, 0], 0],
  [[1638.4708540207484, 1361.5291459792513, 0, 0], 0],
  [[1590.2889102284976, 1409.7110897715022, 0, 0], 0],
  [[0, 1000.0000000000025, 1999.9999999999977], 5.551115123125784e-17],
  [[1000.0000000000026, 0, 1999.999999999997], 0],
  [[1884.4696825252781, 1115.530317474722, 0, 0], 5.551115123125784e-17],
  [[1.4608709943330192e-278, 8e-323, 1561.052405675581, 1999.9999999999982], 0.9999999999999983],
  [
    [
      4.4e-323, 1999.9999999999977, 9.4e-323, 3.5e-323, 6.474817730770243e-297, 1115.5303174747226, 2.5e-323,
      1.0195790883196123e-47,
    ],
    0.9999999999999993,
  ],
  [[1350, 1425, 300], 0.2],
];

/** Counterexamples of the full-cell property, found against the scorer before the fix. */
const FULL_CELL_COUNTEREXAMPLES: [number[], number, number][] = [
  [[0, 780.9697964982352, 1465.4792853773956], 0, 0],
  [[532.3031431545354, 740.0691742717286, 0], 0, 0],
  [[0.0010000000000000002, 0, 0.0003333333333333335, 0], 0, -5.551115123125784e-17],
];

describe('toRegionForecast', () => {
  it('takes the quantiles a Forecast carries in the scorer order, or none if one is missing', () => {
    const mean = Float64Array.from([1, 2]);
    const q1 = Float64Array.from([0, 1]);
    const q9 = Float64Array.from([3, 4]);
    const forecast = {
      itemId: 'p#r',
      model: 'embedded:daily',
      startMs: 0,
      intervalMs: 1,
      mean,
      quantiles: new Map([
        [0.9, q9],
        [0.1, q1],
      ]),
    };
    expect(toRegionForecast(forecast, [0.1, 0.9])).toEqual({
      mean,
      quantiles: [q1, q9],
      model: 'embedded:daily',
    });
    expect(toRegionForecast(forecast, [0.1, 0.5])).toEqual({ mean, model: 'embedded:daily' });
  });
});

describe('QuantileGrid.exceedance', () => {
  it('interpolates the CDF between quantiles and has exponential tails', () => {
    const grid = new QuantileGrid([0.1, 0.5, 0.9]);
    const q = Float64Array.from([80, 100, 120]); // one step
    expect(grid.exceedance(q, 0, 1, 100)).toBeCloseTo(0.5, 12);
    expect(grid.exceedance(q, 0, 1, 110)).toBeCloseTo(0.3, 12);
    expect(grid.exceedance(q, 0, 1, 120)).toBeCloseTo(0.1, 12);
    expect(grid.exceedance(q, 0, 1, 140)).toBeCloseTo(0.1 * 0.2, 12); // θ = 20 / ln 5: one more width → ×1/5
    expect(grid.exceedance(q, 0, 1, 60)).toBeCloseTo(1 - 0.1 * 0.2, 12);
    expect(grid.exceedance(q, 0, 1, -1)).toBe(1);
  });
});
