import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoCellDataStore } from '../../../src/adapters/dynamodb/cell-data-store.ts';
import { CellHealth } from '../../../src/data-plane/cell-health.ts';
import type { StoredItem } from '../../../src/domain/data-plane/stored-item.ts';
import { encodeHlc, hlcLowerBound } from '../../../src/domain/migration/hlc.ts';
import type { EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import { localMigrationDeps } from '../../../src/local/local-migration-deps.ts';
import { verifyAndRepair } from '../../../src/migration/range-sync.ts';
import { storedItem } from '../../support/stored-items.ts';
import { startTestCluster, TEST_LEASE } from '../../support/test-cluster.ts';

const SHARDS = 4;
function item(i: number, wallMs = 1_000_000 + i): StoredItem {
  return storedItem('sync', `item-${i}`, {
    wallMs,
    value: JSON.stringify({ i, text: 'x'.repeat(100) }),
    shards: SHARDS,
  });
}

describe('verifyAndRepair (Merkle-style ranges)', () => {
  let cluster: EmbeddedCluster;
  let source: DynamoCellDataStore;
  let target: DynamoCellDataStore;
  beforeAll(async () => {
    cluster = await startTestCluster(['us-east-1'], 2);
    [source, target] = cluster.cellIds().map((id) => cluster.stores.forCell(id));
  });
  afterAll(async () => {
    await cluster.close();
  });

  it('finds the ranges that differ and ships only their differing items, then verifies clean', async () => {
    const items = Array.from({ length: 300 }, (_, i) => item(i));
    await source.batchPut(items);
    await target.batchPut(items);
    // Diverge: one item missing on the target, one stale there, one the source does not have.
    await target.batchDelete([items[10]]);
    await source.putIfNewer({
      ...items[20],
      version: 2,
      hlc: encodeHlc({ wallMs: 2_000_000, logical: 0, node: 'n' }),
    });
    await target.putIfNewer(item(999));
    const deps = localMigrationDeps(cluster, { lease: TEST_LEASE, health: new CellHealth() });
    const pair = { partition: 'sync', shards: SHARDS, from: source, to: target };
    const before = target.counters.bytesWritten;
    const report = await verifyAndRepair(deps, pair, {
      youngBoundHlc: hlcLowerBound(Number.MAX_SAFE_INTEGER),
      destructiveBelowHlc: hlcLowerBound(Number.MAX_SAFE_INTEGER),
      expiredBeforeSec: 0,
    });
    const buckets = new Set([10, 20, 999].map((i) => `${item(i).shard}/${item(i).bucket}`));
    expect(report).toEqual({
      differingRanges: buckets.size,
      repairedOld: 2,
      repairedYoung: 0,
      removed: 1,
      replacedAhead: 0,
      leftYoung: 0,
    });
    // Two items shipped: nothing else crossed.
    expect(target.counters.bytesWritten - before).toBeLessThan(2 * 400);
    expect(await target.getItem(items[10])).toMatchObject({ hlc: items[10].hlc });
    expect(await target.getItem(items[20])).toMatchObject({ version: 2 });
    expect(await target.getItem(item(999))).toBeUndefined();
    expect(
      await verifyAndRepair(deps, pair, {
        youngBoundHlc: hlcLowerBound(0),
        destructiveBelowHlc: hlcLowerBound(0),
        expiredBeforeSec: 0,
      }),
    ).toMatchObject({ differingRanges: 0 });
  });

  it('counts a difference newer than the young bound as young, and never moves the target backwards', async () => {
    const deps = localMigrationDeps(cluster, { lease: TEST_LEASE, health: new CellHealth() });
    const pair = { partition: 'sync', shards: SHARDS, from: source, to: target };
    await source.putIfNewer({
      ...item(30),
      version: 2,
      hlc: encodeHlc({ wallMs: 5_000_000, logical: 0, node: 'n' }),
    });
    await target.putIfNewer({
      ...item(40),
      version: 3,
      hlc: encodeHlc({ wallMs: 6_000_000, logical: 0, node: 'n' }),
    });
    // The target's newer state of item 40 is above the destructive bound: left alone, and reported.
    const report = await verifyAndRepair(deps, pair, {
      youngBoundHlc: hlcLowerBound(4_000_000),
      destructiveBelowHlc: hlcLowerBound(5_500_000),
      expiredBeforeSec: 0,
    });
    expect(report).toMatchObject({ repairedOld: 0, repairedYoung: 1, leftYoung: 1, replacedAhead: 0 });
    expect(await target.getItem(item(40))).toMatchObject({ version: 3 });
  });

  it('replaces a state the source never had (a late, unacknowledged write on the copy) once it is old enough', async () => {
    const deps = localMigrationDeps(cluster, { lease: TEST_LEASE, health: new CellHealth() });
    const pair = { partition: 'sync', shards: SHARDS, from: source, to: target };
    const report = await verifyAndRepair(deps, pair, {
      youngBoundHlc: hlcLowerBound(4_000_000),
      destructiveBelowHlc: hlcLowerBound(7_000_000),
      expiredBeforeSec: 0,
    });
    expect(report).toMatchObject({ replacedAhead: 1, leftYoung: 0 });
    const source40 = await source.getItem(item(40));
    expect(await target.getItem(item(40))).toMatchObject({ hlc: source40!.hlc, version: source40!.version });
    const again = await verifyAndRepair(deps, pair, {
      youngBoundHlc: hlcLowerBound(4_000_000),
      destructiveBelowHlc: hlcLowerBound(7_000_000),
      expiredBeforeSec: 0,
    });
    expect(again.differingRanges).toBe(0);
  });

  it('counts tombstones past their TTL as absent on both sides, so TTL deleting them at different times never makes a verify unclean', async () => {
    const deps = localMigrationDeps(cluster, { lease: TEST_LEASE, health: new CellHealth() });
    const pair = { partition: 'sync', shards: SHARDS, from: source, to: target };
    const tombstone = {
      ...item(50),
      version: 9,
      hlc: encodeHlc({ wallMs: 8_000_000, logical: 0, node: 'n' }),
      deleted: true,
      value: '',
      expiresAt: 1_000,
    };
    // The source still has the expired tombstone; the target's TTL already removed it.
    await source.putIfNewer(tombstone);
    await target.batchDelete([tombstone]);
    const bounds = { youngBoundHlc: hlcLowerBound(0), destructiveBelowHlc: hlcLowerBound(0) };
    expect(await verifyAndRepair(deps, pair, { ...bounds, expiredBeforeSec: 2_000 })).toMatchObject({
      differingRanges: 0,
    });
    // Judged before its expiry, the tombstone is data and is shipped.
    const before = await verifyAndRepair(deps, pair, { ...bounds, expiredBeforeSec: 500 });
    expect(before.differingRanges).toBe(1);
    expect(await target.getItem(tombstone)).toMatchObject({ deleted: true, version: 9 });
  });
});
