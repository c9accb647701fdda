import { ArnFormat, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { EventField, Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaFunctionTarget, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { CONTROL_PLANE_ENV } from '../src/lambda/control-plane-env.ts';
import { DATA_PLANE_ENV } from '../src/lambda/data-plane-config.ts';
import { capacityAlarmPattern } from './cell-data-stack.ts';
import { CellRegistration } from './cell-registration.ts';
import { type ControlPlaneTableName, ControlPlaneTables } from './control-plane-tables.ts';
import {
  ExecutePlanService,
  MigratePartitionService,
  ScaleClusterService,
  type WorkflowHost,
} from './control-plane-workflows.ts';
import { DeepArEndpoint, type IForecastEndpoint } from './deepar-endpoint.ts';
import { acknowledgeCustomResourceProvider } from './nag-acknowledgements.ts';
import { OperationsDashboard } from './operations-dashboard.ts';
import type { PrestageConfig } from './prestage-config.ts';
import { PrestageFunction, type PrestageFunctionProps } from './prestage-function.ts';
import {
  type DynamoAction,
  grantCellTables,
  grantGetMetricData,
  grantNamedTable,
  type TableGrants,
} from './prestage-grants.ts';
import { dataPlaneEnvironment } from './regional-edge-stack.ts';
import { PLANNER_ENTRY } from './scale-cluster-workflow.ts';

/** functions/planner/handler.ts `Permissions:`. */
const PLANNER_GRANTS: TableGrants = {
  scores: ['Scan'],
  partitions: ['Scan'],
  cells: ['Scan'],
  plans: ['GetItem', 'PutItem', 'BatchWriteItem', 'Query', 'Scan'],
  idempotency: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
};

/** functions/profiler/handler.ts `Permissions:` on the control-plane tables (access stats: see grantProfiler). */
const PROFILER_GRANTS: TableGrants = {
  partitions: ['Scan', 'UpdateItem'],
  cells: ['Scan'],
  scores: ['BatchWriteItem', 'BatchGetItem', 'GetItem', 'Scan'],
  coordination: ['GetItem', 'PutItem', 'UpdateItem'],
  idempotency: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
  // Reads only: operators write events with `prestage events` (their own credentials), never a Lambda.
  events: ['Scan'],
};

export interface ControlPlaneStackProps extends StackProps {
  readonly config: PrestageConfig;
}

/**
 * The control plane in the home region: the control-plane tables (the routing tables as global tables with a
 * replica in every other data region), every control-plane Lambda (profiler, planner, the workflows' steps), the
 * state machines, the approval and alarm topics, the dead-letter queues, and the registration of the configured
 * cells in the cells table. The interceptors are the regional edge stacks' (lib/regional-edge-stack.ts). Tables
 * of other stacks (cell tables, each region's access-stats table, routing replicas) are addressed by name, never
 * by cross-stack reference.
 */
export class ControlPlaneStack extends Stack implements WorkflowHost {
  readonly config: PrestageConfig;
  readonly tables: ControlPlaneTables;
  /** Encrypts the topics and the dead-letter queues. */
  readonly messagingKey: Key;
  readonly approvalTopic: Topic;
  readonly alarmTopic: Topic;
  readonly migratePartition: MigratePartitionService;
  readonly executePlan: ExecutePlanService;
  readonly planner: PrestageFunction;
  readonly scaleCluster: ScaleClusterService;
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
    this.tables = new ControlPlaneTables(this, 'Tables', { config });

    ({
      messagingKey: this.messagingKey,
      approvalTopic: this.approvalTopic,
      alarmTopic: this.alarmTopic,
    } = this.buildMessaging(config));

    this.migratePartition = new MigratePartitionService(this, 'MigratePartition', { host: this });
    this.executePlan = new ExecutePlanService(this, 'ExecutePlan', {
      host: this,
      approvalTopic: this.approvalTopic,
      migratePartition: this.migratePartition.stateMachine,
    });

    this.planner = this.buildPlanner(config);

    // ScaleCluster: alarm-, profiler- or console-started; its steps, the planner and ExecutePlan.
    this.scaleCluster = new ScaleClusterService(this, 'ScaleCluster', {
      host: this,
      planner: this.planner.fn,
      executePlan: this.executePlan.stateMachine,
    });
    this.scaleOnAlarm = this.buildScaleOnAlarm(config);
    this.forecastEndpoint = this.buildForecastEndpoint(config);
    ({ profiler: this.profiler, schedule: this.profilerSchedule } = this.buildProfiler(config));
    this.addOutputs();

    new CellRegistration(this, 'Cells', {
      config,
      table: this.tables.cells,
      keyAlias: config.names.controlPlaneKeyAlias,
    });
    acknowledgeCustomResourceProvider(this);

    this.dashboard = new OperationsDashboard(this, 'Operations', {
      config,
      alarmTopic: this.alarmTopic,
      migratePartition: this.migratePartition.stateMachine,
      executePlan: this.executePlan.stateMachine,
      scaleCluster: this.scaleCluster.stateMachine,
      profiler: this.profiler.fn,
      planner: this.planner.fn,
      deadLetterQueues: this.deadLetterQueues,
    });
  }

  /** The messaging key (topics and dead-letter queues), the approval topic and the alarm topic. */
  private buildMessaging(config: PrestageConfig) {
    const messagingKey = new Key(this, 'MessagingKey', {
      enableKeyRotation: true,
      description: 'prestage topics and dead-letter queues',
    });
    // CloudWatch alarms publish to the encrypted alarm topic.
    messagingKey.addToResourcePolicy(
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
    const approvalTopic = new Topic(this, 'ApprovalTopic', {
      displayName: 'prestage plans waiting for approval',
      masterKey: messagingKey,
      enforceSSL: true,
    });
    const alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'prestage alarms',
      masterKey: messagingKey,
      enforceSSL: true,
    });
    if (config.alarmEmail) {
      alarmTopic.addSubscription(new EmailSubscription(config.alarmEmail));
    }
    return { messagingKey, approvalTopic, alarmTopic };
  }

  /** The planner Lambda: writes movement plans and starts ExecutePlan. */
  private buildPlanner(config: PrestageConfig): PrestageFunction {
    // Planner: async from the profiler (DLQ, idempotent on the cycle), sync from ScaleCluster.
    const planner = this.addFunction('Planner', {
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
    this.grantTables(planner, PLANNER_GRANTS);
    planner.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [this.executePlan.stateMachine.stateMachineArn],
      }),
    );
    return planner;
  }

  /** A cell capacity alarm starts ScaleCluster. */
  private buildScaleOnAlarm(config: PrestageConfig): Rule {
    return new Rule(this, 'ScaleOnCapacityAlarm', {
      description: 'A cell capacity alarm (this region or forwarded from a data region) starts ScaleCluster',
      eventPattern: capacityAlarmPattern(config),
      targets: [
        new SfnStateMachine(this.scaleCluster.stateMachine, {
          deadLetterQueue: this.deadLetterQueue('ScaleOnAlarmRule'),
          retryAttempts: 4,
        }),
      ],
    });
  }

  /**
   * The profiler: its Lambda (coordinator and shards), the forecast endpoint it calls, its grants (access counts
   * in every data region, cell tables for the size probe, metrics, its own shards, the planner, ScaleCluster),
   * and its schedule.
   */
  private buildProfiler(config: PrestageConfig): { profiler: PrestageFunction; schedule: Rule } {
    // Profiler: the schedule invokes the coordinator, which invokes one shard per `shards` asynchronously.
    const profilerName = `${this.stackName}-profiler`;
    const profiler = this.addFunction('Profiler', {
      entry: 'functions/profiler/handler.ts',
      functionName: profilerName,
      description: 'prestage profiler: scores partitions, writes forecasts, plans predictive scale-outs',
      serviceName: 'prestage-profiler',
      environment: {
        ...this.controlPlaneEnvironment(),
        [CONTROL_PLANE_ENV.profilerFunction]: profilerName,
        [CONTROL_PLANE_ENV.plannerFunction]: this.planner.fn.functionName,
        [CONTROL_PLANE_ENV.eventsTable]: this.tables.events.tableName,
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
    this.grantTables(profiler, PROFILER_GRANTS);
    // Access counts are recorded where requests arrive: the profiler reads every data region's table, whole
    // histories by Query, the newest buckets of many partitions by BatchGetItem (access-history-cache.ts).
    for (const region of config.dataRegions) {
      grantNamedTable(
        profiler.role,
        profiler.role,
        { tableName: config.names.accessStatsTable, region, keyAlias: config.names.cellKeyAlias },
        ['Query', 'BatchGetItem'],
      );
    }
    // The partition size probe counts a partition's items in its cell table (docs/profiler.md).
    grantCellTables(profiler.role, profiler.role, this.config, ['Query']);
    grantGetMetricData(profiler.role, profiler.role);
    profiler.role.addToPrincipalPolicy(
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
    profiler.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [this.scaleCluster.stateMachine.stateMachineArn],
      }),
    );
    this.forecastEndpoint?.grantInvoke(profiler.role);
    const schedule = new Rule(this, 'ProfilerSchedule', {
      description: `prestage profiler cycle every ${config.profiler.rate}`,
      schedule: Schedule.rate(config.profiler.interval),
      targets: [
        new LambdaFunctionTarget(profiler.fn, {
          // The schedule time names the cycle, so a retried delivery joins the same cycle.
          event: RuleTargetInput.fromObject({ time: EventField.time }),
          deadLetterQueue: this.deadLetterQueue('ProfilerScheduleRule'),
          retryAttempts: 2,
        }),
      ],
    });
    return { profiler, schedule };
  }

  /** The forecast model the profiler calls, when it is a SageMaker endpoint (imported or created here). */
  private buildForecastEndpoint(config: PrestageConfig): IForecastEndpoint | undefined {
    const model = config.forecastModel;
    if (model.kind === 'sagemaker') {
      return DeepArEndpoint.fromEndpointName(this, 'ForecastEndpoint', model.endpointName);
    }
    if (model.kind === 'deepar-endpoint') {
      return new DeepArEndpoint(this, 'ForecastEndpoint', {
        modelDataUrl: model.modelDataUrl,
        instanceType: model.instanceType,
        instanceCount: model.instanceCount,
      });
    }
    return undefined;
  }

  /** The ARNs an operator starts or subscribes to. */
  private addOutputs(): void {
    new CfnOutput(this, 'ExecutePlanArn', { value: this.executePlan.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ScaleClusterArn', { value: this.scaleCluster.stateMachine.stateMachineArn });
    new CfnOutput(this, 'MigratePartitionArn', { value: this.migratePartition.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ApprovalTopicArn', { value: this.approvalTopic.topicArn });
    new CfnOutput(this, 'EventsTableName', {
      value: this.tables.events.tableName,
      description: 'known events: prestage events add|list|remove --table <this> (docs/events.md)',
    });
  }

  /** A Lambda with the stack's log retention, registered for the dashboard and the checks. */
  addFunction(id: string, props: Omit<PrestageFunctionProps, 'logRetention'>): PrestageFunction {
    const fn = new PrestageFunction(this, id, {
      ...props,
      logRetention: this.config.logRetentionDays as RetentionDays,
    });
    // Lambda sends failed asynchronous events to the dead-letter queue with the function's role.
    if (props.deadLetterQueue) this.messagingKey.grant(fn.role, 'kms:Decrypt', 'kms:GenerateDataKey');
    this.functions.set(id, fn);
    return fn;
  }

  /**
   * Environment of the data-plane Lambdas (DATA_PLANE_ENV), as every region's interceptors get it, with the
   * routing tables by reference (the same names; the reference orders the Lambdas after the tables). AWS_REGION
   * is set by Lambda itself.
   */
  dataPlaneEnvironment(): Record<string, string> {
    return {
      ...dataPlaneEnvironment(this.config),
      [DATA_PLANE_ENV.partitionsTable]: this.tables.partitions.tableName,
      [DATA_PLANE_ENV.cellsTable]: this.tables.cells.tableName,
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
      [CONTROL_PLANE_ENV.forecastEventFeature]: String(
        model.kind !== 'embedded' && model.eventFeature === true,
      ),
      [CONTROL_PLANE_ENV.intervalSeconds]: String(c.profiler.interval.toSeconds()),
      [CONTROL_PLANE_ENV.horizonSteps]: String(c.profiler.horizonSteps),
      [CONTROL_PLANE_ENV.profilerShards]: String(c.profiler.shards),
      [CONTROL_PLANE_ENV.scaleOutBufferMinutes]: String(c.scaling.predictiveBufferMinutes),
      [CONTROL_PLANE_ENV.predictiveScaleIn]: String(c.scaling.predictiveScaleIn),
      ...(c.scaling.cellHourPriceUsd !== undefined && {
        [CONTROL_PLANE_ENV.cellHourPriceUsd]: String(c.scaling.cellHourPriceUsd),
      }),
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

  /** Exactly these DynamoDB actions on these control-plane tables (and the tables' keys). */
  grantTables(fn: PrestageFunction, grants: TableGrants): void {
    for (const [name, actions] of Object.entries(grants) as [
      ControlPlaneTableName,
      readonly DynamoAction[],
    ][]) {
      if (actions.length > 0) this.tables.grant(fn.role, fn.role, name, actions);
    }
  }

  /** Exactly these DynamoDB actions on the partitions table's replica in every replica region (by name). */
  grantPartitionReplicas(fn: PrestageFunction, actions: readonly DynamoAction[]): void {
    for (const region of this.tables.replicaRegions) {
      this.tables.grantReplica(fn.role, fn.role, 'partitions', region, actions);
    }
  }

  /** sns:Publish on the topic, and the use of its key (SNS encrypts with the publisher's permission). */
  grantPublish(fn: PrestageFunction, topic: ITopic): void {
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
