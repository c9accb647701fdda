import type {
  PartitionFence,
  PartitionRecord,
  PartitionRouting,
  ReplicaInfo,
} from '../data-plane/partition-record.ts';
import {
  FenceLostError,
  InvalidMigrationTargetError,
  MigrationInProgressError,
  MigrationStateError,
  StageClosedError,
} from './migration-errors.ts';
import { type FenceStage, stageIndex } from './migration-stage.ts';
import type { LeaseTerms } from './routing-lease.ts';

/**
 * Pure state transitions of a partition record during a migration. Each returns the next record, or
 * `undefined` when the record is already in the requested state, which makes every step idempotent: the
 * repository writes nothing and the step carries on. The repository bumps `version` on every write.
 */

function touch(record: PartitionRecord, nowMs: number, changes: Partial<PartitionRecord>): PartitionRecord {
  return { ...record, ...changes, updatedAtMs: nowMs };
}

/** The fence, if this migration owns it; otherwise a FenceLostError. */
export function ownedFence(record: PartitionRecord, migrationId: string): PartitionFence {
  if (record.fence?.owner !== migrationId) throw new FenceLostError(record.partition, migrationId);
  return record.fence;
}

function withoutKey<T>(map: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const { [key]: _removed, ...rest } = map;
  return rest;
}

/** Lease terms only ever grow: a client holding the record's earlier terms is still covered. */
function raisedTerms(current: LeaseTerms | undefined, wanted: LeaseTerms): LeaseTerms {
  if (!current) return wanted;
  return {
    leaseTtlMs: Math.max(current.leaseTtlMs, wanted.leaseTtlMs),
    maxRequestMs: Math.max(current.maxRequestMs, wanted.maxRequestMs),
  };
}

/**
 * Take the fence. `leaseTerms` are the migration's own; the record keeps the longer of them and its current
 * terms, and the migration then assumes the record's.
 */
export function acquireFence(
  record: PartitionRecord,
  migrationId: string,
  targetCell: string,
  nowMs: number,
  leaseTerms?: LeaseTerms,
): PartitionRecord | undefined {
  if (record.fence?.owner === migrationId) return undefined;
  if (record.fence) throw new MigrationInProgressError(record.partition, record.fence.owner);
  if (record.lastMigration?.id === migrationId) {
    throw new MigrationStateError(
      `migration '${migrationId}' already ended (${record.lastMigration.outcome})`,
    );
  }
  if (record.cell === targetCell) {
    throw new InvalidMigrationTargetError(
      `partition '${record.partition}' is already in cell '${targetCell}'`,
    );
  }
  return touch(record, nowMs, {
    status: 'MIGRATING',
    ...(leaseTerms ? { leaseTerms: raisedTerms(record.leaseTerms, leaseTerms) } : {}),
    fence: {
      owner: migrationId,
      sourceCell: record.cell,
      targetCell,
      acquiredAtMs: nowMs,
      stage: 'acquire',
    },
    routing: { phase: 'preparing', peer: targetCell, readWeight: 0 },
  });
}

/**
 * Record that the migration reached `stage`. Stages only move forward; `rollback` is last. Entering the current
 * stage again is "no change" (a retry); entering a stage the migration has left is refused: the caller is a
 * zombie of an earlier step (a timed-out invocation still running, or one thawed from a frozen sandbox).
 */
export function enterStage(
  record: PartitionRecord,
  migrationId: string,
  stage: FenceStage,
  nowMs: number,
): PartitionRecord | undefined {
  const fence = ownedFence(record, migrationId);
  if (stageIndex(stage) < stageIndex(fence.stage)) {
    throw new StageClosedError(
      `stage '${stage}' of migration '${migrationId}' is closed (now '${fence.stage}')`,
    );
  }
  if (stageIndex(stage) === stageIndex(fence.stage)) return undefined;
  const failedStage = stage === 'rollback' ? fence.stage : undefined;
  return touch(record, nowMs, { fence: { ...fence, stage, ...(failedStage ? { failedStage } : {}) } });
}

/**
 * Register a lease for a step that writes without conditions. Refused once the migration left `stage`, so a
 * zombie retry that wakes up late never writes: the stage after it closes the stage first, then waits for the
 * leases registered before.
 */
export function registerWriterLease(
  record: PartitionRecord,
  migrationId: string,
  stage: FenceStage,
  leaseId: string,
  untilMs: number,
  nowMs: number,
): PartitionRecord | undefined {
  const fence = ownedFence(record, migrationId);
  if (fence.stage !== stage) {
    throw new StageClosedError(
      `stage '${stage}' of migration '${migrationId}' is closed (now '${fence.stage}')`,
    );
  }
  if (fence.writerLeases?.[leaseId] === untilMs) return undefined;
  return touch(record, nowMs, {
    fence: { ...fence, writerLeases: { ...fence.writerLeases, [leaseId]: untilMs } },
  });
}

/** A step that finished writing drops its lease (best effort: an expired lease needs no release). */
export function releaseWriterLease(
  record: PartitionRecord,
  migrationId: string,
  leaseId: string,
  nowMs: number,
): PartitionRecord | undefined {
  if (record.fence?.owner !== migrationId || !record.fence.writerLeases?.[leaseId]) return undefined;
  return touch(record, nowMs, {
    fence: { ...record.fence, writerLeases: withoutKey(record.fence.writerLeases, leaseId) },
  });
}

/** Latest end of the writer leases still registered (0 when none). */
export function writerLeasesEndMs(record: PartitionRecord): number {
  return Math.max(0, ...Object.values(record.fence?.writerLeases ?? {}));
}

export function setReplica(
  record: PartitionRecord,
  cell: string,
  info: Omit<ReplicaInfo, 'updatedAtMs'>,
  nowMs: number,
): PartitionRecord | undefined {
  const current = record.replicas[cell];
  if (
    current &&
    current.state === info.state &&
    current.watermark === info.watermark &&
    current.copyMode === info.copyMode &&
    current.sinceHlc === info.sinceHlc
  ) {
    return undefined;
  }
  return touch(record, nowMs, { replicas: { ...record.replicas, [cell]: { ...info, updatedAtMs: nowMs } } });
}

/**
 * Start mirroring writes to the target (reads stay on the source). Re-entering keeps the original instant, so a
 * retried step never shortens the wait that follows.
 */
export function startMirroring(
  record: PartitionRecord,
  migrationId: string,
  nowMs: number,
): PartitionRecord | undefined {
  const fence = ownedFence(record, migrationId);
  const { routing } = record;
  if (routing.phase !== 'preparing') return undefined;
  return touch(record, nowMs, { routing: { phase: 'mirroring', peer: fence.targetCell, readWeight: 0 } });
}

/**
 * Note when the current phase was certainly committed: an instant taken after the write that entered it was
 * acknowledged (a client may read the old routing until then). Kept once set, so a retried step finds the
 * instant instead of starting its wait again.
 */
export function confirmPhase(
  record: PartitionRecord,
  migrationId: string,
  phase: PartitionRouting['phase'],
  nowMs: number,
): PartitionRecord | undefined {
  ownedFence(record, migrationId);
  if (record.routing.phase !== phase || record.routing.sinceMs !== undefined) return undefined;
  return touch(record, nowMs, { routing: { ...record.routing, sinceMs: nowMs } });
}

/**
 * Send every read back to the source while writes keep being mirrored (the first half of a rollback after
 * reads shifted, or after the fence): the target may only be dropped once no client can still send it a read.
 */
export function unshiftReads(
  record: PartitionRecord,
  migrationId: string,
  nowMs: number,
): PartitionRecord | undefined {
  const fence = ownedFence(record, migrationId);
  const { routing } = record;
  // From `fenced` too (before the switch): clients may still hold the `shifting` routing from before the fence.
  const shifted =
    routing.phase === 'shifting' || (routing.phase === 'fenced' && record.cell === fence.sourceCell);
  if (!shifted) return undefined;
  return touch(record, nowMs, { routing: { phase: 'mirroring', peer: fence.targetCell, readWeight: 0 } });
}

/**
 * Shift a share of reads to the target. Only from `mirroring` (or `shifting`): a client still holding
 * `preparing` writes to the source alone, so reads may not reach the target before the mirroring is known to
 * every client and the target has been reconciled (the caller's job).
 */
export function setReadWeight(
  record: PartitionRecord,
  migrationId: string,
  weight: number,
  nowMs: number,
): PartitionRecord | undefined {
  const fence = ownedFence(record, migrationId);
  const { routing } = record;
  if (routing.phase !== 'mirroring' && routing.phase !== 'shifting') {
    throw new MigrationStateError(`cannot shift reads in phase '${routing.phase}'`);
  }
  if (routing.phase === 'shifting' && routing.readWeight === weight) return undefined;
  return touch(record, nowMs, {
    routing: { phase: 'shifting', peer: fence.targetCell, readWeight: weight },
  });
}

/** Fence writes. Re-fencing keeps the original instant, so a retried step never shortens the lease wait. */
export function fenceWrites(
  record: PartitionRecord,
  migrationId: string,
  nowMs: number,
): PartitionRecord | undefined {
  const fence = ownedFence(record, migrationId);
  const { routing } = record;
  if (routing.phase === 'fenced' || routing.phase === 'switched') return undefined;
  if (routing.phase !== 'preparing' && routing.phase !== 'mirroring' && routing.phase !== 'shifting') {
    throw new MigrationStateError(`cannot fence in phase '${routing.phase}'`);
  }
  return touch(record, nowMs, {
    routing: { phase: 'fenced', peer: fence.targetCell, readWeight: 0, fencedAtMs: nowMs },
  });
}

/** Make the target the primary. Only from the fenced phase, after the final catch-up. */
export function switchToTarget(
  record: PartitionRecord,
  migrationId: string,
  nowMs: number,
): PartitionRecord | undefined {
  const fence = ownedFence(record, migrationId);
  const { routing } = record;
  if (routing.phase === 'switched' && record.cell === fence.targetCell) return undefined;
  // A rollback (or an operator's recovery) has taken over: a late switch step must not move the primary.
  if (stageIndex(fence.stage) > stageIndex('cutover')) {
    throw new StageClosedError(`migration '${migrationId}' left the cutover (now '${fence.stage}')`);
  }
  if (routing.phase !== 'fenced' || record.cell !== fence.sourceCell) {
    throw new MigrationStateError(`cannot switch in phase '${routing.phase}' with cell '${record.cell}'`);
  }
  return touch(record, nowMs, {
    cell: fence.targetCell,
    fence: { ...fence, switchedAtMs: nowMs },
    routing: { phase: 'switched', peer: fence.sourceCell, readWeight: 0 },
    replicas: withoutKey(record.replicas, fence.targetCell),
  });
}

/** Forget the source copy once it has been removed. */
export function dropReplica(
  record: PartitionRecord,
  cell: string,
  nowMs: number,
): PartitionRecord | undefined {
  if (!(cell in record.replicas)) return undefined;
  return touch(record, nowMs, { replicas: withoutKey(record.replicas, cell) });
}

export function commitMigration(
  record: PartitionRecord,
  migrationId: string,
  nowMs: number,
): PartitionRecord | undefined {
  if (
    !record.fence &&
    record.lastMigration?.id === migrationId &&
    record.lastMigration.outcome === 'COMMITTED'
  ) {
    return undefined;
  }
  const fence = ownedFence(record, migrationId);
  if (record.routing.phase !== 'switched' || record.cell !== fence.targetCell) {
    throw new MigrationStateError(`cannot commit in phase '${record.routing.phase}'`);
  }
  return touch(record, nowMs, {
    status: 'ACTIVE',
    fence: undefined,
    routing: { phase: 'stable', readWeight: 0 },
    lastMigration: {
      id: migrationId,
      outcome: 'COMMITTED',
      fromCell: fence.sourceCell,
      toCell: fence.targetCell,
      stage: 'commit',
      atMs: nowMs,
    },
  });
}

/**
 * Start a reverse cutover: the migration had switched to the target and must go back. The target (now the
 * primary) is fenced exactly as the source was, so the same lease argument covers the way back.
 */
export function fenceForReverse(
  record: PartitionRecord,
  migrationId: string,
  nowMs: number,
): PartitionRecord | undefined {
  const fence = ownedFence(record, migrationId);
  const { routing } = record;
  if (routing.phase === 'fenced' && record.cell === fence.targetCell) return undefined;
  if (routing.phase !== 'switched')
    throw new MigrationStateError(`no reverse cutover from '${routing.phase}'`);
  return touch(record, nowMs, {
    fence: { ...fence, stage: 'rollback', failedStage: fence.failedStage ?? fence.stage },
    routing: { phase: 'fenced', peer: fence.sourceCell, readWeight: 0, fencedAtMs: nowMs },
  });
}

/**
 * End a rollback: routing back to the source only, fence released, the reason recorded. `targetReplica`
 * says what the target's copy is now (stale after a partial build; cold after a reverse cutover).
 */
export function finishRollback(
  record: PartitionRecord,
  migrationId: string,
  failedStage: FenceStage,
  reason: string,
  targetReplica: Omit<ReplicaInfo, 'updatedAtMs'>,
  nowMs: number,
): PartitionRecord | undefined {
  if (!record.fence && record.lastMigration?.id === migrationId) return undefined;
  const fence = ownedFence(record, migrationId);
  if (record.routing.phase === 'switched') {
    throw new MigrationStateError(
      'a switched migration must run its reverse cutover before it can roll back',
    );
  }
  const routing: PartitionRouting = { phase: 'stable', readWeight: 0 };
  const replicas = withoutKey(record.replicas, fence.sourceCell);
  return touch(record, nowMs, {
    cell: fence.sourceCell,
    status: 'ACTIVE',
    fence: undefined,
    routing,
    replicas: { ...replicas, [fence.targetCell]: { ...targetReplica, updatedAtMs: nowMs } },
    lastMigration: {
      id: migrationId,
      outcome: 'ROLLED_BACK',
      fromCell: fence.sourceCell,
      toCell: fence.targetCell,
      stage: failedStage,
      reason: reason.slice(0, 500),
      atMs: nowMs,
    },
  });
}

/**
 * End a reverse cutover that cannot restore the source by finishing the move instead: the target, fenced as the
 * primary, holds every acknowledged write, so it becomes the stable primary and the source's copy is marked
 * stale. Recorded as COMMITTED, with the reason. This keeps a failed repair from leaving the partition fenced.
 */
export function rollForward(
  record: PartitionRecord,
  migrationId: string,
  reason: string,
  nowMs: number,
): PartitionRecord | undefined {
  if (!record.fence && record.lastMigration?.id === migrationId) return undefined;
  const fence = ownedFence(record, migrationId);
  if (record.cell !== fence.targetCell) {
    throw new MigrationStateError(
      `cannot roll forward with cell '${record.cell}' (target '${fence.targetCell}')`,
    );
  }
  return touch(record, nowMs, {
    status: 'ACTIVE',
    fence: undefined,
    routing: { phase: 'stable', readWeight: 0 },
    replicas: {
      ...withoutKey(record.replicas, fence.targetCell),
      [fence.sourceCell]: { state: 'stale', updatedAtMs: nowMs },
    },
    lastMigration: {
      id: migrationId,
      outcome: 'COMMITTED',
      fromCell: fence.sourceCell,
      toCell: fence.targetCell,
      stage: 'rollback',
      reason: reason.slice(0, 500),
      atMs: nowMs,
    },
  });
}
