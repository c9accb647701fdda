import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessCount } from '../../../src/domain/data-plane/ports.ts';
import { buildDemandHistory } from '../../../src/profiler/demand-series.ts';
import { assertProperty } from '../../support/property.ts';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 5, 0, 0);

describe('buildDemandHistory', () => {
  it('turns 5-minute counters into ops/s per 15-minute bucket, zero where nothing was counted', () => {
    const counts: AccessCount[] = [
      { partition: 'p', region: 'us-east-1', bucketStartMs: T0, count: 300 },
      { partition: 'p', region: 'us-east-1', bucketStartMs: T0 + 5 * MIN, count: 600 },
      { partition: 'p', region: 'eu-west-1', bucketStartMs: T0 + 30 * MIN, count: 90 },
      // In progress (at or after the end): ignored.
      { partition: 'p', region: 'us-east-1', bucketStartMs: T0 + 45 * MIN, count: 1000 },
    ];
    const history = buildDemandHistory(counts, {
      startMs: T0 - 60 * MIN,
      endMs: T0 + 45 * MIN,
      intervalMs: 15 * MIN,
      accessBucketMs: 5 * MIN,
    });
    // The grid starts at the first observed bucket, not at the lookback start.
    expect(history.startMs).toBe(T0);
    expect([...history.regions.get('us-east-1')!]).toEqual([1, 0, 0]);
    expect([...history.regions.get('eu-west-1')!]).toEqual([0, 0, 0.1]);
  });

  it('spreads a recorder bucket longer than the interval over the buckets it covers', () => {
    const history = buildDemandHistory([{ partition: 'p', region: 'r', bucketStartMs: T0, count: 3600 }], {
      startMs: T0,
      endMs: T0 + 60 * MIN,
      intervalMs: 15 * MIN,
      accessBucketMs: 60 * MIN,
    });
    expect([...history.regions.get('r')!]).toEqual([1, 1, 1, 1]);
  });

  it('has no region for a partition without requests in the window', () => {
    const history = buildDemandHistory(
      [{ partition: 'p', region: 'r', bucketStartMs: T0 - 600 * MIN, count: 5 }],
      {
        startMs: T0,
        endMs: T0 + 60 * MIN,
        intervalMs: 15 * MIN,
        accessBucketMs: 5 * MIN,
      },
    );
    expect(history.regions.size).toBe(0);
  });

  it('keeps every request inside the window (property)', () => {
    assertProperty(
      fc.property(
        fc.array(
          fc.record({
            region: fc.constantFrom('a', 'b', 'c'),
            slot: fc.integer({ min: -20, max: 60 }),
            count: fc.integer({ min: 0, max: 10_000 }),
          }),
          { maxLength: 60 },
        ),
        fc.constantFrom(5, 15, 60),
        (raw, intervalMinutes) => {
          const window = {
            startMs: T0,
            endMs: T0 + 24 * 60 * MIN,
            intervalMs: intervalMinutes * MIN,
            accessBucketMs: 5 * MIN,
          };
          const counts = raw.map((r) => ({
            partition: 'p',
            region: r.region,
            bucketStartMs: T0 + r.slot * 5 * MIN * 6,
            count: r.count,
          }));
          const history = buildDemandHistory(counts, window);
          let expected = 0;
          for (const c of counts) {
            if (c.bucketStartMs >= window.startMs && c.bucketStartMs < window.endMs) expected += c.count;
          }
          let total = 0;
          for (const values of history.regions.values()) {
            expect(values.length).toBe(Math.round((window.endMs - history.startMs) / window.intervalMs));
            for (const v of values) total += (v * window.intervalMs) / 1000;
          }
          expect(total).toBeCloseTo(expected, 6);
        },
      ),
    );
  });
});
