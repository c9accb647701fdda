import { describe, expect, it } from 'vitest';
import type { AccessCount, CoAccessCount } from '../../../src/domain/data-plane/ports.ts';
import type { AccessHistorySource } from '../../../src/domain/profiling/ports.ts';
import { AccessHistoryCache } from '../../../src/profiler/access-history-cache.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

/** Counters kept in memory, with the calls each kind of read made. */
class CountingSource implements AccessHistorySource {
  readonly counts = new Map<string, AccessCount>();
  coAccess: CoAccessCount[] = [];
  calls = { countsFor: 0, coAccessFor: 0, countsInBuckets: 0 };

  add(partition: string, region: string, bucketStartMs: number, count: number): void {
    const key = `${partition}#${bucketStartMs}#${region}`;
    const prior = this.counts.get(key)?.count ?? 0;
    this.counts.set(key, { partition, region, bucketStartMs, count: prior + count });
  }

  async countsFor(partition: string, sinceMs = 0): Promise<AccessCount[]> {
    this.calls.countsFor++;
    return [...this.counts.values()].filter((c) => c.partition === partition && c.bucketStartMs >= sinceMs);
  }

  async coAccessFor(partition: string, sinceMs = 0): Promise<CoAccessCount[]> {
    this.calls.coAccessFor++;
    return this.coAccess.filter((c) => c.a === partition && c.bucketStartMs >= sinceMs);
  }

  async countsInBuckets(partitions: readonly string[], buckets: readonly number[]): Promise<AccessCount[]> {
    this.calls.countsInBuckets++;
    return [...this.counts.values()].filter(
      (c) => partitions.includes(c.partition) && buckets.includes(c.bucketStartMs),
    );
  }
}

const sorted = (counts: readonly AccessCount[]) =>
  [...counts].sort((a, b) => a.bucketStartMs - b.bucketStartMs || a.region.localeCompare(b.region));

function cacheOn(
  source: AccessHistorySource,
  overrides: Partial<ConstructorParameters<typeof AccessHistoryCache>[1]> = {},
) {
  return new AccessHistoryCache(source, {
    accessBucketMs: HOUR,
    maxPartitions: 100,
    rereadBuckets: 2,
    fullReadEveryMs: 1000 * HOUR,
    readConcurrency: 4,
    ...overrides,
  });
}

describe('AccessHistoryCache', () => {
  const partitions = ['p1', 'p2', 'p3'];
  function seeded(hours: number): CountingSource {
    const source = new CountingSource();
    for (let h = 0; h < hours; h++)
      for (const p of partitions) {
        source.add(p, 'us-east-1', T0 + h * HOUR, h + 1);
        source.add(p, 'eu-west-1', T0 + h * HOUR, 2);
      }
    source.coAccess = [{ a: 'p1', b: 'p2', bucketStartMs: T0 + 10 * HOUR, count: 3 }];
    return source;
  }
  /** What a whole read of every partition returns, without counting it as the cache's calls. */
  async function wholeRead(source: CountingSource, sinceMs: number) {
    const calls = { ...source.calls };
    const out = new Map<string, AccessCount[]>();
    for (const p of partitions) out.set(p, sorted(await source.countsFor(p, sinceMs)));
    source.calls = calls;
    return out;
  }

  it('reads each partition whole once, then the newest buckets of all of them in one batch read, with the same result', async () => {
    const source = seeded(48);
    const cache = cacheOn(source);
    const first = await cache.read(partitions, T0, T0 + 48 * HOUR);
    expect(source.calls).toEqual({ countsFor: 3, coAccessFor: 3, countsInBuckets: 0 });
    expect(first.get('p1')!.coAccess).toHaveLength(1);

    for (let h = 48; h < 60; h++) {
      for (const p of partitions) source.add(p, 'us-east-1', T0 + h * HOUR, 100 + h);
      const since = T0 + (h - 40) * HOUR;
      const got = await cache.read(partitions, since, T0 + (h + 1) * HOUR);
      const expected = await wholeRead(source, since);
      for (const p of partitions) expect(sorted(got.get(p)!.counts)).toEqual(expected.get(p));
    }
    expect(source.calls).toEqual({ countsFor: 3, coAccessFor: 3, countsInBuckets: 12 });
    expect(cache.stats).toEqual({ wholeReads: 3, incrementalReads: 36 });
  });

  it('picks up counts flushed late into a bucket already read, within the buckets read again', async () => {
    const source = seeded(10);
    const cache = cacheOn(source);
    await cache.read(partitions, T0, T0 + 10 * HOUR);
    // A flush that lands after the cycle read bucket 9 (the one in progress) and bucket 8.
    source.add('p2', 'us-east-1', T0 + 9 * HOUR, 50);
    source.add('p2', 'eu-west-1', T0 + 8 * HOUR, 7);
    const got = await cache.read(partitions, T0, T0 + 11 * HOUR);
    expect(sorted(got.get('p2')!.counts)).toEqual((await wholeRead(source, T0)).get('p2'));
    expect(source.calls.countsFor).toBe(3);
  });

  it('reads a partition whole again when its turn comes (co-access is as fresh as that), spread by name', async () => {
    const many = Array.from({ length: 20 }, (_, i) => `partition-${i}`);
    const source = new CountingSource();
    for (const p of many) source.add(p, 'us-east-1', T0, 1);
    const cache = cacheOn(source, { fullReadEveryMs: 4 * HOUR });
    await cache.read(many, T0, T0 + 1 * HOUR);
    source.coAccess.push({ a: 'partition-3', b: 'partition-1', bucketStartMs: T0 + HOUR, count: 1 });
    const whole: number[] = [];
    let seen: CoAccessCount[] = [];
    for (let h = 2; h <= 5; h++) {
      const before = source.calls.coAccessFor;
      const got = await cache.read(many, T0, T0 + h * HOUR);
      whole.push(source.calls.coAccessFor - before);
      seen = got.get('partition-3')!.coAccess;
    }
    // Every partition once in the 4-hour period after its first read, spread over the cycles.
    expect(whole.reduce((a, b) => a + b, 0)).toBe(20);
    expect(Math.max(...whole)).toBeLessThanOrEqual(10);
    expect(seen).toHaveLength(1);
  });

  it('reads whole when the source cannot read by key, or after a long pause', async () => {
    const source = seeded(6);
    const plain: AccessHistorySource = {
      countsFor: (p, s) => source.countsFor(p, s),
      coAccessFor: (p, s) => source.coAccessFor(p, s),
    };
    const cache = cacheOn(plain);
    await cache.read(partitions, T0, T0 + 6 * HOUR);
    await cache.read(partitions, T0, T0 + 7 * HOUR);
    expect(source.calls).toEqual({ countsFor: 6, coAccessFor: 6, countsInBuckets: 0 });

    const paused = cacheOn(seeded(6));
    await paused.read(partitions, T0, T0 + 6 * HOUR);
    await paused.read(partitions, T0, T0 + 200 * HOUR);
    expect(paused.stats.wholeReads).toBe(6);
  });

  it('keeps at most maxPartitions histories and still answers for every partition asked', async () => {
    const source = seeded(6);
    const cache = cacheOn(source, { maxPartitions: 2 });
    const got = await cache.read(partitions, T0, T0 + 6 * HOUR);
    expect([...got.keys()].sort()).toEqual(partitions);
    await cache.read(partitions, T0, T0 + 7 * HOUR);
    expect(cache.stats.wholeReads).toBeGreaterThan(3);
    expect(cache.stats.incrementalReads).toBeLessThanOrEqual(2);
  });
});
