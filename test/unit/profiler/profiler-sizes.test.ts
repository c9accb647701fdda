import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCellDataStore } from '../../../src/adapters/dynamodb/cell-data-store.ts';
import { DynamoPartitionSizeProbe } from '../../../src/adapters/dynamodb/partition-size-probe.ts';
import { cellDataTableDefinition, ensureTable } from '../../../src/adapters/dynamodb/table-definitions.ts';
import { rangeBucketOf, shardOf } from '../../../src/domain/data-plane/key-hash.ts';
import { newPartitionRecord, type PartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import type { StoredItem } from '../../../src/domain/data-plane/stored-item.ts';
import { hlcLowerBound } from '../../../src/domain/migration/hlc.ts';
import type { PartitionSizeProbe } from '../../../src/domain/profiling/ports.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { Profiler } from '../../../src/profiler/profiler.ts';
import { cycleIdFor } from '../../../src/profiler/profiler-cycle.ts';
import type { ProfilerOptions } from '../../../src/profiler/profiler-options.ts';
import { localDynamo } from '../../support/local-tables.ts';
import { profilerFixture } from './profiler-harness.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STEP = 15 * 60_000;
const T = Date.UTC(2024, 2, 5, 12, 0);
const SHARDS_PER_PARTITION = 2;

function items(partition: string, count: number, valueBytes: number): StoredItem[] {
  return Array.from({ length: count }, (_, i) => {
    const key = `${partition}-key-${i}`;
    return {
      partition,
      shard: shardOf(key, SHARDS_PER_PARTITION),
      key,
      bucket: rangeBucketOf(key),
      version: 1,
      hlc: hlcLowerBound(T - DAY + i),
      deleted: false,
      encoding: 'json',
      value: JSON.stringify({ v: 'x'.repeat(valueBytes) }),
    };
  });
}

/** A probe that records what it was asked to measure (and can fail or take time), around the real adapter. */
function recordingProbe(
  inner: PartitionSizeProbe,
  behaviour: { fail?: Set<string>; onMeasure?: () => void } = {},
) {
  const calls: string[] = [];
  const probe: PartitionSizeProbe = {
    async measure(partition, cell) {
      calls.push(partition.partition);
      behaviour.onMeasure?.();
      if (behaviour.fail?.has(partition.partition)) {
        const error = new Error('User is not authorized to perform: dynamodb:Query');
        error.name = 'AccessDeniedException';
        throw error;
      }
      return inner.measure(partition, cell);
    },
  };
  return { probe, calls };
}

describe('Profiler: partition sizes', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
  });
  afterAll(async () => dynamo?.close());

  async function cluster(prefix: string) {
    const f = await profilerFixture(client, prefix);
    const cellId = `${prefix}-c1`;
    await f.addCell({ id: cellId, region: 'us-east-1', capacityOpsPerSec: 1000, capacityBytes: 1e12 });
    await ensureTable(client, cellDataTableDefinition(`data-${cellId}`));
    const store = new DynamoCellDataStore(cellId, client, `data-${cellId}`);
    const truth = new Map<string, number>();
    const add = async (record: PartitionRecord, count: number, valueBytes: number) => {
      await f.partitions.createIfAbsent(record);
      const written = items(record.partition, count, valueBytes);
      await store.batchPut(written);
      truth.set(
        record.partition,
        written.reduce((sum, item) => sum + store.itemSize(item), 0),
      );
    };
    const partition = (id: string, createdAtMs: number, extra: Partial<PartitionRecord> = {}) => ({
      ...newPartitionRecord(id, cellId, SHARDS_PER_PARTITION, createdAtMs),
      ...extra,
    });
    return { f, cellId, truth, add, partition };
  }

  it('measures at most the bound per cycle, stalest first, writes the sizes and puts them in the scores', async () => {
    const { f, cellId, truth, add, partition } = await cluster('bound');
    await add(partition('fresh', T - 20 * DAY, { sizeBytes: 777, sizeMeasuredAtMs: T - HOUR }), 10, 50);
    await add(partition('stale', T - 20 * DAY, { sizeBytes: 5, sizeMeasuredAtMs: T - 30 * HOUR }), 20, 80);
    await add(partition('new-a', T - 10 * DAY), 30, 60);
    await add(partition('new-b', T - 5 * DAY), 12, 200);
    await add(partition('new-c', T - DAY), 8, 40);
    const fence = {
      owner: 'mig-1',
      sourceCell: cellId,
      targetCell: 'elsewhere',
      acquiredAtMs: T - 60_000,
      stage: 'copy' as const,
    };
    await add(partition('moving', T - 30 * DAY, { status: 'MIGRATING', fence }), 5, 50);
    const versions = new Map((await f.partitions.list()).map((r) => [r.partition, r.version] as const));
    const { probe, calls } = recordingProbe(new DynamoPartitionSizeProbe(() => client));
    const options: ProfilerOptions = {
      intervalSeconds: 900,
      horizonSteps: 4,
      shards: 1,
      scaleOutBufferMinutes: 30,
      sizeProbesPerShard: 2,
    };
    const profiler = new Profiler({ ...f.deps, sizeProbe: probe, sizeStore: f.partitions }, options);

    f.setNow(T);
    const first = await profiler.runShard({ cycleId: cycleIdFor(T, STEP), shard: 0, shards: 1 });
    // Never measured first, oldest record first; the migrating partition is left to its migration.
    expect(calls).toEqual(['new-a', 'new-b']);
    expect(first.sizes).toMatchObject({ due: 4, measured: 2, failed: 0 });
    expect(first.sizes.readUnits).toBeGreaterThan(0);
    const records = new Map((await f.partitions.list()).map((r) => [r.partition, r]));
    for (const id of ['new-a', 'new-b']) {
      expect({ id, size: records.get(id)?.sizeBytes, at: records.get(id)?.sizeMeasuredAtMs }).toEqual({
        id,
        size: truth.get(id),
        at: T,
      });
      // Only the size fields changed: compare-and-set users see the same version.
      expect(records.get(id)?.version).toBe(versions.get(id));
    }
    const scores = new Map((await f.scores.listAll()).map((s) => [s.partition, s.sizeBytes]));
    expect(Object.fromEntries(scores)).toEqual({
      fresh: 777,
      stale: 5,
      'new-a': truth.get('new-a'),
      'new-b': truth.get('new-b'),
      'new-c': undefined,
      moving: undefined,
    });

    // Next cycle: the rest of what is due, the stale one replaced by a fresh measurement.
    f.setNow(T + STEP);
    const second = await profiler.runShard({ cycleId: cycleIdFor(T + STEP, STEP), shard: 0, shards: 1 });
    expect(calls.slice(2)).toEqual(['new-c', 'stale']);
    expect(second.sizes).toMatchObject({ due: 2, measured: 2, failed: 0 });
    const after = new Map((await f.scores.listAll()).map((s) => [s.partition, s.sizeBytes]));
    expect(after.get('stale')).toBe(truth.get('stale'));
    expect(after.get('new-c')).toBe(truth.get('new-c'));

    // Nothing due: no probe at all.
    f.setNow(T + 2 * STEP);
    const third = await profiler.runShard({ cycleId: cycleIdFor(T + 2 * STEP, STEP), shard: 0, shards: 1 });
    expect(calls).toHaveLength(4);
    expect(third.sizes).toEqual({ due: 0, measured: 0, failed: 0, readUnits: 0 });
  });

  it('a failing probe is logged once per shard and the cycle goes on; the time budget stops new probes', async () => {
    const { f, add, partition, truth } = await cluster('fail');
    for (const [i, id] of ['p1', 'p2', 'p3', 'p4', 'p5'].entries())
      await add(partition(id, T - (10 - i) * DAY), 4, 30);
    const failing = recordingProbe(new DynamoPartitionSizeProbe(() => client), {
      fail: new Set(['p1', 'p2']),
    });
    const options: ProfilerOptions = {
      intervalSeconds: 900,
      horizonSteps: 4,
      shards: 1,
      scaleOutBufferMinutes: 30,
    };
    f.setNow(T);
    const result = await new Profiler(
      { ...f.deps, sizeProbe: failing.probe, sizeStore: f.partitions },
      options,
    ).runShard({ cycleId: cycleIdFor(T, STEP), shard: 0, shards: 1 });
    expect(result).toMatchObject({ partitions: 5, last: true, plannerInvoked: true });
    expect(result.sizes).toMatchObject({ due: 5, measured: 3, failed: 2 });
    expect(f.recorded.warnings).toEqual([
      'partition size probes failed; those partitions are measured in a later cycle',
    ]);
    expect((await f.partitions.get('p1'))?.sizeBytes).toBeUndefined();
    expect((await f.partitions.get('p3'))?.sizeBytes).toBe(truth.get('p3'));

    // Each probe takes 10 s of the 15 s budget (one at a time): the second starts at 10 s, no third.
    let now = T + STEP;
    f.setNow(now);
    const slow = recordingProbe(new DynamoPartitionSizeProbe(() => client), {
      onMeasure: () => {
        now += 10_000;
        f.setNow(now);
      },
    });
    const budgeted = await new Profiler(
      { ...f.deps, sizeProbe: slow.probe, sizeStore: f.partitions },
      { ...options, sizeProbeConcurrency: 1, sizeProbeBudgetMs: 15_000 },
    ).runShard({ cycleId: cycleIdFor(T + STEP, STEP), shard: 0, shards: 1 });
    expect(slow.calls).toEqual(['p1', 'p2']);
    expect(budgeted.sizes).toMatchObject({ due: 2, measured: 2, failed: 0 });
  });

  it('without the size ports the profiler probes nothing and scores carry the sizes the records have', async () => {
    const { f, add, partition } = await cluster('off');
    await add(partition('known', T - DAY, { sizeBytes: 4242, sizeMeasuredAtMs: T - 40 * HOUR }), 3, 30);
    await add(partition('unknown', T - DAY), 3, 30);
    f.setNow(T);
    const result = await new Profiler(f.deps, {
      intervalSeconds: 900,
      horizonSteps: 4,
      shards: 1,
      scaleOutBufferMinutes: 30,
    }).runShard({ cycleId: cycleIdFor(T, STEP), shard: 0, shards: 1 });
    expect(result.sizes).toEqual({ due: 2, measured: 0, failed: 0, readUnits: 0 });
    expect((await f.scores.get('known'))?.sizeBytes).toBe(4242);
    expect((await f.scores.get('unknown'))?.sizeBytes).toBeUndefined();
  });
});
