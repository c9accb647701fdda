import type { RoutingClientUnsafeSwitches } from '../../data-plane/routing-client.ts';
import type { FenceStage } from '../../domain/migration/migration-stage.ts';
import type { MigrationTaskName } from '../../domain/migration/migration-tasks.ts';
import type { RoutingLeaseConfig } from '../../domain/migration/routing-lease.ts';
import type { MigrationTuning } from '../../migration/migration-deps.ts';
import type { ListAppendReport } from '../../verification/list-append-checker.ts';
import type { ClientPathFaults } from './client-faults.ts';
import type { NemesisSettings } from './nemesis-settings.ts';
import type { MigrationSummary } from './run-support.ts';
import type { StepStall } from './step-freezer.ts';
import type { StorageNemesisCounts } from './storage-nemesis.ts';

/** What a nemesis run (runNemesis, nemesis-run.ts) is told and what it reports. */

/** Lease settings of the nemesis runs: short, so cutovers take a fraction of a second. */
export const NEMESIS_LEASE: RoutingLeaseConfig = {
  leaseTtlMs: 150,
  maxRequestMs: 400,
  maxClockSkewMs: 30,
  clockDriftRate: 0.001,
  indexLagMs: 0,
};

/** Small pages and budgets, so every stage takes several invocations (more places to fail). */
export const NEMESIS_TUNING: Partial<MigrationTuning> = {
  copyItemsPerInvocation: 40,
  queryPageItems: 20,
  catchUpItemsPerInvocation: 40,
  catchUpLagItems: 4,
  maxCatchUpRounds: 5,
  stepBudgetMs: 300,
  maxInlineWaitMs: 5_000,
};

/** Clients with a fault of their own (the client faults). */
export interface ClientFaults {
  /** A client whose wall clock (and HLC) runs this far behind, beyond the skew budget. @default 0 */
  readonly skewMs?: number;
  /** A client that is suspended now and then for longer than a lease (its monotonic clock stops). */
  readonly suspend?: { readonly everyMs: number; readonly forMs: number };
  /** A client configured with this lease TTL instead of the cluster's (it must honour the record's terms). */
  readonly leaseTtlMs?: number;
  /** Share of this client's writes to cells in the other region that are dropped before they arrive. */
  readonly dropRemoteWriteRate?: ClientPathFaults['dropRemoteWriteRate'];
  /** Share of this client's reads that reach the table late, and how late. */
  readonly lateReads?: ClientPathFaults['lateReads'];
}

export interface NemesisRunOptions {
  readonly seed: number;
  /** How long clients append and read while migrations run. */
  readonly durationMs: number;
  readonly regions?: readonly string[];
  readonly cellsPerRegion?: number;
  readonly partitions?: number;
  readonly keysPerPartition?: number;
  /** Share of canary reads that read both copies and repair the older (best effort, not a protection). @default 0.05 */
  readonly readRepairRate?: number;
  /** DynamoDB partition keys (shards) per partition. @default 4 */
  readonly shardsPerPartition?: number;
  readonly writers?: number;
  readonly readers?: number;
  /** Migrations in flight at once; new ones start as others end, until the duration is over. */
  readonly migrationConcurrency?: number;
  /** Stop starting migrations after this many. @default unlimited */
  readonly maxMigrations?: number;
  /** Lease settings of the clients and the migrations. @default NEMESIS_LEASE */
  readonly lease?: RoutingLeaseConfig;
  /** How long each canary Wait state lasts (reads split between the cells). @default 100 */
  readonly canaryWaitMs?: number;
  /** Canary read weights to pick from, per migration. @default [], [0.5, 1] and [1] */
  readonly canaryPlans?: readonly (readonly number[])[];
  /** Probability that a migration gets one step fault (error, timeout or throttle at a random stage). */
  readonly stepFaultRate?: number;
  readonly storage?: Partial<NemesisSettings>;
  /** Each entry adds one more client with that fault (on top of `writers`), which appends like the others. */
  readonly faultyClients?: readonly ClientFaults[];
  /** Each entry adds one more reader with that fault (on top of `readers`). */
  readonly faultyReaders?: readonly ClientFaults[];
  /** Whether migrations keep the source as a cold copy. @default drawn per migration (half of them) */
  readonly retainSource?: boolean;
  /** Move partitions only to cells in another region than their current one. @default any other cell */
  readonly crossRegionMoves?: boolean;
  /**
   * Keep the workload going past `durationMs` until this many migrations have ended (within the liveness bound),
   * so an attack on one migration stage sees traffic during that stage however slow the machine is. @default 0
   */
  readonly minMigrationsEnded?: number;
  /** Every migration ends within this after the workload stopped, or it counts as never ending. */
  readonly livenessBoundMs?: number;
  /**
   * A step that outlives its stage (a process fault of the issue): in every migration, the first invocation of
   * `task` hangs until the state machine has timed it out and started the retry, then runs alongside the retry
   * as a zombie, and its sandbox stalls as `stall` says (see StepStall); with `untilStage`, each stall lasts until
   * the migration has entered that stage, then `forMs` more.
   */
  readonly zombie?: {
    readonly task: MigrationTaskName;
    readonly stall: Omit<StepStall, 'until'>;
    readonly untilStage?: FenceStage;
  };
  /** Migration tuning on top of the nemesis's small pages and budgets. */
  readonly tuning?: Partial<MigrationTuning>;
  /** Task timeout of the definition (a step running longer is retried, and goes on as a zombie). @default 3 */
  readonly taskTimeoutSeconds?: number;
  /** Pause before the state machine retries a step (every Retry policy). @default 20 */
  readonly retryIntervalMs?: number;
  /** Protections turned off (negative controls). */
  readonly unsafe?: {
    readonly client?: RoutingClientUnsafeSwitches;
    readonly skipMirrorWait?: boolean;
    readonly trustChangesIndex?: boolean;
    readonly trustRetriedRefusals?: boolean;
    readonly skipReplicaConfirmation?: boolean;
    readonly ignoreRepairYoungBound?: boolean;
    readonly readSourceFirst?: boolean;
  };
  readonly onProgress?: (progress: NemesisProgress) => void;
}

export interface NemesisProgress {
  readonly elapsedMs: number;
  readonly migrationsStarted: number;
  readonly migrationsEnded: number;
  readonly appendsAcked: number;
}

export interface NemesisRunReport {
  readonly checker: ListAppendReport;
  readonly migrations: MigrationSummary;
  readonly faults: StorageNemesisCounts & {
    readonly stepFaults: number;
    readonly frozenInvocations: number;
    readonly requestsHeld: number;
    /** Stalls of step sandboxes (the `zombie` option). */
    readonly stepStalls: number;
    readonly suspensions: number;
    readonly mirrorFailures: number;
    /** Routing writes copied to other regions' replicas, and the longest a copy took. */
    readonly replicatedCopies: number;
    readonly maxReplicationLagMs: number;
  };
  /** Every migration, for reading an anomaly against (times on the history's clock). */
  readonly migrationLog: readonly MigrationLogEntry[];
  readonly elapsedMs: number;
}

export interface MigrationLogEntry {
  readonly id: string;
  readonly partition: string;
  readonly from: string;
  readonly to: string;
  readonly input: string;
  readonly fault: string | null;
  readonly startMs: number;
  endMs: number | null;
  outcome: string;
  /** The stage that failed, for a rollback. */
  failedStage?: string;
  error?: string;
}
