import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccessStatsRepository } from '../../../src/adapters/dynamodb/access-stats-repository.ts';
import { DynamoCellRepository } from '../../../src/adapters/dynamodb/cell-repository.ts';
import { createDynamoClient, documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../../../src/adapters/dynamodb/partition-repository.ts';
import { DynamoScoreRepository } from '../../../src/adapters/dynamodb/score-repository.ts';
import {
  accessStatsTableDefinition,
  cellsTableDefinition,
  coordinationTableDefinition,
  ensureTable,
  idempotencyTableDefinition,
  partitionsTableDefinition,
  scoresTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import { newPartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import { CONTROL_PLANE_ENV } from '../../../src/lambda/control-plane-env.ts';
import { DATA_PLANE_ENV } from '../../../src/lambda/data-plane-config.ts';
import { type LocalDynamo, startDynalite } from '../../../src/local/dynalite-server.ts';

const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const cloudwatch = mockClient(CloudWatchClient);

const T = Date.UTC(2024, 2, 5, 12, 0);
const PROFILER = 'prestage-profiler';
const PLANNER = 'prestage-planner';

function payloads(functionName: string): unknown[] {
  return lambda
    .commandCalls(InvokeCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.FunctionName === functionName)
    .map((input) => {
      expect(input.InvocationType).toBe('Event');
      return JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array));
    });
}

const context = (id: string) => ({
  functionName: PROFILER,
  awsRequestId: id,
  getRemainingTimeInMillis: () => 300_000,
});

/** functions/profiler/handler.ts loaded as Lambda loads it, on dynalite; Lambda, Step Functions and CloudWatch mocked. */
describe('profiler Lambda entry', () => {
  let dynamo: LocalDynamo;
  const saved = { ...process.env };

  beforeAll(async () => {
    dynamo = await startDynalite();
    const client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    await ensureTable(client, partitionsTableDefinition('p-partitions'));
    await ensureTable(client, cellsTableDefinition('p-cells'));
    await ensureTable(client, accessStatsTableDefinition('p-stats'));
    await ensureTable(client, scoresTableDefinition('p-scores'));
    await ensureTable(client, coordinationTableDefinition('p-coordination'));
    await ensureTable(client, idempotencyTableDefinition('p-idempotency'));
    const documents = documentClient(client);
    await new DynamoCellRepository(documents, 'p-cells').register({
      id: 'use1-a',
      region: 'us-east-1',
      table: 'data-use1-a',
      capacityOpsPerSec: 1000,
      capacityBytes: 1e12,
      status: 'ACTIVE',
      version: 1,
    });
    const partitions = new DynamoPartitionRepository(documents, 'p-partitions');
    const stats = new DynamoAccessStatsRepository(documents, 'p-stats');
    for (let i = 0; i < 12; i++) {
      await partitions.createIfAbsent(newPartitionRecord(`t${i}`, 'use1-a', 1, 0));
      await stats.add(
        Array.from({ length: 6 }, (_, b) => ({
          partition: `t${i}`,
          region: 'us-east-1',
          bucketStartMs: T - (6 - b) * 300_000,
          count: 300 * (i + 1),
        })),
        [],
      );
    }
    client.destroy();
    Object.assign(process.env, {
      [DATA_PLANE_ENV.partitionsTable]: 'p-partitions',
      [DATA_PLANE_ENV.cellsTable]: 'p-cells',
      [DATA_PLANE_ENV.accessStatsTable]: 'p-stats',
      [DATA_PLANE_ENV.homeRegion]: 'us-east-1',
      [CONTROL_PLANE_ENV.scoresTable]: 'p-scores',
      [CONTROL_PLANE_ENV.plansTable]: 'p-plans',
      [CONTROL_PLANE_ENV.coordinationTable]: 'p-coordination',
      [CONTROL_PLANE_ENV.idempotencyTable]: 'p-idempotency',
      [CONTROL_PLANE_ENV.profilerFunction]: PROFILER,
      [CONTROL_PLANE_ENV.plannerFunction]: PLANNER,
      [CONTROL_PLANE_ENV.scaleClusterArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:ScaleCluster',
      [CONTROL_PLANE_ENV.profilerShards]: '2',
      [CONTROL_PLANE_ENV.intervalSeconds]: '300',
      // The regions whose access-stats tables the profiler reads (here the one dynalite).
      [CONTROL_PLANE_ENV.dataRegions]: 'us-east-1',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  });
  afterAll(async () => {
    process.env = saved;
    lambda.restore();
    sfn.restore();
    cloudwatch.restore();
    await dynamo.close();
  });

  it('coordinates a scheduled cycle into async shard invocations; the last shard invokes the planner once', async () => {
    const { handler } = await import('../../../functions/profiler/handler.ts');
    const scheduled = {
      version: '0',
      id: 'e1',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date(T).toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/profiler'],
      detail: {},
    };
    const cycleId = '20240305T120000Z';
    expect(await handler(scheduled, context('c1'))).toMatchObject({ cycleId, shards: 2, created: true });
    const shards = payloads(PROFILER);
    expect(shards).toEqual([
      { cycleId, shard: 0, shards: 2 },
      { cycleId, shard: 1, shards: 2 },
    ]);
    // The coordinator read each cell's CloudWatch metrics (13 queries for the one cell).
    expect(cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries).toHaveLength(13);

    const first = (await handler(shards[0], context('s0'))) as { partitions: number; last: boolean };
    const second = (await handler(shards[1], context('s1'))) as { partitions: number; last: boolean };
    expect(first.partitions + second.partitions).toBe(12);
    expect([first.last, second.last]).toEqual([false, true]);
    expect(payloads(PLANNER)).toEqual([{ trigger: 'schedule', cycleId }]);

    // Redelivered shard event: the idempotency record answers, nothing runs again.
    const invokesBefore = lambda.commandCalls(InvokeCommand).length;
    expect(await handler(shards[0], context('s0-again'))).toEqual(first);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(invokesBefore);

    const documents = documentClient(createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint }));
    const scores = await new DynamoScoreRepository(documents, 'p-scores').listAll();
    expect(scores).toHaveLength(12);
    expect(scores.every((s) => s.cycleId === cycleId && s.stepSeconds === 300)).toBe(true);
    // A partition with more requests has the larger observed demand (t11 = 12× t0).
    const t0 = scores.find((s) => s.partition === 't0')!;
    const t11 = scores.find((s) => s.partition === 't11')!;
    expect(t11.observedOpsPerSec['us-east-1']).toBeCloseTo(12 * t0.observedOpsPerSec['us-east-1'], 9);
  });

  it('rejects a malformed shard event, naming the field', async () => {
    const { handler } = await import('../../../functions/profiler/handler.ts');
    await expect(
      handler({ cycleId: '20240305T120000Z', shard: -1, shards: 2 }, context('bad')),
    ).rejects.toThrow(/event field 'shard'/);
    await expect(handler({ time: 'yesterday' }, context('bad2'))).rejects.toThrow(/event field 'time'/);
  });
});
