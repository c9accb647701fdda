import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessStatsRepository } from '../../../src/adapters/dynamodb/access-stats-repository.ts';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { accessStatsTableDefinition, ensureTable } from '../../../src/adapters/dynamodb/table-definitions.ts';
import { AccessRecorder } from '../../../src/data-plane/access-recorder.ts';
import { MultiRegionAccessStats } from '../../../src/data-plane/multi-region-access-stats.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { measuredWriteFraction } from '../../../src/profiler/demand-series.ts';
import { Profiler } from '../../../src/profiler/profiler.ts';
import { localDynamo } from '../../support/local-tables.ts';
import { profilerFixture } from './profiler-harness.ts';

const STEP = 15 * 60_000;
const T = Date.UTC(2024, 2, 5, 12, 0);

describe('the demand signal: reads and writes counted apart in every region', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
  });
  afterAll(async () => dynamo?.close());

  it('gives a write-heavy partition its measured write fraction, from the counts of both regions', async () => {
    const f = await profilerFixture(client, 'wf');
    // Each region's interceptors record in that region's table; the profiler reads both.
    const regional = new Map<string, DynamoAccessStatsRepository>();
    for (const region of ['us-east-1', 'eu-west-1']) {
      await ensureTable(client, accessStatsTableDefinition(`wf-stats-${region}`));
      regional.set(region, new DynamoAccessStatsRepository(documentClient(client), `wf-stats-${region}`));
    }
    const stats = new MultiRegionAccessStats(regional.get('us-east-1')!, regional);
    await f.addCell({ id: 'use1-a', region: 'us-east-1', capacityOpsPerSec: 1000, capacityBytes: 1e12 });
    await f.addPartition('ledger', 'use1-a');
    await f.addPartition('catalog', 'use1-a');

    // A day of traffic through real recorders: the ledger is written 9 times in 10 in eu-west-1 and 7 in 10
    // in us-east-1 (overall 8 in 10); the catalog is read only.
    let now = T - 96 * STEP;
    const recorders = new Map(
      [...regional].map(([region, repository]) => [
        region,
        new AccessRecorder(repository, { bucketMs: STEP, flushIntervalMs: STEP, wallNow: () => now }),
      ]),
    );
    for (let b = 0; b < 96; b++, now += STEP) {
      for (let i = 0; i < 20; i++) {
        recorders.get('eu-west-1')!.record('ledger', 'eu-west-1', i % 10 < 9 ? 'write' : 'read');
        recorders.get('us-east-1')!.record('ledger', 'us-east-1', i % 10 < 7 ? 'write' : 'read');
        recorders.get('us-east-1')!.record('catalog', 'us-east-1', 'read');
      }
      for (const recorder of recorders.values()) await recorder.flush();
    }

    const counts = await stats.countsFor('ledger');
    expect(new Set(counts.map((c) => c.region))).toEqual(new Set(['us-east-1', 'eu-west-1']));
    expect(measuredWriteFraction(counts)).toEqual({
      overall: 0.8,
      byRegion: { 'eu-west-1': 0.9, 'us-east-1': 0.7 },
    });

    f.setNow(T + 5_000);
    const profiler = new Profiler(
      { ...f.deps, accessStats: stats },
      { intervalSeconds: 900, horizonSteps: 8, shards: 1, scaleOutBufferMinutes: 30, accessBucketMs: STEP },
    );
    await profiler.coordinate({ time: new Date(T + 20_000).toISOString() });
    await profiler.runShard(f.recorded.shards[0]);
    const scores = new Map((await f.scores.listAll()).map((r) => [r.partition, r]));
    expect(scores.get('ledger')!.writeFraction).toBeCloseTo(0.8, 9);
    expect(scores.get('catalog')!.writeFraction).toBe(0);
  });

  it('leaves the write fraction unmeasured for counters that never told reads and writes apart', () => {
    expect(
      measuredWriteFraction([{ partition: 'p', region: 'us-east-1', bucketStartMs: 0, count: 10 }]),
    ).toBeUndefined();
  });
});
