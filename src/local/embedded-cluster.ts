import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAccessStatsRepository } from '../adapters/dynamodb/access-stats-repository.ts';
import { DynamoCellDataStores } from '../adapters/dynamodb/cell-data-store.ts';
import { DynamoCellRepository } from '../adapters/dynamodb/cell-repository.ts';
import { createDynamoClient, documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../adapters/dynamodb/partition-repository.ts';
import {
  accessStatsTableDefinition,
  cellDataTableDefinition,
  cellsTableDefinition,
  ensureTable,
  partitionsTableDefinition,
  TTL_ATTRIBUTE,
} from '../adapters/dynamodb/table-definitions.ts';
import type { CellRecord } from '../domain/data-plane/cell-record.ts';
import { InputValidationError } from '../domain/errors.ts';
import { type LocalDynamo, startDynalite, startDynaliteInWorker } from './dynalite-server.ts';

export interface EmbeddedClusterOptions {
  readonly regions: readonly string[];
  readonly cellsPerRegion: number;
  /** Region of the control-plane tables. @default the first region */
  readonly homeRegion?: string;
  readonly cellCapacityOpsPerSec?: number;
  readonly cellCapacityBytes?: number;
  /** Run each region's dynalite on its own thread (benchmarks); @default false, in the caller's thread */
  readonly dynaliteThread?: boolean;
  /** Hooked into every region's client as soon as it exists (the storage nemesis: AWS-like faults locally). */
  readonly nemesis?: { attach(client: DynamoDBClient, region: string): void };
  /** Negative controls only: see DynamoCellDataStore. */
  readonly unsafeTrustRetriedRefusals?: boolean;
}

export const LOCAL_TABLES = {
  partitions: 'prestage-partitions',
  cells: 'prestage-cells',
  accessStats: 'prestage-access-stats',
} as const;

export function cellIdFor(region: string, index: number): string {
  return `${region}-c${index}`;
}

export function dataTableFor(cellId: string): string {
  return `prestage-data-${cellId}`;
}

interface RegionRuntime {
  readonly dynamo: LocalDynamo;
  readonly client: DynamoDBClient;
}

/**
 * The data plane on a laptop: one in-process dynalite per region (each a real DynamoDB API over HTTP), the
 * control-plane tables in the home region, and one data table per cell, registered in the cells table.
 */
export class EmbeddedCluster {
  readonly homeRegion: string;
  readonly partitions: DynamoPartitionRepository;
  readonly cells: DynamoCellRepository;
  readonly accessStats: DynamoAccessStatsRepository;
  readonly stores: DynamoCellDataStores;
  private readonly regions: Map<string, RegionRuntime>;
  private readonly cellRecords = new Map<string, CellRecord>();

  private constructor(
    regions: Map<string, RegionRuntime>,
    homeRegion: string,
    storeOptions: { unsafeTrustRetriedRefusals?: boolean } = {},
  ) {
    this.regions = regions;
    this.homeRegion = homeRegion;
    const home = documentClient(this.clientFor(homeRegion));
    this.partitions = new DynamoPartitionRepository(home, LOCAL_TABLES.partitions);
    this.cells = new DynamoCellRepository(home, LOCAL_TABLES.cells);
    this.accessStats = new DynamoAccessStatsRepository(home, LOCAL_TABLES.accessStats);
    this.stores = new DynamoCellDataStores((cellId) => {
      const cell = this.cellRecords.get(cellId);
      if (!cell) throw new Error(`unknown cell '${cellId}'`);
      return { client: this.clientFor(cell.region), table: cell.table };
    }, storeOptions);
  }

  static async start(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
    if (options.regions.length === 0)
      throw new InputValidationError({ field: '--regions' }, 'expected at least one region');
    if (new Set(options.regions).size !== options.regions.length) {
      throw new InputValidationError({ field: '--regions' }, 'regions must be distinct');
    }
    for (const region of options.regions) {
      if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region)) {
        throw new InputValidationError({ field: '--regions' }, `'${region}' is not an AWS region name`);
      }
    }
    const homeRegion = options.homeRegion ?? options.regions[0];
    const regions = new Map<string, RegionRuntime>();
    for (const region of options.regions) {
      const dynamo = options.dynaliteThread ? await startDynaliteInWorker() : await startDynalite();
      const client = createDynamoClient({ region, endpoint: dynamo.endpoint });
      options.nemesis?.attach(client, region);
      regions.set(region, { dynamo, client });
    }
    const cluster = new EmbeddedCluster(regions, homeRegion, {
      unsafeTrustRetriedRefusals: options.unsafeTrustRetriedRefusals,
    });
    const home = cluster.clientFor(homeRegion);
    await ensureTable(home, partitionsTableDefinition(LOCAL_TABLES.partitions));
    await ensureTable(home, cellsTableDefinition(LOCAL_TABLES.cells));
    await ensureTable(home, accessStatsTableDefinition(LOCAL_TABLES.accessStats), {
      ttlAttribute: TTL_ATTRIBUTE,
    });
    for (const region of options.regions) {
      for (let i = 1; i <= options.cellsPerRegion; i++) {
        await cluster.addCell({
          id: cellIdFor(region, i),
          region,
          table: dataTableFor(cellIdFor(region, i)),
          capacityOpsPerSec: options.cellCapacityOpsPerSec ?? 1_000,
          capacityBytes: options.cellCapacityBytes ?? 10 * 2 ** 30,
          status: 'ACTIVE',
          version: 1,
        });
      }
    }
    return cluster;
  }

  /** Create a cell's data table and register it (idempotent). */
  async addCell(cell: CellRecord): Promise<CellRecord> {
    await ensureTable(this.clientFor(cell.region), cellDataTableDefinition(cell.table), {
      ttlAttribute: TTL_ATTRIBUTE,
    });
    const registered = await this.cells.register(cell);
    this.cellRecords.set(registered.id, registered);
    return registered;
  }

  clientFor(region: string): DynamoDBClient {
    const runtime = this.regions.get(region);
    if (!runtime) throw new Error(`no local region '${region}'`);
    return runtime.client;
  }

  endpointFor(region: string): string {
    return this.regions.get(region)!.dynamo.endpoint;
  }

  regionNames(): string[] {
    return [...this.regions.keys()];
  }

  cellIds(): string[] {
    return [...this.cellRecords.keys()];
  }

  regionOfCell(cellId: string): string {
    const cell = this.cellRecords.get(cellId);
    if (!cell) throw new Error(`unknown cell '${cellId}'`);
    return cell.region;
  }

  async close(): Promise<void> {
    for (const { client, dynamo } of this.regions.values()) {
      client.destroy();
      await dynamo.close();
    }
  }
}
