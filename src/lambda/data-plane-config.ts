import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { AlarmHealthCheck } from '../adapters/cloudwatch/alarm-health-check.ts';
import { DynamoAccessStatsRepository } from '../adapters/dynamodb/access-stats-repository.ts';
import { DynamoCellDataStores } from '../adapters/dynamodb/cell-data-store.ts';
import { CellDirectory } from '../adapters/dynamodb/cell-directory.ts';
import { DynamoCellRepository } from '../adapters/dynamodb/cell-repository.ts';
import { createDynamoClient, documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../adapters/dynamodb/partition-repository.ts';
import { RegionalCells, RegionalPartitions } from '../data-plane/regional-metadata.ts';
import { DEFAULT_ROUTING_LEASE, type RoutingLeaseConfig } from '../domain/migration/routing-lease.ts';
import { DEFAULT_TUNING, type MigrationDeps } from '../migration/migration-deps.ts';

/**
 * Environment of the data-plane Lambdas: the variable names are the contract with the CDK stacks (issue 4 sets
 * them from the same constants), read once and validated at cold start.
 */
export const DATA_PLANE_ENV = {
  partitionsTable: 'PRESTAGE_PARTITIONS_TABLE',
  cellsTable: 'PRESTAGE_CELLS_TABLE',
  accessStatsTable: 'PRESTAGE_ACCESS_STATS_TABLE',
  homeRegion: 'PRESTAGE_HOME_REGION',
  replicaRegions: 'PRESTAGE_REPLICA_REGIONS',
  region: 'AWS_REGION',
  leaseTtlMs: 'PRESTAGE_LEASE_TTL_MS',
  maxRequestMs: 'PRESTAGE_MAX_REQUEST_MS',
  maxClockSkewMs: 'PRESTAGE_MAX_CLOCK_SKEW_MS',
  indexLagMs: 'PRESTAGE_INDEX_LAG_MS',
  shardsPerPartition: 'PRESTAGE_SHARDS_PER_PARTITION',
  canaryAlarmPrefix: 'PRESTAGE_CANARY_ALARM_PREFIX',
} as const;

const ms = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

const envSchema = z.object({
  [DATA_PLANE_ENV.partitionsTable]: z.string().min(3),
  [DATA_PLANE_ENV.cellsTable]: z.string().min(3),
  [DATA_PLANE_ENV.accessStatsTable]: z.string().min(3),
  [DATA_PLANE_ENV.homeRegion]: z.string().min(1),
  [DATA_PLANE_ENV.replicaRegions]: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    ),
  [DATA_PLANE_ENV.region]: z.string().min(1),
  [DATA_PLANE_ENV.leaseTtlMs]: ms(DEFAULT_ROUTING_LEASE.leaseTtlMs),
  [DATA_PLANE_ENV.maxRequestMs]: ms(DEFAULT_ROUTING_LEASE.maxRequestMs),
  [DATA_PLANE_ENV.maxClockSkewMs]: ms(DEFAULT_ROUTING_LEASE.maxClockSkewMs),
  [DATA_PLANE_ENV.indexLagMs]: ms(DEFAULT_ROUTING_LEASE.indexLagMs),
  [DATA_PLANE_ENV.shardsPerPartition]: z.coerce.number().int().min(1).max(64).default(8),
  [DATA_PLANE_ENV.canaryAlarmPrefix]: z.string().default('prestage-cell-errors-'),
});

export interface DataPlaneConfig {
  readonly partitionsTable: string;
  readonly cellsTable: string;
  readonly accessStatsTable: string;
  readonly homeRegion: string;
  /** Regions besides the home region with a replica of the partitions and cells tables. */
  readonly replicaRegions: readonly string[];
  readonly region: string;
  readonly lease: RoutingLeaseConfig;
  readonly shardsPerPartition: number;
  readonly canaryAlarmPrefix: string;
}

/** Read and validate the environment; a bad value names the variable and what was expected. */
export function readDataPlaneConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): DataPlaneConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`configuration: environment variable ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    partitionsTable: e[DATA_PLANE_ENV.partitionsTable],
    cellsTable: e[DATA_PLANE_ENV.cellsTable],
    accessStatsTable: e[DATA_PLANE_ENV.accessStatsTable],
    homeRegion: e[DATA_PLANE_ENV.homeRegion],
    replicaRegions: e[DATA_PLANE_ENV.replicaRegions].filter((r) => r !== e[DATA_PLANE_ENV.homeRegion]),
    region: e[DATA_PLANE_ENV.region],
    lease: {
      ...DEFAULT_ROUTING_LEASE,
      leaseTtlMs: e[DATA_PLANE_ENV.leaseTtlMs],
      maxRequestMs: e[DATA_PLANE_ENV.maxRequestMs],
      maxClockSkewMs: e[DATA_PLANE_ENV.maxClockSkewMs],
      indexLagMs: e[DATA_PLANE_ENV.indexLagMs],
    },
    shardsPerPartition: e[DATA_PLANE_ENV.shardsPerPartition],
    canaryAlarmPrefix: e[DATA_PLANE_ENV.canaryAlarmPrefix],
  };
}

/** AWS clients and repositories for a data-plane Lambda, built once per execution environment. */
export function awsDataPlane(config: DataPlaneConfig) {
  const clients = new Map<string, DynamoDBClient>();
  const clientFor = (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = createDynamoClient({ region });
      clients.set(region, client);
    }
    return client;
  };
  const home = documentClient(clientFor(config.homeRegion));
  const homePartitions = new DynamoPartitionRepository(home, config.partitionsTable);
  const homeCells = new DynamoCellRepository(home, config.cellsTable);
  // Routing is read in this Lambda's region when a replica is there, and always written in the home region.
  const local = documentClient(clientFor(config.region));
  const hasReplica = config.replicaRegions.includes(config.region);
  const partitions = hasReplica
    ? new RegionalPartitions(new DynamoPartitionRepository(local, config.partitionsTable), homePartitions)
    : homePartitions;
  const cells = hasReplica
    ? new RegionalCells(new DynamoCellRepository(local, config.cellsTable), homeCells)
    : homeCells;
  const directory = new CellDirectory(cells, clientFor);
  const stores = new DynamoCellDataStores((cellId) => directory.resolve(cellId));
  // Counts are recorded in the region the requests arrived in (the profiler reads every region's table).
  const accessStats = new DynamoAccessStatsRepository(hasReplica ? local : home, config.accessStatsTable);
  // The replicas a migration confirms routing changes in.
  const replicas = new Map(
    config.replicaRegions.map((region) => [
      region,
      new DynamoPartitionRepository(documentClient(clientFor(region)), config.partitionsTable),
    ]),
  );
  return { partitions, homePartitions, cells, directory, stores, accessStats, replicas };
}

/** A CloudWatch client per region, built on first use. */
export function cloudWatchClients(
  create: (region: string) => CloudWatchClient = (region) => new CloudWatchClient({ region }),
) {
  const clients = new Map<string, CloudWatchClient>();
  return (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = create(region);
      clients.set(region, client);
    }
    return client;
  };
}

/** Dependencies of the migration step Lambdas. */
export function awsMigrationDeps(config: DataPlaneConfig): MigrationDeps & { directory: CellDirectory } {
  const plane = awsDataPlane(config);
  const cloudwatchIn = cloudWatchClients();
  return {
    partitions: plane.homePartitions,
    replicas: plane.replicas,
    cells: plane.cells,
    stores: plane.stores,
    directory: plane.directory,
    lease: config.lease,
    tuning: DEFAULT_TUNING,
    // The canary alarm lives in the target cell's region (the step handler refreshes the directory first).
    health: new AlarmHealthCheck(
      (targetCell) => cloudwatchIn(plane.directory.regionOf(targetCell)),
      config.canaryAlarmPrefix,
    ),
    wallNow: Date.now,
    monoNow: () => performance.now(),
    sleep: (delayMs) => new Promise((resolve) => setTimeout(resolve, delayMs)),
  };
}
