import type { MetricDataQuery, PutMetricAlarmInput } from '@aws-sdk/client-cloudwatch';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { BackupNotFoundError, LocalCellBackup } from '../adapters/dynamodb/cell-backup.ts';
import type { MetricAlarmDefinition } from '../scaling/cell-alarm-definitions.ts';

/**
 * The SDK-integration Task states of ScaleCluster (`arn:aws:states:::aws-sdk:<service>:<action>` in the home
 * region, CallAwsServiceCrossRegion elsewhere), served locally:
 * - DynamoDB against dynalite: CreateTable, DescribeTable and DeleteTable are dynalite's own;
 *   UpdateContinuousBackups and UpdateTimeToLive, which dynalite lacks, check the table and record the setting;
 *   CreateBackup and DescribeBackup go to LocalCellBackup (a copy into a backup table);
 * - CloudWatch PutMetricAlarm and DeleteAlarms against LocalAlarmRegistry, in memory, per region.
 * Errors carry Step Functions' names: `DynamoDb.<Exception>` / `CloudWatch.<Exception>` for the direct
 * integration, the SDK's own name for the cross-region Lambda (its errorType).
 */

export type SdkIntegrationStyle = 'direct' | 'cross-region';

export const SDK_SERVICES = ['dynamodb', 'cloudwatch'] as const;
export type SdkService = (typeof SDK_SERVICES)[number];

export function isSdkService(value: unknown): value is SdkService {
  return SDK_SERVICES.includes(value as SdkService);
}

/** How Step Functions prefixes a service's errors in the direct integration. */
const ERROR_PREFIX: Record<SdkService, string> = { dynamodb: 'DynamoDb', cloudwatch: 'CloudWatch' };

export interface SdkCall {
  readonly region: string;
  /** @default 'dynamodb' */
  readonly service?: SdkService;
  readonly action: string;
  readonly parameters: Record<string, unknown>;
  readonly style: SdkIntegrationStyle;
}

export interface SdkIntegrationOptions {
  readonly clientFor: (region: string) => DynamoDBClient;
  /** Called before each call is served (tests look at the tables at precise points). */
  readonly beforeCall?: (call: SdkCall) => Promise<void>;
}

export interface TableSettings {
  pointInTimeRecovery?: boolean;
  timeToLiveAttribute?: string;
  sse?: unknown;
}

export const SUPPORTED_SDK_ACTIONS = [
  'createTable',
  'describeTable',
  'updateContinuousBackups',
  'updateTimeToLive',
  'deleteTable',
  'createBackup',
  'describeBackup',
] as const;

export const SUPPORTED_CLOUDWATCH_ACTIONS = ['putMetricAlarm', 'deleteAlarms'] as const;

function stepFunctionsError(error: unknown, style: SdkIntegrationStyle, service: SdkService): Error {
  const source = error as Error;
  const out = new Error(source.message || source.name);
  out.name = style === 'direct' ? `${ERROR_PREFIX[service]}.${source.name}` : source.name;
  return out;
}

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Drop the SDK's `$metadata` (the direct integration returns the API's response fields only). */
function responseOf(output: Record<string, unknown>, style: SdkIntegrationStyle): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(output)) as Record<string, unknown>;
  if (style === 'direct') delete plain.$metadata;
  return plain;
}

const COMPARISON_OPERATORS = new Set([
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
  'LessThanLowerOrGreaterThanUpperThreshold',
  'LessThanLowerThreshold',
  'GreaterThanUpperThreshold',
]);
const MISSING_DATA = new Set(['breaching', 'notBreaching', 'ignore', 'missing']);
const QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;

/**
 * CloudWatch metric alarms by region and name, in memory. PutMetricAlarm makes the checks CloudWatch makes on
 * an alarm over a metric-math query (required fields, enums, query ids, one returned series, ids an expression
 * names, periods, datapoints), so a definition that passes here is well-formed API input; DeleteAlarms deletes
 * the names that exist and, like the API's ResourceNotFound, reports the ones that do not.
 */
export class LocalAlarmRegistry {
  private readonly byRegion = new Map<string, Map<string, PutMetricAlarmInput>>();

  private regionMap(region: string): Map<string, PutMetricAlarmInput> {
    let alarms = this.byRegion.get(region);
    if (!alarms) {
      alarms = new Map();
      this.byRegion.set(region, alarms);
    }
    return alarms;
  }

  /** Create or replace (PutMetricAlarm overwrites an alarm of the same name). */
  put(region: string, alarm: PutMetricAlarmInput | MetricAlarmDefinition): void {
    const input = structuredClone(alarm) as PutMetricAlarmInput;
    validateMetricAlarm(input);
    this.regionMap(region).set(input.AlarmName!, input);
  }

  get(region: string, alarmName: string): PutMetricAlarmInput | undefined {
    return this.byRegion.get(region)?.get(alarmName);
  }

  /** Alarm names in a region, sorted. */
  names(region: string): string[] {
    return [...(this.byRegion.get(region)?.keys() ?? [])].sort();
  }

  /** Delete the names that exist; ResourceNotFound names the others (after the deletions). */
  delete(region: string, alarmNames: readonly string[]): void {
    if (alarmNames.length === 0 || alarmNames.length > 100)
      throw named('InvalidParameterValueException', 'AlarmNames must list 1 to 100 alarms');
    const alarms = this.regionMap(region);
    const missing = alarmNames.filter((name) => !alarms.delete(name));
    if (missing.length > 0) throw named('ResourceNotFound', `alarms not found: ${missing.join(', ')}`);
  }
}

function validateMetricAlarm(input: PutMetricAlarmInput): void {
  const invalid = (message: string) => named('InvalidParameterValueException', message);
  const combination = (message: string) => named('InvalidParameterCombinationException', message);
  const require = (field: keyof PutMetricAlarmInput) => {
    if (input[field] === undefined || input[field] === null)
      throw named('MissingRequiredParameterException', `${field} is required`);
  };
  require('AlarmName');
  require('EvaluationPeriods');
  require('ComparisonOperator');
  require('Threshold');
  const name = input.AlarmName!;
  if (typeof name !== 'string' || name.length < 1 || name.length > 255)
    throw invalid('AlarmName must be 1 to 255 characters');
  if ((input.AlarmDescription?.length ?? 0) > 1024) throw invalid('AlarmDescription is over 1024 characters');
  if (!COMPARISON_OPERATORS.has(input.ComparisonOperator!))
    throw invalid(`ComparisonOperator '${input.ComparisonOperator}' is not valid`);
  if (typeof input.Threshold !== 'number' || !Number.isFinite(input.Threshold))
    throw invalid('Threshold must be a number');
  const periods = input.EvaluationPeriods!;
  if (!Number.isInteger(periods) || periods < 1) throw invalid('EvaluationPeriods must be an integer >= 1');
  const datapoints = input.DatapointsToAlarm ?? periods;
  if (!Number.isInteger(datapoints) || datapoints < 1 || datapoints > periods)
    throw invalid('DatapointsToAlarm must be an integer from 1 to EvaluationPeriods');
  if (input.TreatMissingData !== undefined && !MISSING_DATA.has(input.TreatMissingData))
    throw invalid(`TreatMissingData '${input.TreatMissingData}' is not valid`);
  const single = input.MetricName ?? input.Namespace ?? input.Statistic ?? input.Period;
  if (!input.Metrics) {
    if (single === undefined)
      throw named('MissingRequiredParameterException', 'Metrics or MetricName is required');
    return;
  }
  if (single !== undefined)
    throw combination('Metrics cannot be combined with MetricName, Namespace, Statistic or Period');
  const queries: MetricDataQuery[] = input.Metrics;
  if (!Array.isArray(queries) || queries.length === 0) throw invalid('Metrics must list at least one query');
  const ids = new Set<string>();
  for (const query of queries) {
    if (typeof query.Id !== 'string' || !QUERY_ID.test(query.Id))
      throw invalid(`metric query id '${query.Id}' must start with a lowercase letter`);
    if (ids.has(query.Id)) throw invalid(`metric query id '${query.Id}' is used twice`);
    ids.add(query.Id);
    if ((query.Expression === undefined) === (query.MetricStat === undefined))
      throw combination(`metric query '${query.Id}' needs exactly one of Expression and MetricStat`);
    const stat = query.MetricStat;
    if (stat) {
      if (!stat.Metric?.MetricName || !stat.Stat)
        throw named(
          'MissingRequiredParameterException',
          `metric query '${query.Id}' needs Metric.MetricName and Stat`,
        );
      const period = stat.Period ?? 0;
      if (!(period === 10 || period === 30 || (period >= 60 && period % 60 === 0)))
        throw invalid(`metric query '${query.Id}': Period ${stat.Period} must be 10, 30 or a multiple of 60`);
    }
  }
  for (const query of queries) {
    for (const token of query.Expression?.match(/\b[a-z][a-zA-Z0-9_]*\b/g) ?? []) {
      if (!ids.has(token)) throw invalid(`metric query '${query.Id}' names '${token}', which is no query id`);
    }
  }
  // ReturnData defaults to true: exactly one query may give the alarm its series.
  if (queries.filter((q) => q.ReturnData !== false).length !== 1)
    throw invalid('exactly one metric query must have ReturnData true');
}

export class SdkIntegrationBindings {
  /** PITR, TTL and SSE asked for per `region/table`, for assertions. */
  readonly settings = new Map<string, TableSettings>();
  /** CloudWatch alarms put and deleted through the integration. */
  readonly alarms = new LocalAlarmRegistry();
  readonly calls: SdkCall[] = [];
  private readonly options: SdkIntegrationOptions;
  private readonly backups = new Map<string, LocalCellBackup>();

  constructor(options: SdkIntegrationOptions) {
    this.options = options;
  }

  backupFor(region: string): LocalCellBackup {
    let backup = this.backups.get(region);
    if (!backup) {
      backup = new LocalCellBackup(this.options.clientFor(region), { region });
      this.backups.set(region, backup);
    }
    return backup;
  }

  settingsOf(region: string, table: string): TableSettings {
    const key = `${region}/${table}`;
    let settings = this.settings.get(key);
    if (!settings) {
      settings = {};
      this.settings.set(key, settings);
    }
    return settings;
  }

  async call(call: SdkCall): Promise<Record<string, unknown>> {
    this.calls.push(call);
    await this.options.beforeCall?.(call);
    const service = call.service ?? 'dynamodb';
    try {
      const output = service === 'cloudwatch' ? this.serveCloudWatch(call) : await this.serve(call);
      return responseOf(output, call.style);
    } catch (error) {
      throw stepFunctionsError(error, call.style, service);
    }
  }

  private async requireTable(client: DynamoDBClient, tableName: string, missing: string): Promise<void> {
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException')
        throw named(missing, `Table not found: ${tableName}`);
      throw error;
    }
  }

  private serveCloudWatch({ region, action, parameters }: SdkCall): Record<string, unknown> {
    switch (action) {
      case 'putMetricAlarm':
        this.alarms.put(region, parameters as unknown as PutMetricAlarmInput);
        return { $metadata: {} };
      case 'deleteAlarms':
        this.alarms.delete(region, (parameters.AlarmNames ?? []) as string[]);
        return { $metadata: {} };
      default:
        throw named('UnsupportedOperation', `no local binding for cloudwatch:${action}`);
    }
  }

  private async serve({ region, action, parameters }: SdkCall): Promise<Record<string, unknown>> {
    const client = this.options.clientFor(region);
    const tableName = parameters.TableName as string;
    switch (action) {
      case 'createTable': {
        const { SSESpecification, ...definition } = parameters as unknown as CreateTableCommandInput;
        const output = await client.send(new CreateTableCommand(definition));
        this.settingsOf(region, tableName).sse = SSESpecification;
        return output as unknown as Record<string, unknown>;
      }
      case 'describeTable':
        return (await client.send(new DescribeTableCommand({ TableName: tableName }))) as unknown as Record<
          string,
          unknown
        >;
      case 'deleteTable':
        return (await client.send(new DeleteTableCommand({ TableName: tableName }))) as unknown as Record<
          string,
          unknown
        >;
      case 'updateContinuousBackups': {
        await this.requireTable(client, tableName, 'TableNotFoundException');
        const enabled = Boolean(
          (
            parameters.PointInTimeRecoverySpecification as
              | { PointInTimeRecoveryEnabled?: boolean }
              | undefined
          )?.PointInTimeRecoveryEnabled,
        );
        this.settingsOf(region, tableName).pointInTimeRecovery = enabled;
        return {
          ContinuousBackupsDescription: {
            ContinuousBackupsStatus: 'ENABLED',
            PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: enabled ? 'ENABLED' : 'DISABLED' },
          },
        };
      }
      case 'updateTimeToLive': {
        await this.requireTable(client, tableName, 'ResourceNotFoundException');
        const spec = parameters.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean };
        this.settingsOf(region, tableName).timeToLiveAttribute = spec.Enabled
          ? spec.AttributeName
          : undefined;
        return { TimeToLiveSpecification: spec };
      }
      case 'createBackup': {
        await this.requireTable(client, tableName, 'TableNotFoundException');
        const backup = await this.backupFor(region).create(tableName, parameters.BackupName as string);
        return {
          BackupDetails: {
            BackupArn: backup.backupArn,
            BackupName: backup.backupName,
            BackupStatus: backup.status,
            BackupType: 'USER',
            BackupCreationDateTime: new Date().toISOString(),
          },
        };
      }
      case 'describeBackup': {
        try {
          const backup = await this.backupFor(region).describe(parameters.BackupArn as string);
          return {
            BackupDescription: {
              BackupDetails: {
                BackupArn: backup.backupArn,
                BackupName: backup.backupName,
                BackupStatus: backup.status,
                BackupType: 'USER',
              },
              SourceTableDetails: { TableName: backup.tableName, ItemCount: backup.itemCount },
            },
          };
        } catch (error) {
          if (error instanceof BackupNotFoundError) throw named('BackupNotFoundException', error.message);
          throw error;
        }
      }
      default:
        throw named('UnsupportedOperation', `no local binding for dynamodb:${action}`);
    }
  }
}
