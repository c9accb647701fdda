import { randomBytes } from 'node:crypto';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AccessRecorder } from '../../src/data-plane/access-recorder.ts';
import { CellHealth } from '../../src/data-plane/cell-health.ts';
import { RoutingClient, type ServedRequest } from '../../src/data-plane/routing-client.ts';
import { HybridLogicalClock } from '../../src/domain/migration/hlc.ts';
import { DataApi } from '../../src/interceptor/data-api.ts';
import { createInterceptorHandler } from '../../src/interceptor/interceptor-handler.ts';
import { awsDataPlane, readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';
import { METRIC, METRICS_NAMESPACE } from '../../src/lambda/metric-names.ts';

/**
 * Permissions:
 * - dynamodb:GetItem, PutItem on PRESTAGE_PARTITIONS_TABLE (routing records; first write places a partition)
 * - dynamodb:Scan, GetItem on PRESTAGE_CELLS_TABLE (cell directory)
 * - dynamodb:UpdateItem on PRESTAGE_ACCESS_STATS_TABLE (access counts)
 * - dynamodb:GetItem, UpdateItem, PutItem on every cell table `<cellTablePrefix>*` in every data region
 *   (reads, writes, mirror writes and read repair), and their KMS keys through DynamoDB
 */

// Built once per execution environment: configuration, clients, the routing cache, the HLC, metrics.
const config = readDataPlaneConfig();
const plane = awsDataPlane(config);
const recorder = new AccessRecorder(plane.accessStats);
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'prestage' });
let local = 0;
let remote = 0;
const countLocality = ({ cell, callerRegion }: ServedRequest) => {
  try {
    if (plane.directory.regionOf(cell) === callerRegion) local += 1;
    else remote += 1;
  } catch {
    // A cell the directory does not know yet: served, but its region is unknown; not counted.
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
const logError = (error: unknown) => console.error(JSON.stringify({ level: 'ERROR', error: String(error) }));
const inner = createInterceptorHandler({ api: new DataApi(client, { logError }), recorder, logError });

/** Lambda Function URL / HTTP API v2 entry point of the request interceptor. */
export const handler = async (event: unknown, context: unknown) => {
  const startedAt = performance.now();
  local = 0;
  remote = 0;
  try {
    await plane.directory.refreshIfStale();
    return await inner(event, context as never);
  } finally {
    // EMF on stdout: the request's latency and whether a cell in the caller's region served it.
    metrics.addMetric(METRIC.interceptorLatency, MetricUnit.Milliseconds, performance.now() - startedAt);
    metrics.addMetric(METRIC.interceptorLocalRequests, MetricUnit.Count, local);
    metrics.addMetric(METRIC.interceptorRemoteRequests, MetricUnit.Count, remote);
    metrics.publishStoredMetrics();
  }
};
