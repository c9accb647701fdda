import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { BackupNotFoundError, LocalCellBackup } from '../adapters/dynamodb/cell-backup.ts';

/**
 * The DynamoDB SDK-integration Task states of ScaleCluster (`arn:aws:states:::aws-sdk:dynamodb:<action>` in the
 * home region, CallAwsServiceCrossRegion elsewhere), served against dynalite. CreateTable, DescribeTable and
 * DeleteTable are dynalite's own; UpdateContinuousBackups and UpdateTimeToLive, which dynalite lacks, check the
 * table and record the setting; CreateBackup and DescribeBackup go to LocalCellBackup (a copy into a backup
 * table). Errors carry Step Functions' names: `DynamoDb.<Exception>` for the direct integration, the SDK's own
 * name for the cross-region Lambda (its errorType).
 */

export type SdkIntegrationStyle = 'direct' | 'cross-region';

export interface SdkCall {
  readonly region: string;
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

function stepFunctionsError(error: unknown, style: SdkIntegrationStyle): Error {
  const source = error as Error;
  const out = new Error(source.message || source.name);
  out.name = style === 'direct' ? `DynamoDb.${source.name}` : source.name;
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

export class SdkIntegrationBindings {
  /** PITR, TTL and SSE asked for per `region/table`, for assertions. */
  readonly settings = new Map<string, TableSettings>();
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
    try {
      return responseOf(await this.serve(call), call.style);
    } catch (error) {
      throw stepFunctionsError(error, call.style);
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
