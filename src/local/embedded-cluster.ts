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
import { MultiRegionAccessStats } from '../data-plane/multi-region-access-stats.ts';
import { RegionalCells, RegionalPartitions } from '../data-plane/regional-metadata.ts';
import type { CellRecord } from '../domain/data-plane/cell-record.ts';
import { CellUnavailableError } from '../domain/data-plane/data-plane-errors.ts';
import type { CellRepository, PartitionRepository } from '../domain/data-plane/ports.ts';
import { InputValidationError } from '../domain/errors.ts';
import { isRegionName } from '../domain/region-name.ts';
import type { RoutingReplicas } from '../migration/migration-deps.ts';
import {
  type LocalDynamo,
  startDynalite,
  startDynaliteInWorker,
  type ThreadRequestHandler,
} from './dynalite-server.ts';
import { TableReplicator } from './table-replicator.ts';

export interface EmbeddedClusterOptions {
  readonly regions: readonly string[];
  readonly cellsPerRegion: number;
  /**
   * The cells to create instead of `cellsPerRegion` numbered ones per region (a topology's named cells, as
   * `prestage up` lays them out). Each cell's region must be one of `regions`.
   */
  readonly cells?: readonly EmbeddedCellSpec[];
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
  /**
   * Replication delay of the routing tables (partitions, cells) from the home region to each other region, drawn
   * per write and region (ms). @default uniform 5 to 50 ms, like a global table within a continent
   */
  readonly replicationLagMs?: () => number;
  /** Reload the cells table this often (ms), so cells a ScaleCluster run adds are served (see `followCells`). */
  readonly cellRefreshMs?: number;
}

/** Where a running cluster's regional DynamoDB endpoints are (see `EmbeddedCluster.attach`). */
export interface AttachedClusterOptions {
  readonly endpoints: Readonly<Record<string, string>>;
  readonly homeRegion: string;
  /** See EmbeddedClusterOptions.cellRefreshMs. */
  readonly cellRefreshMs?: number;
}

/** A named cell of the embedded data plane, with its capacities. */
export interface EmbeddedCellSpec {
  readonly id: string;
  readonly region: string;
  readonly capacityOpsPerSec: number;
  readonly capacityBytes: number;
}

/** A few to a few tens of milliseconds; the nemesis adds seconds. */
const DEFAULT_REPLICATION_LAG = () => 5 + Math.random() * 45;

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
  /** This region's replica of the routing tables (the home region's are the tables themselves). */
  readonly partitions: DynamoPartitionRepository;
  readonly cells: DynamoCellRepository;
  /** Access counts recorded by this region's clients. */
  readonly accessStats: DynamoAccessStatsRepository;
}

/**
 * The data plane on a laptop, laid out as in AWS: one in-process dynalite per region (each a real DynamoDB API
 * over HTTP); the routing tables (partitions, cells) written in the home region and replicated to every other
 * region with a lag, as a global table; an access-stats table per region; one data table per cell, registered
 * in the cells table.
 */
export class EmbeddedCluster {
  readonly homeRegion: string;
  /** The partition table in the home region, where routing is written (the migrations use this one). */
  readonly partitions: DynamoPartitionRepository;
  readonly cells: DynamoCellRepository;
  /** Access counts of every region, as the profiler reads them (writes go to the home region's table). */
  readonly accessStats: MultiRegionAccessStats;
  readonly stores: DynamoCellDataStores;
  /** Copies routing writes to the other regions; undefined with one region. */
  readonly replicator: TableReplicator | undefined;
  private readonly regions: Map<string, RegionRuntime>;
  private readonly cellRecords = new Map<string, CellRecord>();
  private cellRefreshTimer: NodeJS.Timeout | undefined;
  private cellRefresh: Promise<void> | undefined;

  private constructor(
    regions: Map<string, RegionRuntime>,
    homeRegion: string,
    options: { unsafeTrustRetriedRefusals?: boolean; replicationLagMs?: () => number } = {},
  ) {
    this.regions = regions;
    this.homeRegion = homeRegion;
    const home = regions.get(homeRegion)!;
    this.partitions = home.partitions;
    this.cells = home.cells;
    this.accessStats = new MultiRegionAccessStats(
      home.accessStats,
      new Map([...regions].map(([region, r]) => [region, r.accessStats])),
    );
    const replicas = new Map(
      [...regions].filter(([region]) => region !== homeRegion).map(([region, r]) => [region, r.client]),
    );
    this.replicator =
      replicas.size === 0
        ? undefined
        : new TableReplicator({
            source: home.client,
            replicas,
            tables: [
              { name: LOCAL_TABLES.partitions, keyAttributes: ['pk'] },
              { name: LOCAL_TABLES.cells, keyAttributes: ['pk'] },
            ],
            lagMs: options.replicationLagMs ?? DEFAULT_REPLICATION_LAG,
          });
    const storeOptions = { unsafeTrustRetriedRefusals: options.unsafeTrustRetriedRefusals };
    this.stores = new DynamoCellDataStores((cellId) => {
      const cell = this.cellRecords.get(cellId);
      // A cell registered since the last reload of the cells table: retryable, as in AWS while a Lambda's
      // CellDirectory has not seen a scale-out's cell yet.
      if (!cell) throw new CellUnavailableError(cellId);
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
      if (!isRegionName(region)) {
        throw new InputValidationError({ field: '--regions' }, `'${region}' is not an AWS region name`);
      }
    }
    const homeRegion = options.homeRegion ?? options.regions[0];
    const regions = new Map<string, RegionRuntime>();
    for (const region of options.regions) {
      const dynamo = options.dynaliteThread ? await startDynaliteInWorker() : await startDynalite();
      const client = createDynamoClient({
        region,
        endpoint: dynamo.endpoint,
        ...(dynamo.requestHandler ? { requestHandler: dynamo.requestHandler } : {}),
      });
      options.nemesis?.attach(client, region);
      // The same table names in every region, as a global table has.
      await ensureTable(client, partitionsTableDefinition(LOCAL_TABLES.partitions));
      await ensureTable(client, cellsTableDefinition(LOCAL_TABLES.cells));
      await ensureTable(client, accessStatsTableDefinition(LOCAL_TABLES.accessStats), {
        ttlAttribute: TTL_ATTRIBUTE,
      });
      const documents = documentClient(client);
      regions.set(region, {
        dynamo,
        client,
        partitions: new DynamoPartitionRepository(documents, LOCAL_TABLES.partitions),
        cells: new DynamoCellRepository(documents, LOCAL_TABLES.cells),
        accessStats: new DynamoAccessStatsRepository(documents, LOCAL_TABLES.accessStats),
      });
    }
    const cluster = new EmbeddedCluster(regions, homeRegion, {
      unsafeTrustRetriedRefusals: options.unsafeTrustRetriedRefusals,
      replicationLagMs: options.replicationLagMs,
    });
    for (const cell of EmbeddedCluster.cellSpecs(options)) {
      await cluster.addCell({ ...cell, table: dataTableFor(cell.id), status: 'ACTIVE', version: 1 });
    }
    // Start with every replica in step, as a deployment that has been running for a while.
    await cluster.replicator?.drain();
    if (options.cellRefreshMs !== undefined) cluster.followCells(options.cellRefreshMs);
    return cluster;
  }

  /**
   * A second view of a running cluster, from another thread (`prestage up`'s control plane): clients of the same
   * regional DynamoDB endpoints, the registered cells read from the home region, and a replicator of its own for
   * the routing writes made through it (global-table replication follows every writer, whatever its process).
   * Closing it closes its clients only; the endpoints belong to the cluster that started them.
   */
  static async attach(options: AttachedClusterOptions): Promise<EmbeddedCluster> {
    const regions = new Map<string, RegionRuntime>();
    for (const [region, endpoint] of Object.entries(options.endpoints)) {
      const client = createDynamoClient({ region, endpoint });
      const documents = documentClient(client);
      regions.set(region, {
        dynamo: { endpoint, close: async () => undefined },
        client,
        partitions: new DynamoPartitionRepository(documents, LOCAL_TABLES.partitions),
        cells: new DynamoCellRepository(documents, LOCAL_TABLES.cells),
        accessStats: new DynamoAccessStatsRepository(documents, LOCAL_TABLES.accessStats),
      });
    }
    const cluster = new EmbeddedCluster(regions, options.homeRegion);
    await cluster.refreshCells();
    if (options.cellRefreshMs !== undefined) cluster.followCells(options.cellRefreshMs);
    return cluster;
  }

  /** The cells to create: the named ones given, or `cellsPerRegion` numbered ones in every region. */
  private static cellSpecs(options: EmbeddedClusterOptions): EmbeddedCellSpec[] {
    if (options.cells) {
      for (const cell of options.cells) {
        if (!options.regions.includes(cell.region)) {
          throw new InputValidationError(
            { field: `cells.${cell.id}.region` },
            `cell '${cell.id}' is in '${cell.region}', which has no listener; regions: ${options.regions.join(', ')}`,
          );
        }
      }
      return [...options.cells];
    }
    return options.regions.flatMap((region) =>
      Array.from({ length: options.cellsPerRegion }, (_, i) => ({
        id: cellIdFor(region, i + 1),
        region,
        capacityOpsPerSec: options.cellCapacityOpsPerSec ?? 1_000,
        capacityBytes: options.cellCapacityBytes ?? 10 * 2 ** 30,
      })),
    );
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

  /**
   * Reload the registered cells from the home region's cells table: cells a ScaleCluster run registered (its
   * CreateTable went to the region's DynamoDB) become reachable through `stores`, and retired ones keep their
   * record. Concurrent calls share one read.
   */
  refreshCells(): Promise<void> {
    this.cellRefresh ??= this.cells
      .list()
      .then((cells) => {
        for (const cell of cells) this.cellRecords.set(cell.id, cell);
      })
      .finally(() => {
        this.cellRefresh = undefined;
      });
    return this.cellRefresh;
  }

  /** Reload the cells every `intervalMs` until `close` (the Lambdas' CellDirectory refresh, shortened). */
  followCells(intervalMs: number): void {
    if (!(intervalMs > 0)) throw new RangeError(`cellRefreshMs must be > 0, got ${intervalMs}`);
    clearInterval(this.cellRefreshTimer);
    this.cellRefreshTimer = setInterval(() => void this.refreshCells().catch(() => undefined), intervalMs);
    this.cellRefreshTimer.unref();
  }

  /** Whether the cell is registered (as of the last reload). */
  knowsCell(cellId: string): boolean {
    return this.cellRecords.has(cellId);
  }

  /** Routing as a client in `region` reads it: that region's replica, with writes sent to the home region. */
  partitionsIn(region: string): PartitionRepository {
    const runtime = this.runtime(region);
    return region === this.homeRegion
      ? runtime.partitions
      : new RegionalPartitions(runtime.partitions, this.partitions);
  }

  cellsIn(region: string): CellRepository {
    const runtime = this.runtime(region);
    return region === this.homeRegion ? runtime.cells : new RegionalCells(runtime.cells, this.cells);
  }

  /** Where a client in `region` records its access counts. */
  accessStatsIn(region: string): DynamoAccessStatsRepository {
    return this.runtime(region).accessStats;
  }

  /** The region's dynalite as a message channel, when it runs on a thread this one started (see LocalDynamo). */
  threadChannelOf(region: string): ThreadRequestHandler | undefined {
    return this.runtime(region).dynamo.requestHandler;
  }

  /** The partition-table replicas a migration confirms routing changes in (every region but the home one). */
  routingReplicas(): RoutingReplicas {
    return new Map(
      [...this.regions]
        .filter(([region]) => region !== this.homeRegion)
        .map(([region, runtime]) => [region, runtime.partitions]),
    );
  }

  private runtime(region: string): RegionRuntime {
    const runtime = this.regions.get(region);
    if (!runtime) throw new Error(`no local region '${region}'`);
    return runtime;
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
    if (!cell) throw new CellUnavailableError(cellId);
    return cell.region;
  }

  async close(): Promise<void> {
    clearInterval(this.cellRefreshTimer);
    this.replicator?.close();
    for (const { client, dynamo } of this.regions.values()) {
      client.destroy();
      await dynamo.close();
    }
  }
}
