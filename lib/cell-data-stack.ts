import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { Alias, type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  accessStatsTableDefinition,
  cellDataTableDefinition,
  TTL_ATTRIBUTE,
} from '../src/adapters/dynamodb/table-definitions.ts';
import {
  type CellAlarmSettings,
  cellAlarmDefinitions,
  type MetricAlarmDefinition,
} from '../src/scaling/cell-alarm-definitions.ts';
import { type CellConfig, cellTableName, type PrestageConfig } from './prestage-config.ts';
import { tableSchemaOf } from './table-schema.ts';

export interface CellDataStackProps extends StackProps {
  readonly config: PrestageConfig;
  /** The data region this stack serves (also its `env.region`). */
  readonly region: string;
}

export { CANARY_ERRORS_PER_MINUTE } from '../src/scaling/cell-alarm-definitions.ts';

/** Names and threshold of the cell alarms, as configured (ScaleCluster's steps get the same by environment). */
export function cellAlarmSettings(config: PrestageConfig): CellAlarmSettings {
  return {
    capacityAlarmPrefix: config.names.capacityAlarmPrefix,
    canaryAlarmPrefix: config.names.canaryAlarmPrefix,
    capacityAlarmThreshold: config.scaling.capacityAlarmThreshold,
  };
}

/**
 * An AWS::CloudWatch::Alarm with exactly the fields of a PutMetricAlarm definition. It sits at `<id>/Resource`,
 * where the L2 Alarm put it, so deployed stacks keep the logical id (a new one would clash on the alarm name).
 */
function alarmFrom(scope: Construct, id: string, definition: MetricAlarmDefinition): CfnAlarm {
  return new CfnAlarm(new Construct(scope, id), 'Resource', {
    alarmName: definition.AlarmName,
    alarmDescription: definition.AlarmDescription,
    metrics: definition.Metrics.map((query) => ({
      id: query.Id,
      expression: query.Expression,
      label: query.Label,
      returnData: query.ReturnData,
      metricStat: query.MetricStat && {
        metric: {
          namespace: query.MetricStat.Metric.Namespace,
          metricName: query.MetricStat.Metric.MetricName,
          dimensions: query.MetricStat.Metric.Dimensions.map((d) => ({ name: d.Name, value: d.Value })),
        },
        period: query.MetricStat.Period,
        stat: query.MetricStat.Stat,
      },
    })),
    threshold: definition.Threshold,
    comparisonOperator: definition.ComparisonOperator,
    evaluationPeriods: definition.EvaluationPeriods,
    datapointsToAlarm: definition.DatapointsToAlarm,
    treatMissingData: definition.TreatMissingData,
  });
}

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
 * `changes` index and the tombstone TTL) and the region's access-stats table, encrypted with this region's
 * customer-managed key (alias `names.cellKeyAlias`, which the grants, ScaleCluster and the routing replicas in
 * this region name), with point-in-time recovery. Per cell, a capacity alarm `<capacityAlarmPrefix><cellId>`
 * (triggers ScaleCluster) and a canary alarm `<canaryAlarmPrefix><cellId>` (read by MigratePartition's canary
 * health check). Outside the home region, capacity alarm state changes are forwarded to the home region's default
 * event bus, addressed by an ARN built from the account and region.
 *
 * After `cdk destroy`, the cell tables, the key and its alias stay (RETAIN): they hold the data. Every table here
 * names its key by the alias, so a redeploy with `--import-existing-resources` adopts the tables and the alias
 * together, and the alias still names the retained key that encrypts them (docs/deployment.md). The access-stats
 * table holds only expiring counts and is deleted with the stack, so it never blocks a redeploy.
 */
export class CellDataStack extends Stack {
  readonly key: Key;
  /** `names.cellKeyAlias`, naming `key`; retained with it. */
  readonly keyAlias: Alias;
  readonly tables = new Map<string, Table>();
  /** Access counts of the requests that arrive in this region (`names.accessStatsTable`). */
  readonly accessStats: Table;
  readonly capacityAlarms = new Map<string, CfnAlarm>();
  readonly canaryAlarms = new Map<string, CfnAlarm>();

  private readonly keyByAlias: IKey;

  constructor(scope: Construct, id: string, props: CellDataStackProps) {
    super(scope, id, props);
    this.validateProps(props);
    const { config, region } = props;
    this.key = new Key(this, 'CellKey', {
      enableKeyRotation: true,
      alias: config.names.cellKeyAlias,
      description: `prestage cell tables in ${region}`,
    });
    // The alias Key creates (`CellKey/Alias`, so deployed stacks keep its logical id), retained with the key.
    this.keyAlias = this.key.node.findChild('Alias') as Alias;
    this.keyAlias.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.keyByAlias = Alias.fromAliasName(this, 'CellKeyByAlias', config.names.cellKeyAlias);
    for (const cell of config.cells[region] ?? []) this.addCell(config, cell);
    this.accessStats = this.addAccessStats(config);
    if (region !== config.homeRegion) this.forwardCapacityAlarms(config);
  }

  private validateProps(props: CellDataStackProps): void {
    const { config, region } = props;
    if (props.env?.region && props.env.region !== region) {
      throw new Error(`CellDataStack: env.region ${props.env.region} differs from region ${region}`);
    }
    if (!config.dataRegions.includes(region)) {
      throw new Error(
        `CellDataStack: ${region} is not one of the data regions ${config.dataRegions.join(', ')}`,
      );
    }
    if (config.names.accessStatsTable.startsWith(config.names.cellTablePrefix)) {
      throw new Error(
        `CellDataStack: access-stats table name ${config.names.accessStatsTable} starts with the cell table prefix ${config.names.cellTablePrefix}; the cell-table grants would cover it`,
      );
    }
  }

  private addCell(config: PrestageConfig, cell: CellConfig): void {
    const name = cellTableName(config, cell.id);
    const table = this.regionalTable(`Cell-${cell.id}`, cellDataTableDefinition(name), RemovalPolicy.RETAIN);
    this.tables.set(cell.id, table);

    // The same definitions ScaleCluster puts for the cells it creates (src/scaling/cell-alarm-definitions.ts).
    const alarms = cellAlarmDefinitions(
      { cellId: cell.id, table: name, capacityOpsPerSec: cell.capacityOpsPerSec },
      cellAlarmSettings(config),
    );
    this.capacityAlarms.set(cell.id, alarmFrom(this, `Capacity-${cell.id}`, alarms.capacity));
    this.canaryAlarms.set(cell.id, alarmFrom(this, `Canary-${cell.id}`, alarms.canary));
  }

  /**
   * The region's access-stats table, written by this region's interceptors and read by the profiler. Counts
   * expire (TTL), so the table is deleted with the stack (DESTROY) rather than left behind to collide with the
   * fixed name on the next deploy.
   */
  private addAccessStats(config: PrestageConfig): Table {
    return this.regionalTable(
      'AccessStats',
      accessStatsTableDefinition(config.names.accessStatsTable),
      RemovalPolicy.DESTROY,
    );
  }

  /**
   * A table of this region with the key schema of `definition` (from src/adapters/dynamodb/table-definitions.ts),
   * on demand, encrypted with the region's cell key, with PITR and the tombstone/counter TTL.
   */
  private regionalTable(
    id: string,
    definition: CreateTableCommandInput,
    removalPolicy: RemovalPolicy,
  ): Table {
    const schema = tableSchemaOf(definition);
    const table = new Table(this, id, {
      tableName: definition.TableName,
      partitionKey: schema.partitionKey,
      sortKey: schema.sortKey,
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.keyByAlias,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy,
    });
    for (const index of schema.globalSecondaryIndexes) table.addGlobalSecondaryIndex(index);
    // The table names its key by the alias ARN, which is no reference: create the alias first.
    table.node.addDependency(this.keyAlias);
    return table;
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
