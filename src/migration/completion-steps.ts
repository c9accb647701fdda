import { randomUUID } from 'node:crypto';
import { SendingWindowClosedError } from '../domain/data-plane/data-plane-errors.ts';
import type { CellDataStore } from '../domain/data-plane/ports.ts';
import { hlcLowerBound } from '../domain/migration/hlc.ts';
import type { MigrationState, RemoveResult } from '../domain/migration/migration-state.ts';
import {
  commitMigration,
  dropReplica,
  ownedFence,
  registerWriterLease,
  setReplica,
} from '../domain/migration/partition-transitions.ts';
import { writerLeaseEndMs } from '../domain/migration/routing-lease.ts';
import { mapBounded } from '../support/bounded-parallel.ts';
import type { MigrationDeps } from './migration-deps.ts';
import {
  enter,
  record,
  releaseLease,
  requireStage,
  transition,
  waitForWriterLeases,
  withMeasuredSize,
} from './step-support.ts';

/**
 * The MigratePartition stages that finish a move: retain or remove the source, then commit the partition at the
 * target. See migration-steps.ts for the stages' shared contract.
 */

/**
 * Retain the source as a cold copy with a watermark (everything that landed before the switch), or remove its
 * items page by page under a writer lease. A rollback from here runs a reverse cutover and a verify-and-repair
 * back to the source, which restores any ranges already removed.
 */
export async function removeSource(deps: MigrationDeps, state: MigrationState): Promise<RemoveResult> {
  const { sourceCell, shards } = requireStage(state, 'acquire');
  const previousRemoved = state.remove?.itemsRemoved ?? 0;
  const entered = await enter(deps, state, 'removeSource');
  // The cutover stage is closed now; a repair worker of its exact verify may still hold a lease.
  await waitForWriterLeases(deps, entered);
  if (state.input.retainSource) {
    const switchedAtMs = state.cutover?.switchedAtMs ?? deps.wallNow();
    await transition(deps, state, (r) => {
      ownedFence(r, state.migrationId);
      return setReplica(
        r,
        sourceCell,
        { state: 'cold', watermark: hlcLowerBound(switchedAtMs) },
        deps.wallNow(),
      );
    });
    return { retained: true, done: true, itemsRemoved: 0 };
  }
  const leaseId = randomUUID();
  const startWall = deps.wallNow();
  const stopAt = deps.monoNow() + deps.tuning.stepBudgetMs;
  const until = writerLeaseEndMs(startWall, deps.tuning.stepBudgetMs, deps.lease);
  await transition(deps, state, (r) =>
    registerWriterLease(r, state.migrationId, 'removeSource', leaseId, until, deps.wallNow()),
  );
  const source: CellDataStore = deps.stores.forCell(sourceCell);
  let removed = 0;
  const done = await mapBounded(
    Array.from({ length: shards }, (_, shard) => shard),
    deps.tuning.shardConcurrency,
    async (shard) => {
      while (removed < deps.tuning.removeItemsPerInvocation && deps.monoNow() < stopAt) {
        const page = await source.queryShard(state.input.partition, shard, {
          limit: deps.tuning.queryPageItems,
        });
        if (page.items.length === 0) return true;
        try {
          await source.batchDelete(page.items, { canSend: () => deps.monoNow() < stopAt });
        } catch (error) {
          if (error instanceof SendingWindowClosedError) return false;
          throw error;
        }
        removed += page.items.length;
        if (page.lastKey === undefined) return true;
      }
      return false;
    },
  );
  await releaseLease(deps, state, leaseId);
  const finished = done.every(Boolean);
  if (finished) await transition(deps, state, (r) => dropReplica(r, sourceCell, deps.wallNow()));
  return { retained: false, done: finished, itemsRemoved: previousRemoved + removed };
}

/** Bump the version and release the fence: the partition is stable at the target, with its measured size. */
export async function commit(deps: MigrationDeps, state: MigrationState) {
  let current = await record(deps, state);
  if (current.fence?.owner === state.migrationId) {
    // Close the removal stage first, so no removal page can register a lease after the wait below; then
    // removal pages must be done writing before the fence is released (a next migration may target that cell).
    current = await enter(deps, state, 'commit');
    await waitForWriterLeases(deps, current);
  }
  const r = await transition(deps, state, (current) => {
    const nowMs = deps.wallNow();
    return withMeasuredSize(commitMigration(current, state.migrationId, nowMs), state, nowMs);
  });
  return { version: r.version, committedAtMs: r.lastMigration?.atMs ?? deps.wallNow() };
}
