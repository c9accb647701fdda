import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  estimateLatencyMs,
  latencyMatrix,
  REGION_COORDINATES,
  SAME_REGION_LATENCY_MS,
  UNKNOWN_REGION_LATENCY_MS,
} from '../../../src/planner-service/region-latency.ts';
import { assertProperty } from '../../support/property.ts';

describe('region latency estimates', () => {
  it('lands near typical round trips between AWS regions, and under them on Europe–Asia routes', () => {
    // Approximate public medians (ms). Great circles fit cables across oceans and within continents to about
    // 30%; Europe–Asia traffic detours (via the Middle East or the US), which a distance model underestimates.
    const typical: [string, string, number][] = [
      ['us-east-1', 'us-east-2', 12],
      ['us-east-1', 'us-west-1', 62],
      ['us-east-1', 'us-west-2', 67],
      ['us-east-1', 'eu-west-1', 68],
      ['eu-west-1', 'eu-central-1', 25],
      ['us-east-1', 'ap-northeast-1', 145],
      ['us-west-2', 'ap-northeast-1', 100],
      ['ap-northeast-1', 'ap-southeast-1', 70],
      ['ap-southeast-1', 'ap-southeast-2', 92],
      ['us-east-1', 'sa-east-1', 115],
    ];
    for (const [a, b, ms] of typical) {
      const estimate = estimateLatencyMs(a, b);
      expect(Math.abs(estimate - ms) / ms, `${a}–${b}: ${estimate} vs ${ms}`).toBeLessThanOrEqual(0.3);
    }
    for (const [a, b, ms] of [
      ['eu-west-1', 'ap-northeast-1', 200],
      ['eu-central-1', 'ap-south-1', 120],
    ] as const) {
      const estimate = estimateLatencyMs(a, b);
      expect(estimate).toBeLessThan(ms);
      expect(estimate).toBeGreaterThan(ms * 0.5);
    }
  });

  it('is symmetric, positive, and grows with distance from one region', () => {
    const regions = Object.keys(REGION_COORDINATES);
    assertProperty(
      fc.property(fc.constantFrom(...regions), fc.constantFrom(...regions), (a, b) => {
        expect(estimateLatencyMs(a, b)).toBe(estimateLatencyMs(b, a));
        expect(estimateLatencyMs(a, b)).toBeGreaterThanOrEqual(SAME_REGION_LATENCY_MS);
      }),
    );
    expect(estimateLatencyMs('eu-west-1', 'eu-west-2')).toBeLessThan(
      estimateLatencyMs('eu-west-1', 'us-east-1'),
    );
    expect(estimateLatencyMs('eu-west-1', 'us-east-1')).toBeLessThan(
      estimateLatencyMs('eu-west-1', 'ap-southeast-2'),
    );
  });

  it('uses a flat figure for an unknown region, and overrides win in both directions', () => {
    expect(estimateLatencyMs('us-east-1', 'xx-mars-1')).toBe(UNKNOWN_REGION_LATENCY_MS);
    const matrix = latencyMatrix(['us-east-1', 'eu-west-1'], { 'eu-west-1': { 'us-east-1': 80 } });
    expect(matrix['us-east-1']['eu-west-1']).toBe(80);
    expect(matrix['eu-west-1']['us-east-1']).toBe(80);
    expect(matrix['us-east-1']['us-east-1']).toBe(SAME_REGION_LATENCY_MS);
  });
});
