import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoCellDataStore } from '../../../src/adapters/dynamodb/cell-data-store.ts';
import { CellHealth } from '../../../src/data-plane/cell-health.ts';
import { rangeBucketOf, shardOf } from '../../../src/domain/data-plane/key-hash.ts';
import type { StoredItem } from '../../../src/domain/data-plane/stored-item.ts';
import { encodeHlc, hlcLowerBound } from '../../../src/domain/migration/hlc.ts';
import type { EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import { localMigrationDeps } from '../../../src/local/local-migration-deps.ts';
import { verifyAndRepair } from '../../../src/migration/range-sync.ts';
import { startTestCluster, TEST_LEASE } from '../../support/test-cluster.ts';

const SHARDS = 4;
function item(i: number, wallMs = 1_000_000 + i): StoredItem {
  const key = `item-${i}`;
  return {
    partition: 'sync',
    shard: shardOf(key, SHARDS),
    key,
    bucket: rangeBucketOf(key),
    version: 1,
    hlc: encodeHlc({ wallMs, logical: 0, node: 'n' }),
    deleted: false,
    encoding: 'json',
    value: JSON.stringify({ i, text: 'x'.repeat(100) }),
  };
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
    const report = await verifyAndRepair(deps, pair, hlcLowerBound(Number.MAX_SAFE_INTEGER));
    const buckets = new Set([10, 20, 999].map((i) => `${item(i).shard}/${item(i).bucket}`));
    expect(report).toEqual({
      differingRanges: buckets.size,
      repairedOld: 2,
      repairedYoung: 0,
      removed: 1,
      aheadOfSource: 0,
    });
    // Two items shipped: nothing else crossed.
    expect(target.counters.bytesWritten - before).toBeLessThan(2 * 400);
    expect(await target.getItem(items[10])).toMatchObject({ hlc: items[10].hlc });
    expect(await target.getItem(items[20])).toMatchObject({ version: 2 });
    expect(await target.getItem(item(999))).toBeUndefined();
    expect(await verifyAndRepair(deps, pair, hlcLowerBound(0))).toMatchObject({ differingRanges: 0 });
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
    const report = await verifyAndRepair(deps, pair, hlcLowerBound(4_000_000));
    expect(report).toMatchObject({ repairedOld: 0, repairedYoung: 1, aheadOfSource: 1 });
    expect(await target.getItem(item(40))).toMatchObject({ version: 3 });
  });
});
