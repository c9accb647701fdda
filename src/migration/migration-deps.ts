import type { CellDataStores, CellRepository, PartitionRepository } from '../domain/data-plane/ports.ts';
import type { RoutingLeaseConfig } from '../domain/migration/routing-lease.ts';

/** Sizes and budgets of the migration steps. Each step does bounded work, so no Lambda runs long. */
export interface MigrationTuning {
  /** Items one copy invocation moves at most. */
  readonly copyItemsPerInvocation: number;
  /** Items per Query page (DynamoDB also caps a page at 1 MB). */
  readonly queryPageItems: number;
  /** Shards processed in parallel (parallel Queries). */
  readonly shardConcurrency: number;
  /** Conditional single-item writes in flight at once. */
  readonly writeConcurrency: number;
  /** Wall time a step may spend sending writes; also the length of unconditional writers' leases. */
  readonly stepBudgetMs: number;
  readonly catchUpItemsPerInvocation: number;
  /** Catch-up is done when a round finds at most this many changed items. */
  readonly catchUpLagItems: number;
  /** After this many rounds catch-up hands over anyway (the cutover's final round carries the rest). */
  readonly maxCatchUpRounds: number;
  /** Verify rounds (each repairs what it finds) before giving up with VerifyMismatchError. */
  readonly maxVerifyRounds: number;
  /** Waits up to this long happen inside the step; longer ones are retried by the state machine. */
  readonly maxInlineWaitMs: number;
  readonly removeItemsPerInvocation: number;
  /** A retried `acquire` older than this (since the execution started) refuses to take the fence. */
  readonly acquireWindowMs: number;
  /**
   * Negative controls only: shift reads without waiting out the leases of clients that may still write to the
   * source alone (the behaviour that served stale canary reads). Never set in a deployment.
   */
  readonly unsafeSkipMirrorWait?: boolean;
  /**
   * Negative controls only: skip the exact verifies (before reads shift, and of the frozen source before the
   * switch) and trust catch-up, i.e. trust the `changes` index to lag less than `indexLagMs`. Never set in a
   * deployment.
   */
  readonly unsafeTrustChangesIndex?: boolean;
  /**
   * Negative controls only: start lease waits when a routing change is committed in the home region, without
   * confirming that every replica region can read it (trusting replication to be faster than a lease). Never
   * set in a deployment.
   */
  readonly unsafeSkipReplicaConfirmation?: boolean;
  /**
   * Negative controls only: let destructive repairs (removals, replacements of never-acknowledged states) touch
   * states of any age, not only those older than the invocation (RangeSyncOptions.destructiveBelowHlc). Never
   * set in a deployment.
   */
  readonly unsafeIgnoreRepairYoungBound?: boolean;
  /**
   * Negative controls only: in each piece of a verify pass, read the authoritative side before the copy (a write
   * landing in between then looks extra on the copy). Never set in a deployment.
   */
  readonly unsafeReadSourceFirst?: boolean;
  /** Pause between consistent reads of a replica that does not show a routing change yet. */
  readonly replicaPollMs: number;
}

export const DEFAULT_TUNING: MigrationTuning = {
  copyItemsPerInvocation: 20_000,
  queryPageItems: 500,
  shardConcurrency: 8,
  writeConcurrency: 32,
  stepBudgetMs: 30_000,
  catchUpItemsPerInvocation: 10_000,
  catchUpLagItems: 100,
  maxCatchUpRounds: 20,
  maxVerifyRounds: 3,
  maxInlineWaitMs: 10_000,
  removeItemsPerInvocation: 20_000,
  acquireWindowMs: 10 * 60_000,
  replicaPollMs: 100,
};

/** The canary health check between read-shift steps: the target's error rate, or an alarm in AWS. */
export interface CanaryHealthCheck {
  check(
    targetCell: string,
    sinceMs: number,
  ): Promise<{ healthy: boolean; requests: number; failures: number; reason?: string }>;
}

/**
 * The partition table as each other region reads it (a global-table replica there). The interceptors and
 * embedded clients of a region read routing from their own region's replica, so a routing change counts as
 * visible only once a consistent read in every one of these shows it.
 */
export type RoutingReplicas = ReadonlyMap<string, Pick<PartitionRepository, 'get'>>;

export interface MigrationDeps {
  /** The partition table in the home region: every routing change is written here. */
  readonly partitions: PartitionRepository;
  /** Replicas in the other regions, by region. @default none (a single-region deployment) */
  readonly replicas?: RoutingReplicas;
  readonly cells: CellRepository;
  readonly stores: CellDataStores;
  readonly lease: RoutingLeaseConfig;
  readonly tuning: MigrationTuning;
  readonly health: CanaryHealthCheck;
  readonly wallNow: () => number;
  readonly monoNow: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}
