import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CellState,
  type PartitionForecast,
  QuantileGrid,
  type RegionForecast,
  scorePartitions,
  toRegionForecast,
} from '../../../../src/domain/scoring/affinity-scorer.ts';

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

  it('keeps affinity in [0, 1], monotone in demand, and the vector summing to 1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 2000, noNaN: true }), { minLength: 2, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (demands, spread) => {
          const partitions = demands.map((d, i) =>
            partition(`p${i}`, 'A', { x: region(d, spread), y: region(d / 3, spread) }),
          );
          const scores = scorePartitions({
            quantileLevels: LEVELS,
            partitions,
            cells: [{ id: 'A', capacityOpsPerSec: 5000 }],
          });
          for (const [i, s] of scores.entries()) {
            expect(s.affinity).toBeGreaterThanOrEqual(0);
            expect(s.affinity).toBeLessThanOrEqual(1);
            if (demands[i] > 0) expect(s.predictionVector.x + s.predictionVector.y).toBeCloseTo(1, 12);
          }
          const order = demands.map((_, i) => i).sort((a, b) => demands[a] - demands[b]);
          for (let k = 1; k < order.length; k++) {
            expect(scores[order[k]].affinity).toBeGreaterThanOrEqual(scores[order[k - 1]].affinity - 1e-9);
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});

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
