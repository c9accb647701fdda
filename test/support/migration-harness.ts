import { CellHealth } from '../../src/data-plane/cell-health.ts';
import type { MigrationTaskName } from '../../src/domain/migration/migration-tasks.ts';
import type { RoutingLeaseConfig } from '../../src/domain/migration/routing-lease.ts';
import type { EmbeddedCluster } from '../../src/local/embedded-cluster.ts';
import { FaultInjector } from '../../src/local/fault-injector.ts';
import { localMigrationDeps } from '../../src/local/local-migration-deps.ts';
import { LocalMigrationRunner } from '../../src/local/local-migration-runner.ts';
import { type AslDefinition, synthesizeMigrationAsl } from '../../src/local/migration-asl.ts';
import type { MigrationTuning } from '../../src/migration/migration-deps.ts';
import { TEST_LEASE } from './test-cluster.ts';

let cachedAsl: AslDefinition | undefined;
/** The synthesized definition (2 s task timeout: a verify pass checksums whole shards, which a loaded 2-core machine can stretch past 1 s), synthesized once per test worker. */
export function testAsl(): AslDefinition {
  cachedAsl ??= synthesizeMigrationAsl({ taskTimeoutSeconds: 2 });
  return cachedAsl;
}

/** Small pages and budgets, so even small partitions take several copy and catch-up invocations. */
export const TEST_TUNING: Partial<MigrationTuning> = {
  copyItemsPerInvocation: 60,
  queryPageItems: 25,
  catchUpItemsPerInvocation: 50,
  catchUpLagItems: 5,
  maxCatchUpRounds: 6,
  stepBudgetMs: 250,
  maxInlineWaitMs: 5_000,
};

export interface HarnessOptions {
  readonly health?: CellHealth;
  readonly faults?: FaultInjector;
  readonly twice?: boolean;
  readonly tuning?: Partial<MigrationTuning>;
  /** Lease rules the migration assumes. @default TEST_LEASE */
  readonly lease?: RoutingLeaseConfig;
  /** Called after each completed step invocation with its result. */
  readonly afterStep?: (task: MigrationTaskName, result: unknown) => Promise<void>;
}

export function migrationRunner(cluster: EmbeddedCluster, options: HarnessOptions = {}) {
  const health = options.health ?? new CellHealth();
  const faults = options.faults ?? new FaultInjector();
  const deps = localMigrationDeps(cluster, {
    lease: options.lease ?? TEST_LEASE,
    health,
    tuning: { ...TEST_TUNING, ...options.tuning },
  });
  const afterStep = options.afterStep;
  const runner = new LocalMigrationRunner({
    deps,
    faults,
    asl: testAsl(),
    waitOverrideMs: 0,
    retryIntervalMs: 5,
    runEachStepTwice: options.twice ?? false,
    ...(afterStep
      ? { afterStep: (task: MigrationTaskName, _e: unknown, result: unknown) => afterStep(task, result) }
      : {}),
  });
  return { runner, faults, health, deps };
}
