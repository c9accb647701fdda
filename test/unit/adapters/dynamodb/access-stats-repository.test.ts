import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessStatsRepository } from '../../../../src/adapters/dynamodb/access-stats-repository.ts';
import { documentClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import {
  accessStatsTableDefinition,
  ensureTable,
} from '../../../../src/adapters/dynamodb/table-definitions.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../../support/local-tables.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

describe('DynamoAccessStatsRepository', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let repo: DynamoAccessStatsRepository;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    await ensureTable(client, accessStatsTableDefinition('stats'));
    repo = new DynamoAccessStatsRepository(documentClient(client), 'stats');
    const buckets = Array.from({ length: 48 }, (_, h) => T0 + h * HOUR);
    await repo.add(
      buckets.flatMap((b, h) => [
        { partition: 'p1', region: 'us-east-1', bucketStartMs: b, count: h + 1 },
        { partition: 'p1', region: 'eu-west-1', bucketStartMs: b, count: 1 },
      ]),
      buckets.map((b) => ({ a: 'p1', b: 'p2', bucketStartMs: b, count: 2 })),
    );
    // Flushed twice: counters add up.
    await repo.add([{ partition: 'p1', region: 'us-east-1', bucketStartMs: T0, count: 10 }], []);
  }, 60_000);
  afterAll(async () => dynamo?.close());

  it('reads every counter and co-access pair of a partition, summed across flushes', async () => {
    const counts = await repo.countsFor('p1');
    expect(counts).toHaveLength(96);
    expect(counts.find((c) => c.region === 'us-east-1' && c.bucketStartMs === T0)?.count).toBe(11);
    expect(await repo.coAccessFor('p1')).toHaveLength(48);
    expect(await repo.countsFor('p2')).toEqual([]);
  });

  it('reads only the buckets from sinceMs on when asked (a ranged key read, not a filter)', async () => {
    const since = T0 + 40 * HOUR;
    const counts = await repo.countsFor('p1', since);
    expect(counts).toHaveLength(16);
    expect(Math.min(...counts.map((c) => c.bucketStartMs))).toBe(since);
    expect(counts.filter((c) => c.region === 'us-east-1').map((c) => c.count)).toEqual(
      Array.from({ length: 8 }, (_, i) => 41 + i),
    );
    const pairs = await repo.coAccessFor('p1', since);
    expect(pairs).toHaveLength(8);
    expect(pairs.every((p) => p.b === 'p2' && p.bucketStartMs >= since)).toBe(true);
  });

  it('reads counters by key, many partitions at once, in calls of at most 100 keys', async () => {
    const buckets = Array.from({ length: 48 }, (_, h) => T0 + h * HOUR);
    await repo.add(
      ['q1', 'q2', 'q3'].map((partition) => ({
        partition,
        region: 'us-east-1',
        bucketStartMs: T0 + HOUR,
        count: 5,
      })),
      [],
    );
    // 4 partitions × 48 buckets × 2 regions = 384 keys: four BatchGetItem calls.
    const found = await repo.countsByKey(['p1', 'q1', 'q2', 'q3'], buckets, ['us-east-1', 'eu-west-1']);
    expect(found.filter((c) => c.partition === 'p1')).toHaveLength(96);
    expect(found.filter((c) => c.partition !== 'p1').map((c) => [c.partition, c.count])).toEqual(
      expect.arrayContaining([
        ['q1', 5],
        ['q2', 5],
        ['q3', 5],
      ]),
    );
    const one = await repo.countsByKey(['p1', 'missing'], [T0], ['us-east-1']);
    expect(one).toEqual([{ partition: 'p1', region: 'us-east-1', bucketStartMs: T0, count: 11, writes: 0 }]);
  });
});
