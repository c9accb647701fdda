import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessRecorder } from '../../../src/data-plane/access-recorder.ts';
import {
  ItemNotFoundError,
  PartitionFencedError,
  PartitionNotFoundError,
  VersionConflictError,
  WriteOutcomeUnknownError,
} from '../../../src/domain/data-plane/data-plane-errors.ts';
import { canaryPointOf, shardOf } from '../../../src/domain/data-plane/key-hash.ts';
import type { CellDataStore } from '../../../src/domain/data-plane/ports.ts';
import { HybridLogicalClock } from '../../../src/domain/migration/hlc.ts';
import type { EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import { clientOn, startTestCluster, TEST_LEASE } from '../../support/test-cluster.ts';

describe('RoutingClient', () => {
  let cluster: EmbeddedCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
  });
  afterAll(async () => {
    await cluster.close();
  });

  it('puts, gets and deletes with per-item versions, If-Match and 404s', async () => {
    const client = clientOn(cluster);
    expect(await client.put('orders', 'o-1', { total: 10 })).toEqual({ version: 1 });
    expect(await client.put('orders', 'o-1', { total: 11 })).toEqual({ version: 2 });
    expect(await client.get('orders', 'o-1')).toEqual({ json: '{"total":11}', version: 2 });
    await expect(client.put('orders', 'o-1', { total: 12 }, { ifMatch: 1 })).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect(await client.put('orders', 'o-1', { total: 12 }, { ifMatch: 2 })).toEqual({ version: 3 });
    expect(await client.delete('orders', 'o-1')).toEqual({ version: 4 });
    await expect(client.get('orders', 'o-1')).rejects.toBeInstanceOf(ItemNotFoundError);
    await expect(client.delete('orders', 'o-1')).rejects.toBeInstanceOf(ItemNotFoundError);
    await expect(client.get('nope', 'x')).rejects.toBeInstanceOf(PartitionNotFoundError);
    await expect(client.delete('nope', 'x')).rejects.toBeInstanceOf(PartitionNotFoundError);
    expect(await cluster.partitions.get('nope')).toBeUndefined();
  });

  it("places a new partition in an ACTIVE cell of the writer's region", async () => {
    const client = clientOn(cluster);
    await client.put('eu-part', 'k', 1, { region: 'eu-west-1' });
    const record = await cluster.partitions.get('eu-part');
    expect(cluster.regionOfCell(record!.cell)).toBe('eu-west-1');
    expect(record).toMatchObject({ status: 'ACTIVE', version: 1, shards: 4, routing: { phase: 'stable' } });
    await expect(client.put('x-part', 'k', 1, { region: 'sa-east-1' })).rejects.toMatchObject({
      code: 'INVALID_REGION',
    });
  });

  it('spreads one partition over several DynamoDB partition keys', async () => {
    const client = clientOn(cluster);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    for (const key of keys) await client.put('spread', key, { key });
    const record = (await cluster.partitions.get('spread'))!;
    const store = cluster.stores.forCell(record.cell);
    const perShard = await Promise.all(
      [0, 1, 2, 3].map(
        async (shard) => (await store.queryShard('spread', shard, { limit: 100 })).items.length,
      ),
    );
    expect(perShard.every((n) => n > 0)).toBe(true);
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(40);
  });

  it('stores large values compressed and returns them unchanged', async () => {
    const client = clientOn(cluster);
    const value = {
      rows: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `customer ${i}`, active: true })),
    };
    await client.put('big', 'doc', value);
    const record = (await cluster.partitions.get('big'))!;
    const stored = await cluster.stores
      .forCell(record.cell)
      .getItem({ partition: 'big', shard: shardOf('doc', record.shards), key: 'doc' });
    expect(stored?.encoding).not.toBe('json');
    expect((stored!.value as Uint8Array).length).toBeLessThan(JSON.stringify(value).length / 3);
    expect(JSON.parse((await client.get('big', 'doc')).json)).toEqual(value);
  });

  it('uses a routing entry only during its lease, then reads the table again', async () => {
    let mono = 0;
    const client = clientOn(cluster, { monoNow: () => mono });
    await client.put('leased', 'k', 1);
    const fetches = client.cache.fetches;
    mono += TEST_LEASE.leaseTtlMs - 1;
    await client.get('leased', 'k');
    expect(client.cache.fetches).toBe(fetches);
    mono += 2;
    await client.get('leased', 'k');
    expect(client.cache.fetches).toBe(fetches + 1);
  });

  it('refuses writes with 503 and Retry-After while the partition is fenced, and reads the newer copy', async () => {
    const client = clientOn(cluster);
    await client.put('fenced', 'k', 'v1');
    const record = (await cluster.partitions.get('fenced'))!;
    const peer = cluster.cellIds().find((c) => c !== record.cell)!;
    // The peer holds a newer state of the key (as after a reverse cutover) and reads must return it.
    const newer = await cluster.stores
      .forCell(record.cell)
      .getItem({ partition: 'fenced', shard: shardOf('k', record.shards), key: 'k' });
    await cluster.stores
      .forCell(peer)
      .putIfNewer({ ...newer!, version: 2, hlc: new HybridLogicalClock('zz').tick(), value: '"v2"' });
    await cluster.partitions.update('fenced', (r) => ({
      ...r,
      routing: { phase: 'fenced', peer, readWeight: 0, fencedAtMs: Date.now() },
    }));
    const fresh = clientOn(cluster);
    const error = await fresh.put('fenced', 'k', 'v3').catch((e) => e);
    expect(error).toBeInstanceOf(PartitionFencedError);
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await fresh.get('fenced', 'k')).toEqual({ json: '"v2"', version: 2 });
  });

  it('re-reads a fenced entry before refusing, so writes resume as soon as the switch is committed', async () => {
    await clientOn(cluster).put('refence', 'k', 'v1');
    const record = (await cluster.partitions.get('refence'))!;
    const peer = cluster.cellIds().find((c) => c !== record.cell)!;
    // A client with long leases (and a record without terms to cap them): without the re-read it would refuse
    // writes for its whole 60 s lease.
    const client = clientOn(cluster, { lease: { ...TEST_LEASE, leaseTtlMs: 60_000 } });
    await cluster.partitions.update('refence', ({ leaseTerms: _t, ...r }) => ({
      ...r,
      routing: { phase: 'fenced', peer, readWeight: 0, fencedAtMs: Date.now() },
    }));
    await expect(client.put('refence', 'k', 'v2')).rejects.toBeInstanceOf(PartitionFencedError);
    // The entry it holds says `fenced` and is young: refused at once, no read.
    const fetchesFenced = client.cache.fetches;
    await expect(client.put('refence', 'k', 'v2')).rejects.toBeInstanceOf(PartitionFencedError);
    expect(client.cache.fetches).toBe(fetchesFenced);
    await cluster.partitions.update('refence', (r) => ({
      ...r,
      cell: peer,
      routing: { phase: 'switched', peer: record.cell, readWeight: 0 },
    }));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await client.put('refence', 'k', 'v3')).toMatchObject({ version: expect.any(Number) });
    expect(client.cache.fetches).toBe(fetchesFenced + 1);
    expect((await client.routingOf('refence'))?.routing.phase).toBe('switched');
  });

  it('reads again when the answer came after the routing lease ran out (a slow or retried GetItem)', async () => {
    await clientOn(cluster).put('slowread', 'k', 'v1');
    let delayNext = true;
    const slowStores = {
      forCell: (cellId: string) => {
        const store = cluster.stores.forCell(cellId);
        return new Proxy(store, {
          get(target, prop, receiver) {
            if (prop !== 'getItem') return Reflect.get(target, prop, receiver);
            return async (...args: Parameters<CellDataStore['getItem']>) => {
              const result = await target.getItem(...args);
              if (delayNext) {
                delayNext = false;
                // Answered after the 150 ms lease: what the routing said may no longer hold.
                await new Promise((resolve) => setTimeout(resolve, TEST_LEASE.leaseTtlMs + 50));
              }
              return result;
            };
          },
        });
      },
    };
    const client = clientOn(cluster, { stores: slowStores });
    expect(await client.get('slowread', 'k')).toEqual({ json: '"v1"', version: 1 });
    expect(client.lateReads).toBe(1);
  });

  it('mirrors writes to the target and routes canary reads by a sticky key point while shifting', async () => {
    const client = clientOn(cluster);
    await client.put('shift', 'seed', 0);
    const record = (await cluster.partitions.get('shift'))!;
    const peer = cluster.cellIds().find((c) => c !== record.cell)!;
    await cluster.partitions.update('shift', (r) => ({
      ...r,
      routing: { phase: 'shifting', peer, readWeight: 0.5 },
    }));
    const fresh = clientOn(cluster);
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    for (const key of keys) await fresh.put('shift', key, key);
    const target = cluster.stores.forCell(peer);
    for (const key of keys) {
      const copy = await target.getItem({ partition: 'shift', shard: shardOf(key, record.shards), key });
      expect(copy?.value).toBe(JSON.stringify(key));
    }
    // Make the target's copy differ so we can tell which cell served each read.
    for (const key of keys) {
      const copy = await target.getItem({ partition: 'shift', shard: shardOf(key, record.shards), key });
      await target.putIfNewer({
        ...copy!,
        hlc: new HybridLogicalClock('zzz').tick(),
        value: '"from-target"',
      });
    }
    for (const key of keys) {
      const read = await fresh.get('shift', key);
      expect(read.json === '"from-target"').toBe(canaryPointOf(key) < 0.5);
    }
  });

  it("repairs the target's older copy on a sampled read while reads are split", async () => {
    const client = clientOn(cluster);
    await client.put('repair', 'k', 'v1');
    const record = (await cluster.partitions.get('repair'))!;
    const peer = cluster.cellIds().find((c) => c !== record.cell)!;
    const address = { partition: 'repair', shard: shardOf('k', record.shards), key: 'k' };
    const current = (await cluster.stores.forCell(record.cell).getItem(address))!;
    await cluster.stores
      .forCell(peer)
      .putIfNewer({ ...current, hlc: '000000000000001.000000.old', value: '"old"' });
    await cluster.partitions.update('repair', (r) => ({
      ...r,
      routing: { phase: 'shifting', peer, readWeight: 1 },
    }));
    const sampling = clientOn(cluster, { readRepairRate: 1 });
    expect(await sampling.get('repair', 'k')).toEqual({ json: '"v1"', version: 1 });
    expect(sampling.readRepairs).toBe(1);
    expect(await cluster.stores.forCell(peer).getItem(address)).toMatchObject({
      hlc: current.hlc,
      value: '"v1"',
    });
  });

  it('gives a write from a clock that runs behind a higher HLC than the item, so it still wins', async () => {
    const ahead = clientOn(cluster, { clock: new HybridLogicalClock('ahead', () => Date.now() + 60_000) });
    const behind = clientOn(cluster, { clock: new HybridLogicalClock('behind', () => Date.now() - 60_000) });
    await ahead.put('skew', 'k', 'first');
    await behind.put('skew', 'k', 'second');
    expect(await ahead.get('skew', 'k')).toEqual({ json: '"second"', version: 2 });
  });

  it('does not acknowledge a write that DynamoDB answered after maxRequestMs', async () => {
    const slowStores = {
      forCell: (cellId: string): CellDataStore => {
        const store = cluster.stores.forCell(cellId);
        return new Proxy(store, {
          get(target, prop, receiver) {
            if (prop === 'writeUserItem') {
              return async (...args: Parameters<CellDataStore['writeUserItem']>) => {
                const result = await target.writeUserItem(args[0]);
                await new Promise((resolve) => setTimeout(resolve, 60));
                return result;
              };
            }
            return Reflect.get(target, prop, receiver);
          },
        });
      },
    };
    const client = clientOn(cluster, { stores: slowStores, lease: { ...TEST_LEASE, maxRequestMs: 20 } });
    await expect(client.put('slow', 'k', 1)).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
  });

  it('batches access counts into one flush and samples co-access by client', async () => {
    const recorder = new AccessRecorder(cluster.accessStats, {
      flushIntervalMs: 60_000,
      coAccessSampleRate: 1,
    });
    const client = clientOn(cluster, { accessRecorder: recorder });
    await client.put('stats-a', 'k', 1, { region: 'us-east-1', clientId: 'app-1' });
    for (let i = 0; i < 20; i++) {
      await client.get('stats-a', 'k', { region: 'eu-west-1', clientId: 'app-1' });
      await client.put('stats-b', `k${i}`, i, { region: 'us-east-1', clientId: 'app-1' });
    }
    expect(recorder.pendingRequests()).toBe(41);
    expect(recorder.flushes).toBe(0);
    await recorder.flush();
    expect(recorder.flushes).toBe(1);
    const counts = await cluster.accessStats.countsFor('stats-a');
    const byRegion = Object.fromEntries(counts.map((c) => [c.region, c.count]));
    expect(byRegion).toEqual({ 'us-east-1': 1, 'eu-west-1': 20 });
    const pairs = await cluster.accessStats.coAccessFor('stats-a');
    expect(pairs[0]).toMatchObject({ b: 'stats-b' });
    expect(pairs[0].count).toBeGreaterThan(10);
  });
});
