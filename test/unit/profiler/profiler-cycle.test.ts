import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../src/domain/errors.ts';
import { cycleIdFor, parseCycleId, profilerShardOf } from '../../../src/profiler/profiler-cycle.ts';
import { assertProperty } from '../../support/property.ts';

describe('profiler cycles and shards', () => {
  it('derives the cycle id from the schedule time, so a redelivered event is the same cycle', () => {
    const interval = 900_000;
    expect(cycleIdFor(Date.parse('2024-03-05T10:15:00Z'), interval)).toBe('20240305T101500Z');
    expect(cycleIdFor(Date.parse('2024-03-05T10:29:59Z'), interval)).toBe('20240305T101500Z');
    expect(cycleIdFor(Date.parse('2024-03-05T10:30:00Z'), interval)).toBe('20240305T103000Z');
    expect(parseCycleId('20240305T101500Z')).toBe(Date.parse('2024-03-05T10:15:00Z'));
    expect(() => parseCycleId('2024-03-05')).toThrow(InputValidationError);
    assertProperty(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.constantFrom(60_000, 300_000, 900_000),
        (t, i) => {
          const id = cycleIdFor(t, i);
          expect(cycleIdFor(parseCycleId(id), i)).toBe(id);
          expect(parseCycleId(id)).toBeLessThanOrEqual(t);
          expect(t - parseCycleId(id)).toBeLessThan(i);
        },
      ),
    );
  });

  it('assigns partitions to shards by a stable, even hash', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `tenant-${i}`);
    const counts = new Array(10).fill(0);
    for (const id of ids) counts[profilerShardOf(id, 10)]++;
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(400);
    expect(profilerShardOf('tenant-42', 10)).toBe(profilerShardOf('tenant-42', 10));
    expect(ids.every((id) => profilerShardOf(id, 1) === 0)).toBe(true);
  });
});
