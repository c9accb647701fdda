import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessStatsRepository } from '../../../src/adapters/dynamodb/access-stats-repository.ts';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { accessStatsTableDefinition, ensureTable } from '../../../src/adapters/dynamodb/table-definitions.ts';
import { MultiRegionAccessStats } from '../../../src/data-plane/multi-region-access-stats.ts';
import type { AccessCount } from '../../../src/domain/data-plane/ports.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { Profiler } from '../../../src/profiler/profiler.ts';
import { localDynamo } from '../../support/local-tables.ts';
import { profilerFixture } from './profiler-harness.ts';

const STEP = 15 * 60_000;
const T = Date.UTC(2024, 2, 5, 12, 0);
const REGIONS = ['us-east-1', 'eu-west-1'];
const PARTITIONS = ['a', 'b', 'c', 'd'];
const OPTIONS = {
  intervalSeconds: 900,
  horizonSteps: 4,
  shards: 1,
  scaleOutBufferMinutes: 30,
  accessBucketMs: STEP,
};

function countsAt(b: number): AccessCount[] {
  return PARTITIONS.flatMap((partition, i) =>
    REGIONS.map((region, r) => ({
      partition,
      region,
      bucketStartMs: T + b * STEP,
      count: 100 + ((b * (i + 1) + r * 7) % 37) * 10,
      writes: 5 + i,
    })),
  );
}

describe('Profiler with its access history kept between cycles', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
  });
  afterAll(async () => dynamo?.close());

  it('scores exactly as a profiler that reads every history whole, reading only the new buckets by key', async () => {
    const kept = await profilerFixture(client, 'kept');
    const whole = await profilerFixture(client, 'whole');
    for (const f of [kept, whole]) {
      await f.addCell({ id: 'use1', region: 'us-east-1', capacityOpsPerSec: 1000, capacityBytes: 1e12 });
      await f.addCell({ id: 'euw1', region: 'eu-west-1', capacityOpsPerSec: 1000, capacityBytes: 1e12 });
      for (const [i, p] of PARTITIONS.entries()) await f.addPartition(p, i % 2 === 0 ? 'use1' : 'euw1');
      for (let b = -96; b < 0; b++) await f.record(countsAt(b));
    }
    // The writer's table holds every region's counters, as `add` writes them: the batch read asks it for all
    // regions; eu-west-1's own table (empty here) for its own.
    await ensureTable(client, accessStatsTableDefinition('kept-eu-stats'));
    const euTable = new DynamoAccessStatsRepository(documentClient(client), 'kept-eu-stats');
    const stats = new MultiRegionAccessStats(
      kept.accessStats,
      new Map([
        [REGIONS[0], kept.accessStats],
        [REGIONS[1], euTable],
      ]),
    );
    let batchReads = 0;
    const counting = {
      countsFor: (p: string, s?: number) => stats.countsFor(p, s),
      coAccessFor: (p: string, s?: number) => stats.coAccessFor(p, s),
      countsInBuckets: (p: readonly string[], b: readonly number[]) => {
        batchReads++;
        return stats.countsInBuckets!(p, b);
      },
    };
    const withCache = new Profiler({ ...kept.deps, accessStats: counting }, OPTIONS);
    const withoutCache = new Profiler(whole.deps, { ...OPTIONS, historyCache: false });

    for (let cycle = 0; cycle < 4; cycle++) {
      const at = T + cycle * STEP;
      for (const [f, profiler] of [
        [kept, withCache],
        [whole, withoutCache],
      ] as const) {
        f.setNow(at + 1000);
        const { cycleId } = await profiler.coordinate({ time: new Date(at).toISOString() });
        await profiler.runShard({ cycleId, shard: 0, shards: 1 });
        // The bucket in progress gets its counts after the cycle read it, as the recorders flush.
        await f.record(countsAt(cycle));
      }
      const strip = (records: Awaited<ReturnType<typeof kept.scores.listAll>>) =>
        records.map(({ scoredAtMs: _s, expiresAt: _e, ...rest }) => rest);
      expect(strip(await kept.scores.listAll())).toEqual(strip(await whole.scores.listAll()));
    }
    expect(batchReads).toBe(3);
  }, 60_000);
});
