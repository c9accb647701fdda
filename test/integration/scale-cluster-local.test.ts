import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  type AttributeValue,
  DescribeTableCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoCellDataStores } from '../../src/adapters/dynamodb/cell-data-store.ts';
import type { CellDirectory } from '../../src/adapters/dynamodb/cell-directory.ts';
import { DynamoPlanRepository } from '../../src/adapters/dynamodb/plan-repository.ts';
import { DynamoScalingCoordination } from '../../src/adapters/dynamodb/scaling-coordination.ts';
import { DynamoScoreRepository } from '../../src/adapters/dynamodb/score-repository.ts';
import type { RoutingClient } from '../../src/data-plane/routing-client.ts';
import { newPartitionRecord } from '../../src/domain/data-plane/partition-record.ts';
import type { EmbeddedCluster } from '../../src/local/embedded-cluster.ts';
import {
  type ExecutePlanLocalDeps,
  localExecutePlanDeps,
  runExecutePlanLocally,
  synthesizeExecutePlanAsl,
} from '../../src/local/execute-plan-runner.ts';
import type { LocalMigrationRunner } from '../../src/local/local-migration-runner.ts';
import { ScaleClusterRunner } from '../../src/local/scale-cluster-runner.ts';
import { type SdkCall, SdkIntegrationBindings } from '../../src/local/sdk-integration-bindings.ts';
import { createPlannerHandler } from '../../src/planner-service/planner-handler.ts';
import { type CellAlarmSettings, cellAlarmDefinitions } from '../../src/scaling/cell-alarm-definitions.ts';
import type { ScaleClusterDeps } from '../../src/scaling/scale-cluster-steps.ts';
import { newCellIds } from '../../src/scaling/scaling-request.ts';
import { startScalingCluster } from '../support/scaling-cluster.ts';
import { clientOn } from '../support/test-cluster.ts';
import { CONTROL_TABLES, flatScore } from '../unit/planner-service/planner-fixtures.ts';

const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errors: unknown[];
};

const HOME = 'us-east-1';
const EU = 'eu-west-1';
const TABLE_PREFIX = 'prestage-data-';
const ALARM_PREFIX = 'prestage-cell-capacity-';
const CANARY_PREFIX = 'prestage-cell-errors-';
const ALARMS: CellAlarmSettings = {
  capacityAlarmPrefix: ALARM_PREFIX,
  canaryAlarmPrefix: CANARY_PREFIX,
  capacityAlarmThreshold: 0.8,
};
const STEP_SECONDS = 3600;
const HORIZON = 24;
const ITEMS_PER_PARTITION = 20;

/** A CloudWatch Alarm State Change event as EventBridge delivers it for a cell capacity alarm. */
function alarmEvent(cellId: string) {
  const now = new Date().toISOString();
  const alarmName = `${ALARM_PREFIX}${cellId}`;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: now,
    region: HOME,
    resources: [`arn:aws:cloudwatch:${HOME}:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value: 'ALARM',
        reason:
          'Threshold Crossed: 3 out of the last 3 datapoints [97.2 (01/01/25 10:10:00), 95.1 (01/01/25 10:05:00), 92.4 (01/01/25 10:00:00)] were greater than the threshold (80.0) (minimum 3 datapoints for OK -> ALARM transition).',
        reasonData: '{"version":"1.0","queryDate":"2025-01-01T10:15:00.000+0000","threshold":80.0}',
        timestamp: now,
      },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: now },
      configuration: {
        description: `capacity of cell ${cellId}`,
        metrics: [
          {
            id: 'utilization',
            metricStat: {
              metric: { namespace: 'Prestage', name: 'CellUtilization', dimensions: { CellId: cellId } },
              period: 300,
              stat: 'Average',
            },
            returnData: true,
          },
        ],
      },
    },
  };
}

type Item = Record<string, AttributeValue>;

const alarmsOf = (cellId: string, table: string, capacityOpsPerSec: number) =>
  cellAlarmDefinitions({ cellId, table, capacityOpsPerSec }, ALARMS);

async function scanAll(cluster: EmbeddedCluster, region: string, table: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await cluster
      .clientFor(region)
      .send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const key = (i: Item) => `${i.pk?.S}\u0000${i.sk?.S}`;
  return items.sort((a, b) => key(a).localeCompare(key(b)));
}

describe('ScaleCluster, synthesized from its construct and run locally against dynalite', () => {
  let cluster: EmbeddedCluster;
  let home: DynamoDBDocumentClient;
  let directory: CellDirectory;
  let stores: DynamoCellDataStores;
  let writer: RoutingClient;
  let sdk: SdkIntegrationBindings;
  let runner: ScaleClusterRunner;
  let coordination: DynamoScalingCoordination;
  let plans: DynamoPlanRepository;
  let beforeSdkCall: ((call: SdkCall) => Promise<void>) | undefined;
  /** The eu-west-1 cell the concurrent scale-outs added (scaled in again at the end). */
  let euCell: string | undefined;
  /** Every item written, per partition: key → JSON of the value. */
  const written = new Map<string, Map<string, string>>();

  const reader = async () => {
    await directory.refreshIfStale();
    return clientOn(cluster, { stores });
  };
  const expectReadable = async (partition: string) => {
    const client = await reader();
    for (const [key, json] of written.get(partition) ?? []) {
      expect((await client.get(partition, key)).json).toBe(json);
    }
  };

  beforeAll(async () => {
    let migrations: LocalMigrationRunner;
    ({ cluster, home, directory, stores, migrations } = await startScalingCluster([HOME, EU], 2));
    plans = new DynamoPlanRepository(home, CONTROL_TABLES.plans);
    const executePlan: ExecutePlanLocalDeps = localExecutePlanDeps({
      documents: home,
      plansTable: CONTROL_TABLES.plans,
      coordinationTable: CONTROL_TABLES.coordination,
      migrations,
      maxConcurrentMovesPerCell: 2,
      settings: { canarySteps: [1] },
    });
    const executePlanAsl = synthesizeExecutePlanAsl();
    const planner = createPlannerHandler(
      {
        scores: new DynamoScoreRepository(home, CONTROL_TABLES.scores),
        partitions: cluster.partitions,
        cells: cluster.cells,
        plans,
        now: Date.now,
      },
      {
        stepSeconds: STEP_SECONDS,
        horizonSteps: HORIZON,
        homeRegion: HOME,
        dataRegions: [HOME, EU],
        maxConcurrentMovesPerCell: 2,
        maxBytesPerCycle: 1e12,
        planTtlDays: 1,
        approvalMode: 'auto',
      },
    );
    coordination = new DynamoScalingCoordination(home, CONTROL_TABLES.coordination);
    const deps: ScaleClusterDeps = {
      cells: cluster.cells,
      partitions: cluster.partitions,
      coordination,
      config: {
        homeRegion: HOME,
        dataRegions: [HOME, EU],
        cellTablePrefix: TABLE_PREFIX,
        capacityAlarmPrefix: ALARM_PREFIX,
        canaryAlarmPrefix: CANARY_PREFIX,
        capacityAlarmThreshold: ALARMS.capacityAlarmThreshold,
        cooldownMinutes: 30,
      },
      now: Date.now,
    };
    sdk = new SdkIntegrationBindings({
      clientFor: (region) => cluster.clientFor(region),
      beforeCall: async (call) => beforeSdkCall?.(call),
    });
    runner = new ScaleClusterRunner({
      deps,
      planner,
      sdk,
      runChild: (input, name) =>
        runExecutePlanLocally({
          deps: executePlan,
          planId: (input as { planId: string }).planId,
          input,
          executionName: name,
          asl: executePlanAsl,
        }),
      homeRegion: HOME,
      dataRegions: [HOME, EU],
      cellTablePrefix: TABLE_PREFIX,
      capacityAlarmPrefix: ALARM_PREFIX,
      canaryAlarmPrefix: CANARY_PREFIX,
      waitOverrideMs: 5,
    });
    // The configured cells' alarms, as their cell data stack creates them.
    for (const cell of await cluster.cells.list()) {
      const alarms = alarmsOf(cell.id, cell.table, cell.capacityOpsPerSec);
      sdk.alarms.put(cell.region, alarms.capacity);
      sdk.alarms.put(cell.region, alarms.canary);
    }

    // Load: four hot partitions (25 ops/s each, from us-east-1) on each us-east-1 cell of 100 ops/s, and two
    // quiet ones on each eu-west-1 cell.
    writer = await reader();
    const nowMs = Date.now();
    const scores = [];
    const layout = [
      ...[1, 2].flatMap((c) =>
        [0, 1, 2, 3].map((i) => ({ id: `east-${c}-${i}`, cell: `${HOME}-c${c}`, ops: { [HOME]: 25 } })),
      ),
      ...[1, 2].flatMap((c) =>
        [0, 1].map((i) => ({ id: `eu-${c}-${i}`, cell: `${EU}-c${c}`, ops: { [EU]: 5 } })),
      ),
    ];
    for (const { id, cell, ops } of layout) {
      await cluster.partitions.createIfAbsent(newPartitionRecord(id, cell, 4, nowMs));
      const values = new Map<string, string>();
      for (let i = 0; i < ITEMS_PER_PARTITION; i++) {
        const value = { partition: id, i, text: `value ${i}`.repeat(1 + (i % 3)) };
        await writer.put(id, `key-${i}`, value);
        values.set(`key-${i}`, JSON.stringify(value));
      }
      written.set(id, values);
      scores.push(
        flatScore(id, cell, ops, { nowMs, steps: HORIZON, stepSeconds: STEP_SECONDS, sizeBytes: 50_000 }),
      );
    }
    await new DynamoScoreRepository(home, CONTROL_TABLES.scores).putAll(scores);
  }, 120_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('the synthesized definition passes asl-validator', () => {
    const result = aslValidator(runner.asl as never);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('rejects a bad input with InvalidInputError and touches nothing', async () => {
    const cellsBefore = await cluster.cells.list();
    const bad = await runner.run({ action: 'scale-out', region: HOME, cells: 0 }, 'bad-input');
    expect(bad.status).toBe('FAILED');
    expect(bad.error?.name).toBe('InvalidInputError');
    expect(bad.error?.cause).toMatch(/cells/);
    const unknown = await runner.run({ action: 'scale-in', cellId: 'no-such-cell' }, 'bad-cell');
    expect(unknown.error).toMatchObject({ name: 'InvalidInputError' });
    expect(unknown.error?.cause).toMatch(/unknown cell 'no-such-cell'/);
    expect(await cluster.cells.list()).toEqual(cellsBefore);
  });

  it('scales out from a CloudWatch alarm: a new ACTIVE cell with its table, hot partitions moved onto it', async () => {
    const hotBefore = new Map((await cluster.partitions.list()).map((p) => [p.partition, p.cell]));
    const run = await runner.run(alarmEvent(`${HOME}-c1`), 'alarm-1');
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const [cellId] = newCellIds(HOME, 'alarm-1', 1);
    const table = `${TABLE_PREFIX}${cellId}`;
    expect(await cluster.cells.get(cellId)).toMatchObject({
      status: 'ACTIVE',
      region: HOME,
      table,
      capacityOpsPerSec: 100,
    });
    const { Table } = await cluster.clientFor(HOME).send(new DescribeTableCommand({ TableName: table }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['changes']);
    expect(sdk.settingsOf(HOME, table)).toEqual({
      sse: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: 'alias/prestage-cell-data' },
      pointInTimeRecovery: true,
      timeToLiveAttribute: 'expiresAt',
    });
    // Its two alarms, exactly as a configured cell's: capacity at 80% of its 100 ops/s, and the canary alarm.
    const alarms = alarmsOf(cellId, table, 100);
    expect(sdk.alarms.get(HOME, `${ALARM_PREFIX}${cellId}`)).toEqual(alarms.capacity);
    expect(sdk.alarms.get(HOME, `${ALARM_PREFIX}${cellId}`)?.Threshold).toBe(80);
    expect(sdk.alarms.get(HOME, `${CANARY_PREFIX}${cellId}`)).toEqual(alarms.canary);
    // Put before the cell turned ACTIVE (the canary check reads the alarm from the first move on).
    const at = (state: string) => run.calls.findIndex((c) => c.state === state);
    expect(at(`PutCapacityAlarm ${HOME}`)).toBeGreaterThan(at(`EnableTimeToLive ${HOME}`));
    expect(at(`PutCanaryAlarm ${HOME}`)).toBeGreaterThan(at(`PutCapacityAlarm ${HOME}`));
    expect(at('MarkCellsActive')).toBeGreaterThan(at(`PutCanaryAlarm ${HOME}`));

    const plan = run.calls.find((c) => c.state === 'PlanScaleOut')?.output as {
      planId: string;
      moveCount: number;
    };
    expect(plan.moveCount).toBeGreaterThan(0);
    expect(await plans.getHeader(plan.planId)).toMatchObject({ status: 'SUCCEEDED', trigger: 'scaling' });
    const moved = (await cluster.partitions.list()).filter((p) => p.cell === cellId);
    expect(moved.length).toBe(plan.moveCount);
    for (const p of moved) {
      expect(hotBefore.get(p.partition)).toMatch(/^us-east-1-c[12]$/);
      expect(p.routing.phase).toBe('stable');
      expect(p.fence).toBeUndefined();
      await expectReadable(p.partition);
    }
    // The data sits in the new table itself.
    const inTable = await scanAll(cluster, HOME, table);
    expect(new Set(inTable.map((i) => i.pk.S?.split('#')[0]))).toEqual(
      new Set(moved.map((p) => p.partition)),
    );

    expect(await coordination.cooldownUntil(HOME, Date.now())).toBeGreaterThan(Date.now() + 25 * 60_000);
    expect(await coordination.currentLock(HOME)).toBeUndefined();
  });

  it('a second alarm during the cooldown does not scale', async () => {
    const cellsBefore = await cluster.cells.list();
    const run = await runner.run(alarmEvent(`${HOME}-c2`), 'alarm-2');
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ guard: { acquired: false, reason: 'cooldown' } });
    expect(run.calls.map((c) => c.state)).toEqual(['ParseRequest', 'AcquireLock']);
    expect(await cluster.cells.list()).toEqual(cellsBefore);
  });

  it('two concurrent scale-outs of one region: one scales, the other fails with ScalingInProgressError', async () => {
    // Hold the first CreateTable a moment, so both executions are surely running at once.
    beforeSdkCall = async (call) => {
      if (call.action === 'createTable') await new Promise((resolve) => setTimeout(resolve, 200));
    };
    const runs = await Promise.all(
      ['manual-eu-1', 'manual-eu-2'].map((name) =>
        runner.run({ action: 'scale-out', region: EU, cells: 1 }, name),
      ),
    );
    beforeSdkCall = undefined;
    const winner = runs.find((r) => r.status === 'SUCCEEDED');
    const loser = runs.find((r) => r.status === 'FAILED');
    expect(winner?.error).toBeUndefined();
    expect(loser?.error?.name).toBe('ScalingInProgressError');
    expect(loser?.calls.map((c) => c.state)).toEqual(['ParseRequest', 'AcquireLock']);
    const [winnerCell] = newCellIds(EU, winner!.executionName, 1);
    const [loserCell] = newCellIds(EU, loser!.executionName, 1);
    expect(await cluster.cells.get(winnerCell)).toMatchObject({ status: 'ACTIVE', region: EU });
    expect(await cluster.cells.get(loserCell)).toBeUndefined();
    // The eu-west-1 table and alarms went through the cross-region integration.
    expect(sdk.calls.filter((c) => c.region === EU && c.action === 'createTable')).toEqual([
      expect.objectContaining({ style: 'cross-region' }),
    ]);
    expect(sdk.calls.filter((c) => c.region === EU && c.action === 'putMetricAlarm')).toEqual([
      expect.objectContaining({ style: 'cross-region', service: 'cloudwatch' }),
      expect.objectContaining({ style: 'cross-region', service: 'cloudwatch' }),
    ]);
    const winnerRecord = await cluster.cells.get(winnerCell);
    const alarms = alarmsOf(winnerCell, winnerRecord!.table, winnerRecord!.capacityOpsPerSec);
    expect(sdk.alarms.get(EU, alarms.capacity.AlarmName)).toEqual(alarms.capacity);
    expect(sdk.alarms.get(EU, alarms.canary.AlarmName)).toEqual(alarms.canary);
    expect(sdk.alarms.names(EU).filter((n) => n.endsWith(loserCell))).toEqual([]);
    expect(sdk.alarms.names(HOME).filter((n) => n.endsWith(winnerCell))).toEqual([]);
    euCell = winnerCell;
    expect(await coordination.currentLock(EU)).toBeUndefined();
  });

  it('a scale-out that fails creating its table retires the new cell, releases the lock and keeps the error name', async () => {
    beforeSdkCall = async (call) => {
      if (call.action === 'createTable') {
        const error = new Error('One or more parameter values were invalid');
        error.name = 'DynamoDb.ValidationException';
        throw error;
      }
    };
    const run = await runner.run({ action: 'scale-out', region: EU, cells: 1, force: true }, 'doomed');
    beforeSdkCall = undefined;
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ name: 'DynamoDb.ValidationException' });
    const states = run.calls.map((c) => c.state);
    expect(states.slice(-1)).toEqual(['AbortScaling']);
    expect(run.calls.at(-1)?.output).toMatchObject({ failedStage: 'provision', lockReleased: true });
    const [cellId] = newCellIds(EU, 'doomed', 1);
    expect(await cluster.cells.get(cellId)).toMatchObject({ status: 'RETIRED' });
    expect(sdk.alarms.names(EU).filter((n) => n.endsWith(cellId))).toEqual([]);
    expect(await coordination.currentLock(EU)).toBeUndefined();
  });

  it('scales in with a backup: drained, backed up before deletion, RETIRED, and the backup restores', async () => {
    const cellId = `${HOME}-c2`;
    const table = `prestage-data-${cellId}`;
    const onCell = (await cluster.partitions.list()).filter((p) => p.cell === cellId).map((p) => p.partition);
    expect(onCell.length).toBeGreaterThan(0);
    const alarmNames = [`${ALARM_PREFIX}${cellId}`, `${CANARY_PREFIX}${cellId}`];
    const alarmsBefore = sdk.alarms.names(HOME);
    expect(alarmsBefore).toEqual(expect.arrayContaining(alarmNames));
    // Leftovers no partition record points at (e.g. a stale copy): the backup is what keeps them.
    for (let i = 0; i < 30; i++) {
      await cluster.clientFor(HOME).send(
        new PutItemCommand({
          TableName: table,
          Item: {
            pk: { S: `stale-copy#${i % 4}` },
            sk: { S: `k-${i}` },
            hlc: { S: '0001' },
            v: { N: String(i) },
          },
        }),
      );
    }
    let atBackup: Item[] = [];
    beforeSdkCall = async (call) => {
      if (call.action === 'createBackup') atBackup = await scanAll(cluster, HOME, table);
    };
    const run = await runner.run({ action: 'scale-in', cellId, force: true, reason: 'test' }, 'scale-in-1');
    beforeSdkCall = undefined;
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');

    expect(await cluster.cells.get(cellId)).toMatchObject({ status: 'RETIRED' });
    await expect(
      cluster.clientFor(HOME).send(new DescribeTableCommand({ TableName: table })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const after = await cluster.partitions.list();
    expect(after.filter((p) => p.cell === cellId || p.routing.peer === cellId)).toEqual([]);
    for (const partition of onCell) await expectReadable(partition);

    // The backup was AVAILABLE before DeleteTable ran.
    const states = run.calls.map((c) => c.state);
    const deleteAt = states.indexOf(`DeleteTable ${HOME}`);
    const available = run.calls.findIndex(
      (c) => c.state === `DescribeBackup ${HOME}` && JSON.stringify(c.output).includes('"AVAILABLE"'),
    );
    expect(available).toBeGreaterThan(-1);
    expect(deleteAt).toBeGreaterThan(available);
    // Its two alarms went after the table, and only they did.
    expect(states.indexOf(`DeleteAlarms ${HOME}`)).toBeGreaterThan(deleteAt);
    expect(sdk.alarms.names(HOME)).toEqual(alarmsBefore.filter((n) => !alarmNames.includes(n)));

    const created = run.calls.find((c) => c.state === `CreateBackup ${HOME}`)?.output as
      | { BackupDetails: { BackupArn: string } }
      | undefined;
    const backupArn = String(created?.BackupDetails.BackupArn);
    const backup = sdk.backupFor(HOME);
    expect(await backup.describe(backupArn)).toMatchObject({
      status: 'AVAILABLE',
      itemCount: atBackup.length,
    });
    expect(atBackup.filter((i) => i.pk.S?.startsWith('stale-copy#'))).toHaveLength(30);
    await backup.restore(backupArn, 'restored-cell');
    expect(await scanAll(cluster, HOME, 'restored-cell')).toEqual(atBackup);
    expect(await coordination.currentLock(HOME)).toBeUndefined();
  });

  it('scales in a cell a scale-out created: its table and both of its alarms go (cross-region)', async () => {
    expect(euCell).toBeDefined();
    const cellId = euCell!;
    const alarmNames = [`${ALARM_PREFIX}${cellId}`, `${CANARY_PREFIX}${cellId}`];
    expect(sdk.alarms.names(EU)).toEqual(expect.arrayContaining(alarmNames));
    const others = sdk.alarms.names(EU).filter((n) => !alarmNames.includes(n));
    const run = await runner.run({ action: 'scale-in', cellId, force: true }, 'scale-in-eu');
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const retired = await cluster.cells.get(cellId);
    expect(retired).toMatchObject({ status: 'RETIRED' });
    await expect(
      cluster.clientFor(EU).send(new DescribeTableCommand({ TableName: retired!.table })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(sdk.alarms.names(EU)).toEqual(others);
    const deleted = sdk.calls.filter((c) => c.action === 'deleteAlarms' && c.region === EU);
    expect(deleted).toEqual([
      expect.objectContaining({
        style: 'cross-region',
        service: 'cloudwatch',
        parameters: { AlarmNames: alarmNames },
      }),
    ]);
    expect(await coordination.currentLock(EU)).toBeUndefined();
  });
});
