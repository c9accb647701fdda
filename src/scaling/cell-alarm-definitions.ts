/**
 * The two CloudWatch alarms every cell has, as CloudWatch PutMetricAlarm input. The cell data stack creates them
 * for configured cells (AWS::CloudWatch::Alarm takes the same fields) and ScaleCluster creates them for the cells
 * it provisions at run time, both from these functions, so the two cannot drift:
 * - the capacity alarm `<capacityAlarmPrefix><cellId>`: consumed read + write capacity units per second above
 *   `capacityAlarmThreshold` × the cell's ops/s capacity for 3 of 5 minutes; EventBridge starts ScaleCluster;
 * - the canary alarm `<canaryAlarmPrefix><cellId>`: server errors and throttles of the cell's table, at least
 *   CANARY_ERRORS_PER_MINUTE in a minute; MigratePartition's canary health check reads it.
 * Pure data: the Lambdas import it without CDK.
 */

/** Errors in one minute at which a cell's canary alarm fires (and an in-progress read shift rolls back). */
export const CANARY_ERRORS_PER_MINUTE = 5;

/** The DynamoDB operations whose 5xx (SystemErrors) count against a cell's canary health. */
export const CANARY_DATA_OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'BatchGetItem',
  'BatchWriteItem',
] as const;

const PERIOD_SECONDS = 60;

export interface CellAlarmSettings {
  readonly capacityAlarmPrefix: string;
  readonly canaryAlarmPrefix: string;
  /** Share of the cell's ops/s capacity above which the capacity alarm fires, in (0, 1]. */
  readonly capacityAlarmThreshold: number;
}

/** The cell an alarm watches. */
export interface AlarmedCell {
  readonly cellId: string;
  /** The cell's DynamoDB table (the metrics' TableName dimension). */
  readonly table: string;
  readonly capacityOpsPerSec: number;
}

export interface MetricDataQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly Label?: string;
  readonly MetricStat?: {
    readonly Metric: {
      readonly Namespace: string;
      readonly MetricName: string;
      readonly Dimensions: readonly { readonly Name: string; readonly Value: string }[];
    };
    readonly Period: number;
    readonly Stat: string;
  };
  readonly ReturnData: boolean;
}

/** PutMetricAlarm input (and AWS::CloudWatch::Alarm properties): every field always present. */
export interface MetricAlarmDefinition {
  readonly AlarmName: string;
  readonly AlarmDescription: string;
  readonly Metrics: readonly MetricDataQuery[];
  readonly Threshold: number;
  readonly ComparisonOperator: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold';
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm: number;
  readonly TreatMissingData: 'notBreaching';
}

/** The fields of a definition, in the order the state machine passes them to PutMetricAlarm. */
export const METRIC_ALARM_FIELDS = [
  'AlarmName',
  'AlarmDescription',
  'Metrics',
  'Threshold',
  'ComparisonOperator',
  'EvaluationPeriods',
  'DatapointsToAlarm',
  'TreatMissingData',
] as const satisfies readonly (keyof MetricAlarmDefinition)[];

export interface CellAlarmDefinitions {
  readonly capacity: MetricAlarmDefinition;
  readonly canary: MetricAlarmDefinition;
}

function tableMetric(id: string, table: string, metricName: string, operation?: string): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/DynamoDB',
        MetricName: metricName,
        Dimensions: [
          { Name: 'TableName', Value: table },
          ...(operation ? [{ Name: 'Operation', Value: operation }] : []),
        ],
      },
      Period: PERIOD_SECONDS,
      Stat: 'Sum',
    },
    ReturnData: false,
  };
}

export function capacityAlarmName(cellId: string, settings: CellAlarmSettings): string {
  return `${settings.capacityAlarmPrefix}${cellId}`;
}

export function canaryAlarmName(cellId: string, settings: CellAlarmSettings): string {
  return `${settings.canaryAlarmPrefix}${cellId}`;
}

/** Both alarm names of a cell (what scale-in deletes). */
export function cellAlarmNames(cellId: string, settings: CellAlarmSettings): string[] {
  return [capacityAlarmName(cellId, settings), canaryAlarmName(cellId, settings)];
}

/** The capacity alarm: its threshold is the cell's own capacity times the configured share. */
export function capacityAlarmDefinition(
  cell: AlarmedCell,
  settings: CellAlarmSettings,
): MetricAlarmDefinition {
  const share = settings.capacityAlarmThreshold;
  if (!(share > 0 && share <= 1))
    throw new RangeError(`capacityAlarmThreshold ${share} must be a share of the capacity in (0, 1]`);
  if (!(cell.capacityOpsPerSec > 0))
    throw new RangeError(`cell ${cell.cellId}: capacityOpsPerSec ${cell.capacityOpsPerSec} must be positive`);
  return {
    AlarmName: capacityAlarmName(cell.cellId, settings),
    AlarmDescription: `Cell ${cell.cellId} (${cell.table}) above ${Math.round(share * 100)}% of its ${cell.capacityOpsPerSec} ops/s: EventBridge starts ScaleCluster`,
    Metrics: [
      {
        Id: 'opsPerSecond',
        Expression: '(reads + writes) / PERIOD(reads)',
        Label: `${cell.cellId} consumed capacity units per second`,
        ReturnData: true,
      },
      tableMetric('reads', cell.table, 'ConsumedReadCapacityUnits'),
      tableMetric('writes', cell.table, 'ConsumedWriteCapacityUnits'),
    ],
    Threshold: cell.capacityOpsPerSec * share,
    ComparisonOperator: 'GreaterThanThreshold',
    EvaluationPeriods: 5,
    DatapointsToAlarm: 3,
    TreatMissingData: 'notBreaching',
  };
}

/** The canary alarm: server errors of the data operations plus read and write throttles, per minute. */
export function canaryAlarmDefinition(cell: AlarmedCell, settings: CellAlarmSettings): MetricAlarmDefinition {
  return {
    AlarmName: canaryAlarmName(cell.cellId, settings),
    AlarmDescription: `Cell ${cell.cellId} (${cell.table}) server errors and throttles: MigratePartition's canary health check rolls back a read shift to this cell while it is in ALARM`,
    Metrics: [
      {
        Id: 'errors',
        Expression: 'SUM(METRICS())',
        Label: `${cell.cellId} server errors and throttles`,
        ReturnData: true,
      },
      ...CANARY_DATA_OPERATIONS.map((operation, i) =>
        tableMetric(`e${i}`, cell.table, 'SystemErrors', operation),
      ),
      tableMetric('readThrottles', cell.table, 'ReadThrottleEvents'),
      tableMetric('writeThrottles', cell.table, 'WriteThrottleEvents'),
    ],
    Threshold: CANARY_ERRORS_PER_MINUTE,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    TreatMissingData: 'notBreaching',
  };
}

export function cellAlarmDefinitions(cell: AlarmedCell, settings: CellAlarmSettings): CellAlarmDefinitions {
  return { capacity: capacityAlarmDefinition(cell, settings), canary: canaryAlarmDefinition(cell, settings) };
}
