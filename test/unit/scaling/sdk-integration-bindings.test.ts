import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellDataTableDefinition } from '../../../src/adapters/dynamodb/table-definitions.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { SdkIntegrationBindings } from '../../../src/local/sdk-integration-bindings.ts';
import { cellAlarmDefinitions } from '../../../src/scaling/cell-alarm-definitions.ts';
import { localDynamo } from '../../support/local-tables.ts';

describe('SDK-integration bindings on dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let sdk: SdkIntegrationBindings;

  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    sdk = new SdkIntegrationBindings({ clientFor: () => client });
  });
  afterAll(async () => {
    await dynamo.close();
  });

  const call = (
    action: string,
    parameters: Record<string, unknown>,
    style: 'direct' | 'cross-region' = 'direct',
  ) => sdk.call({ region: 'us-east-1', action, parameters, style });

  it('creates a table like CreateTable does, records SSE, PITR and TTL, and deletes it', async () => {
    const { TableName: _t, ...definition } = cellDataTableDefinition('x');
    const sse = { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: 'alias/k' };
    const created = await call('createTable', { ...definition, TableName: 'bind-a', SSESpecification: sse });
    expect(created).toMatchObject({ TableDescription: { TableName: 'bind-a' } });
    expect(created).not.toHaveProperty('$metadata');
    const described = await call('describeTable', { TableName: 'bind-a' }, 'cross-region');
    expect(described).toHaveProperty('$metadata');
    expect(described).toMatchObject({ Table: { TableName: 'bind-a' } });
    await call('updateContinuousBackups', {
      TableName: 'bind-a',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    await call('updateTimeToLive', {
      TableName: 'bind-a',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(sdk.settingsOf('us-east-1', 'bind-a')).toEqual({
      sse,
      pointInTimeRecovery: true,
      timeToLiveAttribute: 'expiresAt',
    });
    await call('deleteTable', { TableName: 'bind-a' });
    await expect(call('describeTable', { TableName: 'bind-a' })).rejects.toMatchObject({
      name: 'DynamoDb.ResourceNotFoundException',
    });
  });

  it('names errors as Step Functions does: DynamoDb.<Exception> directly, the bare name across regions', async () => {
    const { TableName: _t, ...definition } = cellDataTableDefinition('x');
    await call('createTable', { ...definition, TableName: 'bind-b' });
    await expect(call('createTable', { ...definition, TableName: 'bind-b' })).rejects.toMatchObject({
      name: 'DynamoDb.ResourceInUseException',
    });
    await expect(
      call('createTable', { ...definition, TableName: 'bind-b' }, 'cross-region'),
    ).rejects.toMatchObject({
      name: 'ResourceInUseException',
    });
    await expect(
      call('updateContinuousBackups', {
        TableName: 'no-table',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    ).rejects.toMatchObject({ name: 'DynamoDb.TableNotFoundException' });
    await expect(
      call('createBackup', { TableName: 'no-table', BackupName: 'b' }, 'cross-region'),
    ).rejects.toMatchObject({
      name: 'TableNotFoundException',
    });
    await expect(
      call('describeBackup', { BackupArn: 'arn:aws:dynamodb:us-east-1:0:table/t/backup/none' }),
    ).rejects.toMatchObject({
      name: 'DynamoDb.BackupNotFoundException',
    });
    await expect(call('listTables', {})).rejects.toMatchObject({ name: 'DynamoDb.UnsupportedOperation' });
  });

  it('answers CreateBackup and DescribeBackup in the API shapes the state machine selects from', async () => {
    const { TableName: _t, ...definition } = cellDataTableDefinition('x');
    await call('createTable', { ...definition, TableName: 'bind-c' });
    const created = (await call('createBackup', { TableName: 'bind-c', BackupName: 'bind-c-final' })) as {
      BackupDetails: { BackupArn: string; BackupStatus: string };
    };
    expect(created.BackupDetails.BackupStatus).toBe('CREATING');
    await sdk.backupFor('us-east-1').settled();
    expect(await call('describeBackup', { BackupArn: created.BackupDetails.BackupArn })).toMatchObject({
      BackupDescription: {
        BackupDetails: { BackupStatus: 'AVAILABLE', BackupName: 'bind-c-final' },
        SourceTableDetails: { TableName: 'bind-c' },
      },
    });
    expect(sdk.calls.map((c) => c.action).slice(-3)).toEqual([
      'createTable',
      'createBackup',
      'describeBackup',
    ]);
  });

  describe('CloudWatch alarms (in memory)', () => {
    const settings = {
      capacityAlarmPrefix: 'cap-',
      canaryAlarmPrefix: 'err-',
      capacityAlarmThreshold: 0.8,
    };
    const alarms = cellAlarmDefinitions(
      { cellId: 'n1', table: 'cells-n1', capacityOpsPerSec: 250 },
      settings,
    );
    const cw = (
      action: string,
      parameters: Record<string, unknown>,
      style: 'direct' | 'cross-region' = 'direct',
      region = 'eu-west-1',
    ) => sdk.call({ region, service: 'cloudwatch', action, parameters, style });

    it('puts the cell alarm definitions as PutMetricAlarm input, per region, and overwrites on a retry', async () => {
      expect(await cw('putMetricAlarm', { ...alarms.capacity })).toEqual({});
      expect(await cw('putMetricAlarm', { ...alarms.canary }, 'cross-region')).toHaveProperty('$metadata');
      expect(await cw('putMetricAlarm', { ...alarms.capacity })).toEqual({});
      expect(sdk.alarms.names('eu-west-1')).toEqual(['cap-n1', 'err-n1']);
      expect(sdk.alarms.names('us-east-1')).toEqual([]);
      expect(sdk.alarms.get('eu-west-1', 'cap-n1')).toEqual(alarms.capacity);
      expect(sdk.alarms.get('eu-west-1', 'cap-n1')?.Threshold).toBe(200);
    });

    it('refuses what PutMetricAlarm refuses, with its error names', async () => {
      const bad = (change: Record<string, unknown>) =>
        cw('putMetricAlarm', { ...alarms.capacity, ...change });
      const [expression, reads, writes] = alarms.capacity.Metrics;
      await expect(
        bad({ Metrics: [{ ...expression, Expression: '(reads + writez) / PERIOD(reads)' }, reads, writes] }),
      ).rejects.toMatchObject({ name: 'CloudWatch.InvalidParameterValueException', message: /writez/ });
      await expect(
        bad({ Metrics: [expression, { ...reads, ReturnData: true }, writes] }),
      ).rejects.toMatchObject({
        name: 'CloudWatch.InvalidParameterValueException',
        message: /exactly one metric query/,
      });
      await expect(bad({ DatapointsToAlarm: 6 })).rejects.toMatchObject({
        name: 'CloudWatch.InvalidParameterValueException',
      });
      await expect(bad({ Threshold: undefined })).rejects.toMatchObject({
        name: 'CloudWatch.MissingRequiredParameterException',
      });
      await expect(bad({ MetricName: 'X' })).rejects.toMatchObject({
        name: 'CloudWatch.InvalidParameterCombinationException',
      });
      await expect(
        cw('putMetricAlarm', { ...alarms.capacity, ComparisonOperator: 'Above' }, 'cross-region'),
      ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
      await expect(cw('describeAlarms', {})).rejects.toMatchObject({
        name: 'CloudWatch.UnsupportedOperation',
      });
    });

    it('deletes alarms; names that do not exist are reported as ResourceNotFound after the others go', async () => {
      await cw('putMetricAlarm', { ...alarms.capacity }, 'direct', 'ap-south-1');
      await cw('putMetricAlarm', { ...alarms.canary }, 'direct', 'ap-south-1');
      expect(await cw('deleteAlarms', { AlarmNames: ['cap-n1', 'err-n1'] }, 'direct', 'ap-south-1')).toEqual(
        {},
      );
      expect(sdk.alarms.names('ap-south-1')).toEqual([]);
      await cw('putMetricAlarm', { ...alarms.canary }, 'direct', 'ap-south-1');
      await expect(
        cw('deleteAlarms', { AlarmNames: ['cap-n1', 'err-n1'] }, 'cross-region', 'ap-south-1'),
      ).rejects.toMatchObject({ name: 'ResourceNotFound', message: /cap-n1/ });
      expect(sdk.alarms.names('ap-south-1')).toEqual([]);
      await expect(
        cw('deleteAlarms', { AlarmNames: ['cap-n1'] }, 'direct', 'ap-south-1'),
      ).rejects.toMatchObject({ name: 'CloudWatch.ResourceNotFound' });
    });
  });
});
