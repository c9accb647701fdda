import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCellRepository } from '../../../src/adapters/dynamodb/cell-repository.ts';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { cellsTableDefinition, ensureTable } from '../../../src/adapters/dynamodb/table-definitions.ts';
import { RegionalCells, RegionalPartitions } from '../../../src/data-plane/regional-metadata.ts';
import {
  awsDataPlane,
  awsMigrationDeps,
  cloudWatchClients,
  readDataPlaneConfig,
} from '../../../src/lambda/data-plane-config.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../support/local-tables.ts';

describe('awsMigrationDeps: the canary health check', () => {
  let dynamo: LocalDynamo;
  const saved = { ...process.env };
  const cloudwatch = mockClient(CloudWatchClient);

  beforeAll(async () => {
    const local = await localDynamo();
    dynamo = local.dynamo;
    await ensureTable(local.client, cellsTableDefinition('dp-cells'));
    const cells = new DynamoCellRepository(documentClient(local.client), 'dp-cells');
    for (const [id, region] of [
      ['use1-a', 'us-east-1'],
      ['euw1-a', 'eu-west-1'],
    ]) {
      await cells.register({
        id,
        region,
        table: `prestage-cell-${id}`,
        capacityOpsPerSec: 100,
        capacityBytes: 1e9,
        status: 'ACTIVE',
        version: 1,
      });
    }
    local.client.destroy();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
  });
  afterAll(async () => {
    process.env = saved;
    cloudwatch.restore();
    await dynamo.close();
  });

  it("asks CloudWatch in the target cell's region, not the Lambda's, for the cell's canary alarm", async () => {
    cloudwatch.on(DescribeAlarmsCommand).callsFake(async (input: { AlarmNames: string[] }) => ({
      MetricAlarms: [{ AlarmName: input.AlarmNames[0], StateValue: 'ALARM', StateReason: 'errors' }],
    }));
    const deps = awsMigrationDeps(
      readDataPlaneConfig({
        PRESTAGE_PARTITIONS_TABLE: 'dp-partitions',
        PRESTAGE_CELLS_TABLE: 'dp-cells',
        PRESTAGE_ACCESS_STATS_TABLE: 'dp-stats',
        PRESTAGE_HOME_REGION: 'us-east-1',
        AWS_REGION: 'us-east-1',
      }),
    );
    await deps.directory.refreshIfStale();
    const europe = await deps.health.check('euw1-a', 0);
    const america = await deps.health.check('use1-a', 0);
    expect(europe).toMatchObject({
      healthy: false,
      reason: expect.stringContaining('prestage-cell-errors-euw1-a'),
    });
    expect(america.healthy).toBe(false);
    const calls = cloudwatch.commandCalls(DescribeAlarmsCommand);
    expect(calls.map((c) => c.args[0].input.AlarmNames)).toEqual([
      ['prestage-cell-errors-euw1-a'],
      ['prestage-cell-errors-use1-a'],
    ]);
    const regions = await Promise.all(calls.map((c) => (c.thisValue as CloudWatchClient).config.region()));
    expect(regions).toEqual(['eu-west-1', 'us-east-1']);
    await expect(deps.health.check('unknown-cell', 0)).rejects.toMatchObject({
      name: 'CellUnavailableError',
    });
  });

  it('builds one client per region and reuses it', () => {
    const created: string[] = [];
    const clientIn = cloudWatchClients((region) => {
      created.push(region);
      return new CloudWatchClient({ region });
    });
    expect(clientIn('eu-west-1')).toBe(clientIn('eu-west-1'));
    expect(clientIn('us-east-1')).not.toBe(clientIn('eu-west-1'));
    expect(created).toEqual(['eu-west-1', 'us-east-1']);
  });
});

describe('readDataPlaneConfig and awsDataPlane: routing replicas', () => {
  const env = (extra: Record<string, string>) => ({
    PRESTAGE_PARTITIONS_TABLE: 'prestage-partitions',
    PRESTAGE_CELLS_TABLE: 'prestage-cells',
    PRESTAGE_ACCESS_STATS_TABLE: 'prestage-access-stats',
    PRESTAGE_HOME_REGION: 'us-east-1',
    ...extra,
  });

  it('reads routing from the replica in the Lambda’s region and writes it in the home region', () => {
    const config = readDataPlaneConfig(
      env({ AWS_REGION: 'eu-west-1', PRESTAGE_REPLICA_REGIONS: 'eu-west-1, ap-northeast-1,us-east-1' }),
    );
    // The home region is never its own replica.
    expect(config.replicaRegions).toEqual(['eu-west-1', 'ap-northeast-1']);
    const plane = awsDataPlane(config);
    expect(plane.partitions).toBeInstanceOf(RegionalPartitions);
    expect(plane.cells).toBeInstanceOf(RegionalCells);
    expect([...plane.replicas.keys()]).toEqual(['eu-west-1', 'ap-northeast-1']);
    const deps = awsMigrationDeps(config);
    // Migrations write the home table and confirm in every replica.
    expect(deps.partitions).not.toBeInstanceOf(RegionalPartitions);
    expect([...(deps.replicas?.keys() ?? [])]).toEqual(['eu-west-1', 'ap-northeast-1']);
  });

  it('without replicas (a single-region deployment) reads and writes the home table', () => {
    const plane = awsDataPlane(readDataPlaneConfig(env({ AWS_REGION: 'us-east-1' })));
    expect(plane.partitions).toBe(plane.homePartitions);
    expect(plane.replicas.size).toBe(0);
  });
});
