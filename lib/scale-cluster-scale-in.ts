import { Duration } from 'aws-cdk-lib';
import {
  Choice,
  Condition,
  type IChainable,
  JsonPath,
  Pass,
  Result,
  Succeed,
  type TaskStateBase,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { ScaleClusterBranchContext } from './scale-cluster-branch-context.ts';
import { dynamoErrors, sdkErrors } from './scale-cluster-states.ts';
import { DEFAULTS } from './scale-cluster-workflow-props.ts';

/**
 * The scale-in branch of ScaleClusterWorkflow: drain the cell in planned rounds, back up and delete its table,
 * delete its alarms, and retire it.
 */

/**
 * MarkDraining → rounds of PlanScaleIn → RunScaleInPlan → VerifyDrained until drained → by region: backup,
 * DeleteTable, DeleteAlarms → MarkRetired → CompleteScaleIn.
 */
export function buildScaleIn(context: ScaleClusterBranchContext): IChainable {
  const { scope, regions, failurePath, lambdaTasks } = context;
  const completeIn = failurePath
    .guard(lambdaTasks.step('CompleteScaleIn', 'CompleteScaling', '$.summary'), 'complete')
    .next(new Succeed(scope, 'ScaledIn'));
  const markRetired = failurePath
    .guard(lambdaTasks.setStatus('MarkRetired', 'RETIRED'), 'retire')
    .next(completeIn);
  const backupRegion = new Choice(scope, 'BackupRegion?');
  for (const region of regions)
    backupRegion.when(
      Condition.stringEquals('$.request.region', region),
      retireTableChain(context, region, markRetired),
    );
  backupRegion.otherwise(
    failurePath.raise(
      'UnknownBackupRegion',
      'backup',
      'UnknownRegionError',
      `the cell's region is none of ${regions.join(', ')}`,
    ),
  );

  const verifyDrained = failurePath.guard(
    lambdaTasks.step('VerifyDrained', 'VerifyDrained', '$.drain'),
    'verify',
  );
  const planIn = failurePath.guard(
    lambdaTasks.plan('PlanScaleIn', 'scale-in', JsonPath.numberAt('$.drain.round')),
    'plan',
  );
  const runIn = failurePath.guard(lambdaTasks.runPlan('RunScaleInPlan'), 'run-plan').next(verifyDrained);
  planIn.next(
    new Choice(scope, 'ScaleInHasMoves?')
      .when(Condition.numberGreaterThan('$.plan.moveCount', 0), runIn)
      .otherwise(verifyDrained),
  );
  verifyDrained.next(
    new Choice(scope, 'Drained?')
      .when(Condition.booleanEquals('$.drain.drained', true), backupRegion)
      .otherwise(planIn),
  );
  return failurePath
    .guard(lambdaTasks.setStatus('MarkDraining', 'DRAINING'), 'drain-mark')
    .next(new Pass(scope, 'StartDrain', { result: Result.fromObject({ round: 1 }), resultPath: '$.drain' }))
    .next(planIn);
}

/**
 * The drained cell's table in `region`: CreateBackup, DescribeBackup until AVAILABLE (the table is kept if the
 * backup is deleted or does not become AVAILABLE in maxBackupWaits checks), DeleteTable, then DeleteAlarms.
 */
function retireTableChain(
  context: ScaleClusterBranchContext,
  region: string,
  markRetired: IChainable,
): TaskStateBase {
  const { scope, props, failurePath, cellSdkCalls } = context;
  const where = ` ${region}`;
  const maxBackupWaits = props.maxBackupWaits ?? DEFAULTS.maxBackupWaits;
  const createBackup = failurePath.guard(
    cellSdkCalls
      .call(
        `CreateBackup${where}`,
        region,
        'createBackup',
        {
          TableName: JsonPath.stringAt('$.request.table'),
          BackupName: JsonPath.stringAt('$.request.backupName'),
        },
        {
          resources: [cellSdkCalls.tableArn(region)],
          resultSelector: {
            arn: JsonPath.stringAt('$.BackupDetails.BackupArn'),
            status: JsonPath.stringAt('$.BackupDetails.BackupStatus'),
            waits: 0,
          },
          resultPath: '$.backup',
        },
      )
      .addRetry({
        errors: dynamoErrors('TableInUseException', 'BackupInUseException'),
        interval: Duration.seconds(10),
        backoffRate: 2,
        maxAttempts: 6,
      }),
    'backup',
  );
  const backupWait = new Wait(scope, `BackupWait${where}`, {
    time: WaitTime.duration(props.backupWait ?? DEFAULTS.backupWait),
  });
  const describeBackup = failurePath.guard(
    cellSdkCalls.call(
      `DescribeBackup${where}`,
      region,
      'describeBackup',
      { BackupArn: JsonPath.stringAt('$.backup.arn') },
      {
        resources: [cellSdkCalls.backupArn(region)],
        resultSelector: { status: JsonPath.stringAt('$.BackupDescription.BackupDetails.BackupStatus') },
        resultPath: '$.describedBackup',
      },
    ),
    'backup',
  );
  const countBackupWait = new Pass(scope, `CountBackupWait${where}`, {
    parameters: {
      arn: JsonPath.stringAt('$.backup.arn'),
      waits: JsonPath.mathAdd(JsonPath.numberAt('$.backup.waits'), 1),
    },
    resultPath: '$.backup',
  });
  const deleteAlarms = deleteCellAlarms(context, region, markRetired);
  // Deleted already (a re-run after the table went): nothing left to delete but the alarms.
  const deleteTable = failurePath.guard(
    cellSdkCalls
      .call(
        `DeleteTable${where}`,
        region,
        'deleteTable',
        { TableName: JsonPath.stringAt('$.request.table') },
        { resources: [cellSdkCalls.tableArn(region)] },
      )
      .addCatch(deleteAlarms, {
        errors: dynamoErrors('ResourceNotFoundException'),
        resultPath: JsonPath.DISCARD,
      }),
    'delete',
  );
  createBackup.next(backupWait).next(describeBackup);
  describeBackup.next(
    new Choice(scope, `BackupAvailable?${where}`)
      .when(Condition.stringEquals('$.describedBackup.status', 'AVAILABLE'), deleteTable.next(deleteAlarms))
      .when(
        Condition.stringEquals('$.describedBackup.status', 'DELETED'),
        failurePath.raise(
          `BackupDeleted${where}`,
          'backup',
          'BackupFailedError',
          'the backup was deleted before it became AVAILABLE; the table is kept',
        ),
      )
      .when(
        Condition.numberGreaterThanEquals('$.backup.waits', maxBackupWaits),
        failurePath.raise(
          `BackupTimedOut${where}`,
          'backup',
          'BackupTimeoutError',
          `the backup was not AVAILABLE after ${maxBackupWaits} checks; the table is kept`,
        ),
      )
      .otherwise(countBackupWait.next(backupWait)),
  );
  return createBackup;
}

/**
 * DeleteAlarms for the retired cell's two alarms, after its table. Already gone (a re-run, or a cell that
 * never had them): nothing left to delete; CloudWatch still deletes the names that exist. (The specific catch
 * goes before the stage's States.ALL catch.)
 */
function deleteCellAlarms(
  context: ScaleClusterBranchContext,
  region: string,
  markRetired: IChainable,
): TaskStateBase {
  const { props, failurePath, cellSdkCalls } = context;
  const deleteAlarms = failurePath.guard(
    cellSdkCalls
      .call(
        `DeleteAlarms ${region}`,
        region,
        'deleteAlarms',
        { AlarmNames: JsonPath.listAt('$.request.alarmNames') },
        {
          service: 'cloudwatch',
          iamAction: 'cloudwatch:DeleteAlarms',
          resources: [
            cellSdkCalls.alarmArn(region, props.capacityAlarmPrefix),
            cellSdkCalls.alarmArn(region, props.canaryAlarmPrefix),
          ],
        },
      )
      .addCatch(markRetired, {
        errors: sdkErrors('cloudwatch', 'ResourceNotFound', 'ResourceNotFoundException'),
        resultPath: JsonPath.DISCARD,
      }),
    'delete-alarms',
  );
  deleteAlarms.next(markRetired);
  return deleteAlarms;
}
