import { ArnFormat, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { EventField, Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaFunctionTarget, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { FunctionUrlAuthType, type IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  MIGRATION_TASK_NAMES,
  MIGRATION_TASKS,
  type MigrationTaskName,
} from '../src/domain/migration/migration-tasks.ts';
import { EXECUTE_PLAN_TASK_NAMES, type ExecutePlanTaskName } from '../src/execute-plan/execute-plan-tasks.ts';
import { CONTROL_PLANE_ENV } from '../src/lambda/control-plane-env.ts';
import { DATA_PLANE_ENV } from '../src/lambda/data-plane-config.ts';
import { SCALE_CLUSTER_TASK_NAMES, type ScaleClusterTaskName } from '../src/scaling/scale-cluster-tasks.ts';
import { capacityAlarmPattern } from './cell-data-stack.ts';
import { CellRegistration } from './cell-registration.ts';
import { type ControlPlaneTableName, ControlPlaneTables } from './control-plane-tables.ts';
import { DeepArEndpoint, type IForecastEndpoint } from './deepar-endpoint.ts';
import { EXECUTE_PLAN_STEP_ENTRIES, ExecutePlanWorkflow } from './execute-plan-workflow.ts';
import { MigratePartitionWorkflow } from './migrate-partition-workflow.ts';
import {
  acknowledgeCellTableCalls,
  acknowledgeChildExecutions,
  acknowledgeCustomResourceProvider,
  acknowledgeStateMachineRole,
  nagAccount,
} from './nag-acknowledgements.ts';
import { OperationsDashboard } from './operations-dashboard.ts';
import type { PrestageConfig } from './prestage-config.ts';
import { PrestageFunction, type PrestageFunctionProps } from './prestage-function.ts';
import {
  type DynamoAction,
  grantCellTables,
  grantDescribeCanaryAlarms,
  grantGetMetricData,
  grantTable,
} from './prestage-grants.ts';
import { PLANNER_ENTRY, SCALE_CLUSTER_STEP_ENTRIES, ScaleClusterWorkflow } from './scale-cluster-workflow.ts';

/** DynamoDB actions per control-plane table. */
type TableGrants = Partial<Record<ControlPlaneTableName, readonly DynamoAction[]>>;

interface StepGrants extends TableGrants {
  readonly publishApproval?: boolean;
}

/** What each ExecutePlan step handler's `Permissions:` comment lists (functions/execute-plan/*.ts). */
const EXECUTE_PLAN_GRANTS: Record<ExecutePlanTaskName, StepGrants> = {
  ValidateInput: { plans: ['GetItem'] },
  RequestApproval: { plans: ['GetItem', 'UpdateItem'], publishApproval: true },
  CloseUnapproved: { plans: ['GetItem', 'UpdateItem'] },
  StartRun: { plans: ['GetItem', 'UpdateItem'] },
  PageMoves: { plans: ['Query'] },
  ReserveSlot: { plans: ['GetItem', 'UpdateItem'], coordination: ['GetItem', 'PutItem'] },
  RecordOutcome: { plans: ['GetItem', 'UpdateItem'], coordination: ['GetItem', 'UpdateItem'] },
  FinishPlan: { plans: ['Query', 'GetItem', 'UpdateItem'] },
  AbortPlan: { plans: ['GetItem', 'UpdateItem'] },
};

/** What each ScaleCluster step handler's `Permissions:` comment lists (functions/scale-cluster/*.ts). */
const SCALE_CLUSTER_GRANTS: Record<ScaleClusterTaskName, TableGrants> = {
  ParseRequest: { cells: ['Scan'] },
  AcquireLock: { coordination: ['GetItem', 'PutItem'] },
  RegisterCells: { cells: ['PutItem', 'GetItem'] },
  SetCellStatus: { cells: ['UpdateItem'] },
  VerifyDrained: { partitions: ['Scan', 'GetItem', 'PutItem'] },
  CompleteScaling: { coordination: ['PutItem', 'DeleteItem'] },
  AbortScaling: { cells: ['GetItem', 'UpdateItem'], coordination: ['DeleteItem'] },
};

interface MigrationStepGrants extends TableGrants {
  /** The cell data store's calls on the cell tables (and their `changes` index). */
  readonly cellTables?: boolean;
  /** cloudwatch:DescribeAlarms on the canary alarms. */
  readonly canaryAlarms?: boolean;
}

const FENCE: readonly DynamoAction[] = ['GetItem', 'PutItem'];

/**
 * What each MigratePartition step handler's `Permissions:` comment lists (functions/migrate-partition/*.ts). Every
 * step refreshes the cell directory (cells Scan) first.
 */
const MIGRATION_GRANTS: Record<MigrationTaskName, MigrationStepGrants> = {
  Acquire: { partitions: FENCE, cells: ['Scan', 'GetItem'] },
  CreateReplica: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  Copy: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  CatchUp: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  Verify: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  ShiftReads: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  CanaryHealth: { cells: ['Scan'], canaryAlarms: true },
  CutoverFence: { partitions: FENCE, cells: ['Scan'] },
  CutoverSwitch: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  RemoveSource: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  Commit: { partitions: FENCE, cells: ['Scan'] },
  Rollback: { partitions: FENCE, cells: ['Scan'], cellTables: true },
};

/** functions/planner/handler.ts `Permissions:`. */
const PLANNER_GRANTS: TableGrants = {
  scores: ['Scan'],
  partitions: ['Scan'],
  cells: ['Scan'],
  plans: ['GetItem', 'PutItem', 'BatchWriteItem', 'Query', 'Scan'],
  idempotency: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
};

/** functions/profiler/handler.ts `Permissions:`. */
const PROFILER_GRANTS: TableGrants = {
  partitions: ['Scan', 'UpdateItem'],
  cells: ['Scan'],
  accessStats: ['Query'],
  scores: ['BatchWriteItem', 'BatchGetItem', 'GetItem', 'Scan'],
  coordination: ['GetItem', 'PutItem', 'UpdateItem'],
  idempotency: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
};

export interface ControlPlaneStackProps extends StackProps {
  readonly config: PrestageConfig;
}

/**
 * The control plane in the home region: the control-plane tables, every Lambda (interceptor with an IAM-auth
 * Function URL, the MigratePartition steps, …), the state machines, the approval and alarm topics, the
 * dead-letter queues, and the registration of the configured cells in the cells table. Cell tables in other
 * regions are addressed by name (`<cellTablePrefix><cellId>`), never by cross-stack reference.
 */
export class ControlPlaneStack extends Stack {
  readonly config: PrestageConfig;
  readonly tables: ControlPlaneTables;
  /** Encrypts the topics and the dead-letter queues. */
  readonly messagingKey: Key;
  readonly approvalTopic: Topic;
  readonly alarmTopic: Topic;
  readonly interceptor: PrestageFunction;
  readonly migrationSteps = {} as Record<MigrationTaskName, PrestageFunction>;
  readonly migratePartition: MigratePartitionWorkflow;
  readonly executePlanSteps = {} as Record<ExecutePlanTaskName, PrestageFunction>;
  readonly executePlan: ExecutePlanWorkflow;
  readonly planner: PrestageFunction;
  readonly scaleClusterSteps = {} as Record<ScaleClusterTaskName, PrestageFunction>;
  readonly scaleCluster: ScaleClusterWorkflow;
  readonly profiler: PrestageFunction;
  /** The SageMaker endpoint the profiler scores through, if the forecast model is hosted. */
  readonly forecastEndpoint?: IForecastEndpoint;
  readonly profilerSchedule: Rule;
  readonly scaleOnAlarm: Rule;
  readonly dashboard: OperationsDashboard;
  /** Every dead-letter queue, alarmed on the dashboard. */
  readonly deadLetterQueues: { name: string; queue: Queue }[] = [];
  /** Every Lambda of the stack, by id. */
  readonly functions = new Map<string, PrestageFunction>();

  constructor(scope: Construct, id: string, props: ControlPlaneStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    this.tables = new ControlPlaneTables(this, 'Tables');

    this.messagingKey = new Key(this, 'MessagingKey', {
      enableKeyRotation: true,
      description: 'prestage topics and dead-letter queues',
    });
    // CloudWatch alarms publish to the encrypted alarm topic.
    this.messagingKey.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [
          new ServicePrincipal('cloudwatch.amazonaws.com'),
          new ServicePrincipal('events.amazonaws.com'),
        ],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.approvalTopic = new Topic(this, 'ApprovalTopic', {
      displayName: 'prestage plans waiting for approval',
      masterKey: this.messagingKey,
      enforceSSL: true,
    });
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'prestage alarms',
      masterKey: this.messagingKey,
      enforceSSL: true,
    });
    if (config.alarmEmail) {
      this.alarmTopic.addSubscription(new EmailSubscription(config.alarmEmail));
    }

    this.interceptor = this.addFunction('Interceptor', {
      entry: 'functions/interceptor/handler.ts',
      description: 'prestage request interceptor: routes the data API to the cell holding each partition',
      serviceName: 'prestage-interceptor',
      environment: this.dataPlaneEnvironment(),
      timeout: Duration.seconds(10),
      memorySize: 1024,
    });
    this.grantInterceptor(this.interceptor);
    const url = this.interceptor.fn.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    new CfnOutput(this, 'InterceptorUrl', {
      value: url.url,
      description: 'Data API (SigV4, service lambda)',
    });

    for (const name of MIGRATION_TASK_NAMES) {
      const step = this.addFunction(`Migrate${name}`, {
        entry: `functions/migrate-partition/${MIGRATION_TASKS[name].file}.ts`,
        description: `prestage MigratePartition step ${name}`,
        serviceName: 'prestage-migrate-partition',
        environment: this.dataPlaneEnvironment(),
        timeout: Duration.seconds(90),
        memorySize: 1024,
      });
      this.grantMigrationStep(step, MIGRATION_GRANTS[name]);
      this.migrationSteps[name] = step;
    }
    const migrationStepFunctions = {} as Record<MigrationTaskName, IFunction>;
    for (const name of MIGRATION_TASK_NAMES) migrationStepFunctions[name] = this.migrationSteps[name].fn;
    this.migratePartition = new MigratePartitionWorkflow(this, 'MigratePartition', {
      steps: migrationStepFunctions,
      taskTimeout: Duration.seconds(120),
      stateMachineName: `${this.stackName}-MigratePartition`,
    });

    acknowledgeStateMachineRole(
      this.migratePartition.stateMachine,
      MIGRATION_TASK_NAMES.map((name) => this.migrationSteps[name].fn),
    );

    const executePlanFunctions = {} as Record<ExecutePlanTaskName, IFunction>;
    for (const name of EXECUTE_PLAN_TASK_NAMES) {
      const step = this.addFunction(`ExecutePlan${name}`, {
        entry: EXECUTE_PLAN_STEP_ENTRIES[name],
        description: `prestage ExecutePlan step ${name}`,
        serviceName: 'prestage-execute-plan',
        environment: {
          ...this.controlPlaneEnvironment(),
          [CONTROL_PLANE_ENV.approvalTopicArn]: this.approvalTopic.topicArn,
        },
        timeout: Duration.seconds(30),
      });
      this.grantExecutePlanStep(step, EXECUTE_PLAN_GRANTS[name]);
      this.executePlanSteps[name] = step;
      executePlanFunctions[name] = step.fn;
    }
    const executePlanName = `${this.stackName}-ExecutePlan`;
    this.executePlan = new ExecutePlanWorkflow(this, 'ExecutePlan', {
      steps: executePlanFunctions,
      migratePartition: this.migratePartition.stateMachine,
      maxConcurrency: config.migration.maxConcurrency,
      stateMachineName: executePlanName,
    });
    acknowledgeStateMachineRole(this.executePlan.stateMachine, Object.values(executePlanFunctions));
    acknowledgeChildExecutions(this.executePlan.stateMachine, this.migratePartition.stateMachine);
    // A long plan continues in executions of ExecutePlan itself (by name, so no reference cycle).
    Validations.of(this.executePlan.stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${this.region}:${nagAccount(this)}:execution:${executePlanName}*]`,
      reason:
        'ExecutePlan continues a long plan in child executions of itself (startExecution.sync:2), named at run time',
    });

    // Planner: async from the profiler (DLQ, idempotent on the cycle), sync from ScaleCluster.
    this.planner = this.addFunction('Planner', {
      entry: PLANNER_ENTRY,
      description: 'prestage planner: writes movement plans and starts ExecutePlan',
      serviceName: 'prestage-planner',
      environment: {
        ...this.controlPlaneEnvironment(),
        [CONTROL_PLANE_ENV.executePlanArn]: this.executePlan.stateMachine.stateMachineArn,
      },
      timeout: Duration.minutes(5),
      memorySize: 2048,
      deadLetterQueue: this.deadLetterQueue('Planner'),
      // One scheduled and one scaling plan at a time: plans never race each other for the same partitions.
      reservedConcurrentExecutions: config.reserveConcurrency ? 2 : undefined,
    });
    this.grantTables(this.planner, PLANNER_GRANTS);
    this.planner.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [this.executePlan.stateMachine.stateMachineArn],
      }),
    );

    // ScaleCluster: alarm-, profiler- or console-started; its steps, the planner and ExecutePlan.
    const scaleClusterName = `${this.stackName}-ScaleCluster`;
    const scaleClusterFunctions = {} as Record<ScaleClusterTaskName, IFunction>;
    for (const name of SCALE_CLUSTER_TASK_NAMES) {
      const step = this.addFunction(`ScaleCluster${name}`, {
        entry: SCALE_CLUSTER_STEP_ENTRIES[name],
        description: `prestage ScaleCluster step ${name}`,
        serviceName: 'prestage-scale-cluster',
        environment: this.controlPlaneEnvironment(),
        timeout: Duration.seconds(90),
      });
      this.grantTables(step, SCALE_CLUSTER_GRANTS[name]);
      this.scaleClusterSteps[name] = step;
      scaleClusterFunctions[name] = step.fn;
    }
    // AcquireLock frees the lock of an execution stopped by hand (named, so no reference cycle).
    this.scaleClusterSteps.AcquireLock.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [
          this.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${scaleClusterName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    Validations.of(this.scaleClusterSteps.AcquireLock.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${this.region}:${nagAccount(this)}:execution:${scaleClusterName}:*]`,
      reason:
        "ScaleCluster's own executions (their names are chosen at start); read only, to free a stopped run's lock",
    });
    this.scaleCluster = new ScaleClusterWorkflow(this, 'ScaleCluster', {
      steps: scaleClusterFunctions,
      planner: this.planner.fn,
      executePlan: this.executePlan.stateMachine,
      homeRegion: config.homeRegion,
      dataRegions: config.dataRegions,
      cellTablePrefix: config.names.cellTablePrefix,
      capacityAlarmPrefix: config.names.capacityAlarmPrefix,
      canaryAlarmPrefix: config.names.canaryAlarmPrefix,
      cellKeyAlias: config.names.cellKeyAlias,
      stateMachineName: scaleClusterName,
    });
    acknowledgeStateMachineRole(this.scaleCluster.stateMachine, [
      ...Object.values(scaleClusterFunctions),
      this.planner.fn,
    ]);
    acknowledgeChildExecutions(this.scaleCluster.stateMachine, this.executePlan.stateMachine);
    acknowledgeCellTableCalls(this.scaleCluster.stateMachine, config);
    this.scaleOnAlarm = new Rule(this, 'ScaleOnCapacityAlarm', {
      description: 'A cell capacity alarm (this region or forwarded from a data region) starts ScaleCluster',
      eventPattern: capacityAlarmPattern(config),
      targets: [
        new SfnStateMachine(this.scaleCluster.stateMachine, {
          deadLetterQueue: this.deadLetterQueue('ScaleOnAlarmRule'),
          retryAttempts: 4,
        }),
      ],
    });

    // Profiler: the schedule invokes the coordinator, which invokes one shard per `shards` asynchronously.
    const profilerName = `${this.stackName}-profiler`;
    const model = config.forecastModel;
    if (model.kind === 'sagemaker') {
      this.forecastEndpoint = DeepArEndpoint.fromEndpointName(this, 'ForecastEndpoint', model.endpointName);
    } else if (model.kind === 'deepar-endpoint') {
      this.forecastEndpoint = new DeepArEndpoint(this, 'ForecastEndpoint', {
        modelDataUrl: model.modelDataUrl,
        instanceType: model.instanceType,
        instanceCount: model.instanceCount,
      });
    }
    this.profiler = this.addFunction('Profiler', {
      entry: 'functions/profiler/handler.ts',
      functionName: profilerName,
      description: 'prestage profiler: scores partitions, writes forecasts, plans predictive scale-outs',
      serviceName: 'prestage-profiler',
      environment: {
        ...this.controlPlaneEnvironment(),
        [CONTROL_PLANE_ENV.profilerFunction]: profilerName,
        [CONTROL_PLANE_ENV.plannerFunction]: this.planner.fn.functionName,
        [CONTROL_PLANE_ENV.scaleClusterArn]: this.scaleCluster.stateMachine.stateMachineArn,
        ...(this.forecastEndpoint
          ? { [CONTROL_PLANE_ENV.sagemakerEndpoint]: this.forecastEndpoint.endpointName }
          : {}),
      },
      // docs/profiler.md: one vCPU per shard; a shard of 10,000 partitions takes well under the timeout.
      timeout: Duration.minutes(15),
      memorySize: 1769,
      deadLetterQueue: this.deadLetterQueue('Profiler'),
      // The coordinator and its shards; a cycle never takes more of the account's concurrency.
      reservedConcurrentExecutions: config.reserveConcurrency ? config.profiler.shards + 1 : undefined,
    });
    this.grantTables(this.profiler, PROFILER_GRANTS);
    // The partition size probe counts a partition's items in its cell table (docs/profiler.md).
    grantCellTables(this.profiler.role, this.profiler.role, this.config, ['Query']);
    grantGetMetricData(this.profiler.role, this.profiler.role);
    this.profiler.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [
          this.formatArn({
            service: 'lambda',
            resource: 'function',
            resourceName: profilerName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
          this.planner.fn.functionArn,
        ],
      }),
    );
    this.profiler.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [this.scaleCluster.stateMachine.stateMachineArn],
      }),
    );
    this.forecastEndpoint?.grantInvoke(this.profiler.role);
    this.profilerSchedule = new Rule(this, 'ProfilerSchedule', {
      description: `prestage profiler cycle every ${config.profiler.rate}`,
      schedule: Schedule.rate(config.profiler.interval),
      targets: [
        new LambdaFunctionTarget(this.profiler.fn, {
          // The schedule time names the cycle, so a retried delivery joins the same cycle.
          event: RuleTargetInput.fromObject({ time: EventField.time }),
          deadLetterQueue: this.deadLetterQueue('ProfilerScheduleRule'),
          retryAttempts: 2,
        }),
      ],
    });
    new CfnOutput(this, 'ExecutePlanArn', { value: this.executePlan.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ScaleClusterArn', { value: this.scaleCluster.stateMachine.stateMachineArn });
    new CfnOutput(this, 'MigratePartitionArn', { value: this.migratePartition.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ApprovalTopicArn', { value: this.approvalTopic.topicArn });

    new CellRegistration(this, 'Cells', { config, table: this.tables.cells, key: this.tables.encryptionKey });
    acknowledgeCustomResourceProvider(this);

    this.dashboard = new OperationsDashboard(this, 'Operations', {
      config,
      alarmTopic: this.alarmTopic,
      migratePartition: this.migratePartition.stateMachine,
      executePlan: this.executePlan.stateMachine,
      scaleCluster: this.scaleCluster.stateMachine,
      profiler: this.profiler.fn,
      planner: this.planner.fn,
      interceptor: this.interceptor.fn,
      deadLetterQueues: this.deadLetterQueues,
    });
  }

  /** A Lambda with the stack's log retention, registered for the dashboard and the checks. */
  protected addFunction(id: string, props: Omit<PrestageFunctionProps, 'logRetention'>): PrestageFunction {
    const fn = new PrestageFunction(this, id, {
      ...props,
      logRetention: this.config.logRetentionDays as RetentionDays,
    });
    // Lambda sends failed asynchronous events to the dead-letter queue with the function's role.
    if (props.deadLetterQueue) this.messagingKey.grant(fn.role, 'kms:Decrypt', 'kms:GenerateDataKey');
    this.functions.set(id, fn);
    return fn;
  }

  /** Environment of the data-plane Lambdas (DATA_PLANE_ENV). AWS_REGION is set by Lambda itself. */
  dataPlaneEnvironment(): Record<string, string> {
    return {
      [DATA_PLANE_ENV.partitionsTable]: this.tables.partitions.tableName,
      [DATA_PLANE_ENV.cellsTable]: this.tables.cells.tableName,
      [DATA_PLANE_ENV.accessStatsTable]: this.tables.accessStats.tableName,
      [DATA_PLANE_ENV.homeRegion]: this.config.homeRegion,
      [DATA_PLANE_ENV.canaryAlarmPrefix]: this.config.names.canaryAlarmPrefix,
      [DATA_PLANE_ENV.leaseTtlMs]: String(this.config.routingLease.leaseTtlMs),
      [DATA_PLANE_ENV.maxRequestMs]: String(this.config.routingLease.maxRequestMs),
      [DATA_PLANE_ENV.maxClockSkewMs]: String(this.config.routingLease.maxClockSkewMs),
      [DATA_PLANE_ENV.indexLagMs]: String(this.config.routingLease.indexLagMs),
    };
  }

  /** Environment of the control-plane Lambdas (CONTROL_PLANE_ENV and DATA_PLANE_ENV), without function/state machine ARNs. */
  controlPlaneEnvironment(): Record<string, string> {
    const c = this.config;
    const model = c.forecastModel;
    return {
      ...this.dataPlaneEnvironment(),
      [CONTROL_PLANE_ENV.scoresTable]: this.tables.scores.tableName,
      [CONTROL_PLANE_ENV.plansTable]: this.tables.plans.tableName,
      [CONTROL_PLANE_ENV.coordinationTable]: this.tables.coordination.tableName,
      [CONTROL_PLANE_ENV.idempotencyTable]: this.tables.idempotency.tableName,
      [CONTROL_PLANE_ENV.approvalMode]: c.approvalMode,
      [CONTROL_PLANE_ENV.forecastModel]: model.kind === 'embedded' ? 'embedded' : 'sagemaker',
      [CONTROL_PLANE_ENV.forecastContract]: model.kind === 'sagemaker' ? model.contract : 'deepar',
      [CONTROL_PLANE_ENV.intervalSeconds]: String(c.profiler.interval.toSeconds()),
      [CONTROL_PLANE_ENV.horizonSteps]: String(c.profiler.horizonSteps),
      [CONTROL_PLANE_ENV.profilerShards]: String(c.profiler.shards),
      [CONTROL_PLANE_ENV.scaleOutBufferMinutes]: String(c.scaling.predictiveBufferMinutes),
      [CONTROL_PLANE_ENV.maxConcurrentMovesPerCell]: String(c.migration.maxConcurrentMovesPerCell),
      [CONTROL_PLANE_ENV.maxBytesPerCycle]: String(c.migration.maxBytesPerCycle),
      [CONTROL_PLANE_ENV.canarySteps]: c.migration.canarySteps.join(','),
      [CONTROL_PLANE_ENV.scalingCooldownMinutes]: String(c.scaling.cooldownMinutes),
      [CONTROL_PLANE_ENV.cellTablePrefix]: c.names.cellTablePrefix,
      [CONTROL_PLANE_ENV.capacityAlarmPrefix]: c.names.capacityAlarmPrefix,
      [CONTROL_PLANE_ENV.capacityAlarmThreshold]: String(c.scaling.capacityAlarmThreshold),
      [CONTROL_PLANE_ENV.dataRegions]: c.dataRegions.join(','),
    };
  }

  /** A KMS-encrypted, SSL-only dead-letter queue for an asynchronously invoked Lambda. */
  protected deadLetterQueue(id: string): Queue {
    const queue = new Queue(this, `${id}DeadLetters`, {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: this.messagingKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue (of an asynchronously invoked Lambda)',
    });
    Validations.of(queue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is itself a dead-letter queue; nothing consumes it but an operator',
    });
    this.deadLetterQueues.push({ name: id, queue });
    return queue;
  }

  /**
   * Interceptor: partitions GetItem/PutItem (routing, first-write placement), cells Scan/GetItem (directory),
   * access stats UpdateItem (counts), cell tables GetItem/UpdateItem/PutItem (reads, writes, mirror/read repair).
   */
  private grantInterceptor(fn: PrestageFunction): void {
    const { partitions, cells, accessStats, encryptionKey } = this.tables;
    grantTable(fn.role, partitions, encryptionKey, ['GetItem', 'PutItem']);
    grantTable(fn.role, cells, encryptionKey, ['Scan', 'GetItem']);
    grantTable(fn.role, accessStats, encryptionKey, ['UpdateItem']);
    grantCellTables(fn.role, fn.role, this.config, ['GetItem', 'UpdateItem', 'PutItem']);
  }

  /**
   * MigratePartition steps: exactly the control-plane tables and actions of each handler's `Permissions:` comment;
   * the cell data store's GetItem/BatchGetItem/PutItem/DeleteItem/BatchWriteItem/Query on the cell tables (copy,
   * catch-up on the `changes` index, verify, repair, remove) for the steps that move data; CanaryHealth reads the
   * canary alarms.
   */
  private grantMigrationStep(fn: PrestageFunction, grants: MigrationStepGrants): void {
    const { cellTables, canaryAlarms, ...tables } = grants;
    this.grantTables(fn, tables);
    if (cellTables) {
      grantCellTables(fn.role, fn.role, this.config, [
        'GetItem',
        'BatchGetItem',
        'PutItem',
        'DeleteItem',
        'BatchWriteItem',
        'Query',
      ]);
    }
    if (canaryAlarms) grantDescribeCanaryAlarms(fn.role, fn.role, this.config);
  }

  /** ExecutePlan steps: exactly the tables, actions and topic of each handler's `Permissions:` comment. */
  private grantExecutePlanStep(fn: PrestageFunction, grants: StepGrants): void {
    this.grantTables(fn, grants);
    if (grants.publishApproval) this.grantPublish(fn, this.approvalTopic);
  }

  /** Exactly these DynamoDB actions on these control-plane tables (and the tables' key). */
  protected grantTables(fn: PrestageFunction, grants: TableGrants): void {
    for (const [name, actions] of Object.entries(grants) as [
      ControlPlaneTableName,
      readonly DynamoAction[],
    ][]) {
      if (actions.length > 0) grantTable(fn.role, this.tables[name], this.tables.encryptionKey, actions);
    }
  }

  /** sns:Publish on the topic, and the use of its key (SNS encrypts with the publisher's permission). */
  protected grantPublish(fn: PrestageFunction, topic: Topic): void {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }),
    );
    this.messagingKey.grant(fn.role, 'kms:Decrypt', 'kms:GenerateDataKey');
  }

  /** Function by id (for the wiring of later workflows). */
  fnOf(id: string): IFunction {
    const fn = this.functions.get(id);
    if (!fn) throw new Error(`ControlPlaneStack: no function ${id}`);
    return fn.fn;
  }
}
