import type { FenceStage } from '../migration/migration-stage.ts';
import type { LeaseTerms } from '../migration/routing-lease.ts';

/**
 * Routing phase of a partition, which the interceptor reads (through its leased cache) to route each request:
 * - `stable`: reads and writes go to `cell`;
 * - `preparing`: a migration builds a replica at `peer`; clients still use `cell` only;
 * - `mirroring`: writes go to `cell` and are mirrored to `peer` (acknowledged only once both hold them); reads
 *   go to `cell`. Reads shift only after every client that could still hold `preparing` has lost its lease and
 *   a full verify has reconciled `peer`, so a canary read never misses an acknowledged write;
 * - `shifting`: writes as in `mirroring`; reads go to `peer` for keys whose sticky canary point is below
 *   `readWeight`;
 * - `fenced`: writes are refused (503); reads read `cell` and `peer` and return the newer copy;
 * - `switched`: `cell` is the new primary for reads and writes; `peer` is the old source, kept until commit.
 */
export type RoutingPhase = 'stable' | 'preparing' | 'mirroring' | 'shifting' | 'fenced' | 'switched';

export interface PartitionRouting {
  readonly phase: RoutingPhase;
  /** The other cell of a migration in progress (target before the switch, old source after it). */
  readonly peer?: string;
  /** Share of reads sent to `peer` while shifting, in [0, 1]. */
  readonly readWeight: number;
  /** When the fence committed (epoch ms); the cutover waits out routing leases from this instant. */
  readonly fencedAtMs?: number;
  /**
   * For `mirroring`: an instant (epoch ms) after the phase was certainly committed. Reads may shift (or, on a
   * rollback, the target be dropped) once leases taken before it have run out.
   */
  readonly sinceMs?: number;
}

export type PartitionStatus = 'ACTIVE' | 'MIGRATING';

/** The migration fence: at most one migration owns a partition at a time. */
export interface PartitionFence {
  /** Migration id (the Step Functions execution name). */
  readonly owner: string;
  readonly sourceCell: string;
  readonly targetCell: string;
  readonly acquiredAtMs: number;
  readonly stage: FenceStage;
  /**
   * Leases of steps that write without conditions (copy pages, source removal pages): invocation id → end
   * (epoch ms). A step removes its lease when it finishes; stages that must not race such writes wait until
   * the leases left (those of steps that died or were abandoned) have expired.
   */
  readonly writerLeases?: Readonly<Record<string, number>>;
  /** When the target became the primary (set by the switch). */
  readonly switchedAtMs?: number;
  /** The stage that failed, once a rollback started. */
  readonly failedStage?: FenceStage;
}

/** A copy of the partition in a cell other than the primary. */
export interface ReplicaInfo {
  /**
   * `building`: being filled by a migration; `cold`: a retained former source, complete up to `watermark`;
   * `stale`: left by a rolled-back migration (reusable only through a full copy and verify).
   */
  readonly state: 'building' | 'cold' | 'stale';
  /** For `cold`: every write that landed before this HLC bound is in the copy. */
  readonly watermark?: string;
  /** For `building`: how the migration fills it, and the catch-up bound it starts from (decided once). */
  readonly copyMode?: 'full' | 'delta';
  readonly sinceHlc?: string;
  readonly updatedAtMs: number;
}

export interface MigrationOutcome {
  readonly id: string;
  readonly outcome: 'COMMITTED' | 'ROLLED_BACK';
  readonly fromCell: string;
  readonly toCell: string;
  /** Stage at which it ended (for a rollback: the stage that failed). */
  readonly stage: FenceStage;
  readonly reason?: string;
  readonly atMs: number;
}

/** The partition metadata service's record for one partition. */
export interface PartitionRecord {
  readonly partition: string;
  /** The primary cell: the source of truth for the partition's data. */
  readonly cell: string;
  /** Number of DynamoDB partition keys (`<partition>#<shard>`) the items spread over. Fixed at creation. */
  readonly shards: number;
  readonly status: PartitionStatus;
  /** Bumped by every change of the record (optimistic concurrency). */
  readonly version: number;
  readonly routing: PartitionRouting;
  readonly fence?: PartitionFence;
  readonly replicas: Readonly<Record<string, ReplicaInfo>>;
  readonly lastMigration?: MigrationOutcome;
  /**
   * Stored bytes of the partition's items in its primary cell (DynamoDB item sizes: names and values), as last
   * measured: by a migration's copy (recorded at its commit), or by the profiler's size probe. Absent until the
   * first measurement (records written before sizes existed have none).
   */
  readonly sizeBytes?: number;
  /** When `sizeBytes` was measured (epoch ms); the profiler measures again once it is older than its max age. */
  readonly sizeMeasuredAtMs?: number;
  /**
   * The routing-lease terms clients must honour for this partition (they use the shorter of these and their
   * own) and migrations must assume (the longer). Set at creation; a migration only ever raises them. Absent
   * on records written before terms existed: clients then use their own settings.
   */
  readonly leaseTerms?: LeaseTerms;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export function newPartitionRecord(
  partition: string,
  cell: string,
  shards: number,
  nowMs: number,
  leaseTerms?: LeaseTerms,
): PartitionRecord {
  return {
    ...(leaseTerms ? { leaseTerms } : {}),
    partition,
    cell,
    shards,
    status: 'ACTIVE',
    version: 1,
    routing: { phase: 'stable', readWeight: 0 },
    replicas: {},
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
}
