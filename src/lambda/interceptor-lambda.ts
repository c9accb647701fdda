import { randomBytes } from 'node:crypto';
import { AccessRecorder } from '../data-plane/access-recorder.ts';
import { CellHealth } from '../data-plane/cell-health.ts';
import { RoutingClient, type ServedRequest } from '../data-plane/routing-client.ts';
import { HybridLogicalClock } from '../domain/migration/hlc.ts';
import { DataApi } from '../interceptor/data-api.ts';
import { createInterceptorHandler } from '../interceptor/interceptor-handler.ts';
import { METRIC, type MetricsSink } from '../support/metrics.ts';
import { awsDataPlane, type DataPlaneConfig } from './data-plane-config.ts';
import { logger, metrics, powertoolsMetricsSink } from './instrumented-handler.ts';

export interface InterceptorLambdaOptions {
  /** @default the AWS data plane of `config` (clients, replicas, cell directory) */
  readonly plane?: ReturnType<typeof awsDataPlane>;
  /** Where the per-request metrics go. @default the shared Powertools metrics, published after each request */
  readonly metrics?: MetricsSink & { publish(): void };
  /** @default the shared Powertools logger, at error level */
  readonly logError?: (error: unknown) => void;
}

const powertoolsPerRequest: MetricsSink & { publish(): void } = {
  add: powertoolsMetricsSink.add,
  publish: () => metrics.publishStoredMetrics(),
};

/**
 * The interceptor Lambda, wired once per execution environment: a RoutingClient in this Lambda's region (routing
 * from the region's replica, new partitions placed here, access counts recorded here), the data API on middy,
 * and per request its latency and whether a cell in its region of arrival served it (EMF metrics).
 */
export function createInterceptorLambda(config: DataPlaneConfig, options: InterceptorLambdaOptions = {}) {
  const plane = options.plane ?? awsDataPlane(config);
  const sink = options.metrics ?? powertoolsPerRequest;
  const logError = options.logError ?? ((error: unknown) => logger.error('interceptor error', { error }));
  const recorder = new AccessRecorder(plane.accessStats);
  // Locality of the request being served (one request at a time per execution environment).
  const served = { local: 0, remote: 0 };
  const countLocality = ({ cell, callerRegion }: ServedRequest) => {
    try {
      if (plane.directory.regionOf(cell) === callerRegion) served.local += 1;
      else served.remote += 1;
    } catch {
      // A cell the directory does not know yet: served, but its region is unknown, so it is not counted.
    }
  };
  const client = new RoutingClient({
    partitions: plane.partitions,
    cells: plane.cells,
    stores: plane.stores,
    clock: new HybridLogicalClock(randomBytes(6).toString('hex')),
    lease: config.lease,
    region: config.region,
    shardsPerPartition: config.shardsPerPartition,
    accessRecorder: recorder,
    health: new CellHealth(),
    onServed: countLocality,
  });
  const inner = createInterceptorHandler({ api: new DataApi(client, { logError }), recorder, logError });

  return async (event: unknown, context: unknown) => {
    const startedAt = performance.now();
    served.local = 0;
    served.remote = 0;
    try {
      await plane.directory.refreshIfStale();
      return await inner(event, context as never);
    } finally {
      sink.add(METRIC.interceptorLatency, 'Milliseconds', performance.now() - startedAt);
      sink.add(METRIC.interceptorLocalRequests, 'Count', served.local);
      sink.add(METRIC.interceptorRemoteRequests, 'Count', served.remote);
      sink.publish();
    }
  };
}
