import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AccessRecorder, type CountingInstant } from '../data-plane/access-recorder.ts';
import type { CellHealth } from '../data-plane/cell-health.ts';
import { RoutingClient } from '../data-plane/routing-client.ts';
import { InvalidRequestError } from '../domain/data-plane/data-plane-errors.ts';
import type { CellDataStores } from '../domain/data-plane/ports.ts';
import {
  formatSampleWeight,
  parseSampleWeight,
  type SampleWeight,
} from '../domain/data-plane/sample-weight.ts';
import { HybridLogicalClock } from '../domain/migration/hlc.ts';
import type { RoutingLeaseConfig } from '../domain/migration/routing-lease.ts';
import { DataApi, type DataRequest, type DataResponse } from '../interceptor/data-api.ts';
import { type EmbeddedCluster, LOCAL_TABLES } from './embedded-cluster.ts';
import { ThreadBatchedAccessStats } from './thread-access-stats.ts';
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
  /**
   * Data responses carry `x-prestage-timing: total=T,cell=C,routing=R,calls=N,remote=M` (ms of this listener's
   * handling: in all, in calls to cells, WAN delay included, and in routing reads; the cell calls made, and those
   * to another region's cell), so a client can tell the listener's time from
   * its own queueing and the transport. @default false
   */
  readonly timingHeader?: boolean;
  /**
   * A data request's in-region service (its handling here, less the WAN round trips its cell calls waited) takes
   * at least this long (ms): `prestage up` sets the simulator's local service time
   * (`SimulationOptions.localLatencyMs`), so a local request costs what the backtest it is compared with assumes
   * when the machine keeps up, as the WAN round trips cost the topology's. @default 0
   */
  readonly serviceFloorMs?: number;
}

/** Response headers naming the cell that served a data request and its region (what "local" is judged on). */
export const SERVED_BY_HEADER = 'x-prestage-served-by';
export const SERVED_REGION_HEADER = 'x-prestage-served-region';
/**
 * Harness only (`prestage up`'s load generator, read where `honourSampleWeights` is set): the sample weights of
 * requests the client dropped because it could not send them in time, folded into the next request of the same
 * partition and region, each with the trace instant it stands for: `reads=R,writes=W,at=T;reads=…` (at most
 * `MAX_FOLDED_WEIGHTS` entries). The listener counts each as the dropped request would have been counted.
 */
export const FOLDED_WEIGHT_HEADER = 'x-prestage-folded-weight';
export const MAX_FOLDED_WEIGHTS = 64;

export function formatFoldedWeights(weights: readonly SampleWeight[]): string {
  return weights.map(formatSampleWeight).join(';');
}

/** The folded weights of a header's value, or a message naming what is wrong. */
export function parseFoldedWeights(value: string): SampleWeight[] | string {
  const parts = value.split(';');
  if (parts.length > MAX_FOLDED_WEIGHTS) return `more than ${MAX_FOLDED_WEIGHTS} weights`;
  const weights: SampleWeight[] = [];
  for (const part of parts) {
    const weight = parseSampleWeight(part);
    if (typeof weight === 'string') return weight;
    weights.push(weight);
  }
  return weights;
}

/** Where a data request's time went in the listener (with `timingHeader`). */
export const TIMING_HEADER = 'x-prestage-timing';

/** The async context of one data request: the cell that served it and where its time went. */
interface RequestContext {
  cell?: string;
  cellMs: number;
  routingMs: number;
  /** Calls to cells, and those of them to a cell in another region (each paid a WAN round trip). */
  cellCalls: number;
  remoteCellCalls: number;
  /** The WAN round trips those remote calls waited, ms. */
  wanMs: number;
}

/**
 * A cell's store as one request's calls reach it: each call (a method returning a promise) is counted in the
 * request's context, with the WAN round trip it pays, and with `timed` its wall time is added to `cellMs`.
 */
function followed<T extends object>(
  store: T,
  context: AsyncLocalStorage<RequestContext>,
  call: { roundTripMs: number; timed: boolean },
): T {
  return new Proxy(store, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(object, args);
        const request = context.getStore();
        if (!request || !(result instanceof Promise)) return result;
        request.cellCalls += 1;
        if (call.roundTripMs > 0) {
          request.remoteCellCalls += 1;
          request.wanMs += call.roundTripMs;
        }
        if (!call.timed) return result;
        const started = performance.now();
        return result.finally(() => {
          request.cellMs += performance.now() - started;
        });
      };
    },
  });
}

/**
 * `target` with every method that returns a promise timed: its wall time is added to `add`'s field of the
 * current request's context (calls outside a request are not timed).
 */
function timed<T extends object>(
  target: T,
  context: AsyncLocalStorage<RequestContext>,
  field: 'cellMs' | 'routingMs',
): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(object, args);
        const store = context.getStore();
        if (!store || !(result instanceof Promise)) return result;
        const started = performance.now();
        return result.finally(() => {
          store[field] += performance.now() - started;
        });
      };
    },
  });
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
  /** The cell that served the request of the current async context (set by the routing client's onServed). */
  private readonly servedBy = new AsyncLocalStorage<RequestContext>();
  private readonly timingHeader: boolean;
  private readonly serviceFloorMs: number;
  private readonly honourFoldedWeights: boolean;
  private readonly cluster: EmbeddedCluster;
  /** Data requests this listener answered, by the cell that served them (a cell a scale-out added included). */
  readonly servedByCell = new Map<string, number>();
  url = '';

  constructor(options: RegionalListenerOptions) {
    const { cluster, region } = options;
    this.region = region;
    this.cluster = cluster;
    this.timingHeader = options.timingHeader ?? false;
    this.honourFoldedWeights = options.accessCounting?.honourSampleWeights ?? false;
    const counting = options.accessCounting;
    // On a dynalite thread of this process, a flush's counters go as one message (ThreadBatchedAccessStats).
    const channel = cluster.threadChannelOf(region);
    this.recorder = new AccessRecorder(
      channel
        ? new ThreadBatchedAccessStats(cluster.accessStatsIn(region), channel, LOCAL_TABLES.accessStats)
        : cluster.accessStatsIn(region),
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
    const roundTripTo = (cellId: string): number => {
      const cellRegion = cluster.regionOfCell(cellId);
      if (!matrix) return wanRoundTripMs(options.wanLatency, region, cellRegion);
      return cellRegion === region ? 0 : matrix(region, cellRegion);
    };
    this.stores = new WanDelayedStores(cluster.stores, roundTripTo);
    const timing = this.timingHeader;
    this.serviceFloorMs = options.serviceFloorMs ?? 0;
    // What a request's calls to cells cost is followed only when it is reported or padded (see serviceFloorMs).
    const stores: CellDataStores =
      timing || this.serviceFloorMs > 0
        ? {
            forCell: (cellId) =>
              followed(this.stores.forCell(cellId), this.servedBy, {
                roundTripMs: roundTripTo(cellId),
                timed: timing,
              }),
          }
        : this.stores;
    const partitions = cluster.partitionsIn(region);
    this.client = new RoutingClient({
      partitions: timing ? timed(partitions, this.servedBy, 'routingMs') : partitions,
      cells: cluster.cellsIn(region),
      stores,
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
    const folded = this.honourFoldedWeights ? request.headers[FOLDED_WEIGHT_HEADER] : undefined;
    if (folded !== undefined) this.countFolded(request, folded);
    const store: RequestContext = { cellMs: 0, routingMs: 0, cellCalls: 0, remoteCellCalls: 0, wanMs: 0 };
    const started = performance.now();
    const response = await this.servedBy.run(store, () => this.api.handle(request));
    if (this.serviceFloorMs > 0) {
      // The in-region part of the answer (all but the WAN round trips) takes at least the floor.
      const shortBy = this.serviceFloorMs - (performance.now() - started - store.wanMs);
      if (shortBy > 0) await new Promise((resolve) => setTimeout(resolve, shortBy));
    }
    const timing: Record<string, string> = this.timingHeader
      ? {
          [TIMING_HEADER]: `total=${(performance.now() - started).toFixed(2)},cell=${store.cellMs.toFixed(2)},routing=${store.routingMs.toFixed(2)},calls=${store.cellCalls},remote=${store.remoteCellCalls}`,
        }
      : {};
    if (store.cell === undefined) return { ...response, headers: { ...response.headers, ...timing } };
    this.servedByCell.set(store.cell, (this.servedByCell.get(store.cell) ?? 0) + 1);
    return {
      ...response,
      headers: {
        ...response.headers,
        [SERVED_BY_HEADER]: store.cell,
        [SERVED_REGION_HEADER]: this.cluster.regionOfCell(store.cell),
        ...timing,
      },
    };
  }

  /** Count the weights a request carries for requests its client dropped (`FOLDED_WEIGHT_HEADER`). */
  private countFolded(request: DataRequest, value: string): void {
    const weights = parseFoldedWeights(value);
    const match = /^\/v1\/partitions\/([^/]+)\//.exec(request.rawPath);
    if (typeof weights === 'string' || !match) {
      const message = typeof weights === 'string' ? weights : 'not a data request';
      throw new InvalidRequestError('INVALID_HEADER', `${FOLDED_WEIGHT_HEADER}: ${message}`);
    }
    const partition = decodeURIComponent(match[1]);
    for (const weight of weights) {
      this.recorder.record(partition, this.region, weight.writes > 0 ? 'write' : 'read', undefined, weight);
    }
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
