import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  type IStateMachine,
  JsonPath,
  Map as MapState,
  Pass,
  Result,
  type StateMachine,
  Succeed,
  type TaskStateBase,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { cellDataTableDefinition, TTL_ATTRIBUTE } from '../src/adapters/dynamodb/table-definitions.ts';
import { isRegionName } from '../src/domain/region-name.ts';
import { METRIC_ALARM_FIELDS } from '../src/scaling/cell-alarm-definitions.ts';
import {
  SCALE_CLUSTER_TASK_NAMES,
  SCALE_CLUSTER_TASKS,
  type ScaleClusterTaskName,
} from '../src/scaling/scale-cluster-tasks.ts';
import { observedStateMachine, requireSteps } from './observed-state-machine.ts';
import {
  CellSdkCalls,
  dynamoErrors,
  ScalingFailurePath,
  ScalingLambdaTasks,
  sdkErrors,
} from './scale-cluster-states.ts';

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

/** Values of the optional props when they are not given (each documented on its prop). */
const DEFAULTS = {
  cellKeyAlias: 'alias/prestage-cell-data',
  timeout: Duration.hours(24),
  tableWait: Duration.seconds(10),
  maxTableWaits: 90,
  backupWait: Duration.seconds(30),
  maxBackupWaits: 240,
  stepTimeout: Duration.minutes(2),
  plannerTimeout: Duration.minutes(6),
} as const;

/** A cell table as CreateTable takes it, but for its name (each cell's own, from the request). */
const { TableName: _placeholder, ...CELL_TABLE_SHAPE } = cellDataTableDefinition('placeholder');

/** A cell table name starts with the prefix: DynamoDB's table name characters, with room for the cell id. */
const CELL_TABLE_PREFIX = /^[A-Za-z0-9_.-]{1,200}$/;
/** An alarm name starts with the prefix, and IAM is scoped to `alarm:<prefix>*`: no wildcard or space in it. */
const ALARM_PREFIX = /^[A-Za-z0-9_.:/-]{1,200}$/;

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

  private readonly props: ScaleClusterWorkflowProps;
  /** The home region first, then the other data regions: the branches of the region Choices, in this order. */
  private readonly regions: readonly string[];
  private readonly failurePath: ScalingFailurePath;
  private readonly lambdaTasks: ScalingLambdaTasks;
  private readonly cellSdkCalls: CellSdkCalls;

  constructor(scope: Construct, id: string, props: ScaleClusterWorkflowProps) {
    super(scope, id);
    this.validateProps(props);
    this.props = props;
    this.regions = [props.homeRegion, ...props.dataRegions.filter((r) => r !== props.homeRegion)];
    const stepTimeout = Timeout.duration(props.stepTimeout ?? DEFAULTS.stepTimeout);
    this.failurePath = new ScalingFailurePath(this, props.steps.AbortScaling, stepTimeout);
    this.lambdaTasks = new ScalingLambdaTasks(this, {
      steps: props.steps,
      planner: props.planner,
      executePlan: props.executePlan,
      stepTimeout,
      plannerTimeout: Timeout.duration(props.plannerTimeout ?? DEFAULTS.plannerTimeout),
    });
    this.cellSdkCalls = new CellSdkCalls(this, {
      homeRegion: props.homeRegion,
      cellTablePrefix: props.cellTablePrefix,
      cellKeyAlias: props.cellKeyAlias ?? DEFAULTS.cellKeyAlias,
    });
    // Scale-out before scale-in: CDK adds each cross-region call's IAM statement to one shared Lambda's role in
    // the order the calls are built, so this order keeps the synthesized policy what it has always been.
    const scaleOut = this.buildScaleOut();
    const scaleIn = this.buildScaleIn();
    this.stateMachine = observedStateMachine(this, {
      definition: this.buildEntry(scaleOut, scaleIn),
      stateMachineName: props.stateMachineName,
      timeout: props.timeout ?? DEFAULTS.timeout,
      logGroup: props.logGroup,
      tracingEnabled: props.tracingEnabled,
    });
  }

  /** Fail at synth, naming the prop and what it must be, rather than deploy a workflow that cannot work. */
  private validateProps(props: ScaleClusterWorkflowProps): void {
    requireSteps('ScaleClusterWorkflow', SCALE_CLUSTER_TASK_NAMES, props.steps);
    this.validateRegions(props);
    this.validateNamePrefixes(props);
    this.validateWaitLimits(props);
  }

  private validateRegions(props: ScaleClusterWorkflowProps): void {
    if (!isRegionName(props.homeRegion))
      throw new Error(`ScaleClusterWorkflow: homeRegion '${props.homeRegion}' is not an AWS region name`);
    for (const region of props.dataRegions) {
      if (!isRegionName(region))
        throw new Error(`ScaleClusterWorkflow: dataRegions has '${region}', which is not an AWS region name`);
    }
  }

  /** The prefixes name resources created at run time, and IAM is scoped to them. */
  private validateNamePrefixes(props: ScaleClusterWorkflowProps): void {
    if (!CELL_TABLE_PREFIX.test(props.cellTablePrefix))
      throw new Error(
        `ScaleClusterWorkflow: cellTablePrefix '${props.cellTablePrefix}' must be 1–200 of [A-Za-z0-9_.-] (it starts DynamoDB table names)`,
      );
    for (const [name, prefix] of [
      ['capacityAlarmPrefix', props.capacityAlarmPrefix],
      ['canaryAlarmPrefix', props.canaryAlarmPrefix],
    ] as const) {
      if (!ALARM_PREFIX.test(prefix))
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
  }

  private validateWaitLimits(props: ScaleClusterWorkflowProps): void {
    const maxTableWaits = props.maxTableWaits ?? DEFAULTS.maxTableWaits;
    const maxBackupWaits = props.maxBackupWaits ?? DEFAULTS.maxBackupWaits;
    if (
      !(
        Number.isInteger(maxTableWaits) &&
        maxTableWaits >= 1 &&
        Number.isInteger(maxBackupWaits) &&
        maxBackupWaits >= 1
      )
    )
      throw new Error('ScaleClusterWorkflow: maxTableWaits and maxBackupWaits must be integers >= 1');
  }

  /** Prepare → ParseRequest → AcquireLock → by action (or SkippedCooldown). */
  private buildEntry(scaleOut: IChainable, scaleIn: IChainable): IChainable {
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
    const parse = this.lambdaTasks
      .step('ParseRequest', 'ParseRequest', '$.request')
      .addCatch(new Fail(this, 'InvalidInput', { error: 'InvalidInputError', causePath: '$.error.Cause' }), {
        errors: ['InvalidScalingRequestError', 'InvalidEventError'],
        resultPath: '$.error',
      });
    const acquire = this.lambdaTasks
      .step('AcquireLock', 'AcquireLock', '$.guard')
      .addCatch(
        new Fail(this, 'ScalingInProgress', { error: 'ScalingInProgressError', causePath: '$.error.Cause' }),
        { errors: ['ScalingInProgressError'], resultPath: '$.error' },
      );
    return prepare
      .next(parse)
      .next(acquire)
      .next(
        new Choice(this, 'Action?')
          .when(Condition.booleanEquals('$.guard.acquired', false), new Succeed(this, 'SkippedCooldown'))
          .when(Condition.stringEquals('$.request.action', 'scale-out'), scaleOut)
          .otherwise(scaleIn),
      );
  }

  /**
   * RegisterCells → ProvisionTables → MarkCellsActive → PlanScaleOut → RunScaleOutPlan (skipped for an empty
   * plan) → CompleteScaleOut.
   */
  private buildScaleOut(): IChainable {
    const { failurePath, lambdaTasks } = this;
    const provisionTables = this.buildProvisionTables();
    const completeOut = failurePath
      .guard(lambdaTasks.step('CompleteScaleOut', 'CompleteScaling', '$.summary'), 'complete')
      .next(new Succeed(this, 'ScaledOut'));
    // Cells turn ACTIVE before the plan runs: MigratePartition only moves into ACTIVE cells. The planner still
    // plans them as PROVISIONING (the request names them), so they are filled first.
    const runOut = failurePath.guard(lambdaTasks.runPlan('RunScaleOutPlan'), 'run-plan').next(completeOut);
    return failurePath
      .guard(lambdaTasks.step('RegisterCells', 'RegisterCells', JsonPath.DISCARD), 'register')
      .next(failurePath.guard(provisionTables, 'provision'))
      .next(failurePath.guard(lambdaTasks.setStatus('MarkCellsActive', 'ACTIVE'), 'activate'))
      .next(failurePath.guard(lambdaTasks.plan('PlanScaleOut', 'scale-out', 1), 'plan'))
      .next(
        new Choice(this, 'ScaleOutHasMoves?')
          .when(Condition.numberGreaterThan('$.plan.moveCount', 0), runOut)
          .otherwise(completeOut),
      );
  }

  /** A Map over the new cells, each provisioned by the chain of its region (at most 5 at once). */
  private buildProvisionTables(): MapState {
    const tableReady = new Succeed(this, 'TableReady');
    const cellRegion = new Choice(this, 'CellRegion?');
    for (const region of this.regions)
      cellRegion.when(Condition.stringEquals('$.region', region), this.provisionChain(region, tableReady));
    cellRegion.otherwise(
      new Fail(this, 'UnknownCellRegion', {
        error: 'UnknownRegionError',
        cause: `the cell's region is none of ${this.regions.join(', ')}`,
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
    return provisionTables;
  }

  /**
   * One cell in `region`: CreateTable, DescribeTable until it and its indexes are ACTIVE (TableCreationTimeout
   * after maxTableWaits), point-in-time recovery, TTL, then the cell's two alarms.
   */
  private provisionChain(region: string, tableReady: Succeed): TaskStateBase {
    const { cellSdkCalls } = this;
    const where = ` ${region}`;
    const maxTableWaits = this.props.maxTableWaits ?? DEFAULTS.maxTableWaits;
    const waitTable = new Wait(this, `TableWait${where}`, {
      time: WaitTime.duration(this.props.tableWait ?? DEFAULTS.tableWait),
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
          KMSMasterKeyId: this.props.cellKeyAlias ?? DEFAULTS.cellKeyAlias,
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
    const countWait = new Pass(this, `CountTableWait${where}`, {
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
      new Choice(this, `TableActive?${where}`)
        .when(
          active,
          enablePitr
            .next(enableTtl)
            .next(this.putCellAlarm(region, 'capacity'))
            .next(this.putCellAlarm(region, 'canary'))
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
  }

  /**
   * PutMetricAlarm for one of the new cell's alarms (its definition from ParseRequest, the data stack's own),
   * before the cell is ACTIVE. PutMetricAlarm overwrites: a retried or re-run step is harmless.
   */
  private putCellAlarm(region: string, kind: 'capacity' | 'canary'): TaskStateBase {
    const prefix = kind === 'capacity' ? this.props.capacityAlarmPrefix : this.props.canaryAlarmPrefix;
    return this.cellSdkCalls.call(
      `Put${kind === 'capacity' ? 'Capacity' : 'Canary'}Alarm ${region}`,
      region,
      'putMetricAlarm',
      Object.fromEntries(METRIC_ALARM_FIELDS.map((f) => [f, JsonPath.stringAt(`$.alarms.${kind}.${f}`)])),
      {
        service: 'cloudwatch',
        iamAction: 'cloudwatch:PutMetricAlarm',
        resources: [this.cellSdkCalls.alarmArn(region, prefix)],
      },
    );
  }

  /**
   * MarkDraining → rounds of PlanScaleIn → RunScaleInPlan → VerifyDrained until drained → by region: backup,
   * DeleteTable, DeleteAlarms → MarkRetired → CompleteScaleIn.
   */
  private buildScaleIn(): IChainable {
    const { failurePath, lambdaTasks } = this;
    const completeIn = failurePath
      .guard(lambdaTasks.step('CompleteScaleIn', 'CompleteScaling', '$.summary'), 'complete')
      .next(new Succeed(this, 'ScaledIn'));
    const markRetired = failurePath
      .guard(lambdaTasks.setStatus('MarkRetired', 'RETIRED'), 'retire')
      .next(completeIn);
    const backupRegion = new Choice(this, 'BackupRegion?');
    for (const region of this.regions)
      backupRegion.when(
        Condition.stringEquals('$.request.region', region),
        this.retireTableChain(region, markRetired),
      );
    backupRegion.otherwise(
      failurePath.raise(
        'UnknownBackupRegion',
        'backup',
        'UnknownRegionError',
        `the cell's region is none of ${this.regions.join(', ')}`,
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
      new Choice(this, 'ScaleInHasMoves?')
        .when(Condition.numberGreaterThan('$.plan.moveCount', 0), runIn)
        .otherwise(verifyDrained),
    );
    verifyDrained.next(
      new Choice(this, 'Drained?')
        .when(Condition.booleanEquals('$.drain.drained', true), backupRegion)
        .otherwise(planIn),
    );
    return failurePath
      .guard(lambdaTasks.setStatus('MarkDraining', 'DRAINING'), 'drain-mark')
      .next(new Pass(this, 'StartDrain', { result: Result.fromObject({ round: 1 }), resultPath: '$.drain' }))
      .next(planIn);
  }

  /**
   * The drained cell's table in `region`: CreateBackup, DescribeBackup until AVAILABLE (the table is kept if the
   * backup is deleted or does not become AVAILABLE in maxBackupWaits checks), DeleteTable, then DeleteAlarms.
   */
  private retireTableChain(region: string, markRetired: IChainable): TaskStateBase {
    const { failurePath, cellSdkCalls } = this;
    const where = ` ${region}`;
    const maxBackupWaits = this.props.maxBackupWaits ?? DEFAULTS.maxBackupWaits;
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
    const backupWait = new Wait(this, `BackupWait${where}`, {
      time: WaitTime.duration(this.props.backupWait ?? DEFAULTS.backupWait),
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
    const countBackupWait = new Pass(this, `CountBackupWait${where}`, {
      parameters: {
        arn: JsonPath.stringAt('$.backup.arn'),
        waits: JsonPath.mathAdd(JsonPath.numberAt('$.backup.waits'), 1),
      },
      resultPath: '$.backup',
    });
    const deleteAlarms = this.deleteCellAlarms(region, markRetired);
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
      new Choice(this, `BackupAvailable?${where}`)
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
  private deleteCellAlarms(region: string, markRetired: IChainable): TaskStateBase {
    const deleteAlarms = this.failurePath.guard(
      this.cellSdkCalls
        .call(
          `DeleteAlarms ${region}`,
          region,
          'deleteAlarms',
          { AlarmNames: JsonPath.listAt('$.request.alarmNames') },
          {
            service: 'cloudwatch',
            iamAction: 'cloudwatch:DeleteAlarms',
            resources: [
              this.cellSdkCalls.alarmArn(region, this.props.capacityAlarmPrefix),
              this.cellSdkCalls.alarmArn(region, this.props.canaryAlarmPrefix),
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
}
