import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoCellDataStores } from '../../src/adapters/dynamodb/cell-data-store.ts';
import { CellDirectory } from '../../src/adapters/dynamodb/cell-directory.ts';
import { documentClient } from '../../src/adapters/dynamodb/dynamodb-client.ts';
import { CellHealth } from '../../src/data-plane/cell-health.ts';
import { EmbeddedCluster } from '../../src/local/embedded-cluster.ts';
import { localMigrationDeps } from '../../src/local/local-migration-deps.ts';
import { LocalMigrationRunner } from '../../src/local/local-migration-runner.ts';
import { createControlTables } from '../unit/planner-service/planner-fixtures.ts';
import { TEST_TUNING, testAsl } from './migration-harness.ts';
import { TEST_LEASE } from './test-cluster.ts';

export interface ScalingCluster {
  readonly cluster: EmbeddedCluster;
  /** The home region's tables (control plane), through the document client. */
  readonly home: DynamoDBDocumentClient;
  readonly directory: CellDirectory;
  readonly stores: DynamoCellDataStores;
  readonly migrations: LocalMigrationRunner;
}

/**
 * An embedded cluster a ScaleCluster run can grow and shrink: cells of 100 ops/s and 1 GB, the control tables in
 * the first region, and the data stores and migrations resolving cells through the cells table, as the Lambdas'
 * CellDirectory does, so cells a scale-out adds are found (refreshed after every migration step).
 */
export async function startScalingCluster(
  regions: readonly string[],
  cellsPerRegion: number,
): Promise<ScalingCluster> {
  const cluster = await EmbeddedCluster.start({
    regions: [...regions],
    cellsPerRegion,
    cellCapacityOpsPerSec: 100,
    cellCapacityBytes: 1e9,
  });
  const homeClient = cluster.clientFor(regions[0]);
  const home = documentClient(homeClient);
  await createControlTables(homeClient);
  const directory = new CellDirectory(cluster.cells, (region) => cluster.clientFor(region), 0);
  await directory.refreshIfStale();
  const stores = new DynamoCellDataStores((cellId) => directory.resolve(cellId));
  const migrations = new LocalMigrationRunner({
    deps: {
      ...localMigrationDeps(cluster, { lease: TEST_LEASE, health: new CellHealth(), tuning: TEST_TUNING }),
      stores,
    },
    asl: testAsl(),
    waitOverrideMs: 0,
    retryIntervalMs: 5,
    afterStep: () => directory.refreshIfStale(),
  });
  return { cluster, home, directory, stores, migrations };
}
