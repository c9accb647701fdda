import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessRecorder } from '../data-plane/access-recorder.ts';
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
  readonly shardsPerPartition: number;
  readonly log: (line: string) => void;
}

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
  url = '';

  constructor(options: RegionalListenerOptions) {
    const { cluster, region } = options;
    this.region = region;
    this.recorder = new AccessRecorder(cluster.accessStatsIn(region), { flushIntervalMs: 5_000 });
    this.stores = new WanDelayedStores(cluster.stores, (cellId) =>
      wanRoundTripMs(options.wanLatency, region, cluster.regionOfCell(cellId)),
    );
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
      health: options.health,
      cellsTtlMs: 1_000,
    });
    this.api = new DataApi(this.client, {
      logError: (error) => options.log(`error: ${(error as Error).stack ?? error}`),
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

  handleData(request: DataRequest): Promise<DataResponse> {
    return this.api.handle(request);
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
