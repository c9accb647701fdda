import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCellRepository } from '../../../src/adapters/dynamodb/cell-repository.ts';
import { createDynamoClient, documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../../../src/adapters/dynamodb/partition-repository.ts';
import { DynamoPlanRepository } from '../../../src/adapters/dynamodb/plan-repository.ts';
import { DynamoScoreRepository } from '../../../src/adapters/dynamodb/score-repository.ts';
import {
  accessStatsTableDefinition,
  cellsTableDefinition,
  ensureTable,
  partitionsTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import { newPartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import { CONTROL_PLANE_ENV } from '../../../src/lambda/control-plane-env.ts';
import { DATA_PLANE_ENV } from '../../../src/lambda/data-plane-config.ts';
import { type LocalDynamo, startDynalite } from '../../../src/local/dynalite-server.ts';
import { CONTROL_TABLES, createControlTables, flatScore } from '../planner-service/planner-fixtures.ts';

const EXECUTE_PLAN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ExecutePlan';

/** What Lambda passes as the context (Powertools idempotency reads the remaining time). */
const lambdaContext = (awsRequestId: string) => ({
  awsRequestId,
  functionName: 'planner',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:planner',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 60_000,
});

/** functions/planner/handler.ts loaded as Lambda loads it (module scope reads the environment), on dynalite. */
describe('planner Lambda entry', () => {
  let dynamo: LocalDynamo;
  let plans: DynamoPlanRepository;
  const saved = { ...process.env };
  const sfnMock = mockClient(SFNClient);
  let handler: (event: unknown, context?: unknown) => Promise<unknown>;

  beforeAll(async () => {
    dynamo = await startDynalite();
    const client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    await createControlTables(client);
    await ensureTable(client, partitionsTableDefinition('fn-partitions'));
    await ensureTable(client, cellsTableDefinition('fn-cells'));
    await ensureTable(client, accessStatsTableDefinition('fn-stats'));
    const documents = documentClient(client);
    const cells = new DynamoCellRepository(documents, 'fn-cells');
    for (const [id, region] of [
      ['use1-a', 'us-east-1'],
      ['euw1-a', 'eu-west-1'],
      ['use1-new', 'us-east-1'],
    ]) {
      await cells.register({
        id,
        region,
        table: `t-${id}`,
        capacityOpsPerSec: 100,
        capacityBytes: 1e9,
        status: 'ACTIVE',
        version: 1,
      });
    }
    const partitions = new DynamoPartitionRepository(documents, 'fn-partitions');
    const nowMs = Date.now();
    await partitions.createIfAbsent(newPartitionRecord('p-eu', 'use1-a', 4, nowMs - 86_400_000));
    await new DynamoScoreRepository(documents, CONTROL_TABLES.scores).putAll([
      flatScore('p-eu', 'use1-a', { 'eu-west-1': 20 }, { nowMs, steps: 8, stepSeconds: 900, sizeBytes: 1e6 }),
    ]);
    plans = new DynamoPlanRepository(documents, CONTROL_TABLES.plans);
    client.destroy();
    Object.assign(process.env, {
      [CONTROL_PLANE_ENV.scoresTable]: CONTROL_TABLES.scores,
      [CONTROL_PLANE_ENV.plansTable]: CONTROL_TABLES.plans,
      [CONTROL_PLANE_ENV.coordinationTable]: CONTROL_TABLES.coordination,
      [CONTROL_PLANE_ENV.idempotencyTable]: CONTROL_TABLES.idempotency,
      [CONTROL_PLANE_ENV.executePlanArn]: EXECUTE_PLAN,
      [CONTROL_PLANE_ENV.dataRegions]: 'us-east-1,eu-west-1',
      [DATA_PLANE_ENV.partitionsTable]: 'fn-partitions',
      [DATA_PLANE_ENV.cellsTable]: 'fn-cells',
      [DATA_PLANE_ENV.accessStatsTable]: 'fn-stats',
      [DATA_PLANE_ENV.homeRegion]: 'us-east-1',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: `${EXECUTE_PLAN}:x`, startDate: new Date() });
    ({ handler } = await import('../../../functions/planner/handler.ts'));
  }, 60_000);
  afterAll(async () => {
    sfnMock.restore();
    process.env = saved;
    await dynamo.close();
  });

  it('rejects an event that is neither trigger, naming the field', async () => {
    await expect(handler({ trigger: 'scaling', action: 'grow', cellIds: ['x'] })).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringMatching(/Planner: event field 'action'/),
    });
    await expect(handler({ trigger: 'schedule', cycleId: 'c', extra: 1 })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
  });

  it('a schedule event writes the cycle plan and starts ExecutePlan once, however often it is delivered', async () => {
    const first = await handler({ trigger: 'schedule', cycleId: '2025-01-01T00:00Z' }, lambdaContext('r1'));
    expect(first).toMatchObject({ trigger: 'schedule', moveCount: 1, started: true });
    const planId = (first as { planId: string }).planId;
    expect(planId).toMatch(/^cycle-2025-01-01T00-00Z-[0-9a-f]{8}$/);
    expect(await plans.allMoves(planId)).toEqual([
      expect.objectContaining({ partition: 'p-eu', from: 'use1-a', to: 'euw1-a' }),
    ]);
    const again = await handler({ trigger: 'schedule', cycleId: '2025-01-01T00:00Z' }, lambdaContext('r2'));
    expect(again).toEqual(first);
    expect(sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([planId]);
  });

  it('a scaling event returns the plan id and move count and starts nothing', async () => {
    const before = sfnMock.commandCalls(StartExecutionCommand).length;
    const result = await handler({
      trigger: 'scaling',
      action: 'scale-in',
      region: 'us-east-1',
      cellIds: ['use1-a'],
      requestId: 'exec-1',
    });
    expect(result).toEqual({ planId: 'scale-in-exec-1-r1', moveCount: 1 });
    expect(await plans.getHeader('scale-in-exec-1-r1')).toMatchObject({
      trigger: 'scaling',
      approval: false,
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(before);
  });
});
