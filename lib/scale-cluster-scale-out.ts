import { Duration } from 'aws-cdk-lib';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  JsonPath,
  Map as MapState,
  Pass,
  Succeed,
  type TaskStateBase,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { cellDataTableDefinition, TTL_ATTRIBUTE } from '../src/adapters/dynamodb/table-definitions.ts';
import { METRIC_ALARM_FIELDS } from '../src/scaling/cell-alarm-definitions.ts';
import type { ScaleClusterBranchContext } from './scale-cluster-branch-context.ts';
import { dynamoErrors } from './scale-cluster-states.ts';
import { DEFAULTS } from './scale-cluster-workflow-props.ts';

/**
 * The scale-out branch of ScaleClusterWorkflow: register the new cells, provision each one's table and alarms in
 * its region, activate them, then plan and run the moves that fill them.
 */

/** A cell table as CreateTable takes it, but for its name (each cell's own, from the request). */
const { TableName: _placeholder, ...CELL_TABLE_SHAPE } = cellDataTableDefinition('placeholder');

/**
 * RegisterCells → ProvisionTables → MarkCellsActive → PlanScaleOut → RunScaleOutPlan (skipped for an empty
 * plan) → CompleteScaleOut.
 */
export function buildScaleOut(context: ScaleClusterBranchContext): IChainable {
  const { scope, failurePath, lambdaTasks } = context;
  const provisionTables = buildProvisionTables(context);
  const completeOut = failurePath
    .guard(lambdaTasks.step('CompleteScaleOut', 'CompleteScaling', '$.summary'), 'complete')
    .next(new Succeed(scope, 'ScaledOut'));
  // Cells turn ACTIVE before the plan runs: MigratePartition only moves into ACTIVE cells. The planner still
  // plans them as PROVISIONING (the request names them), so they are filled first.
  const runOut = failurePath.guard(lambdaTasks.runPlan('RunScaleOutPlan'), 'run-plan').next(completeOut);
  return failurePath
    .guard(lambdaTasks.step('RegisterCells', 'RegisterCells', JsonPath.DISCARD), 'register')
    .next(failurePath.guard(provisionTables, 'provision'))
    .next(failurePath.guard(lambdaTasks.setStatus('MarkCellsActive', 'ACTIVE'), 'activate'))
    .next(failurePath.guard(lambdaTasks.plan('PlanScaleOut', 'scale-out', 1), 'plan'))
    .next(
      new Choice(scope, 'ScaleOutHasMoves?')
        .when(Condition.numberGreaterThan('$.plan.moveCount', 0), runOut)
        .otherwise(completeOut),
    );
}

/** A Map over the new cells, each provisioned by the chain of its region (at most 5 at once). */
function buildProvisionTables(context: ScaleClusterBranchContext): MapState {
  const { scope, regions } = context;
  const tableReady = new Succeed(scope, 'TableReady');
  const cellRegion = new Choice(scope, 'CellRegion?');
  for (const region of regions)
    cellRegion.when(Condition.stringEquals('$.region', region), provisionChain(context, region, tableReady));
  cellRegion.otherwise(
    new Fail(scope, 'UnknownCellRegion', {
      error: 'UnknownRegionError',
      cause: `the cell's region is none of ${regions.join(', ')}`,
    }),
  );
  const provisionTables = new MapState(scope, 'ProvisionTables', {
    itemsPath: '$.request.cells',
    itemSelector: {
      cellId: JsonPath.stringAt('$$.Map.Item.Value.cellId'),
      region: JsonPath.stringAt('$$.Map.Item.Value.region'),
      table: JsonPath.stringAt('$$.Map.Item.Value.table'),
      alarms: JsonPath.objectAt('$$.Map.Item.Value.alarms'),
      waits: { value: 0 },
    },
    maxConcurrency: 5,
    resultPath: JsonPath.DISCARD,
  });
  provisionTables.itemProcessor(cellRegion);
  return provisionTables;
}

/**
 * One cell in `region`: CreateTable, DescribeTable until it and its indexes are ACTIVE (TableCreationTimeout
 * after maxTableWaits), point-in-time recovery, TTL, then the cell's two alarms.
 */
function provisionChain(
  context: ScaleClusterBranchContext,
  region: string,
  tableReady: Succeed,
): TaskStateBase {
  const { scope, props, cellSdkCalls } = context;
  const where = ` ${region}`;
  const maxTableWaits = props.maxTableWaits ?? DEFAULTS.maxTableWaits;
  const waitTable = new Wait(scope, `TableWait${where}`, {
    time: WaitTime.duration(props.tableWait ?? DEFAULTS.tableWait),
  });
  const create = cellSdkCalls.call(
    `CreateTable${where}`,
    region,
    'createTable',
    {
      ...CELL_TABLE_SHAPE,
      TableName: JsonPath.stringAt('$.table'),
      SSESpecification: {
        Enabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: props.cellKeyAlias ?? DEFAULTS.cellKeyAlias,
      },
    },
    { resources: [cellSdkCalls.tableArn(region)], kms: true },
  );
  // A retried or re-run CreateTable finds its table: go on and wait for it.
  create.addCatch(waitTable, {
    errors: dynamoErrors('ResourceInUseException'),
    resultPath: JsonPath.DISCARD,
  });
  const describe = cellSdkCalls.call(
    `DescribeTable${where}`,
    region,
    'describeTable',
    { TableName: JsonPath.stringAt('$.table') },
    {
      resources: [cellSdkCalls.tableArn(region)],
      resultSelector: {
        status: JsonPath.stringAt('$.Table.TableStatus'),
        indexes: JsonPath.listAt('$.Table.GlobalSecondaryIndexes[*].IndexStatus'),
      },
      resultPath: '$.describe',
    },
  );
  const countWait = new Pass(scope, `CountTableWait${where}`, {
    parameters: { value: JsonPath.mathAdd(JsonPath.numberAt('$.waits.value'), 1) },
    resultPath: '$.waits',
  });
  const enablePitr = cellSdkCalls
    .call(
      `EnablePointInTimeRecovery${where}`,
      region,
      'updateContinuousBackups',
      {
        TableName: JsonPath.stringAt('$.table'),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
      { resources: [cellSdkCalls.tableArn(region)] },
    )
    .addRetry({
      // PITR cannot be enabled for a few moments after the table is created.
      errors: dynamoErrors('ContinuousBackupsUnavailableException'),
      interval: Duration.seconds(10),
      backoffRate: 1.5,
      maxAttempts: 10,
    });
  const enableTtl = cellSdkCalls.call(
    `EnableTimeToLive${where}`,
    region,
    'updateTimeToLive',
    {
      TableName: JsonPath.stringAt('$.table'),
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    },
    { resources: [cellSdkCalls.tableArn(region)] },
  );
  const active = Condition.and(
    Condition.stringEquals('$.describe.status', 'ACTIVE'),
    ...(CELL_TABLE_SHAPE.GlobalSecondaryIndexes ?? []).map((_, i) =>
      Condition.stringEquals(`$.describe.indexes[${i}]`, 'ACTIVE'),
    ),
  );
  create.next(waitTable);
  waitTable.next(describe);
  describe.next(
    new Choice(scope, `TableActive?${where}`)
      .when(
        active,
        enablePitr
          .next(enableTtl)
          .next(putCellAlarm(context, region, 'capacity'))
          .next(putCellAlarm(context, region, 'canary'))
          .next(tableReady),
      )
      .when(
        Condition.numberGreaterThanEquals('$.waits.value', maxTableWaits),
        new Fail(scope, `TableCreationTimeout${where}`, {
          error: 'TableCreationTimeoutError',
          cause: `the cell table did not become ACTIVE after ${maxTableWaits} checks`,
        }),
      )
      .otherwise(countWait.next(waitTable)),
  );
  return create;
}

/**
 * PutMetricAlarm for one of the new cell's alarms (its definition from ParseRequest, the data stack's own),
 * before the cell is ACTIVE. PutMetricAlarm overwrites: a retried or re-run step is harmless.
 */
function putCellAlarm(
  context: ScaleClusterBranchContext,
  region: string,
  kind: 'capacity' | 'canary',
): TaskStateBase {
  const { props, cellSdkCalls } = context;
  const prefix = kind === 'capacity' ? props.capacityAlarmPrefix : props.canaryAlarmPrefix;
  return cellSdkCalls.call(
    `Put${kind === 'capacity' ? 'Capacity' : 'Canary'}Alarm ${region}`,
    region,
    'putMetricAlarm',
    Object.fromEntries(METRIC_ALARM_FIELDS.map((f) => [f, JsonPath.stringAt(`$.alarms.${kind}.${f}`)])),
    {
      service: 'cloudwatch',
      iamAction: 'cloudwatch:PutMetricAlarm',
      resources: [cellSdkCalls.alarmArn(region, prefix)],
    },
  );
}
