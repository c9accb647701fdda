import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoCellDataStore } from '../../../../src/adapters/dynamodb/cell-data-store.ts';
import { rangeBucketOf, shardOf } from '../../../../src/domain/data-plane/key-hash.ts';
import type { UserWrite } from '../../../../src/domain/data-plane/ports.ts';
import type { StoredItem } from '../../../../src/domain/data-plane/stored-item.ts';
import { encodeHlc, hlcLowerBound } from '../../../../src/domain/migration/hlc.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo, newDataTable } from '../../../support/local-tables.ts';

const hlc = (wallMs: number, logical = 0, node = 'n1') => encodeHlc({ wallMs, logical, node });

function put(key: string, at: string, value: unknown, ifMatch?: number): UserWrite {
  return {
    address: { partition: 'p1', shard: shardOf(key, 4), key },
    bucket: rangeBucketOf(key),
    hlc: at,
    kind: 'put',
    encoding: 'json',
    value: JSON.stringify(value),
    ifMatch,
  };
}

function del(key: string, at: string, ifMatch?: number): UserWrite {
  return {
    ...put(key, at, null, ifMatch),
    kind: 'delete',
    value: undefined,
    tombstoneExpiresAt: 1_900_000_000,
  };
}

function item(key: string, at: string, version = 1, deleted = false): StoredItem {
  return {
    partition: 'p1',
    shard: shardOf(key, 4),
    key,
    bucket: rangeBucketOf(key),
    version,
    hlc: at,
    deleted,
    encoding: 'json',
    value: deleted ? '' : JSON.stringify({ key, version }),
  };
}

describe('DynamoCellDataStore on dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let store: DynamoCellDataStore;

  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    store = await newDataTable(client);
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('counts versions per item and keeps them through a delete (tombstone)', async () => {
    expect(await store.writeUserItem(put('a', hlc(100), { n: 1 }))).toEqual({ applied: true, version: 1 });
    expect(await store.writeUserItem(put('a', hlc(101), { n: 2 }))).toEqual({ applied: true, version: 2 });
    expect(await store.writeUserItem(del('a', hlc(102)))).toEqual({ applied: true, version: 3 });
    const tombstone = await store.getItem({ partition: 'p1', shard: shardOf('a', 4), key: 'a' });
    expect(tombstone).toMatchObject({ deleted: true, version: 3, hlc: hlc(102), expiresAt: 1_900_000_000 });
    expect(await store.writeUserItem(del('a', hlc(103)))).toEqual({ applied: false, reason: 'not-found' });
    expect(await store.writeUserItem(put('a', hlc(104), { n: 3 }))).toEqual({ applied: true, version: 4 });
    const live = await store.getItem({ partition: 'p1', shard: shardOf('a', 4), key: 'a' });
    expect(live).toMatchObject({ deleted: false, version: 4, value: '{"n":3}' });
    expect(live?.expiresAt).toBeUndefined();
  });

  it('applies If-Match only at the expected version, and If-Match 0 only when no live item exists', async () => {
    expect(await store.writeUserItem(put('b', hlc(200), 1, 0))).toEqual({ applied: true, version: 1 });
    expect(await store.writeUserItem(put('b', hlc(201), 2, 0))).toEqual({
      applied: false,
      reason: 'version-mismatch',
      currentVersion: 1,
    });
    expect(await store.writeUserItem(put('b', hlc(202), 2, 7))).toEqual({
      applied: false,
      reason: 'version-mismatch',
      currentVersion: 1,
    });
    expect(await store.writeUserItem(put('b', hlc(203), 2, 1))).toEqual({ applied: true, version: 2 });
    expect(await store.writeUserItem(put('nothing', hlc(204), 2, 3))).toEqual({
      applied: false,
      reason: 'version-mismatch',
    });
  });

  it('refuses a write whose HLC is not above the item and reports the item HLC', async () => {
    await store.writeUserItem(put('c', hlc(300, 0, 'zz'), 1));
    expect(await store.writeUserItem(put('c', hlc(300, 0, 'aa'), 2))).toEqual({
      applied: false,
      reason: 'stale-clock',
      currentHlc: hlc(300, 0, 'zz'),
    });
  });

  it('putIfNewer only moves an item forward in HLC order', async () => {
    expect(await store.putIfNewer(item('d', hlc(400), 2))).toBe(true);
    expect(await store.putIfNewer(item('d', hlc(399), 1))).toBe(false);
    expect(await store.putIfNewer(item('d', hlc(400), 2))).toBe(false);
    expect(await store.putIfNewer(item('d', hlc(401), 3, true))).toBe(true);
    expect(await store.getItem({ partition: 'p1', shard: shardOf('d', 4), key: 'd' })).toMatchObject({
      version: 3,
      deleted: true,
    });
    expect(
      await store.deleteIfUnchanged({ partition: 'p1', shard: shardOf('d', 4), key: 'd' }, hlc(400)),
    ).toBe(false);
    expect(
      await store.deleteIfUnchanged({ partition: 'p1', shard: shardOf('d', 4), key: 'd' }, hlc(401)),
    ).toBe(true);
    expect(await store.getItem({ partition: 'p1', shard: shardOf('d', 4), key: 'd' })).toBeUndefined();
  });

  it('pages a shard in key order, filters by checksum range, and lists changes in HLC order', async () => {
    const other = await newDataTable(client);
    const items = Array.from({ length: 60 }, (_, i) => ({
      ...item(`k${String(i).padStart(3, '0')}`, hlc(1000 + i)),
      shard: 0,
    }));
    await other.batchPut(items);
    const seen: string[] = [];
    let startAfter: string | undefined;
    do {
      const page = await other.queryShard('p1', 0, { startAfter, limit: 7 });
      seen.push(...page.items.map((i) => i.key));
      startAfter = page.lastKey;
    } while (startAfter !== undefined);
    expect(seen).toEqual(items.map((i) => i.key));

    const bucket = items[0].bucket;
    const filtered = await other.queryShard('p1', 0, { limit: 1000, buckets: [bucket] });
    expect(filtered.items.map((i) => i.key)).toEqual(
      items.filter((i) => i.bucket === bucket).map((i) => i.key),
    );

    const changes = await other.queryChanges('p1', 0, { sinceHlc: hlcLowerBound(1050), limit: 100 });
    expect(changes.changes.map((c) => c.address.key)).toEqual(items.slice(50).map((i) => i.key));
    const firstPage = await other.queryChanges('p1', 0, { sinceHlc: hlcLowerBound(1050), limit: 4 });
    const rest = await other.queryChanges('p1', 0, {
      sinceHlc: hlcLowerBound(1050),
      limit: 100,
      startAfter: firstPage.next,
    });
    expect([...firstPage.changes, ...rest.changes].map((c) => c.hlc)).toEqual(
      items.slice(50).map((i) => i.hlc),
    );

    const fetched = await other.batchGet(
      items.slice(0, 3).map((i) => ({ partition: 'p1', shard: 0, key: i.key })),
    );
    expect(fetched.map((i) => i.key).sort()).toEqual(items.slice(0, 3).map((i) => i.key));
    await other.batchDelete(items.map((i) => ({ partition: 'p1', shard: 0, key: i.key })));
    expect((await other.queryShard('p1', 0, { limit: 100 })).items).toHaveLength(0);
  });

  it('keeps compressed values as bytes and counts what it ships', async () => {
    const other = await newDataTable(client);
    const bytes = new Uint8Array([1, 2, 3, 250]);
    await other.batchPut([{ ...item('bin', hlc(5)), encoding: 'br', value: bytes }]);
    const got = await other.getItem({ partition: 'p1', shard: shardOf('bin', 4), key: 'bin' });
    expect(got?.encoding).toBe('br');
    expect(Array.from(got?.value as Uint8Array)).toEqual([1, 2, 3, 250]);
    expect(other.counters.itemsWritten).toBe(1);
    expect(other.counters.bytesWritten).toBeGreaterThan(4);
  });
});
