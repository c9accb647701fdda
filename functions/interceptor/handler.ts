import { randomBytes } from 'node:crypto';
import { AccessRecorder } from '../../src/data-plane/access-recorder.ts';
import { CellHealth } from '../../src/data-plane/cell-health.ts';
import { RoutingClient } from '../../src/data-plane/routing-client.ts';
import { HybridLogicalClock } from '../../src/domain/migration/hlc.ts';
import { DataApi } from '../../src/interceptor/data-api.ts';
import { createInterceptorHandler } from '../../src/interceptor/interceptor-handler.ts';
import { awsDataPlane, readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';

// Built once per execution environment: configuration, clients, the routing cache, the HLC.
const config = readDataPlaneConfig();
const plane = awsDataPlane(config);
const recorder = new AccessRecorder(plane.accessStats);
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
});
const logError = (error: unknown) => console.error(JSON.stringify({ level: 'ERROR', error: String(error) }));
const inner = createInterceptorHandler({ api: new DataApi(client, { logError }), recorder, logError });

/** Lambda Function URL / HTTP API v2 entry point of the request interceptor. */
export const handler = async (event: unknown, context: unknown) => {
  await plane.directory.refreshIfStale();
  return inner(event, context as never);
};
