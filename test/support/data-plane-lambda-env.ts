import { DynamoCellRepository } from '../../src/adapters/dynamodb/cell-repository.ts';
import { documentClient } from '../../src/adapters/dynamodb/dynamodb-client.ts';
import {
  accessStatsTableDefinition,
  cellDataTableDefinition,
  cellsTableDefinition,
  ensureTable,
  partitionsTableDefinition,
} from '../../src/adapters/dynamodb/table-definitions.ts';
import { DATA_PLANE_ENV } from '../../src/lambda/data-plane-config.ts';
import { localDynamo } from './local-tables.ts';

export interface DataPlaneLambdaEnv {
  /** Restore process.env and stop dynalite. */
  close(): Promise<void>;
}

/**
 * A data-plane Lambda's world on one dynalite: the partitions, cells and access-stats tables named
 * `<prefix>-…`, a data table `<prefix>-data-<cell>` per cell (registered ACTIVE), and process.env set as the
 * stack sets it, with the SDK pointed at dynalite, so an entry file can be imported as Lambda loads it.
 */
export async function startDataPlaneLambdaEnv(
  prefix: string,
  cells: readonly (readonly [id: string, region: string])[],
): Promise<DataPlaneLambdaEnv> {
  const saved = { ...process.env };
  const { dynamo, client } = await localDynamo();
  await ensureTable(client, partitionsTableDefinition(`${prefix}-partitions`));
  await ensureTable(client, cellsTableDefinition(`${prefix}-cells`));
  await ensureTable(client, accessStatsTableDefinition(`${prefix}-stats`));
  const registry = new DynamoCellRepository(documentClient(client), `${prefix}-cells`);
  for (const [id, region] of cells) {
    await ensureTable(client, cellDataTableDefinition(`${prefix}-data-${id}`));
    await registry.register({
      id,
      region,
      table: `${prefix}-data-${id}`,
      capacityOpsPerSec: 100,
      capacityBytes: 1e9,
      status: 'ACTIVE',
      version: 1,
    });
  }
  client.destroy();
  Object.assign(process.env, {
    [DATA_PLANE_ENV.partitionsTable]: `${prefix}-partitions`,
    [DATA_PLANE_ENV.cellsTable]: `${prefix}-cells`,
    [DATA_PLANE_ENV.accessStatsTable]: `${prefix}-stats`,
    [DATA_PLANE_ENV.homeRegion]: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  return {
    close: async () => {
      process.env = saved;
      await dynamo.close();
    },
  };
}
