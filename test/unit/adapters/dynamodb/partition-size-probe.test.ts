import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DynamoCellDataStore,
  storedItemSize,
} from '../../../../src/adapters/dynamodb/cell-data-store.ts';
import { createDynamoClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionSizeProbe } from '../../../../src/adapters/dynamodb/partition-size-probe.ts';
import type { CellRecord } from '../../../../src/domain/data-plane/cell-record.ts';
import { rangeBucketOf, shardOf } from '../../../../src/domain/data-plane/key-hash.ts';
import {
  newPartitionRecord,
  type PartitionRecord,
} from '../../../../src/domain/data-plane/partition-record.ts';
import type { StoredItem } from '../../../../src/domain/data-plane/stored-item.ts';
import { hlcLowerBound } from '../../../../src/domain/migration/hlc.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo, newDataTable } from '../../../support/local-tables.ts';

/** Items of a partition: `count` keys with JSON values of `valueBytes` (or compressed-looking binary values). */
function itemsOf(
  partition: string,
  shards: number,
  count: number,
  valueBytes: (i: number) => number,
  binary = false,
): StoredItem[] {
  return Array.from({ length: count }, (_, i) => {
    const key = `key-${i.toString().padStart(6, '0')}`;
    const n = valueBytes(i);
    return {
      partition,
      shard: shardOf(key, shards),
      key,
      bucket: rangeBucketOf(key),
      version: 1 + (i % 7),
      hlc: hlcLowerBound(1_700_000_000_000 + i),
      deleted: false,
      encoding: binary ? 'zstd' : 'json',
      value: binary ? new Uint8Array(randomBytes(n)) : JSON.stringify({ v: 'x'.repeat(Math.max(0, n - 8)) }),
    } satisfies StoredItem;
  });
}

interface Case {
  readonly name: string;
  readonly shards: number;
  readonly items: StoredItem[];
}

describe('DynamoPartitionSizeProbe on dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let store: DynamoCellDataStore;
  let cell: CellRecord;
  const cases: Case[] = [];
  const truth = new Map<string, number>();

  const record = (c: Case): PartitionRecord => newPartitionRecord(c.name, cell.id, c.shards, 0);

  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    store = await newDataTable(client, 'probe-cell');
    cell = {
      id: store.cellId,
      region: 'us-east-1',
      table: 'data-probe-cell',
      capacityOpsPerSec: 1000,
      capacityBytes: 1e12,
      status: 'ACTIVE',
      version: 1,
    };
    cases.push(
      { name: 'tiny', shards: 4, items: itemsOf('tiny', 4, 3, () => 40) },
      {
        name: 'small',
        shards: 8,
        // Every tenth item a tombstone: stored (and copied) until its TTL removes it, so it counts.
        items: itemsOf('small', 8, 60, (i) => 100 + (i % 5) * 90).map((item, i) =>
          i % 10 === 9 ? { ...item, deleted: true, value: '', expiresAt: 1_800_000_000 } : item,
        ),
      },
      // Shards of ~700 KB: several 4 KB charges per page, and pages near the 1 MB limit.
      { name: 'medium', shards: 4, items: itemsOf('medium', 4, 2400, (i) => 600 + (i % 9) * 100) },
      // Compressed values of 2–30 KB (binary attributes).
      { name: 'binary', shards: 8, items: itemsOf('binary', 8, 300, (i) => 2000 + (i % 15) * 2000, true) },
      // 9,000 items over 16 shards: a 2,000-item sample reads 4 shards and extrapolates.
      { name: 'sampled', shards: 16, items: itemsOf('sampled', 16, 9000, (i) => 50 + (i % 11) * 40) },
    );
    for (const c of cases) {
      for (let i = 0; i < c.items.length; i += 500) await store.batchPut(c.items.slice(i, i + 500));
      truth.set(
        c.name,
        c.items.reduce((sum, item) => sum + storedItemSize(item), 0),
      );
    }
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await dynamo?.close();
  });

  it('measures partitions of different sizes within 2× of their stored bytes (the charge-based estimate)', async () => {
    const probe = new DynamoPartitionSizeProbe(() => client);
    const rows: string[] = [];
    for (const c of cases) {
      const m = await probe.measure(record(c), cell);
      const actual = truth.get(c.name)!;
      const ratio = m.sizeBytes / actual;
      rows.push(
        `${c.name.padEnd(8)} true ${actual} B, measured ${m.sizeBytes} B (×${ratio.toFixed(3)}), ` +
          `${m.shardsRead}/${c.shards} shards, ${m.readUnits} RCU`,
      );
      expect({ partition: c.name, method: m.method }).toEqual({
        partition: c.name,
        method: 'consumed-capacity',
      });
      expect(ratio, c.name).toBeGreaterThan(0.5);
      expect(ratio, c.name).toBeLessThan(2);
      // The estimate is much better than the contract: 4 KB rounding per page, sampling error ~1/√2000.
      expect(Math.abs(ratio - 1), c.name).toBeLessThan(0.15);
      if (c.name === 'sampled') {
        expect(m.shardsRead).toBeLessThan(c.shards);
        expect(Math.abs(m.items / c.items.length - 1)).toBeLessThan(0.15);
      } else {
        expect(m.shardsRead).toBe(c.shards);
        expect(m.items).toBe(c.items.length);
      }
      // The probe pays for the bytes it reads: about size / 8 KiB units (plus small re-read pages).
      const readShare = m.shardsRead / c.shards;
      expect(m.readUnits).toBeLessThanOrEqual(Math.ceil((actual * readShare * 1.3) / 8192) + 4 * c.shards);
    }
    process.stdout.write(`\nsize probe on dynalite\n  ${rows.join('\n  ')}\n`);
  });

  it('measures small partitions exactly (their pages are read again with items) and an empty one as 0', async () => {
    const probe = new DynamoPartitionSizeProbe(() => client);
    for (const name of ['tiny', 'small']) {
      const c = cases.find((x) => x.name === name)!;
      expect((await probe.measure(record(c), cell)).sizeBytes).toBe(truth.get(name));
    }
    const empty = await probe.measure(newPartitionRecord('nothing-here', cell.id, 8, 0), cell);
    expect(empty).toMatchObject({ sizeBytes: 0, items: 0, shardsRead: 8 });
  });

  it('without ConsumedCapacity in the responses, sums the items it reads instead (exact)', async () => {
    // A client whose responses lose ConsumedCapacity, as an emulator without it would answer.
    const bare = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    bare.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        delete (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
        return result;
      },
      { step: 'initialize', name: 'dropConsumedCapacity' },
    );
    try {
      const probe = new DynamoPartitionSizeProbe(() => bare, { sampleItems: Number.POSITIVE_INFINITY });
      for (const c of cases) {
        const m = await probe.measure(record(c), cell);
        expect({ partition: c.name, method: m.method, bytes: m.sizeBytes, items: m.items }).toEqual({
          partition: c.name,
          method: 'item-sizes',
          bytes: truth.get(c.name),
          items: c.items.length,
        });
      }
    } finally {
      bare.destroy();
    }
  });

  it('reads every shard when asked for an unbounded sample', async () => {
    const c = cases.find((x) => x.name === 'sampled')!;
    const probe = new DynamoPartitionSizeProbe(() => client, { sampleItems: Number.POSITIVE_INFINITY });
    const m = await probe.measure(record(c), cell);
    expect(m.shardsRead).toBe(c.shards);
    expect(m.items).toBe(c.items.length);
    expect(Math.abs(m.sizeBytes / truth.get(c.name)! - 1)).toBeLessThan(0.05);
  });
});
