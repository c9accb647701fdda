import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import type { CellDataStores, PartitionRepository } from '../domain/data-plane/ports.ts';
import { PrestageError } from '../domain/errors.ts';
import type { ColdCopyDrop } from '../domain/planning/movement-plan.ts';

/**
 * Garbage collection of one retained cold copy, as the planner's `coldCopyDrops` ask: the partition record
 * forgets the copy and the copy's items are deleted from its cell's table.
 *
 * Where it runs: after a plan's moves, in ExecutePlan (the planner decides, ExecutePlan acts, as for moves). The
 * deletion must not race a migration of the same partition (a migration into that cell would copy items the
 * deletion then removes), so the drop holds the partition's fence while it deletes, under an owner id of its
 * own that is stable across retries: a retried drop resumes, a migration waits (MigrationInProgressError) and a
 * drop of a partition being migrated is skipped (`busy`; the next plan asks again). Routing never changes: the
 * copy serves no request.
 */

export interface ColdCopyGcDeps {
  readonly partitions: PartitionRepository;
  readonly stores: CellDataStores;
  readonly nowMs: () => number;
  /** Items per query page and delete batch. @default 100 */
  readonly pageItems?: number;
}

export interface DropOptions {
  /**
   * Stop deleting at this wall time (the invocation's budget) and return `partial`, keeping the fence: a call
   * with the same owner resumes where this one stopped. @default no limit
   */
  readonly deadlineMs?: number;
  /** The wall clock the deadline is read on. @default Date.now */
  readonly wallNow?: () => number;
}

export type ColdCopyGcOutcome =
  /** The copy's items are deleted and the record no longer lists it. */
  | 'dropped'
  /** Nothing to do: the record lists no cold copy there (already dropped, or moved onto: it is the primary). */
  | 'gone'
  /** A migration holds the partition's fence: try again in a later plan. */
  | 'busy'
  /** The deadline came first: the fence is still held, and a call with the same owner resumes the deletion. */
  | 'partial';

export interface ColdCopyGcResult {
  readonly partition: string;
  readonly cell: string;
  readonly outcome: ColdCopyGcOutcome;
  readonly itemsDeleted: number;
}

/** The fence owner of a drop: stable for one drop, distinct from every migration id. */
export function coldCopyDropOwner(planId: string, drop: Pick<ColdCopyDrop, 'partition' | 'cell'>): string {
  return `gc:${planId}:${drop.cell}`;
}

/**
 * A drop's fence untouched for this long belongs to a drop nobody is running any more: every invocation touches the
 * record when it starts (so a long drop in many pieces stays fresh), and no invocation outlives its Lambda's 30 s
 * timeout; the step's three retries back off for well under a minute. A later plan then finishes it under the
 * same owner (the planner lists it as a `resume` drop).
 */
export const DROP_FENCE_STALE_MS = 10 * 60_000;

/** Whether a fence owner is a cold-copy drop's (not a migration's): recovery resumes it instead of rolling back. */
export function isColdCopyDropOwner(owner: string): boolean {
  return owner.startsWith('gc:');
}

/** Drop one cold copy (idempotent for a given `owner`; a call after a `partial` one resumes it). */
export async function dropColdCopy(
  deps: ColdCopyGcDeps,
  drop: Pick<ColdCopyDrop, 'partition' | 'cell'>,
  owner: string,
  options: DropOptions = {},
): Promise<ColdCopyGcResult> {
  const { partition, cell } = drop;
  let outcome: ColdCopyGcOutcome = 'dropped';
  const fenced = await deps.partitions.update(partition, (current) => {
    // A retry or the next piece: resume the deletion, touching the record so the fence is seen to be alive.
    if (current.fence?.owner === owner) return { ...current, updatedAtMs: deps.nowMs() };
    const copy = current.replicas[cell];
    if (current.cell === cell || copy?.state !== 'cold') {
      outcome = 'gone';
      return undefined;
    }
    if (current.fence) {
      outcome = 'busy';
      return undefined;
    }
    const nowMs = deps.nowMs();
    const { [cell]: _dropped, ...replicas } = current.replicas;
    return {
      ...current,
      status: 'MIGRATING',
      fence: { owner, sourceCell: current.cell, targetCell: cell, acquiredAtMs: nowMs, stage: 'acquire' },
      replicas,
      updatedAtMs: nowMs,
    };
  });
  if (outcome !== 'dropped') return { partition, cell, outcome, itemsDeleted: 0 };
  const { deleted: itemsDeleted, complete } = await deleteItems(deps, fenced, cell, options);
  if (!complete) return { partition, cell, outcome: 'partial', itemsDeleted };
  await deps.partitions.update(partition, (current) => {
    if (current.fence?.owner !== owner) return undefined;
    const { fence: _released, ...rest } = current;
    return { ...rest, status: 'ACTIVE', updatedAtMs: deps.nowMs() };
  });
  return { partition, cell, outcome, itemsDeleted };
}

/**
 * Delete every item of the partition in the cell, shard by shard, page by page, until the deadline (checked after
 * each page). Restartable: each page is read afresh, so a later call deletes what is left.
 */
async function deleteItems(
  deps: ColdCopyGcDeps,
  record: PartitionRecord,
  cell: string,
  options: DropOptions,
): Promise<{ deleted: number; complete: boolean }> {
  const store = deps.stores.forCell(cell);
  const limit = deps.pageItems ?? 100;
  const wallNow = options.wallNow ?? Date.now;
  let deleted = 0;
  for (let shard = 0; shard < record.shards; shard++) {
    for (;;) {
      const page = await store.queryShard(record.partition, shard, { limit });
      if (page.items.length === 0) break;
      await store.batchDelete(page.items);
      deleted += page.items.length;
      // After a page, never before: every call makes progress, however short its budget.
      if (options.deadlineMs !== undefined && wallNow() >= options.deadlineMs)
        return { deleted, complete: false };
    }
  }
  return { deleted, complete: true };
}

/**
 * Finish a drop whose invocations stopped with the fence held (a Lambda timeout, a plan that failed between two
 * pieces): the recovery `prestage migrations recover` runs for a fence a drop owns. The copy's replica entry is
 * already gone from the record, so finishing it is the only way forward: delete what is left and release.
 */
export async function resumeColdCopyDrop(
  deps: ColdCopyGcDeps,
  record: PartitionRecord,
): Promise<ColdCopyGcResult> {
  const fence = record.fence;
  if (!fence || !isColdCopyDropOwner(fence.owner))
    throw new PrestageError(`partition '${record.partition}' holds no cold-copy drop's fence`);
  return dropColdCopy(deps, { partition: record.partition, cell: fence.targetCell }, fence.owner);
}
