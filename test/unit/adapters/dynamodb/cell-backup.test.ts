import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateBackupCommand,
  DescribeBackupCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  RestoreTableFromBackupCommand,
  ScanCommand,
  TagResourceCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AwsCellBackup,
  type BackupCopyFailure,
  BackupFailedError,
  BackupNotFoundError,
  LocalCellBackup,
} from '../../../../src/adapters/dynamodb/cell-backup.ts';
import { createDynamoClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import { cellDataTableDefinition, ensureTable } from '../../../../src/adapters/dynamodb/table-definitions.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../../support/local-tables.ts';

type Item = Record<string, AttributeValue>;

async function scanAll(client: DynamoDBClient, table: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => `${a.pk.S}/${a.sk.S}`.localeCompare(`${b.pk.S}/${b.sk.S}`));
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

describe('LocalCellBackup (dynalite: a copy into a backup table)', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let backups: LocalCellBackup;
  const table = 'cell-data-x';
  let original: Item[];

  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    await ensureTable(client, cellDataTableDefinition(table));
    // 432 items over several shards, with binary and nested values, to cross scan and batch pages.
    for (let i = 0; i < 432; i += 25) {
      const batch = Array.from({ length: Math.min(25, 432 - i) }, (_, j) => {
        const n = i + j;
        return {
          PutRequest: {
            Item: {
              pk: { S: `p${n % 7}#${n % 3}` },
              sk: { S: `key-${n}` },
              hlc: { S: String(n).padStart(8, '0') },
              v: { B: new Uint8Array([n % 256, 1, 2]) },
              m: { M: { n: { N: String(n) }, l: { L: [{ S: 'x'.repeat(n % 50) }, { BOOL: n % 2 === 0 }] } } },
            },
          },
        };
      });
      await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } }));
    }
    original = await scanAll(client, table);
    backups = new LocalCellBackup(client, { region: 'us-east-1', pollMs: 5 });
  }, 60_000);
  afterAll(async () => {
    await dynamo.close();
  });

  it('backs up every item, becomes AVAILABLE, and a restore gets every item back', async () => {
    const created = await backups.create(table, 'x-final');
    expect(created).toMatchObject({ backupName: 'x-final', tableName: table, status: 'CREATING' });
    expect(created.backupArn).toBe(
      `arn:aws:dynamodb:us-east-1:000000000000:table/${table}/backup/backup.x-final`,
    );
    const available = await until(
      () => backups.describe(created.backupArn),
      (d) => d.status !== 'CREATING',
    );
    expect(available).toMatchObject({ status: 'AVAILABLE', itemCount: original.length });
    expect(original).toHaveLength(432);
    expect(await scanAll(client, 'backup.x-final')).toEqual(original);

    await backups.restore(created.backupArn, 'cell-data-x-restored');
    expect(await scanAll(client, 'cell-data-x-restored')).toEqual(original);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'cell-data-x-restored' }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['changes']);
  });

  it('a retried create answers with the backup already there', async () => {
    const first = await backups.create(table, 'twice');
    await backups.settled();
    const second = await backups.create(table, 'twice');
    expect(second).toMatchObject({ backupArn: first.backupArn, status: 'AVAILABLE' });
  });

  it('names what is missing', async () => {
    await expect(
      backups.describe('arn:aws:dynamodb:us-east-1:000000000000:table/t/backup/backup.none'),
    ).rejects.toBeInstanceOf(BackupNotFoundError);
    await expect(backups.describe('not-an-arn')).rejects.toBeInstanceOf(BackupNotFoundError);
  });

  it('refuses to restore a backup that is not AVAILABLE', async () => {
    const other = new LocalCellBackup(client, { region: 'us-east-1' });
    const created = await other.create(table, 'in-progress');
    // Describe right away: the copy has hardly started.
    const status = (await other.describe(created.backupArn)).status;
    if (status === 'CREATING')
      await expect(other.restore(created.backupArn, 'nope')).rejects.toBeInstanceOf(BackupFailedError);
    await other.settled();
    expect((await other.describe(created.backupArn)).status).toBe('AVAILABLE');
  });

  /** The dynalite client, with the calls `refuse` picks failing as a broken copy would. */
  function failing(refuse: (command: object) => boolean): DynamoDBClient {
    return {
      send: (command: object) =>
        refuse(command) ? Promise.reject(new Error('refused by the test')) : client.send(command as never),
    } as unknown as DynamoDBClient;
  }

  it('marks a backup whose copy failed DELETED, and counts and reports the failure', async () => {
    const reported: BackupCopyFailure[] = [];
    const broken = new LocalCellBackup(
      failing((command) => command instanceof ScanCommand),
      { region: 'us-east-1', pollMs: 5, onCopyFailure: (failure) => reported.push(failure) },
    );
    const created = await broken.create(table, 'scan-fails');
    await broken.settled();
    expect((await backups.describe(created.backupArn)).status).toBe('DELETED');
    expect(broken.copyFailures).toHaveLength(1);
    expect(broken.copyFailures[0]).toMatchObject({ backupArn: created.backupArn, statusRecorded: true });
    expect((broken.copyFailures[0].error as Error).message).toBe('refused by the test');
    expect(reported).toEqual(broken.copyFailures);
    await expect(broken.restore(created.backupArn, 'never')).rejects.toBeInstanceOf(BackupFailedError);
  });

  it('says so when even the DELETED status could not be written (the backup stays CREATING)', async () => {
    const reported: BackupCopyFailure[] = [];
    const deletedTag = (command: object) =>
      command instanceof TagResourceCommand && command.input.Tags?.some((tag) => tag.Value === 'DELETED');
    const broken = new LocalCellBackup(
      failing((command) => command instanceof ScanCommand || deletedTag(command) === true),
      { region: 'us-east-1', pollMs: 5, onCopyFailure: (failure) => reported.push(failure) },
    );
    const created = await broken.create(table, 'tag-fails');
    await broken.settled();
    expect((await backups.describe(created.backupArn)).status).toBe('CREATING');
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ backupArn: created.backupArn, statusRecorded: false });
    expect((reported[0].statusError as Error).message).toBe('refused by the test');
  });
});

describe('AwsCellBackup (DynamoDB on-demand backups)', () => {
  it('speaks CreateBackup, DescribeBackup and RestoreTableFromBackup', async () => {
    const client = createDynamoClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    const arn = 'arn:aws:dynamodb:us-east-1:1:table/t/backup/01';
    mock.on(CreateBackupCommand, { TableName: 't', BackupName: 'b' }).resolves({
      BackupDetails: {
        BackupArn: arn,
        BackupName: 'b',
        BackupStatus: 'CREATING',
        BackupSizeBytes: 10,
        BackupType: 'USER',
        BackupCreationDateTime: new Date(),
      },
    });
    mock.on(DescribeBackupCommand, { BackupArn: arn }).resolves({
      BackupDescription: {
        BackupDetails: {
          BackupArn: arn,
          BackupName: 'b',
          BackupStatus: 'AVAILABLE',
          BackupType: 'USER',
          BackupCreationDateTime: new Date(),
        },
        SourceTableDetails: {
          TableName: 't',
          TableId: 'id',
          KeySchema: [],
          TableCreationDateTime: new Date(),
          ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0 },
        },
      },
    });
    mock.on(RestoreTableFromBackupCommand, { BackupArn: arn, TargetTableName: 'r' }).resolves({});
    mock
      .on(DescribeTableCommand, { TableName: 'r' })
      .resolvesOnce({ Table: { TableStatus: 'CREATING' } })
      .resolves({ Table: { TableStatus: 'ACTIVE' } });
    const backup = new AwsCellBackup(client, { pollMs: 1 });
    expect(await backup.create('t', 'b')).toEqual({
      backupArn: arn,
      backupName: 'b',
      tableName: 't',
      status: 'CREATING',
      sizeBytes: 10,
    });
    expect(await backup.describe(arn)).toMatchObject({ status: 'AVAILABLE', tableName: 't' });
    await backup.restore(arn, 'r');
    expect(mock.commandCalls(DescribeTableCommand)).toHaveLength(2);
    mock.restore();
  });
});
