import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { cellDataTableDefinition, TTL_ATTRIBUTE } from '../src/adapters/dynamodb/table-definitions.ts';
import { type CellConfig, cellTableName, type PrestageConfig } from './prestage-config.ts';
import { tableSchemaOf } from './table-schema.ts';

export interface CellDataStackProps extends StackProps {
  readonly config: PrestageConfig;
  /** The data region this stack serves (also its `env.region`). */
  readonly region: string;
}

/** The DynamoDB operations whose 5xx (SystemErrors) count against a cell's canary health. */
const DATA_OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'BatchGetItem',
  'BatchWriteItem',
];

/** Errors in one minute at which a cell's canary alarm fires (and an in-progress read shift rolls back). */
export const CANARY_ERRORS_PER_MINUTE = 5;

/** EventBridge pattern of a capacity alarm going to ALARM; the control plane's ScaleCluster rule uses it too. */
export function capacityAlarmPattern(config: PrestageConfig) {
  return {
    source: ['aws.cloudwatch'],
    detailType: ['CloudWatch Alarm State Change'],
    detail: {
      alarmName: [{ prefix: config.names.capacityAlarmPrefix }],
      state: { value: ['ALARM'] },
    },
  };
}

/**
 * One data region: a DynamoDB table per configured cell (the key schema of cellDataTableDefinition, with the
 * `changes` index and the tombstone TTL), encrypted with this region's customer-managed key (alias
 * `names.cellKeyAlias`, which the control plane's grants name), with point-in-time recovery. Per cell, a capacity
 * alarm `<capacityAlarmPrefix><cellId>` (triggers ScaleCluster) and a canary alarm `<canaryAlarmPrefix><cellId>`
 * (read by MigratePartition's canary health check). Outside the home region, capacity alarm state changes are
 * forwarded to the home region's default event bus, addressed by an ARN built from the account and region.
 */
export class CellDataStack extends Stack {
  readonly key: Key;
  readonly tables = new Map<string, Table>();
  readonly capacityAlarms = new Map<string, Alarm>();
  readonly canaryAlarms = new Map<string, Alarm>();

  constructor(scope: Construct, id: string, props: CellDataStackProps) {
    super(scope, id, props);
    const { config, region } = props;
    if (props.env?.region && props.env.region !== region) {
      throw new Error(`CellDataStack: env.region ${props.env.region} differs from region ${region}`);
    }
    this.key = new Key(this, 'CellKey', {
      enableKeyRotation: true,
      alias: config.names.cellKeyAlias,
      description: `prestage cell tables in ${region}`,
    });
    for (const cell of config.cells[region] ?? []) this.addCell(config, cell);
    if (region !== config.homeRegion) this.forwardCapacityAlarms(config);
  }

  private addCell(config: PrestageConfig, cell: CellConfig): void {
    const name = cellTableName(config, cell.id);
    const schema = tableSchemaOf(cellDataTableDefinition(name));
    const table = new Table(this, `Cell-${cell.id}`, {
      tableName: name,
      partitionKey: schema.partitionKey,
      sortKey: schema.sortKey,
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of schema.globalSecondaryIndexes) table.addGlobalSecondaryIndex(index);
    this.tables.set(cell.id, table);

    const period = Duration.minutes(1);
    const consumed = (metricName: string) =>
      new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: name },
        statistic: 'Sum',
        period,
      });
    const opsPerSecond = new MathExpression({
      expression: '(reads + writes) / PERIOD(reads)',
      usingMetrics: {
        reads: consumed('ConsumedReadCapacityUnits'),
        writes: consumed('ConsumedWriteCapacityUnits'),
      },
      label: `${cell.id} consumed capacity units per second`,
      period,
    });
    this.capacityAlarms.set(
      cell.id,
      new Alarm(this, `Capacity-${cell.id}`, {
        alarmName: `${config.names.capacityAlarmPrefix}${cell.id}`,
        alarmDescription: `Cell ${cell.id} (${name}) above ${Math.round(config.scaling.capacityAlarmThreshold * 100)}% of its ${cell.capacityOpsPerSec} ops/s: EventBridge starts ScaleCluster`,
        metric: opsPerSecond,
        threshold: cell.capacityOpsPerSec * config.scaling.capacityAlarmThreshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    const errorMetrics: Record<string, Metric> = {};
    DATA_OPERATIONS.forEach((operation, i) => {
      errorMetrics[`e${i}`] = new Metric({
        namespace: 'AWS/DynamoDB',
        metricName: 'SystemErrors',
        dimensionsMap: { TableName: name, Operation: operation },
        statistic: 'Sum',
        period,
      });
    });
    errorMetrics.readThrottles = consumed('ReadThrottleEvents');
    errorMetrics.writeThrottles = consumed('WriteThrottleEvents');
    this.canaryAlarms.set(
      cell.id,
      new Alarm(this, `Canary-${cell.id}`, {
        alarmName: `${config.names.canaryAlarmPrefix}${cell.id}`,
        alarmDescription: `Cell ${cell.id} (${name}) server errors and throttles: MigratePartition's canary health check rolls back a read shift to this cell while it is in ALARM`,
        metric: new MathExpression({
          expression: 'SUM(METRICS())',
          usingMetrics: errorMetrics,
          label: `${cell.id} server errors and throttles`,
          period,
        }),
        threshold: CANARY_ERRORS_PER_MINUTE,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  private forwardCapacityAlarms(config: PrestageConfig): void {
    const homeBus = EventBus.fromEventBusArn(
      this,
      'HomeEventBus',
      this.formatArn({
        service: 'events',
        region: config.homeRegion,
        resource: 'event-bus',
        resourceName: 'default',
      }),
    );
    const deadLetters = new Queue(this, 'ForwardingDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the alarm-forwarding rule target',
    });
    Validations.of(deadLetters).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is itself the dead-letter queue of the alarm-forwarding rule target',
    });
    new Rule(this, 'ForwardCapacityAlarms', {
      description: `Forward prestage capacity alarms to the home region ${config.homeRegion}, where they start ScaleCluster`,
      eventPattern: capacityAlarmPattern(config),
      targets: [new EventBusTarget(homeBus, { deadLetterQueue: deadLetters })],
    });
  }
}
