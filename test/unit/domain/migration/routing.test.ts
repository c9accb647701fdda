import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canaryPointOf,
  RANGE_BUCKETS,
  rangeBucketOf,
  shardOf,
} from '../../../../src/domain/data-plane/key-hash.ts';
import {
  newPartitionRecord,
  type PartitionRecord,
} from '../../../../src/domain/data-plane/partition-record.ts';
import { routeRead, routeWrite } from '../../../../src/domain/migration/request-routing.ts';
import {
  changeWindowMs,
  clientLease,
  cutoverWaitMs,
  DEFAULT_ROUTING_LEASE,
  elapsedMs,
  fencedRetryAfterSeconds,
  isLeaseValid,
  migrationLease,
  writerLeaseEndMs,
} from '../../../../src/domain/migration/routing-lease.ts';
import { assertProperty } from '../../../support/property.ts';

const record = (routing: PartitionRecord['routing']): PartitionRecord => ({
  ...newPartitionRecord('p', 'src', 8, 0),
  routing,
});

describe('request routing', () => {
  it('sends a key to the target once its canary point is below the weight, and keeps it there as the weight grows', () => {
    assertProperty(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (key, w1, w2) => {
          const [low, high] = w1 < w2 ? [w1, w2] : [w2, w1];
          const at = (w: number) =>
            routeRead(record({ phase: 'shifting', peer: 'dst', readWeight: w }), key, false);
          if (at(low).kind === 'one' && (at(low) as { cell: string }).cell === 'dst') {
            expect(at(high)).toEqual({ kind: 'one', cell: 'dst' });
          }
          expect(at(1)).toEqual({ kind: 'one', cell: 'dst' });
          expect(at(0)).toEqual({ kind: 'one', cell: 'src' });
        },
      ),
    );
  });

  it('shifts about the weighted share of keys', () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `user-${i}`);
    const share = keys.filter((k) => canaryPointOf(k) < 0.25).length / keys.length;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.28);
  });

  it('spreads keys evenly over shards and checksum ranges', () => {
    const keys = Array.from({ length: 8000 }, (_, i) => `k${i}`);
    const shards = new Array(8).fill(0);
    const buckets = new Array(RANGE_BUCKETS).fill(0);
    for (const k of keys) {
      shards[shardOf(k, 8)]++;
      buckets[rangeBucketOf(k)]++;
    }
    for (const n of shards) expect(Math.abs(n - 1000)).toBeLessThan(150);
    for (const n of buckets) expect(Math.abs(n - 500)).toBeLessThan(100);
  });

  it('routes writes by phase: primary, mirrored while shifting, refused while fenced', () => {
    expect(routeWrite(record({ phase: 'stable', readWeight: 0 }))).toEqual({ kind: 'primary', cell: 'src' });
    expect(routeWrite(record({ phase: 'preparing', peer: 'dst', readWeight: 0 }))).toEqual({
      kind: 'primary',
      cell: 'src',
    });
    expect(routeWrite(record({ phase: 'shifting', peer: 'dst', readWeight: 0.1 }))).toEqual({
      kind: 'mirrored',
      primary: 'src',
      mirror: 'dst',
    });
    expect(routeWrite(record({ phase: 'fenced', peer: 'dst', readWeight: 0, fencedAtMs: 1 }))).toEqual({
      kind: 'fenced',
    });
    expect(
      routeRead(record({ phase: 'fenced', peer: 'dst', readWeight: 0, fencedAtMs: 1 }), 'k', false),
    ).toEqual({
      kind: 'newest',
      cells: ['src', 'dst'],
      repair: false,
    });
  });
});

describe('routing lease arithmetic', () => {
  const config = DEFAULT_ROUTING_LEASE;
  it('waits out the lease, the longest request and skew (not index lag), with drift on the timed parts', () => {
    const wait = cutoverWaitMs(config);
    expect(wait).toBeGreaterThanOrEqual(config.leaseTtlMs + config.maxRequestMs + config.maxClockSkewMs);
    expect(wait).toBe(Math.ceil((config.leaseTtlMs + config.maxRequestMs) * 1.001 + config.maxClockSkewMs));
    expect(changeWindowMs(config)).toBe(
      Math.ceil(
        config.maxClockSkewMs + config.indexLagMs + config.maxRequestMs * (1 + config.clockDriftRate),
      ),
    );
    expect(writerLeaseEndMs(1_000, 500, config)).toBeGreaterThan(1_000 + 500 + config.maxRequestMs);
  });
  it('treats a lease as valid strictly before its TTL', () => {
    expect(isLeaseValid(config.leaseTtlMs - 1, config)).toBe(true);
    expect(isLeaseValid(config.leaseTtlMs, config)).toBe(false);
  });
  it('times a lease by the larger of the monotonic and the wall-clock reading (a suspended host)', () => {
    // Suspended for a minute: the monotonic clock moved 10 ms, the wall clock 60 s.
    expect(elapsedMs(1_000, 5_000, 1_010, 65_000)).toBe(60_000);
    // The wall clock stepped back by NTP: the monotonic reading still counts.
    expect(elapsedMs(1_000, 5_000, 1_500, 4_000)).toBe(500);
  });
  it('lets a record shorten a client lease and lengthen a migration lease, never the reverse', () => {
    const long = { ...config, leaseTtlMs: 60_000, maxRequestMs: 30_000 };
    const terms = { leaseTtlMs: 2_000, maxRequestMs: 1_000 };
    expect(clientLease(long, terms)).toMatchObject(terms);
    expect(clientLease({ ...config, leaseTtlMs: 500, maxRequestMs: 200 }, terms)).toMatchObject({
      leaseTtlMs: 500,
      maxRequestMs: 200,
    });
    expect(migrationLease({ ...config, leaseTtlMs: 500, maxRequestMs: 200 }, terms)).toMatchObject(terms);
    expect(migrationLease(long, terms)).toMatchObject({ leaseTtlMs: 60_000, maxRequestMs: 30_000 });
    expect(clientLease(long, undefined)).toBe(long);
  });
  it('asks fenced writers to retry after the remaining wait, at least a second', () => {
    expect(fencedRetryAfterSeconds(0, 0, config)).toBe(Math.ceil(cutoverWaitMs(config) / 1000));
    expect(fencedRetryAfterSeconds(0, 10 ** 9, config)).toBe(1);
    expect(fencedRetryAfterSeconds(undefined, 0, config)).toBe(1);
  });
});
