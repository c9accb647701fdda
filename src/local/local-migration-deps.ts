import type { CellHealth } from '../data-plane/cell-health.ts';
import type { RoutingLeaseConfig } from '../domain/migration/routing-lease.ts';
import { ErrorRateHealthCheck } from '../migration/canary-health.ts';
import { DEFAULT_TUNING, type MigrationDeps, type MigrationTuning } from '../migration/migration-deps.ts';
import type { EmbeddedCluster } from './embedded-cluster.ts';

/** Migration step dependencies over an embedded cluster; the canary check reads the in-process cell health. */
export function localMigrationDeps(
  cluster: EmbeddedCluster,
  options: { lease: RoutingLeaseConfig; health: CellHealth; tuning?: Partial<MigrationTuning> },
): MigrationDeps {
  return {
    partitions: cluster.partitions,
    replicas: cluster.routingReplicas(),
    cells: cluster.cells,
    stores: cluster.stores,
    lease: options.lease,
    tuning: { ...DEFAULT_TUNING, ...options.tuning },
    health: new ErrorRateHealthCheck(options.health),
    wallNow: Date.now,
    monoNow: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
