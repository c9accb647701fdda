import { hlcLowerBound, hlcWallMs } from '../domain/migration/hlc.ts';
import { InvalidMigrationTargetError, MigrationStateError } from '../domain/migration/migration-errors.ts';
import { stageIndex } from '../domain/migration/migration-stage.ts';
import type { MigrationState } from '../domain/migration/migration-state.ts';
import { acquireFence, ownedFence, setReplica } from '../domain/migration/partition-transitions.ts';
import { changeWindowMs, leaseTermsOf, migrationLease } from '../domain/migration/routing-lease.ts';
import type { MigrationDeps } from './migration-deps.ts';
import { enter, requireStage, transition } from './step-support.ts';

/**
 * The MigratePartition stages that prepare a move: take the partition's fence, then prepare the target's replica
 * (a full copy, or a delta from a retained cold copy). See migration-steps.ts for the stages' shared contract.
 */

export async function acquire(deps: MigrationDeps, state: MigrationState) {
  const { targetCell } = state.input;
  const cell = await deps.cells.get(targetCell);
  if (!cell) throw new InvalidMigrationTargetError(`unknown target cell '${targetCell}'`);
  if (cell.status !== 'ACTIVE') {
    throw new InvalidMigrationTargetError(`target cell '${targetCell}' is ${cell.status}, not ACTIVE`);
  }
  const startedAtMs = Date.parse(state.startedAt);
  const r = await transition(deps, state, (current) => {
    if (
      current.fence?.owner !== state.migrationId &&
      deps.wallNow() - startedAtMs > deps.tuning.acquireWindowMs
    ) {
      // A zombie retry of an old execution must not take the fence of a partition that moved on.
      throw new MigrationStateError(`migration '${state.migrationId}' started too long ago to acquire now`);
    }
    return acquireFence(current, state.migrationId, targetCell, deps.wallNow(), leaseTermsOf(deps.lease));
  });
  const fence = ownedFence(r, state.migrationId);
  return {
    sourceCell: fence.sourceCell,
    targetCell: fence.targetCell,
    shards: r.shards,
    acquiredAtMs: fence.acquiredAtMs,
    leaseTerms: leaseTermsOf(migrationLease(deps.lease, r.leaseTerms)),
  };
}

/**
 * Prepare the target. A retained cold copy there (from an earlier move away) makes this a delta move: only
 * writes since its watermark are shipped. Otherwise the copy starts now and catch-up from now (minus the
 * change window). The decision is stored with the replica, so a second run decides the same.
 */
export async function createReplica(deps: MigrationDeps, state: MigrationState) {
  const { targetCell } = requireStage(state, 'acquire');
  await enter(deps, state, 'createReplica');
  // The cell's table must answer before anything is written to it.
  await deps.stores.forCell(targetCell).queryShard(state.input.partition, 0, { limit: 1 });
  const nowBound = hlcLowerBound(deps.wallNow() - changeWindowMs(deps.lease));
  const r = await transition(deps, state, (current) => {
    const fence = ownedFence(current, state.migrationId);
    // A zombie of this step that wakes after the copy started must not touch the replica entry.
    if (stageIndex(fence.stage) > stageIndex('createReplica')) return undefined;
    const existing = current.replicas[targetCell];
    if (existing?.state === 'building') return undefined;
    if (existing?.state === 'cold' && existing.watermark) {
      const since = hlcLowerBound(hlcWallMs(existing.watermark) - changeWindowMs(deps.lease));
      return setReplica(
        current,
        targetCell,
        { state: 'building', copyMode: 'delta', sinceHlc: since },
        deps.wallNow(),
      );
    }
    return setReplica(
      current,
      targetCell,
      { state: 'building', copyMode: 'full', sinceHlc: nowBound },
      deps.wallNow(),
    );
  });
  const replica = r.replicas[targetCell];
  return { mode: replica?.copyMode ?? 'full', sinceHlc: replica?.sinceHlc ?? nowBound };
}
