import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessStatsRepository } from '../../../src/adapters/dynamodb/access-stats-repository.ts';
import { createDynamoClient, documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import {
  DynamoEventRepository,
  eventsTableDefinition,
} from '../../../src/adapters/dynamodb/event-repository.ts';
import { accessStatsTableDefinition, ensureTable } from '../../../src/adapters/dynamodb/table-definitions.ts';
import { awsProfilerDeps, regionalAccessStats } from '../../../src/lambda/aws-profiler-deps.ts';
import {
  CONTROL_PLANE_ENV,
  type ControlPlaneConfig,
  readControlPlaneConfig,
} from '../../../src/lambda/control-plane-env.ts';
import { type DataPlaneConfig, readDataPlaneConfig } from '../../../src/lambda/data-plane-config.ts';
import { type LocalDynamo, startDynalite } from '../../../src/local/dynalite-server.ts';

const TABLE = 'stats';
const T = Date.UTC(2024, 2, 5, 12, 0);
const REGIONS = ['us-east-1', 'eu-west-1'] as const;

const control = (dataRegions: string, extra: Record<string, string> = {}): ControlPlaneConfig =>
  readControlPlaneConfig({
    [CONTROL_PLANE_ENV.scoresTable]: 'scores',
    [CONTROL_PLANE_ENV.plansTable]: 'plans',
    [CONTROL_PLANE_ENV.coordinationTable]: 'coordination',
    [CONTROL_PLANE_ENV.dataRegions]: dataRegions,
    ...extra,
  });
const data: DataPlaneConfig = readDataPlaneConfig({
  PRESTAGE_PARTITIONS_TABLE: 'partitions',
  PRESTAGE_CELLS_TABLE: 'cells',
  PRESTAGE_ACCESS_STATS_TABLE: TABLE,
  PRESTAGE_HOME_REGION: 'us-east-1',
  AWS_REGION: 'us-east-1',
});

/**
 * The profiler's AWS wiring reads access counts where the interceptors record them: the table of the same name
 * in every data region. One dynalite per region stands in for the regions (each region's table is its own).
 */
describe('awsProfilerDeps: access counts of every data region', () => {
  const dynamos = new Map<string, LocalDynamo>();
  const clients = new Map<string, DynamoDBClient>();

  beforeAll(async () => {
    for (const region of REGIONS) {
      const dynamo = await startDynalite();
      dynamos.set(region, dynamo);
      const client = createDynamoClient({ region, endpoint: dynamo.endpoint });
      clients.set(region, client);
      await ensureTable(client, accessStatsTableDefinition(TABLE));
    }
    // A write-heavy partition: its US traffic is mostly reads, its EU traffic mostly writes.
    const record = (region: string, count: number, writes: number) =>
      new DynamoAccessStatsRepository(documentClient(clients.get(region)!), TABLE).add(
        [{ partition: 'p', region, bucketStartMs: T, count, writes }],
        [{ a: 'p', b: `q-${region}`, bucketStartMs: T, count: 2 }],
      );
    await record('us-east-1', 100, 10);
    await record('eu-west-1', 300, 270);
  });
  afterAll(async () => {
    for (const client of clients.values()) client.destroy();
    for (const dynamo of dynamos.values()) await dynamo.close();
  });

  it("merges every data region's counts, reads and writes apart, each with its region", async () => {
    const deps = awsProfilerDeps(control(REGIONS.join(',')), data, {
      documents: documentClient(clients.get('us-east-1')!),
      dynamoFor: (region) => clients.get(region)!,
    });
    const counts = await deps.accessStats.countsFor('p');
    expect(counts.map((c) => [c.region, c.count, c.writes]).sort()).toEqual([
      ['eu-west-1', 300, 270],
      ['us-east-1', 100, 10],
    ]);
    // The write fraction the profiler scores with is the measured one across regions: 280 of 400.
    const writes = counts.reduce((sum, c) => sum + (c.writes ?? 0), 0);
    const total = counts.reduce((sum, c) => sum + c.count, 0);
    expect(writes / total).toBeCloseTo(0.7, 9);
    const pairs = await deps.accessStats.coAccessFor('p');
    expect(pairs.map((c) => c.b).sort()).toEqual(['q-eu-west-1', 'q-us-east-1']);
  });

  it('reads only the listed regions: a region left out is not read', async () => {
    const onlyEu = regionalAccessStats(control('eu-west-1'), data, (region) =>
      documentClient(clients.get(region)!),
    );
    expect((await onlyEu.countsFor('p')).map((c) => c.region)).toEqual(['eu-west-1']);
  });

  it('refuses to start without data regions, naming the variable', () => {
    expect(() =>
      awsProfilerDeps(control(''), data, { documents: documentClient(clients.get('us-east-1')!) }),
    ).toThrow(
      /^configuration: environment variable PRESTAGE_DATA_REGIONS: required by the profiler, which reads the access-stats table of every data region/,
    );
  });

  it('validates PRESTAGE_DATA_REGIONS as a list of region names, each once', () => {
    expect(control(' us-east-1 , eu-west-1 ').dataRegions).toEqual(['us-east-1', 'eu-west-1']);
    expect(() => control('us-east-1,europe')).toThrow(
      /^configuration: environment variable PRESTAGE_DATA_REGIONS: expected comma-separated AWS region names/,
    );
    expect(() => control('eu-west-1,eu-west-1')).toThrow(/PRESTAGE_DATA_REGIONS: lists a region twice/);
  });

  it('reads known events from PRESTAGE_EVENTS_TABLE in the home region, and has no events source without it', async () => {
    const home = clients.get('us-east-1')!;
    await ensureTable(home, eventsTableDefinition('events'));
    const launch = { name: 'launch', region: 'eu-west-1', startMs: T, endMs: T + 3_600_000, multiplier: 3 };
    await new DynamoEventRepository(documentClient(home), 'events').putEvents([launch], { replace: true });
    const withEvents = awsProfilerDeps(
      control(REGIONS.join(','), { [CONTROL_PLANE_ENV.eventsTable]: 'events' }),
      data,
      {
        documents: documentClient(home),
        dynamoFor: (region) => clients.get(region)!,
      },
    );
    expect(await withEvents.events?.listEvents()).toEqual({ events: [launch], rejected: [] });
    const without = awsProfilerDeps(control(REGIONS.join(',')), data, { documents: documentClient(home) });
    expect(without.events).toBeUndefined();
  });

  it('validates PRESTAGE_FORECAST_EVENT_FEATURE as true or false (default false)', () => {
    expect(control('us-east-1').forecastEventFeature).toBe(false);
    expect(
      control('us-east-1', { [CONTROL_PLANE_ENV.forecastEventFeature]: 'true' }).forecastEventFeature,
    ).toBe(true);
    expect(() => control('us-east-1', { [CONTROL_PLANE_ENV.forecastEventFeature]: 'yes' })).toThrow(
      /^configuration: environment variable PRESTAGE_FORECAST_EVENT_FEATURE: expected 'true' or 'false'/,
    );
  });
});
