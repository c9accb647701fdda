import { randomUUID } from 'node:crypto';
import { SendingWindowClosedError } from '../domain/data-plane/data-plane-errors.ts';
import type { CatchUpResult, CopyResult, MigrationState } from '../domain/migration/migration-state.ts';
import { registerWriterLease } from '../domain/migration/partition-transitions.ts';
import { writerLeaseEndMs } from '../domain/migration/routing-lease.ts';
import { mapBounded } from '../support/bounded-parallel.ts';
import { catchUpRound, initialCatchUp } from './catch-up.ts';
import type { MigrationDeps } from './migration-deps.ts';
import {
  deadline,
  enter,
  forward,
  releaseLease,
  requireStage,
  transition,
  waitForWriterLeases,
} from './step-support.ts';

/**
 * The MigratePartition stages that fill the target: the bulk copy under writer leases, then catch-up rounds of
 * the writes made meanwhile. See migration-steps.ts for the stages' shared contract.
 */

/**
 * Copy one bounded page per shard cursor with parallel Queries and batched unconditional writes (the fast
 * path). Unconditional writes are safe because the step first registers a writer lease that the following
 * stage waits out, and registration is refused once the copy stage has closed, so a late zombie never writes.
 */
export async function copy(deps: MigrationDeps, state: MigrationState): Promise<CopyResult> {
  const pair = forward(deps, state);
  const previous: CopyResult = state.copy ?? {
    cursor: Array.from({ length: pair.shards }, () => ({ after: null, done: false })),
    done: false,
    itemsCopied: 0,
    bytesCopied: 0,
    pages: 0,
  };
  if (previous.done) return previous;
  await enter(deps, state, 'copy');
  const cursor = previous.cursor.map((c) => ({ ...c }));
  const read = (shard: number, after: string | null) =>
    pair.from.queryShard(pair.partition, shard, {
      startAfter: after ?? undefined,
      limit: deps.tuning.queryPageItems,
    });
  // Progress guard: each pending shard's first page is read before the sending window opens (a read needs
  // no writer lease), and the window lasts at least one request time, so every invocation writes at least
  // one page even when a page takes longer than `stepBudgetMs`; otherwise the copy loop could spin forever.
  const firstPages = await mapBounded(cursor, deps.tuning.shardConcurrency, (c, shard) =>
    c.done ? Promise.resolve(undefined) : read(shard, c.after),
  );
  const windowMs = Math.max(deps.tuning.stepBudgetMs, deps.lease.maxRequestMs);
  const leaseId = randomUUID();
  const startWall = deps.wallNow();
  const stopSendingAt = deps.monoNow() + windowMs;
  const until = writerLeaseEndMs(startWall, windowMs, deps.lease);
  await transition(deps, state, (r) =>
    registerWriterLease(r, state.migrationId, 'copy', leaseId, until, deps.wallNow()),
  );
  let items = 0;
  // Stored bytes of the items this invocation wrote, summed from the pages themselves: the store's transfer
  // counters are shared with every other migration writing to the same cell from this process.
  let bytes = 0;
  const limit = deps.tuning.copyItemsPerInvocation;
  const abort = new AbortController();
  const abortTimer = setTimeout(() => abort.abort(), windowMs + deps.lease.maxRequestMs);
  const canSend = () => deps.monoNow() < stopSendingAt;
  try {
    await mapBounded(cursor, deps.tuning.shardConcurrency, async (shardCursor, shard) => {
      let page = firstPages[shard];
      while (page) {
        if (deps.monoNow() >= stopSendingAt) break;
        items += page.items.length;
        const more = page.lastKey !== undefined && items < limit && deps.monoNow() < stopSendingAt;
        // Read the next page while this one is written (settled before leaving, whatever happens).
        const nextPage = more ? read(shard, page.lastKey!) : undefined;
        if (page.items.length > 0) {
          try {
            await pair.to.batchPut(page.items, { signal: abort.signal, canSend });
          } catch (error) {
            // The read-ahead is settled before leaving (no request outlives the step); its own error, if any, is
            // superseded by the write's, which is what this step reports.
            await nextPage?.catch(() => {});
            // The window closed while unprocessed items were being retried: the page is written again by
            // the next invocation (the cursor stays before it).
            if (error instanceof SendingWindowClosedError) {
              items -= page.items.length;
              break;
            }
            throw error;
          }
          for (const item of page.items) bytes += pair.to.itemSize(item);
        }
        shardCursor.after = page.lastKey ?? shardCursor.after;
        shardCursor.done = page.lastKey === undefined;
        page = await nextPage;
      }
    });
  } finally {
    clearTimeout(abortTimer);
  }
  await releaseLease(deps, state, leaseId);
  return {
    cursor,
    done: cursor.every((c) => c.done),
    itemsCopied: previous.itemsCopied + items,
    bytesCopied: previous.bytesCopied + bytes,
    pages: previous.pages + 1,
  };
}

/** One catch-up round from the watermark (bounded); the state machine loops until `caughtUp`. */
export async function catchUp(deps: MigrationDeps, state: MigrationState): Promise<CatchUpResult> {
  const r = await enter(deps, state, 'catchUp');
  // The copy stage is closed now (no new copy leases); wait out the ones registered before.
  await waitForWriterLeases(deps, r);
  const previous = state.catchUp ?? initialCatchUp(requireStage(state, 'replica').sinceHlc);
  return catchUpRound(deps, forward(deps, state), previous, {
    items: deps.tuning.catchUpItemsPerInvocation,
    deadlineMono: deadline(deps),
  });
}
