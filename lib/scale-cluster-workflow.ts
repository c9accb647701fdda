import { Aws, Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  Fail,
  IntegrationPattern,
  type IStateMachine,
  JsonPath,
  Map as MapState,
  Pass,
  Result,
  type RetryProps,
  type StateMachine,
  Succeed,
  TaskInput,
  type TaskStateBase,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import {
  CallAwsService,
  CallAwsServiceCrossRegion,
  LambdaInvoke,
  StepFunctionsStartExecution,
} from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { cellDataTableDefinition, TTL_ATTRIBUTE } from '../src/adapters/dynamodb/table-definitions.ts';
import { METRIC_ALARM_FIELDS } from '../src/scaling/cell-alarm-definitions.ts';
import {
  SCALE_CLUSTER_TASK_NAMES,
  SCALE_CLUSTER_TASKS,
  type ScaleClusterTaskName,
  type ScalingStage,
} from '../src/scaling/scale-cluster-tasks.ts';
import { observedStateMachine, requireSteps } from './observed-state-machine.ts';

/** Entry file of each ScaleCluster step Lambda, relative to the repository root. */
export const SCALE_CLUSTER_STEP_ENTRIES: Readonly<Record<ScaleClusterTaskName, string>> = Object.fromEntries(
  SCALE_CLUSTER_TASK_NAMES.map((name) => [
    name,
    `functions/scale-cluster/${SCALE_CLUSTER_TASKS[name].entry}.ts`,
  ]),
) as Record<ScaleClusterTaskName, string>;

/** The planner's entry file (it serves `{trigger:'scaling',…}` for ScaleCluster). */
export const PLANNER_ENTRY = 'functions/planner/handler.ts';

export type ScaleClusterStepFunctions = Readonly<Record<ScaleClusterTaskName, IFunction>>;

export interface ScaleClusterWorkflowProps {
  /** The step handlers, one per step name (SetCellStatus serves three Task states). */
  readonly steps: ScaleClusterStepFunctions;
  /** The planner Lambda, invoked synchronously with `{trigger:'scaling', action, region, cellIds}`. */
  readonly planner: IFunction;
  /** ExecutePlan, run with `startExecution.sync:2` and `{planId, approval:false}`. */
  readonly executePlan: IStateMachine;
  /** Region of the control plane (and of this state machine): its cell tables use the direct SDK integration. */
  readonly homeRegion: string;
  /** Regions with cell tables; those other than the home region go through CallAwsServiceCrossRegion. */
  readonly dataRegions: readonly string[];
  /** A cell's table is `<cellTablePrefix><cellId>`; IAM is scoped to this prefix. */
  readonly cellTablePrefix: string;
  /**
   * A cell's capacity alarm is `<capacityAlarmPrefix><cellId>`: scale-out creates it for each new cell (the
   * definition comes with the request, from ParseRequest), scale-in deletes it; IAM is scoped to this prefix.
   */
  readonly capacityAlarmPrefix: string;
  /** A cell's canary alarm is `<canaryAlarmPrefix><cellId>`; created and deleted like the capacity alarm. */
  readonly canaryAlarmPrefix: string;
  /**
   * KMS key alias for the SSE of new cell tables; the data stack of every region must define it.
   * @default 'alias/prestage-cell-data'
   */
  readonly cellKeyAlias?: string;
  /**
   * Where execution logs go (level ALL, with execution data).
   * @default a new log group retained for one month
   */
  readonly logGroup?: ILogGroup;
  /** @default a generated name */
  readonly stateMachineName?: string;
  /** Time limit of one execution (a large plan runs inside it). @default Duration.hours(24) */
  readonly timeout?: Duration;
  /** Pause between DescribeTable calls while a new table is created. @default Duration.seconds(10) */
  readonly tableWait?: Duration;
  /** DescribeTable calls before TableCreationTimeoutError. @default 90 */
  readonly maxTableWaits?: number;
  /** Pause between DescribeBackup calls. @default Duration.seconds(30) */
  readonly backupWait?: Duration;
  /** DescribeBackup calls before BackupTimeoutError. @default 240 */
  readonly maxBackupWaits?: number;
  /** Time limit of one step Lambda invocation. @default Duration.minutes(2) */
  readonly stepTimeout?: Duration;
  /** Time limit of one planner invocation. @default Duration.minutes(6) */
  readonly plannerTimeout?: Duration;
  /** @default true */
  readonly tracingEnabled?: boolean;
}

const DEFAULT_CELL_KEY_ALIAS = 'alias/prestage-cell-data';

/** Errors a step Lambda may throw that a retry fixes. */
const STEP_RETRY: RetryProps = {
  errors: [
    'StorageThrottledError',
    'ThrottlingException',
    'ProvisionedThroughputExceededException',
    'RequestLimitExceeded',
    'Lambda.TooManyRequestsException',
  ],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 6,
  maxDelay: Duration.seconds(30),
};
const TIMEOUT_RETRY: RetryProps = {
  errors: ['States.Timeout'],
  interval: Duration.seconds(2),
  maxAttempts: 2,
};

type SdkService = 'dynamodb' | 'cloudwatch';

/** How Step Functions prefixes a service's errors in the direct SDK integration. */
const SDK_ERROR_PREFIX: Record<SdkService, string> = { dynamodb: 'DynamoDb', cloudwatch: 'CloudWatch' };

/** An SDK error by both of its names: `DynamoDb.X` (direct integration) and `X` (the cross-region Lambda). */
const sdkErrors = (service: SdkService, ...names: string[]) =>
  names.flatMap((n) => [`${SDK_ERROR_PREFIX[service]}.${n}`, n]);
const dynamoErrors = (...names: string[]) => sdkErrors('dynamodb', ...names);

const SDK_RETRY: Record<SdkService, RetryProps> = {
  dynamodb: {
    errors: dynamoErrors(
      'LimitExceededException',
      'ThrottlingException',
      'InternalServerError',
      'RequestLimitExceeded',
    ),
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.minutes(1),
  },
  cloudwatch: {
    errors: sdkErrors(
      'cloudwatch',
      'Throttling',
      'ThrottlingException',
      'InternalServiceFault',
      'InternalServiceException',
    ),
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.seconds(30),
  },
};

/**
 * ScaleCluster: add cells to a region (scale-out) or remove one (scale-in), safely and one region at a time.
 *
 * Prepare → ParseRequest (InvalidInputError) → AcquireLock (cooldown → Succeed "SkippedCooldown"; lock held →
 * Fail ScalingInProgressError) → by action:
 * - scale-out: RegisterCells (PROVISIONING) → ProvisionTables (Map over the cells: Choice on region →
 *   CreateTable, Wait/DescribeTable until ACTIVE, UpdateContinuousBackups (PITR), UpdateTimeToLive, then
 *   PutMetricAlarm for the cell's capacity and canary alarms, the data stack's definitions) →
 *   MarkCellsActive (MigratePartition moves only into ACTIVE cells) → planner (`{trigger:'scaling',
 *   action:'scale-out'}` → `{planId, moveCount}`; it plans the new cells as PROVISIONING, so they fill first) →
 *   ExecutePlan (`startExecution.sync:2`, skipped for an empty plan) → CompleteScaling (cooldown, lock
 *   released) → ScaledOut;
 * - scale-in: MarkDraining → rounds of planner (drain by predicted demand) → ExecutePlan → VerifyDrained
 *   (DrainIncompleteError after the last round) → Choice on region → CreateBackup, Wait/DescribeBackup until
 *   AVAILABLE → DeleteTable → DeleteAlarms (the cell's two alarms) → MarkRetired → CompleteScaling → ScaledIn.
 * Every failure after the lock passes a Pass that names the stage, then AbortScaling (cell statuses made
 * consistent, lock released), then a Fail that keeps the error's name.
 *
 * Input: a `CloudWatch Alarm State Change` event, `{"action":"scale-out","region","cells"}` or
 * `{"action":"scale-in","cellId"}` (see src/scaling/scaling-request.ts and docs/scaling.md).
 */
export class ScaleClusterWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: ScaleClusterWorkflowProps) {
    super(scope, id);
    requireSteps('ScaleClusterWorkflow', SCALE_CLUSTER_TASK_NAMES, props.steps);
    if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(props.homeRegion))
      throw new Error(`ScaleClusterWorkflow: homeRegion '${props.homeRegion}' is not an AWS region name`);
    for (const region of props.dataRegions) {
      if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region))
        throw new Error(`ScaleClusterWorkflow: dataRegions has '${region}', which is not an AWS region name`);
    }
    if (!/^[A-Za-z0-9_.-]{1,200}$/.test(props.cellTablePrefix))
      throw new Error(
        `ScaleClusterWorkflow: cellTablePrefix '${props.cellTablePrefix}' must be 1–200 of [A-Za-z0-9_.-] (it starts DynamoDB table names)`,
      );
    for (const [name, prefix] of [
      ['capacityAlarmPrefix', props.capacityAlarmPrefix],
      ['canaryAlarmPrefix', props.canaryAlarmPrefix],
    ] as const) {
      if (!/^[A-Za-z0-9_.:/-]{1,200}$/.test(prefix))
        throw new Error(
          `ScaleClusterWorkflow: ${name} '${prefix}' must be 1–200 of [A-Za-z0-9_.:/-] (it starts alarm names, and IAM is scoped to it)`,
        );
    }
    if (
      props.capacityAlarmPrefix.startsWith(props.canaryAlarmPrefix) ||
      props.canaryAlarmPrefix.startsWith(props.capacityAlarmPrefix)
    )
      throw new Error(
        `ScaleClusterWorkflow: capacityAlarmPrefix '${props.capacityAlarmPrefix}' and canaryAlarmPrefix '${props.canaryAlarmPrefix}' must not be prefixes of each other (capacity alarms start ScaleCluster by prefix)`,
      );
    const maxTableWaits = props.maxTableWaits ?? 90;
    const maxBackupWaits = props.maxBackupWaits ?? 240;
    if (
      !(
        Number.isInteger(maxTableWaits) &&
        maxTableWaits >= 1 &&
        Number.isInteger(maxBackupWaits) &&
        maxBackupWaits >= 1
      )
    )
      throw new Error('ScaleClusterWorkflow: maxTableWaits and maxBackupWaits must be integers >= 1');
    const regions = [props.homeRegion, ...props.dataRegions.filter((r) => r !== props.homeRegion)];
    const keyAlias = props.cellKeyAlias ?? DEFAULT_CELL_KEY_ALIAS;
    const stepTimeout = Timeout.duration(props.stepTimeout ?? Duration.minutes(2));

    // ---- failure path: stage → AbortScaling → Fail with the original error name -------------------------
    const failed = new Fail(this, 'ScalingFailed', {
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    const abort = new LambdaInvoke(this, 'AbortScaling', {
      lambdaFunction: props.steps.AbortScaling,
      payloadResponseOnly: true,
      resultPath: '$.abort',
      taskTimeout: stepTimeout,
    })
      .addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 5 })
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.abortError' });
    abort.next(failed);
    const stagePasses = new Map<ScalingStage, Pass>();
    const failedAt = (stage: ScalingStage) => {
      let pass = stagePasses.get(stage);
      if (!pass) {
        pass = new Pass(this, `Failed:${stage}`, {
          result: Result.fromString(stage),
          resultPath: '$.failedStage',
        });
        pass.next(abort);
        stagePasses.set(stage, pass);
      }
      return pass;
    };
    /** A Choice branch that fails with a named error (routed like a caught one). */
    const raise = (id: string, stage: ScalingStage, error: string, cause: string) =>
      new Pass(this, id, {
        result: Result.fromObject({ Error: error, Cause: cause }),
        resultPath: '$.error',
      }).next(failedAt(stage));
    const guarded = <T extends TaskStateBase | MapState>(state: T, stage: ScalingStage): T => {
      state.addCatch(failedAt(stage), { errors: ['States.ALL'], resultPath: '$.error' });
      return state;
    };

    // ---- Lambda steps --------------------------------------------------------------------------------------
    const step = (stateId: string, name: ScaleClusterTaskName, resultPath: string, payload?: TaskInput) =>
      new LambdaInvoke(this, stateId, {
        lambdaFunction: props.steps[name],
        payloadResponseOnly: true,
        resultPath,
        taskTimeout: stepTimeout,
        ...(payload ? { payload } : {}),
      })
        .addRetry(STEP_RETRY)
        .addRetry(TIMEOUT_RETRY);
    const setStatus = (stateId: string, status: string) =>
      step(
        stateId,
        'SetCellStatus',
        JsonPath.DISCARD,
        TaskInput.fromObject({ cellIds: JsonPath.listAt('$.request.cellIds'), status }),
      );
    const plannerCall = (stateId: string, action: 'scale-out' | 'scale-in', round: unknown) =>
      new LambdaInvoke(this, stateId, {
        lambdaFunction: props.planner,
        payloadResponseOnly: true,
        resultPath: '$.plan',
        taskTimeout: Timeout.duration(props.plannerTimeout ?? Duration.minutes(6)),
        payload: TaskInput.fromObject({
          trigger: 'scaling',
          action,
          region: JsonPath.stringAt('$.request.region'),
          cellIds: JsonPath.listAt('$.request.cellIds'),
          requestId: JsonPath.stringAt('$.execution.name'),
          round,
        }),
      })
        .addRetry(STEP_RETRY)
        .addRetry(TIMEOUT_RETRY);
    const runPlan = (stateId: string) =>
      new StepFunctionsStartExecution(this, stateId, {
        stateMachine: props.executePlan,
        integrationPattern: IntegrationPattern.RUN_JOB,
        name: JsonPath.stringAt('$.plan.planId'),
        input: TaskInput.fromObject({ planId: JsonPath.stringAt('$.plan.planId'), approval: false }),
        resultSelector: { status: JsonPath.stringAt('$.Status'), output: JsonPath.objectAt('$.Output') },
        resultPath: '$.run',
      }).addRetry({
        errors: ['StepFunctions.ExecutionLimitExceededException', 'StepFunctions.SdkClientException'],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 5,
      });

    // ---- SDK calls on cell tables, per region --------------------------------------------------------------
    const account = Aws.ACCOUNT_ID;
    const partition = Aws.PARTITION;
    const tableArn = (region: string) =>
      `arn:${partition}:dynamodb:${region}:${account}:table/${props.cellTablePrefix}*`;
    // What CreateTable with a customer-managed key asks of the caller (no wildcard action).
    const kmsStatement = (region: string) =>
      new PolicyStatement({
        actions: ['kms:DescribeKey', 'kms:CreateGrant', 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [`arn:${partition}:kms:${region}:${account}:key/*`],
        conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': keyAlias } },
      });
    const alarmArn = (region: string, prefix: string) =>
      `arn:${partition}:cloudwatch:${region}:${account}:alarm:${prefix}*`;
    const sdkCall = (
      stateId: string,
      region: string,
      action: string,
      parameters: Record<string, unknown>,
      options: {
        resources: string[];
        service?: SdkService;
        /** The IAM action, when it is not `<service>:<action>` as written. */
        iamAction?: string;
        kms?: boolean;
        resultSelector?: Record<string, unknown>;
        resultPath?: string;
      },
    ): TaskStateBase => {
      const service = options.service ?? 'dynamodb';
      const common = {
        service,
        action,
        parameters,
        iamResources: options.resources,
        ...(options.iamAction ? { iamAction: options.iamAction } : {}),
        additionalIamStatements: options.kms ? [kmsStatement(region)] : [],
        resultPath: options.resultPath ?? JsonPath.DISCARD,
        ...(options.resultSelector ? { resultSelector: options.resultSelector } : {}),
      };
      const task =
        region === props.homeRegion
          ? new CallAwsService(this, stateId, common)
          : new CallAwsServiceCrossRegion(this, stateId, { ...common, region });
      return task.addRetry(SDK_RETRY[service]);
    };

    const { TableName: _placeholder, ...tableShape } = cellDataTableDefinition('placeholder');
    const tableReady = new Succeed(this, 'TableReady');
    const provisionChain = (region: string) => {
      const where = ` ${region}`;
      const waitTable = new Wait(this, `TableWait${where}`, {
        time: WaitTime.duration(props.tableWait ?? Duration.seconds(10)),
      });
      const create = sdkCall(
        `CreateTable${where}`,
        region,
        'createTable',
        {
          ...tableShape,
          TableName: JsonPath.stringAt('$.table'),
          SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: keyAlias },
        },
        { resources: [tableArn(region)], kms: true },
      );
      // A retried or re-run CreateTable finds its table: go on and wait for it.
      create.addCatch(waitTable, {
        errors: dynamoErrors('ResourceInUseException'),
        resultPath: JsonPath.DISCARD,
      });
      const describe = sdkCall(
        `DescribeTable${where}`,
        region,
        'describeTable',
        { TableName: JsonPath.stringAt('$.table') },
        {
          resources: [tableArn(region)],
          resultSelector: {
            status: JsonPath.stringAt('$.Table.TableStatus'),
            indexes: JsonPath.listAt('$.Table.GlobalSecondaryIndexes[*].IndexStatus'),
          },
          resultPath: '$.describe',
        },
      );
      const countWait = new Pass(this, `CountTableWait${where}`, {
        parameters: { value: JsonPath.mathAdd(JsonPath.numberAt('$.waits.value'), 1) },
        resultPath: '$.waits',
      });
      const enablePitr = sdkCall(
        `EnablePointInTimeRecovery${where}`,
        region,
        'updateContinuousBackups',
        {
          TableName: JsonPath.stringAt('$.table'),
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
        { resources: [tableArn(region)] },
      ).addRetry({
        // PITR cannot be enabled for a few moments after the table is created.
        errors: dynamoErrors('ContinuousBackupsUnavailableException'),
        interval: Duration.seconds(10),
        backoffRate: 1.5,
        maxAttempts: 10,
      });
      const enableTtl = sdkCall(
        `EnableTimeToLive${where}`,
        region,
        'updateTimeToLive',
        {
          TableName: JsonPath.stringAt('$.table'),
          TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        },
        { resources: [tableArn(region)] },
      );
      // The cell's two alarms (definitions from ParseRequest, the data stack's own), before the cell is ACTIVE.
      // PutMetricAlarm overwrites: a retried or re-run step is harmless.
      const putAlarm = (kind: 'capacity' | 'canary', prefix: string) =>
        sdkCall(
          `Put${kind === 'capacity' ? 'Capacity' : 'Canary'}Alarm${where}`,
          region,
          'putMetricAlarm',
          Object.fromEntries(METRIC_ALARM_FIELDS.map((f) => [f, JsonPath.stringAt(`$.alarms.${kind}.${f}`)])),
          {
            service: 'cloudwatch',
            iamAction: 'cloudwatch:PutMetricAlarm',
            resources: [alarmArn(region, prefix)],
          },
        );
      const active = Condition.and(
        Condition.stringEquals('$.describe.status', 'ACTIVE'),
        ...(tableShape.GlobalSecondaryIndexes ?? []).map((_, i) =>
          Condition.stringEquals(`$.describe.indexes[${i}]`, 'ACTIVE'),
        ),
      );
      create.next(waitTable);
      waitTable.next(describe);
      describe.next(
        new Choice(this, `TableActive?${where}`)
          .when(
            active,
            enablePitr
              .next(enableTtl)
              .next(putAlarm('capacity', props.capacityAlarmPrefix))
              .next(putAlarm('canary', props.canaryAlarmPrefix))
              .next(tableReady),
          )
          .when(
            Condition.numberGreaterThanEquals('$.waits.value', maxTableWaits),
            new Fail(this, `TableCreationTimeout${where}`, {
              error: 'TableCreationTimeoutError',
              cause: `the cell table did not become ACTIVE after ${maxTableWaits} checks`,
            }),
          )
          .otherwise(countWait.next(waitTable)),
      );
      return create;
    };
    const cellRegion = new Choice(this, 'CellRegion?');
    for (const region of regions)
      cellRegion.when(Condition.stringEquals('$.region', region), provisionChain(region));
    cellRegion.otherwise(
      new Fail(this, 'UnknownCellRegion', {
        error: 'UnknownRegionError',
        cause: `the cell's region is none of ${regions.join(', ')}`,
      }),
    );
    const provisionTables = new MapState(this, 'ProvisionTables', {
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

    // ---- scale-out -------------------------------------------------------------------------------------------
    const completeOut = guarded(step('CompleteScaleOut', 'CompleteScaling', '$.summary'), 'complete').next(
      new Succeed(this, 'ScaledOut'),
    );
    // Cells turn ACTIVE before the plan runs: MigratePartition only moves into ACTIVE cells. The planner still
    // plans them as PROVISIONING (the request names them), so they are filled first.
    const runOut = guarded(runPlan('RunScaleOutPlan'), 'run-plan').next(completeOut);
    const scaleOut = guarded(step('RegisterCells', 'RegisterCells', JsonPath.DISCARD), 'register')
      .next(guarded(provisionTables, 'provision'))
      .next(guarded(setStatus('MarkCellsActive', 'ACTIVE'), 'activate'))
      .next(guarded(plannerCall('PlanScaleOut', 'scale-out', 1), 'plan'))
      .next(
        new Choice(this, 'ScaleOutHasMoves?')
          .when(Condition.numberGreaterThan('$.plan.moveCount', 0), runOut)
          .otherwise(completeOut),
      );

    // ---- scale-in --------------------------------------------------------------------------------------------
    const completeIn = guarded(step('CompleteScaleIn', 'CompleteScaling', '$.summary'), 'complete').next(
      new Succeed(this, 'ScaledIn'),
    );
    const markRetired = guarded(setStatus('MarkRetired', 'RETIRED'), 'retire').next(completeIn);
    const backupChain = (region: string) => {
      const where = ` ${region}`;
      const backupArns = `arn:${partition}:dynamodb:${region}:${account}:table/${props.cellTablePrefix}*/backup/*`;
      const createBackup = guarded(
        sdkCall(
          `CreateBackup${where}`,
          region,
          'createBackup',
          {
            TableName: JsonPath.stringAt('$.request.table'),
            BackupName: JsonPath.stringAt('$.request.backupName'),
          },
          {
            resources: [tableArn(region)],
            resultSelector: {
              arn: JsonPath.stringAt('$.BackupDetails.BackupArn'),
              status: JsonPath.stringAt('$.BackupDetails.BackupStatus'),
              waits: 0,
            },
            resultPath: '$.backup',
          },
        ).addRetry({
          errors: dynamoErrors('TableInUseException', 'BackupInUseException'),
          interval: Duration.seconds(10),
          backoffRate: 2,
          maxAttempts: 6,
        }),
        'backup',
      );
      const backupWait = new Wait(this, `BackupWait${where}`, {
        time: WaitTime.duration(props.backupWait ?? Duration.seconds(30)),
      });
      const describeBackup = guarded(
        sdkCall(
          `DescribeBackup${where}`,
          region,
          'describeBackup',
          { BackupArn: JsonPath.stringAt('$.backup.arn') },
          {
            resources: [backupArns],
            resultSelector: { status: JsonPath.stringAt('$.BackupDescription.BackupDetails.BackupStatus') },
            resultPath: '$.describedBackup',
          },
        ),
        'backup',
      );
      const countBackupWait = new Pass(this, `CountBackupWait${where}`, {
        parameters: {
          arn: JsonPath.stringAt('$.backup.arn'),
          waits: JsonPath.mathAdd(JsonPath.numberAt('$.backup.waits'), 1),
        },
        resultPath: '$.backup',
      });
      // The cell's alarms go after its table. Already gone (a re-run, or a cell that never had them): nothing
      // left to delete; CloudWatch still deletes the names that exist. (Specific catches go before the stage's
      // States.ALL catch.)
      const deleteAlarms = guarded(
        sdkCall(
          `DeleteAlarms${where}`,
          region,
          'deleteAlarms',
          { AlarmNames: JsonPath.listAt('$.request.alarmNames') },
          {
            service: 'cloudwatch',
            iamAction: 'cloudwatch:DeleteAlarms',
            resources: [
              alarmArn(region, props.capacityAlarmPrefix),
              alarmArn(region, props.canaryAlarmPrefix),
            ],
          },
        ).addCatch(markRetired, {
          errors: sdkErrors('cloudwatch', 'ResourceNotFound', 'ResourceNotFoundException'),
          resultPath: JsonPath.DISCARD,
        }),
        'delete-alarms',
      );
      deleteAlarms.next(markRetired);
      // Deleted already (a re-run after the table went): nothing left to delete but the alarms.
      const deleteTable = guarded(
        sdkCall(
          `DeleteTable${where}`,
          region,
          'deleteTable',
          { TableName: JsonPath.stringAt('$.request.table') },
          { resources: [tableArn(region)] },
        ).addCatch(deleteAlarms, {
          errors: dynamoErrors('ResourceNotFoundException'),
          resultPath: JsonPath.DISCARD,
        }),
        'delete',
      );
      createBackup.next(backupWait).next(describeBackup);
      describeBackup.next(
        new Choice(this, `BackupAvailable?${where}`)
          .when(
            Condition.stringEquals('$.describedBackup.status', 'AVAILABLE'),
            deleteTable.next(deleteAlarms),
          )
          .when(
            Condition.stringEquals('$.describedBackup.status', 'DELETED'),
            raise(
              `BackupDeleted${where}`,
              'backup',
              'BackupFailedError',
              'the backup was deleted before it became AVAILABLE; the table is kept',
            ),
          )
          .when(
            Condition.numberGreaterThanEquals('$.backup.waits', maxBackupWaits),
            raise(
              `BackupTimedOut${where}`,
              'backup',
              'BackupTimeoutError',
              `the backup was not AVAILABLE after ${maxBackupWaits} checks; the table is kept`,
            ),
          )
          .otherwise(countBackupWait.next(backupWait)),
      );
      return createBackup;
    };
    const backupRegion = new Choice(this, 'BackupRegion?');
    for (const region of regions)
      backupRegion.when(Condition.stringEquals('$.request.region', region), backupChain(region));
    backupRegion.otherwise(
      raise(
        'UnknownBackupRegion',
        'backup',
        'UnknownRegionError',
        `the cell's region is none of ${regions.join(', ')}`,
      ),
    );

    const verifyDrained = guarded(step('VerifyDrained', 'VerifyDrained', '$.drain'), 'verify');
    const planIn = guarded(
      plannerCall('PlanScaleIn', 'scale-in', JsonPath.numberAt('$.drain.round')),
      'plan',
    );
    const runIn = guarded(runPlan('RunScaleInPlan'), 'run-plan').next(verifyDrained);
    planIn.next(
      new Choice(this, 'ScaleInHasMoves?')
        .when(Condition.numberGreaterThan('$.plan.moveCount', 0), runIn)
        .otherwise(verifyDrained),
    );
    verifyDrained.next(
      new Choice(this, 'Drained?')
        .when(Condition.booleanEquals('$.drain.drained', true), backupRegion)
        .otherwise(planIn),
    );
    const scaleIn = guarded(setStatus('MarkDraining', 'DRAINING'), 'drain-mark')
      .next(new Pass(this, 'StartDrain', { result: Result.fromObject({ round: 1 }), resultPath: '$.drain' }))
      .next(planIn);

    // ---- entry: input, guards, action --------------------------------------------------------------------------
    const prepare = new Pass(this, 'Prepare', {
      parameters: {
        input: JsonPath.entirePayload,
        execution: {
          name: JsonPath.stringAt('$$.Execution.Name'),
          id: JsonPath.stringAt('$$.Execution.Id'),
          startTime: JsonPath.stringAt('$$.Execution.StartTime'),
        },
      },
    });
    const parse = step('ParseRequest', 'ParseRequest', '$.request').addCatch(
      new Fail(this, 'InvalidInput', { error: 'InvalidInputError', causePath: '$.error.Cause' }),
      { errors: ['InvalidScalingRequestError', 'InvalidEventError'], resultPath: '$.error' },
    );
    const acquire = step('AcquireLock', 'AcquireLock', '$.guard').addCatch(
      new Fail(this, 'ScalingInProgress', { error: 'ScalingInProgressError', causePath: '$.error.Cause' }),
      { errors: ['ScalingInProgressError'], resultPath: '$.error' },
    );
    const definition = prepare
      .next(parse)
      .next(acquire)
      .next(
        new Choice(this, 'Action?')
          .when(Condition.booleanEquals('$.guard.acquired', false), new Succeed(this, 'SkippedCooldown'))
          .when(Condition.stringEquals('$.request.action', 'scale-out'), scaleOut)
          .otherwise(scaleIn),
      );

    this.stateMachine = observedStateMachine(this, {
      definition,
      stateMachineName: props.stateMachineName,
      timeout: props.timeout ?? Duration.hours(24),
      logGroup: props.logGroup,
      tracingEnabled: props.tracingEnabled,
    });
  }
}
