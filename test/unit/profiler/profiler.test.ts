import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessCount } from '../../../src/domain/data-plane/ports.ts';
import { DEFAULT_PLANNING_QUANTILE } from '../../../src/domain/forecasting/planning-quantile.ts';
import { DEFAULT_BURST_GROWTH, persistenceLevel } from '../../../src/domain/scoring/burst-persistence.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { InvalidShardError, Profiler } from '../../../src/profiler/profiler.ts';
import { cycleIdFor, profilerShardOf } from '../../../src/profiler/profiler-cycle.ts';
import { METRIC } from '../../../src/support/metrics.ts';
import { localDynamo } from '../../support/local-tables.ts';
import { profilerFixture, SCALE_CLUSTER_ARN } from './profiler-harness.ts';

const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

const MIN = 60_000;
const STEP = 15 * MIN;
/** Cycle 1 runs at T: its history is the 96 buckets (one day) before T. */
const T = Date.UTC(2024, 2, 5, 12, 0);
const HISTORY = 96;
const OPTIONS = {
  intervalSeconds: 900,
  horizonSteps: 8,
  shards: 1,
  scaleOutBufferMinutes: 30,
  accessBucketMs: STEP,
};

/** Requests per 15-minute bucket b (b = 0 is T − 1 day) of each partition and region. */
function countOf(partition: string, region: string, b: number): number {
  if (region === 'eu-west-1') return partition === 'burst' ? 900 : 450;
  if (partition === 'burst') return b < 88 ? 1800 : 1800 + (b - 87) * 7200;
  return 1800 + (b % 4) * 225;
}

const PLACEMENT: Record<string, string> = {
  burst: 'use1-a',
  q1: 'use1-a',
  q2: 'use1-a',
  q3: 'euw1-a',
  q4: 'euw1-a',
};
const REGIONS = ['us-east-1', 'eu-west-1'];

function countsFor(buckets: number[]): AccessCount[] {
  const out: AccessCount[] = [];
  for (const partition of Object.keys(PLACEMENT))
    for (const region of REGIONS)
      for (const b of buckets)
        out.push({
          partition,
          region,
          bucketStartMs: T - (HISTORY - b) * STEP,
          count: countOf(partition, region, b),
        });
  return out;
}

describe('Profiler against dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
  });
  afterAll(async () => dynamo?.close());

  it('scores a burst above quiet partitions, writes ScoreRecords, starts a predictive scale-out, then measures the online error', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date(T) });
    const f = await profilerFixture(client, 'cycle');
    await f.addCell({ id: 'use1-a', region: 'us-east-1', capacityOpsPerSec: 60, capacityBytes: 1e12 });
    await f.addCell({ id: 'euw1-a', region: 'eu-west-1', capacityOpsPerSec: 1000, capacityBytes: 1e12 });
    for (const [partition, cell] of Object.entries(PLACEMENT)) await f.addPartition(partition, cell);
    await f.record(countsFor(Array.from({ length: HISTORY }, (_, b) => b)));
    f.setCellMetrics(
      new Map([
        [
          'use1-a',
          {
            cellId: 'use1-a',
            consumedReadUnitsPerSec: 20,
            consumedWriteUnitsPerSec: 4,
            throttledRequestsPerSec: 0,
          },
        ],
      ]),
    );
    f.setNow(T + 5_000);
    // Every due shortfall's cells (the priced scale-out is tested in predictive-scaling.test.ts).
    const profiler = new Profiler(f.deps, { ...OPTIONS, scaleOut: false });

    const started = await profiler.coordinate({ time: new Date(T + 20_000).toISOString() });
    const cycleId = cycleIdFor(T, STEP);
    expect(started).toEqual({ cycleId, shards: 1, created: true, cells: 2 });
    expect(f.recorded.shards).toEqual([{ cycleId, shard: 0, shards: 1 }]);
    // The coordinator publishes each measured cell's utilization, (20 + 4) / 60: below the pressure threshold,
    // so the burst's score below comes from its demand, not from its cell.
    expect(f.recorded.metrics).toContainEqual({
      name: METRIC.cellUtilization,
      unit: 'Percent',
      value: 40,
      dimensions: { CellId: 'use1-a' },
    });

    const result = await profiler.runShard(f.recorded.shards[0]);
    expect(result).toMatchObject({
      partitions: 5,
      series: 10,
      counted: true,
      last: true,
      plannerInvoked: true,
    });
    expect(result.onlineError.points).toBe(0);
    expect(f.recorded.planner).toEqual([{ trigger: 'schedule', cycleId }]);

    const records = await f.scores.listAll();
    expect(records.map((r) => r.partition)).toEqual(['burst', 'q1', 'q2', 'q3', 'q4']);
    const byId = new Map(records.map((r) => [r.partition, r]));
    const burst = byId.get('burst')!;
    for (const quiet of ['q1', 'q2', 'q3', 'q4'])
      expect(burst.affinity).toBeGreaterThan(10 * byId.get(quiet)!.affinity);
    expect(burst).toMatchObject({
      cell: 'use1-a',
      cycleId,
      stepSeconds: 900,
      forecastStartMs: T,
      // The quantile capacity plans on, the simulator's too.
      upperLevel: DEFAULT_PLANNING_QUANTILE,
    });
    expect(burst.mean['us-east-1']).toHaveLength(8);
    expect(burst.upper['us-east-1'].every((u, h) => u >= burst.mean['us-east-1'][h] - 1e-9)).toBe(true);
    // The last bucket before T: 1800 + 8 × 7200 requests in 900 s.
    expect(burst.observedOpsPerSec['us-east-1']).toBeCloseTo((1800 + 8 * 7200) / 900, 9);
    const vector = burst.predictionVector;
    expect(vector['us-east-1']).toBeGreaterThan(vector['eu-west-1']);
    expect(vector['us-east-1'] + vector['eu-west-1']).toBeCloseTo(1, 12);
    expect(burst.expiresAt).toBe(Math.floor((T + 5_000) / 1000) + 2 * 86_400);

    // use1-a (60 ops/s, 48 usable) carries the burst now: the shortfall is due at once, but the first cycle that
    // sees it only remembers it, in the Coordination table (one noisy forecast buys no cell: shortfall-trigger.ts).
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(result.scaleOuts).toEqual([]);
    expect(await f.deps.cycles.shortfallMemory()).toEqual({
      cycleId,
      seriesEndMs: T,
      shortRegions: ['us-east-1'],
      previousShortRegions: [],
    });
    const counted = (name: string) => f.recorded.metrics.filter((m) => m.name === name);
    expect(counted(METRIC.partitionsScored).map((m) => m.value)).toEqual([5]);
    expect(counted(METRIC.forecastMase)).toEqual([]);

    // Cycle 2, one interval later: the bucket [T, T + 15 min) has been observed.
    const previous = await f.scores.getMany(Object.keys(PLACEMENT));
    await f.record(countsFor([HISTORY]));
    f.setNow(T + STEP + 5_000);
    const second = await profiler.coordinate({ time: new Date(T + STEP).toISOString() });
    const next = await profiler.runShard(f.recorded.shards[1]);
    expect(second.cycleId).toBe(cycleIdFor(T + STEP, STEP));
    // Still due in the second cycle: confirmed, ScaleCluster starts.
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const start = calls[0].args[0].input;
    expect(start.stateMachineArn).toBe(SCALE_CLUSTER_ARN);
    expect(start.name).toBe(`predictive-us-east-1-${second.cycleId}`);
    const input = JSON.parse(start.input!);
    expect(input).toEqual({
      action: 'scale-out',
      region: 'us-east-1',
      cells: input.cells,
      reason: 'predicted-shortfall',
      source: 'profiler',
    });
    expect(Number.isInteger(input.cells) && input.cells >= 1).toBe(true);
    expect(next.scaleOuts).toEqual([{ region: 'us-east-1', cells: input.cells, started: true }]);
    expect(counted(METRIC.predictiveScaleOuts)).toEqual([
      { name: 'PredictiveScaleOuts', unit: 'Count', value: 1 },
    ]);

    // Expected online error, recomputed here from the generator and the stored previous forecasts.
    let absScaled = 0;
    let scaleWeight = 0;
    let ape = 0;
    let apeCount = 0;
    for (const [partition, record] of previous) {
      for (const region of REGIONS) {
        const history = Array.from({ length: HISTORY }, (_, b) => countOf(partition, region, b) / 900);
        let diff = 0;
        for (let b = 1; b < HISTORY; b++) diff += Math.abs(history[b] - history[b - 1]);
        const scale = diff / (HISTORY - 1);
        const actual = countOf(partition, region, HISTORY) / 900;
        const error = Math.abs(actual - record.mean[region][0]);
        if (scale > 0) {
          absScaled += error;
          scaleWeight += scale;
        }
        ape += error / actual;
        apeCount++;
      }
    }
    expect(next.onlineError.points).toBe(10);
    expect(next.onlineError.mase).toBeCloseTo(absScaled / scaleWeight, 9);
    expect(next.onlineError.mape).toBeCloseTo((100 * ape) / apeCount, 9);
    expect(counted(METRIC.forecastMase).map((m) => m.value)).toEqual([next.onlineError.mase]);
    expect(counted(METRIC.forecastMape).map((m) => m.value)).toEqual([next.onlineError.mape]);
    const rescored = await f.scores.get('burst');
    expect(rescored?.forecastStartMs).toBe(T + STEP);
    expect(rescored?.cycleId).toBe(second.cycleId);
    // Persistence level: the first cycle had no earlier forecast (the observation itself); the second compares
    // the jump with the first cycle's upper quantile for that same bucket (step 0 of the stored forecast).
    expect(burst.persistenceOpsPerSec).toEqual(burst.observedOpsPerSec);
    const [last, before] = [
      countOf('burst', 'us-east-1', HISTORY) / 900,
      countOf('burst', 'us-east-1', HISTORY - 1) / 900,
    ];
    const expected = previous.get('burst')!.upper['us-east-1'][0];
    expect(rescored?.persistenceOpsPerSec?.['us-east-1']).toBe(
      persistenceLevel(last, before, expected, DEFAULT_BURST_GROWTH),
    );
    expect(rescored?.persistenceOpsPerSec?.['eu-west-1']).toBe(1);
  });

  it('shards a cycle: each partition once, the last shard (atomic count) invokes the planner once, redeliveries are no-ops', async () => {
    const f = await profilerFixture(client, 'sharded');
    await f.addCell({ id: 'c1', region: 'us-east-1', capacityOpsPerSec: 1e6, capacityBytes: 1e12 });
    const ids = Array.from({ length: 40 }, (_, i) => `tenant-${i}`);
    const counts: AccessCount[] = [];
    for (const id of ids) {
      await f.addPartition(id, 'c1');
      for (let b = 0; b < 4; b++)
        counts.push({
          partition: id,
          region: 'us-east-1',
          bucketStartMs: T - (4 - b) * STEP,
          count: 900 * (b + 1),
        });
    }
    await f.record(counts);
    f.setCellMetrics(new Error('AccessDenied: cloudwatch:GetMetricData'));
    f.setNow(T);
    const profiler = new Profiler(f.deps, { ...OPTIONS, shards: 4 });

    const started = await profiler.coordinate({ time: new Date(T).toISOString() });
    // CloudWatch failing does not stop the cycle: it is logged, and cells carry no measured state.
    expect(f.recorded.warnings).toEqual(['cell metrics unavailable; scoring without cell pressure']);
    const cycle = await f.cycles.get(started.cycleId);
    expect(cycle?.cells).toEqual([
      { id: 'c1', region: 'us-east-1', capacityOpsPerSec: 1e6, capacityBytes: 1e12, status: 'ACTIVE' },
    ]);
    expect(f.recorded.shards.map((s) => s.shard)).toEqual([0, 1, 2, 3]);

    const results = await Promise.all(f.recorded.shards.map((event) => profiler.runShard(event)));
    expect(results.filter((r) => r.last)).toHaveLength(1);
    expect(results.reduce((n, r) => n + r.partitions, 0)).toBe(40);
    for (const r of results)
      expect(r.partitions).toBe(ids.filter((id) => profilerShardOf(id, 4) === r.shard).length);
    expect(f.recorded.planner).toEqual([{ trigger: 'schedule', cycleId: started.cycleId }]);
    const done = await f.cycles.get(started.cycleId);
    expect(done?.doneShards).toEqual([0, 1, 2, 3]);
    expect(done?.finishedAtMs).toBe(T);
    expect((await f.scores.listAll()).map((r) => r.partition).sort()).toEqual([...ids].sort());

    // A redelivered shard is not counted again and does not invoke the planner again.
    const again = await profiler.runShard({ cycleId: started.cycleId, shard: 2, shards: 4 });
    expect(again).toMatchObject({ counted: false, last: true, plannerInvoked: false });
    expect(f.recorded.planner).toHaveLength(1);

    // A redelivered schedule event is the same cycle: shards are re-invoked (they are idempotent).
    const redelivered = await profiler.coordinate({ time: new Date(T + 60_000).toISOString() });
    expect(redelivered).toMatchObject({ cycleId: started.cycleId, created: false, shards: 4 });
    expect(f.recorded.shards).toHaveLength(8);

    await expect(profiler.runShard({ cycleId: started.cycleId, shard: 1, shards: 3 })).rejects.toBeInstanceOf(
      InvalidShardError,
    );
    await expect(profiler.runShard({ cycleId: started.cycleId, shard: 4, shards: 4 })).rejects.toThrow(
      /outside \[0, 4\)/,
    );
    await expect(profiler.runShard({ cycleId: '20240305T120700Z', shard: 0, shards: 4 })).rejects.toThrow(
      /interval grid/,
    );
  });

  it('a shard started by hand opens its cycle itself', async () => {
    const f = await profilerFixture(client, 'manual');
    await f.addCell({ id: 'c1', region: 'us-east-1', capacityOpsPerSec: 100, capacityBytes: 1e12 });
    await f.addPartition('solo', 'c1');
    f.setNow(T);
    const profiler = new Profiler(f.deps, OPTIONS);
    const cycleId = cycleIdFor(T, STEP);
    const result = await profiler.runShard({ cycleId, shard: 0, shards: 1 });
    expect(result).toMatchObject({ partitions: 1, series: 0, last: true, plannerInvoked: true });
    const record = await f.scores.get('solo');
    expect(record).toMatchObject({ affinity: 0, mean: {}, upper: {}, cycleId });
  });
});
