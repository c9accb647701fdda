import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateBackupCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeBackupCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ListTagsOfResourceCommand,
  ResourceInUseException,
  RestoreTableFromBackupCommand,
  ScanCommand,
  type TableDescription,
  TagResourceCommand,
} from '@aws-sdk/client-dynamodb';
import { PrestageError } from '../../domain/errors.ts';
import { mapBounded } from '../../support/bounded-parallel.ts';

/**
 * On-demand backups of a cell's data table, taken before a scale-in deletes it. DynamoDB's CreateBackup,
 * DescribeBackup and RestoreTableFromBackup in AWS; dynalite has none of them, so the local adapter copies every
 * item into a backup table and restores by copying them back. Both report DynamoDB's backup statuses.
 */

export type CellBackupStatus = 'CREATING' | 'AVAILABLE' | 'DELETED';

export interface CellBackupDescription {
  readonly backupArn: string;
  readonly backupName: string;
  readonly tableName: string;
  readonly status: CellBackupStatus;
  readonly sizeBytes?: number;
  /** Items copied (local backups only). */
  readonly itemCount?: number;
}

export interface CellBackup {
  /** Start a backup of `tableName`; it is usable once `describe` says AVAILABLE. */
  create(tableName: string, backupName: string): Promise<CellBackupDescription>;
  describe(backupArn: string): Promise<CellBackupDescription>;
  /** Restore into a new table `targetTableName`; resolves once the table is ACTIVE and holds the data. */
  restore(backupArn: string, targetTableName: string): Promise<void>;
}

export class BackupNotFoundError extends PrestageError {}

/** A backup that ended in the DELETED state before it became AVAILABLE. */
export class BackupFailedError extends PrestageError {}

async function waitActive(client: DynamoDBClient, tableName: string, pollMs: number): Promise<void> {
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (Table?.TableStatus === 'ACTIVE' && indexes.every((i) => i.IndexStatus === 'ACTIVE')) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** DynamoDB's own on-demand backups. */
export class AwsCellBackup implements CellBackup {
  private readonly client: DynamoDBClient;
  private readonly pollMs: number;

  constructor(client: DynamoDBClient, options: { pollMs?: number } = {}) {
    this.client = client;
    this.pollMs = options.pollMs ?? 5_000;
  }

  async create(tableName: string, backupName: string): Promise<CellBackupDescription> {
    const { BackupDetails } = await this.client.send(
      new CreateBackupCommand({ TableName: tableName, BackupName: backupName }),
    );
    return {
      backupArn: BackupDetails!.BackupArn!,
      backupName: BackupDetails!.BackupName!,
      tableName,
      status: BackupDetails!.BackupStatus as CellBackupStatus,
      sizeBytes: BackupDetails!.BackupSizeBytes,
    };
  }

  async describe(backupArn: string): Promise<CellBackupDescription> {
    const { BackupDescription } = await this.client.send(new DescribeBackupCommand({ BackupArn: backupArn }));
    const details = BackupDescription?.BackupDetails;
    if (!details) throw new BackupNotFoundError(`no backup '${backupArn}'`);
    return {
      backupArn,
      backupName: details.BackupName!,
      tableName: BackupDescription?.SourceTableDetails?.TableName ?? '',
      status: details.BackupStatus as CellBackupStatus,
      sizeBytes: details.BackupSizeBytes,
    };
  }

  async restore(backupArn: string, targetTableName: string): Promise<void> {
    await this.client.send(
      new RestoreTableFromBackupCommand({ BackupArn: backupArn, TargetTableName: targetTableName }),
    );
    await waitActive(this.client, targetTableName, this.pollMs);
  }
}

const STATUS_TAG = 'prestage:backup-status';
const BACKUP_TABLE_PREFIX = 'backup.';

/** The definition of a table like `table` (keys and indexes), for a copy of it under another name. */
function definitionLike(table: TableDescription, tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: table.KeySchema,
    AttributeDefinitions: table.AttributeDefinitions,
    ...(table.GlobalSecondaryIndexes?.length
      ? {
          GlobalSecondaryIndexes: table.GlobalSecondaryIndexes.map((index) => ({
            IndexName: index.IndexName,
            KeySchema: index.KeySchema,
            Projection: index.Projection,
          })),
        }
      : {}),
  };
}

/** A background copy of a local backup that failed. */
export interface BackupCopyFailure {
  readonly backupArn: string;
  readonly error: unknown;
  /**
   * Whether the backup was marked DELETED (what DynamoDB reports for a backup it could not make). False when
   * even that tag could not be written: `describe` then keeps answering CREATING, and ScaleCluster's bounded
   * wait for AVAILABLE fails the scale-in, so the table is never deleted without a backup either way.
   */
  readonly statusRecorded: boolean;
  /** Why the DELETED status could not be written. */
  readonly statusError?: unknown;
}

/** The default report of a failed copy: one structured line on stderr (a local run has no Powertools logger). */
function warnCopyFailed(failure: BackupCopyFailure): void {
  console.warn(
    JSON.stringify({
      level: 'WARN',
      message: 'local backup copy failed',
      backupArn: failure.backupArn,
      statusRecorded: failure.statusRecorded,
      error: String(failure.error),
      ...(failure.statusError !== undefined ? { statusError: String(failure.statusError) } : {}),
    }),
  );
}

export interface LocalCellBackupOptions {
  readonly region: string;
  /** @default 20 */
  readonly pollMs?: number;
  /** Told of every background copy that fails. @default a warning line on stderr */
  readonly onCopyFailure?: (failure: BackupCopyFailure) => void;
}

/**
 * Backups for dynalite: a copy of every item into the table `backup.<backupName>`, whose status lives in a tag
 * (so any process can describe it). The copy runs in the background, as DynamoDB's does: `create` answers
 * CREATING and `describe` says AVAILABLE once every item is in, or DELETED if the copy failed.
 */
export class LocalCellBackup implements CellBackup {
  private readonly client: DynamoDBClient;
  private readonly region: string;
  private readonly pollMs: number;
  private readonly onCopyFailure: (failure: BackupCopyFailure) => void;
  private readonly copies = new Map<string, Promise<void>>();
  /** Copies of this instance that failed, oldest first. */
  readonly copyFailures: BackupCopyFailure[] = [];

  constructor(client: DynamoDBClient, options: LocalCellBackupOptions) {
    this.client = client;
    this.region = options.region;
    this.pollMs = options.pollMs ?? 20;
    this.onCopyFailure = options.onCopyFailure ?? warnCopyFailed;
  }

  static backupTableOf(backupArn: string): { tableName: string; backupTable: string } {
    const match = /:table\/([^/]+)\/backup\/(.+)$/.exec(backupArn);
    if (!match) throw new BackupNotFoundError(`'${backupArn}' is not a backup ARN`);
    return { tableName: match[1], backupTable: match[2] };
  }

  private arnOf(tableName: string, backupTable: string): string {
    return `arn:aws:dynamodb:${this.region}:000000000000:table/${tableName}/backup/${backupTable}`;
  }

  async create(tableName: string, backupName: string): Promise<CellBackupDescription> {
    const backupTable = `${BACKUP_TABLE_PREFIX}${backupName}`.slice(0, 255);
    const backupArn = this.arnOf(tableName, backupTable);
    const { Table: source } = await this.client.send(new DescribeTableCommand({ TableName: tableName }));
    try {
      await this.client.send(new CreateTableCommand(definitionLike(source!, backupTable)));
    } catch (error) {
      // A retried CreateBackup: the backup exists (or is being made) already.
      if (error instanceof ResourceInUseException) return this.describe(backupArn);
      throw error;
    }
    const copy = (async () => {
      await waitActive(this.client, backupTable, this.pollMs);
      await this.setStatus(backupTable, 'CREATING');
      const items = await this.copyItems(tableName, backupTable);
      await this.setStatus(backupTable, 'AVAILABLE', items);
    })().catch((error: unknown) => this.copyFailed(backupArn, backupTable, error));
    this.copies.set(backupArn, copy);
    return { backupArn, backupName, tableName, status: 'CREATING' };
  }

  async describe(backupArn: string): Promise<CellBackupDescription> {
    const { tableName, backupTable } = LocalCellBackup.backupTableOf(backupArn);
    const backupName = backupTable.slice(BACKUP_TABLE_PREFIX.length);
    let table: TableDescription | undefined;
    try {
      table = (await this.client.send(new DescribeTableCommand({ TableName: backupTable }))).Table;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException')
        throw new BackupNotFoundError(`no backup '${backupArn}'`);
      throw error;
    }
    const { Tags } = await this.client.send(new ListTagsOfResourceCommand({ ResourceArn: table!.TableArn }));
    const tag = (key: string) => Tags?.find((t) => t.Key === key)?.Value;
    const status = (tag(STATUS_TAG) as CellBackupStatus | undefined) ?? 'CREATING';
    const items = tag(`${STATUS_TAG}:items`);
    return {
      backupArn,
      backupName,
      tableName,
      status,
      ...(items !== undefined ? { itemCount: Number(items) } : {}),
    };
  }

  async restore(backupArn: string, targetTableName: string): Promise<void> {
    const described = await this.describe(backupArn);
    if (described.status !== 'AVAILABLE')
      throw new BackupFailedError(`backup '${backupArn}' is ${described.status}, not AVAILABLE`);
    const { backupTable } = LocalCellBackup.backupTableOf(backupArn);
    const { Table } = await this.client.send(new DescribeTableCommand({ TableName: backupTable }));
    await this.client.send(new CreateTableCommand(definitionLike(Table!, targetTableName)));
    await waitActive(this.client, targetTableName, this.pollMs);
    await this.copyItems(backupTable, targetTableName);
  }

  /** Mark the backup DELETED, then count and report the failure (never rethrown: nobody awaits the copy). */
  private async copyFailed(backupArn: string, backupTable: string, error: unknown): Promise<void> {
    let failure: BackupCopyFailure;
    try {
      await this.setStatus(backupTable, 'DELETED');
      failure = { backupArn, error, statusRecorded: true };
    } catch (statusError) {
      failure = { backupArn, error, statusRecorded: false, statusError };
    }
    this.copyFailures.push(failure);
    this.onCopyFailure(failure);
  }

  /** Wait for the background copies this instance started (tests, and a clean shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.copies.values());
  }

  private async setStatus(backupTable: string, status: CellBackupStatus, items?: number): Promise<void> {
    const { Table } = await this.client.send(new DescribeTableCommand({ TableName: backupTable }));
    await this.client.send(
      new TagResourceCommand({
        ResourceArn: Table!.TableArn,
        Tags: [
          { Key: STATUS_TAG, Value: status },
          ...(items !== undefined ? [{ Key: `${STATUS_TAG}:items`, Value: String(items) }] : []),
        ],
      }),
    );
  }

  private async copyItems(from: string, to: string): Promise<number> {
    let start: Record<string, AttributeValue> | undefined;
    let copied = 0;
    do {
      const page = await this.client.send(
        new ScanCommand({ TableName: from, ExclusiveStartKey: start, ConsistentRead: true, Limit: 200 }),
      );
      const items = page.Items ?? [];
      const batches: Record<string, AttributeValue>[][] = [];
      for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
      await mapBounded(batches, 4, (batch) => this.writeAll(to, batch));
      copied += items.length;
      start = page.LastEvaluatedKey;
    } while (start);
    return copied;
  }

  private async writeAll(table: string, items: Record<string, AttributeValue>[]): Promise<void> {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(500, 10 * 2 ** attempt)));
      const result = await this.client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
      );
      pending = (result.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  }
}
