import { AccessRecorder } from '../../src/data-plane/access-recorder.ts';
import { CellHealth } from '../../src/data-plane/cell-health.ts';
import { RoutingClient, type RoutingClientOptions } from '../../src/data-plane/routing-client.ts';
import { HybridLogicalClock } from '../../src/domain/migration/hlc.ts';
import type { RoutingLeaseConfig } from '../../src/domain/migration/routing-lease.ts';
import { EmbeddedCluster } from '../../src/local/embedded-cluster.ts';

/** Lease settings for tests: short, so cutovers and expiries take milliseconds. */
export const TEST_LEASE: RoutingLeaseConfig = {
  leaseTtlMs: 150,
  maxRequestMs: 300,
  maxClockSkewMs: 20,
  clockDriftRate: 0.001,
  indexLagMs: 0,
};

let nodeCounter = 0;

/** A routing client on a cluster; every option can be overridden. */
export function clientOn(
  cluster: EmbeddedCluster,
  overrides: Partial<RoutingClientOptions> = {},
): RoutingClient {
  nodeCounter += 1;
  return new RoutingClient({
    partitions: cluster.partitions,
    cells: cluster.cells,
    stores: cluster.stores,
    clock: new HybridLogicalClock(`t${nodeCounter}`),
    lease: TEST_LEASE,
    region: cluster.homeRegion,
    shardsPerPartition: 4,
    readRepairRate: 0,
    accessRecorder: new AccessRecorder(cluster.accessStats, { flushIntervalMs: 60_000 }),
    health: new CellHealth(),
    ...overrides,
  });
}

export async function startTestCluster(regions = ['us-east-1', 'eu-west-1'], cellsPerRegion = 2) {
  return EmbeddedCluster.start({ regions, cellsPerRegion });
}

/**
 * A put retried as the client asks when its outcome is unknown: a loaded machine can miss the client's short
 * deadline, and a test that seeds data must not fail on that (the write is idempotent for the same value).
 */
export async function putRetried(
  client: RoutingClient,
  partition: string,
  key: string,
  value: unknown,
  attempts = 5,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.put(partition, key, value);
      return;
    } catch (error) {
      if ((error as Error).name !== 'WriteOutcomeUnknownError' || attempt >= attempts) throw error;
    }
  }
}
