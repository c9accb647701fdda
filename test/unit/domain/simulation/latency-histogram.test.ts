import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../../src/domain/simulation/latency-histogram.ts';

describe('LatencyHistogram.distribution', () => {
  it('lists each latency in use with its share of the weight, ascending', () => {
    const h = new LatencyHistogram();
    h.add(217, 1);
    h.add(5, 6);
    h.add(85, 3);
    expect(h.distribution()).toEqual([
      { latencyMs: 5, share: 0.6 },
      { latencyMs: 85, share: 0.3 },
      { latencyMs: 217, share: 0.1 },
    ]);
    // p99 of this distribution is the slowest route, as the report explains.
    expect(h.quantile(0.99)).toBe(217);
  });

  it('drops bins left with float residue by a removal, and is empty without requests', () => {
    const h = new LatencyHistogram();
    expect(h.distribution()).toEqual([]);
    h.add(5, 0.3);
    h.add(150, 0.1);
    h.add(150, -0.1 + 1e-17);
    h.add(5, 0.7);
    expect(h.distribution().map((d) => d.latencyMs)).toEqual([5]);
  });
});
