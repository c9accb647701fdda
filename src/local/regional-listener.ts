import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessRecorder, type CountingInstant } from '../data-plane/access-recorder.ts';
import type { CellHealth } from '../data-plane/cell-health.ts';
import { RoutingClient } from '../data-plane/routing-client.ts';
import { HybridLogicalClock } from '../domain/migration/hlc.ts';
import type { RoutingLeaseConfig } from '../domain/migration/routing-lease.ts';
import { DataApi, type DataRequest, type DataResponse } from '../interceptor/data-api.ts';
import type { EmbeddedCluster } from './embedded-cluster.ts';
import { WanDelayedStores, type WanLatency, wanRoundTripMs } from './wan-latency.ts';

export interface RegionalListenerOptions {
  readonly region: string;
  readonly cluster: EmbeddedCluster;
  readonly lease: RoutingLeaseConfig;
  readonly health: CellHealth;
  readonly wanLatency: WanLatency;
  /** Round trips between regions from a matrix (a topology's `latencyMs`) instead of `wanLatency`'s estimates. */
  readonly wanRoundTripMs?: (from: string, to: string) => number;
  readonly shardsPerPartition: number;
  readonly log: (line: string) => void;
  /**
   * The access recorder's clock, bucket width and flush interval (ms on that clock). `prestage up` counts on its
   * trace clock, in the profiler's buckets, and trusts the sample weight its load generator declares (a replay
   * sends one request per many of the trace: see `SampleWeight`), counting each request at the trace instant
   * it declares (`countingInstant`: a machine that falls behind sends late, and its requests still count where
   * they stand). @default the wall clock, 5-minute buckets, a flush every 5 s, every request counted as one, on
   * arrival
   */
  readonly accessCounting?: {
    readonly now: () => number;
    readonly bucketMs: number;
    readonly flushIntervalMs: number;
    readonly honourSampleWeights?: boolean;
    /** @default COUNT_ON_ARRIVAL */
    readonly countingInstant?: CountingInstant;
  };
}

/** Response headers naming the cell that served a data request and its region (what "local" is judged on). */
export const SERVED_BY_HEADER = 'x-prestage-served-by';
export const SERVED_REGION_HEADER = 'x-prestage-served-region';

/**
 * One region's interceptor on this machine, as the deployment has one per data region: a RoutingClient that
 * reads routing from the region's replica, reaches other regions' cells across the (simulated) WAN, places new
 * partitions in this region, and counts accesses (reads and writes apart) in this region's access-stats table.
 * A request's region is the listener it arrived on; no header overrides that.
 */
export class RegionalListener {
  readonly region: string;
  readonly client: RoutingClient;
  readonly api: DataApi;
  readonly recorder: AccessRecorder;
  /** The cells as this region reaches them (counts the calls that crossed regions). */
  readonly stores: WanDelayedStores;
  private server: Server | undefined;
  /** The cell that served the request of the current async context (set by the routing client's onServed). */
  private readonly servedBy = new AsyncLocalStorage<{ cell?: string }>();
  private readonly cluster: EmbeddedCluster;
  /** Data requests this listener answered, by the cell that served them (a cell a scale-out added included). */
  readonly servedByCell = new Map<string, number>();
  url = '';

  constructor(options: RegionalListenerOptions) {
    const { cluster, region } = options;
    this.region = region;
    this.cluster = cluster;
    const counting = options.accessCounting;
    this.recorder = new AccessRecorder(
      cluster.accessStatsIn(region),
      counting
        ? {
            wallNow: counting.now,
            bucketMs: counting.bucketMs,
            flushIntervalMs: counting.flushIntervalMs,
            ...(counting.countingInstant ? { countingInstant: counting.countingInstant } : {}),
          }
        : { flushIntervalMs: 5_000 },
    );
    const matrix = options.wanRoundTripMs;
    this.stores = new WanDelayedStores(cluster.stores, (cellId) => {
      const cellRegion = cluster.regionOfCell(cellId);
      if (!matrix) return wanRoundTripMs(options.wanLatency, region, cellRegion);
      return cellRegion === region ? 0 : matrix(region, cellRegion);
    });
    this.client = new RoutingClient({
      partitions: cluster.partitionsIn(region),
      cells: cluster.cellsIn(region),
      stores: this.stores,
      // HLC node ids are short alphanumerics: the region without dashes (`useast1`).
      clock: new HybridLogicalClock(region.replace(/[^a-z0-9]/g, '').slice(0, 16)),
      lease: options.lease,
      region,
      shardsPerPartition: options.shardsPerPartition,
      accessRecorder: this.recorder,
      onServed: (served) => {
        const store = this.servedBy.getStore();
        if (store) store.cell = served.cell;
      },
      health: options.health,
      cellsTtlMs: 1_000,
    });
    this.api = new DataApi(this.client, {
      logError: (error) => options.log(`error: ${(error as Error).stack ?? error}`),
      honourSampleWeightHeader: counting?.honourSampleWeights ?? false,
    });
  }

  /** Listen on 127.0.0.1:`port` (0 picks a free one); a port in use is an error naming it. */
  async listen(
    port: number,
    handle: (listener: RegionalListener, req: IncomingMessage, res: ServerResponse) => Promise<void>,
  ): Promise<string> {
    const server = createServer((req, res) => {
      void handle(this, req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new PortInUseError(port, this.region)
            : new Error(`cannot listen on 127.0.0.1:${port} for ${this.region}: ${error.message}`),
        );
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Serve one data request; the response names the cell that served it and that cell's region. */
  async handleData(request: DataRequest): Promise<DataResponse> {
    const store: { cell?: string } = {};
    const response = await this.servedBy.run(store, () => this.api.handle(request));
    if (store.cell === undefined) return response;
    this.servedByCell.set(store.cell, (this.servedByCell.get(store.cell) ?? 0) + 1);
    return {
      ...response,
      headers: {
        ...response.headers,
        [SERVED_BY_HEADER]: store.cell,
        [SERVED_REGION_HEADER]: this.cluster.regionOfCell(store.cell),
      },
    };
  }

  async close(): Promise<void> {
    await this.recorder.flush().catch(() => {
      // Closing: the counts of the last few seconds are dropped, which costs a forecast nothing measurable.
    });
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** Another process listens on a port a regional listener needs. */
export class PortInUseError extends Error {
  readonly port: number;
  constructor(port: number, region: string) {
    super(`port ${port} (the ${region} listener) is already in use; choose another with --port`);
    this.name = 'PortInUseError';
    this.port = port;
  }
}
