import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedForecastModel } from '../../../src/domain/forecasting/embedded-forecaster.ts';
import type {
  ForecastModel,
  ForecastRequest,
  KnownEvent,
} from '../../../src/domain/forecasting/forecast-model.ts';
import type { KnownEventSource } from '../../../src/domain/forecasting/known-event-store.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { Profiler } from '../../../src/profiler/profiler.ts';
import { localDynamo } from '../../support/local-tables.ts';
import { profilerFixture } from './profiler-harness.ts';

const STEP = 15 * 60_000;
const HORIZON = 8;
const T = Date.UTC(2024, 2, 5, 12, 0);
const US = 'us-east-1';
const EU = 'eu-west-1';

/** The embedded model, recording every request it is asked. */
function recordingModel(): ForecastModel & { requests: ForecastRequest[] } {
  const inner = new EmbeddedForecastModel();
  const requests: ForecastRequest[] = [];
  return {
    name: inner.name,
    requests,
    forecast: async (batch) => {
      requests.push(...batch);
      return inner.forecast(batch);
    },
  };
}

const source = (
  events: KnownEvent[],
  rejected: { name: string; problem: string }[] = [],
): KnownEventSource => ({
  listEvents: async () => ({ events, rejected }),
});

describe('the profiler passes known events to the model', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
  });
  afterAll(async () => dynamo?.close());

  /** Two partitions with a day of demand from both regions; one cycle with these events. */
  async function runCycle(prefix: string, events: KnownEventSource | undefined) {
    const f = await profilerFixture(client, prefix);
    await f.addCell({ id: 'use1-a', region: US, capacityOpsPerSec: 1000, capacityBytes: 1e12 });
    for (const id of ['orders-fr', 'orders-ny']) await f.addPartition(id, 'use1-a');
    const counts = [];
    for (let b = 1; b <= 96; b++)
      for (const partition of ['orders-fr', 'orders-ny'])
        for (const region of [US, EU])
          counts.push({ partition, region, bucketStartMs: T - b * STEP, count: region === US ? 900 : 300 });
    await f.record(counts);
    const model = recordingModel();
    f.setNow(T + 5_000);
    const profiler = new Profiler(
      { ...f.deps, model, ...(events && { events }) },
      {
        intervalSeconds: 900,
        horizonSteps: HORIZON,
        shards: 1,
        scaleOutBufferMinutes: 30,
        accessBucketMs: STEP,
      },
    );
    await profiler.coordinate({ time: new Date(T + 20_000).toISOString() });
    const result = await profiler.runShard(f.recorded.shards[0]);
    const byItem = new Map(model.requests.map((r) => [r.itemId, r]));
    return { f, result, byItem };
  }

  const launch: KnownEvent = {
    name: 'eu-launch',
    region: EU,
    startMs: T + 3 * STEP,
    endMs: T + 6 * STEP,
    multiplier: 4,
  };
  const frSale: KnownEvent = {
    name: 'fr-sale',
    region: '*',
    partition: 'orders-fr',
    startMs: T + STEP,
    endMs: T + 2 * STEP,
    multiplier: 2,
  };
  const nextWeek: KnownEvent = {
    name: 'next-week',
    region: EU,
    startMs: T + 7 * 86_400_000,
    endMs: T + 8 * 86_400_000,
    multiplier: 3,
  };
  const lastYear: KnownEvent = {
    name: 'last-year',
    region: '*',
    startMs: T - 365 * 86_400_000,
    endMs: T - 364 * 86_400_000,
    multiplier: 3,
  };

  it("gives each series its region's and its partition's events within history and horizon, and scales the forecast", async () => {
    const { result, byItem, f } = await runCycle('ev', source([lastYear, frSale, launch, nextWeek]));
    expect(byItem.get(`orders-fr#${EU}`)?.events).toEqual([frSale, launch]);
    expect(byItem.get(`orders-fr#${US}`)?.events).toEqual([frSale]);
    expect(byItem.get(`orders-ny#${EU}`)?.events).toEqual([launch]);
    expect(byItem.get(`orders-ny#${US}`)?.events).toBeUndefined();
    expect(result.events).toEqual(['eu-launch', 'fr-sale']);
    // The event's steps (3 to 5 after the cycle) are forecast about four times the steps before it.
    const ny = (await f.scores.getMany(['orders-ny'])).get('orders-ny')!;
    const eu = ny.mean[EU];
    expect(eu[4] / eu[1]).toBeGreaterThan(3);
    expect(ny.mean[US][4] / ny.mean[US][1]).toBeLessThan(1.5);
    expect(f.recorded.warnings).toEqual([]);
  });

  it('forecasts without events when none are configured, or when the events cannot be read (with a warning)', async () => {
    const none = await runCycle('ev-none', undefined);
    expect([...none.byItem.values()].every((r) => r.events === undefined)).toBe(true);
    expect(none.result.events).toEqual([]);
    const failing = await runCycle('ev-fail', {
      listEvents: async () => {
        throw Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
      },
    });
    expect([...failing.byItem.values()].every((r) => r.events === undefined)).toBe(true);
    expect(failing.f.recorded.warnings).toEqual(['known events unavailable; forecasting without them']);
  });

  it('leaves out stored items that are not valid events, with a warning, and uses the rest', async () => {
    const { byItem, f } = await runCycle(
      'ev-bad',
      source([launch], [{ name: 'typo', problem: "field 'multiplier': expected a number > 0" }]),
    );
    expect(byItem.get(`orders-ny#${EU}`)?.events).toEqual([launch]);
    expect(f.recorded.warnings).toEqual(['known events left out: not valid events']);
  });
});
