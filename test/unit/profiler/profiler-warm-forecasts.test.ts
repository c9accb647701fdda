import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessCount } from '../../../src/domain/data-plane/ports.ts';
import { WarmEmbeddedForecastModel } from '../../../src/domain/forecasting/warm-forecast-model.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { lookbackStartOf } from '../../../src/profiler/demand-series.ts';
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
  lookbackMs: 12 * 3_600_000,
  // Two hours: each partition's series start moves every 8 cycles, inside the test's 12.
  lookbackAnchorMs: 2 * 3_600_000,
};

function countsAt(b: number, partitions = PARTITIONS): AccessCount[] {
  return partitions.flatMap((partition, i) =>
    REGIONS.map((region, r) => ({
      partition,
      region,
      bucketStartMs: T + b * STEP,
      count: 100 + ((b * (i + 1) + r * 7) % 37) * 10 + 40 * Math.sin(b / 6),
      writes: 5 + i,
    })),
  );
}

describe('lookbackStartOf', () => {
  it('holds a partition’s start on its grid: never later than the sliding start, less than a period before it', () => {
    const anchor = 2 * 3_600_000;
    const starts = new Set<number>();
    for (let k = 0; k < 16; k++) {
      const end = T + k * STEP;
      const start = lookbackStartOf('a', end, 12 * 3_600_000, anchor, STEP);
      expect(start).toBeLessThanOrEqual(end - 12 * 3_600_000);
      expect(start).toBeGreaterThan(end - 12 * 3_600_000 - anchor);
      expect(Number.isInteger((start - T) / STEP)).toBe(true);
      starts.add(start);
    }
    // 16 cycles are two anchor periods: the start moved once or twice.
    expect([2, 3]).toContain(starts.size);
    expect(lookbackStartOf('a', T, 12 * 3_600_000, 0, STEP)).toBe(T - 12 * 3_600_000);
  });
});

describe('Profiler with a forecaster kept between cycles', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
  });
  afterAll(async () => dynamo?.close());

  it('scores exactly as a profiler that replays every series, through anchor moves and counts flushed late', async () => {
    const warmFixture = await profilerFixture(client, 'warm');
    const coldFixture = await profilerFixture(client, 'cold');
    for (const f of [warmFixture, coldFixture]) {
      await f.addCell({ id: 'use1', region: 'us-east-1', capacityOpsPerSec: 1000, capacityBytes: 1e12 });
      await f.addCell({ id: 'euw1', region: 'eu-west-1', capacityOpsPerSec: 1000, capacityBytes: 1e12 });
      for (const [i, p] of PARTITIONS.entries()) await f.addPartition(p, i % 2 === 0 ? 'use1' : 'euw1');
      for (let b = -64; b < 0; b++) await f.record(countsAt(b));
    }
    const model = new WarmEmbeddedForecastModel();
    const warm = new Profiler({ ...warmFixture.deps, model }, OPTIONS);
    const cold = new Profiler(coldFixture.deps, OPTIONS);

    const strip = (records: Awaited<ReturnType<typeof warmFixture.scores.listAll>>) =>
      records.map(({ scoredAtMs: _s, expiresAt: _e, ...rest }) => rest);
    for (let cycle = 0; cycle < 12; cycle++) {
      const at = T + cycle * STEP;
      for (const [f, profiler] of [
        [warmFixture, warm],
        [coldFixture, cold],
      ] as const) {
        f.setNow(at + 1000);
        const { cycleId } = await profiler.coordinate({ time: new Date(at).toISOString() });
        await profiler.runShard({ cycleId, shard: 0, shards: 1 });
        await f.record(countsAt(cycle));
        // Partition a's counts of a bucket already read arrive late (a retried flush): a past bucket changes.
        if (cycle === 5) await f.record(countsAt(cycle - 1, ['a']));
      }
      expect(strip(await warmFixture.scores.listAll())).toEqual(strip(await coldFixture.scores.listAll()));
    }
    const series = PARTITIONS.length * REGIONS.length;
    // Most cycles fed each series only its new bucket; the first cycle, the anchors' moves (one per partition in
    // 12 cycles) and the late count (a's two series) replayed.
    expect(model.stats.extended).toBeGreaterThan(8 * series);
    expect(model.stats.replayed).toBeGreaterThanOrEqual(series + 2);
    expect(model.stats.replayed).toBeLessThanOrEqual(3 * series + 2);
  }, 60_000);
});
