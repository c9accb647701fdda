import { randomUUID } from 'node:crypto';
import { SendingWindowClosedError } from '../domain/data-plane/data-plane-errors.ts';
import type { CellDataStore } from '../domain/data-plane/ports.ts';
import { hlcLowerBound, hlcWallMs } from '../domain/migration/hlc.ts';
import {
  CanaryUnhealthyError,
  CutoverNotReadyError,
  InvalidMigrationTargetError,
  MigrationStateError,
  VerifyMismatchError,
} from '../domain/migration/migration-errors.ts';
import { stageIndex } from '../domain/migration/migration-stage.ts';
import type {
  CatchUpResult,
  CopyResult,
  CutoverResult,
  MigrationState,
  PassProgress,
  RemoveResult,
  ShiftResult,
  VerifyResult,
} from '../domain/migration/migration-state.ts';
import {
  acquireFence,
  commitMigration,
  dropReplica,
  fenceWrites,
  ownedFence,
  registerWriterLease,
  setReadWeight,
  setReplica,
  startMirroring,
  switchToTarget,
} from '../domain/migration/partition-transitions.ts';
import {
  changeWindowMs,
  cutoverWaitMs,
  leaseTermsOf,
  migrationLease,
  writerLeaseEndMs,
} from '../domain/migration/routing-lease.ts';
import { mapBounded } from '../support/bounded-parallel.ts';
import { catchUpRound, initialCatchUp } from './catch-up.ts';
import type { MigrationDeps } from './migration-deps.ts';
import { continuePass, newPass, passComplete } from './range-sync.ts';
import {
  confirmedPhase,
  deadline,
  enter,
  forward,
  initialFrozenRepair,
  latestCatchUp,
  openRepairWindow,
  passBounds,
  record,
  releaseLease,
  repairFromFrozen,
  requireStage,
  transition,
  visibleEverywhereAt,
  waitForWriterLeases,
  waitUntil,
  withMeasuredSize,
} from './step-support.ts';

export { rollback } from './rollback-step.ts';
export { measuredSizeBytes } from './step-support.ts';

/**
 * The MigratePartition stages as use cases. Each takes the execution state, does bounded work, and returns its
 * stage's result (written at `$.<stage>` by the state machine). Each is idempotent: run twice with the same
 * state, it leaves the same data and routing, because every change of the partition record is a pure
 * transition that reports "already done", and every data write is forward-only or protected by a writer lease.
 *
 * Cutover design (routing leases; see docs/migration.md): before reads shift, writes are mirrored and the verify
 * waits until no client can still write to the source alone; writes are then fenced with one conditional write
 * of the partition record, the cutover waits until no interceptor can hold a routing entry from before the
 * fence and every write it acknowledged has landed (cutoverWaitMs), a final catch-up carries late writes, and
 * an exact verify of the now frozen source against the target (no trust in the `changes` index's lag) must
 * come back clean before the routing switches. Only single-item conditional writes: dynalite and DynamoDB alike.
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

/**
 * Verify the target against the source with per-range checksums and repair the differing ranges. Clean when no
 * divergence older than the verify itself was found; otherwise the state machine verifies again, and after
 * `maxVerifyRounds` the migration rolls back with VerifyMismatchError. A pass is done in bounded pieces within
 * the step budget: an invocation that runs out returns `clean: false` with the pass's cursors and partial
 * checksums in `pass`, and the next one (the state machine loops on `clean`) resumes it, so a shard of any size
 * is verified, and a step retried after a timeout resumes from the last progress it returned.
 *
 * The first invocation starts mirroring writes to the target, and no pass starts before every client that may
 * still hold the routing from before (`preparing`: source only) has lost its lease and every write it had
 * acknowledged has landed. From then on a write is acknowledged only once the target holds it, and a complete
 * pass has brought the target up to every state the source held, so when reads shift, a canary read never misses
 * an acknowledged write. That argument needs neither the `changes` index nor its lag.
 */
export async function verify(deps: MigrationDeps, state: MigrationState): Promise<VerifyResult> {
  const entered = await enter(deps, state, 'verify');
  await waitForWriterLeases(deps, entered);
  const previousRounds = state.verify?.rounds ?? 0;
  const mirroringSinceMs = await confirmedPhase(deps, state, 'mirroring', (r) =>
    startMirroring(r, state.migrationId, deps.wallNow()),
  );
  const readyAt = mirroringSinceMs + (deps.tuning.unsafeSkipMirrorWait ? 0 : cutoverWaitMs(deps.lease));
  const remaining = readyAt - deps.wallNow();
  const notYet = (): VerifyResult => ({
    clean: false,
    rounds: previousRounds,
    differingRanges: 0,
    repairedItems: 0,
    removedItems: 0,
    mirroringSinceMs,
  });
  if (remaining > deps.tuning.maxInlineWaitMs) {
    await deps.sleep(deps.tuning.maxInlineWaitMs);
    return notYet();
  }
  if (remaining > 0) await deps.sleep(remaining);
  if (deps.tuning.unsafeTrustChangesIndex) {
    return {
      clean: true,
      rounds: previousRounds + 1,
      differingRanges: 0,
      repairedItems: 0,
      removedItems: 0,
      mirroringSinceMs,
    };
  }
  const pair = forward(deps, state);
  const window = await openRepairWindow(deps, state, 'verify');
  let pass: PassProgress;
  try {
    // Writes at or above the catch-up bound may legitimately be missing: the next catch-up round (at the latest
    // the cutover's final one) carries them. A difference below it is a real divergence.
    pass = await continuePass(deps, pair, state.verify?.pass ?? newPass(), {
      ...passBounds(deps),
      youngBoundHlc: latestCatchUp(state).sinceHlc,
      canWrite: window.canWrite,
      stopAt: deadline(deps),
    });
  } finally {
    await window.close();
  }
  if (!passComplete(pass, pair.shards)) {
    // The budget ran out: the state machine calls Verify again, which resumes this pass.
    return { ...notYet(), differingRanges: pass.differingRanges, pass };
  }
  const rounds = previousRounds + 1;
  const clean =
    pass.repairedOld === 0 && pass.removed === 0 && pass.replacedAhead === 0 && pass.leftYoung === 0;
  if (!clean && rounds >= deps.tuning.maxVerifyRounds) {
    throw new VerifyMismatchError(
      `checksums of ${pass.differingRanges} ranges still differ after ${rounds} rounds (${pass.repairedOld} items repaired, ${pass.removed} removed, ${pass.replacedAhead} replaced, ${pass.leftYoung} too young to touch)`,
    );
  }
  return {
    clean,
    rounds,
    differingRanges: pass.differingRanges,
    repairedItems: pass.repairedOld + pass.repairedYoung,
    removedItems: pass.removed,
    replacedItems: pass.replacedAhead,
    mirroringSinceMs,
    pass: null,
  };
}

/**
 * Shift the next share of reads to the target (sticky per key). A bounded catch-up round runs first, so the
 * watermark keeps up while reads shift and the cutover's final round stays short.
 */
export async function shiftReads(deps: MigrationDeps, state: MigrationState): Promise<ShiftResult> {
  await enter(deps, state, 'shiftReads');
  const previous = latestCatchUp(state);
  const caught = await catchUpRound(deps, forward(deps, state), previous, {
    items: deps.tuning.catchUpItemsPerInvocation,
    deadlineMono: deadline(deps),
  });
  const steps = state.input.canarySteps;
  const step = state.shift ? state.shift.step + 1 : 0;
  if (step >= steps.length) {
    const last = steps.length - 1;
    return {
      step: last,
      weight: steps[last] ?? 0,
      done: true,
      waitSeconds: 0,
      shiftedAtMs: deps.wallNow(),
      catchUp: caught,
    };
  }
  const weight = steps[step];
  await transition(deps, state, (r) => setReadWeight(r, state.migrationId, weight, deps.wallNow()));
  return {
    step,
    weight,
    done: step === steps.length - 1,
    waitSeconds: state.input.waitSeconds,
    shiftedAtMs: deps.wallNow(),
    catchUp: caught,
  };
}

/** Health check after a read shift; an unhealthy target rolls the migration back. */
export async function canaryHealth(deps: MigrationDeps, state: MigrationState) {
  const result = await deps.health.check(
    requireStage(state, 'acquire').targetCell,
    state.shift?.shiftedAtMs ?? 0,
  );
  if (!result.healthy) throw new CanaryUnhealthyError(result.reason ?? 'the target cell is unhealthy');
  return { healthy: true, requests: result.requests, failures: result.failures };
}

/** Fence writes (one conditional write); the state machine then waits `waitSeconds`. */
export async function cutoverFence(deps: MigrationDeps, state: MigrationState): Promise<CutoverResult> {
  await enter(deps, state, 'cutover');
  const r = await transition(deps, state, (current) =>
    fenceWrites(current, state.migrationId, deps.wallNow()),
  );
  // The wait counts from here: the fence is certainly committed, and readable in every region. The record's
  // fencedAtMs was taken before the write was sent, and an interceptor may still have read the old routing in
  // between (from the home table, or from a replica that had not received the fence yet).
  const fencedAtMs = await visibleEverywhereAt(deps, state.input.partition, r.version);
  return {
    fencedAtMs,
    waitSeconds: Math.ceil(cutoverWaitMs(deps.lease) / 1000),
    switched: r.routing.phase === 'switched',
    switchedAtMs: r.fence?.switchedAtMs ?? null,
    finalItemsShipped: 0,
  };
}

/**
 * After the lease wait: final catch-up of late source writes, then switch reads and writes to the target.
 * The wait is checked here, on this host's clock, so a shortened Wait state can never make it unsafe.
 *
 * The final catch-up is one complete round that started after the wait, done in bounded pieces: an invocation
 * that runs out of its item or time budget returns `switched: false` with the round's cursors in
 * `finalCatchUp`, and the state machine calls it again. The round may span invocations because the source is
 * fenced: every acknowledged source write landed before the round started, so reading the changes index from
 * the round's bound, shard by shard, in any number of pieces, finds all of them.
 */
export async function cutoverSwitch(deps: MigrationDeps, state: MigrationState): Promise<CutoverResult> {
  const current = await record(deps, state);
  const fence = ownedFence(current, state.migrationId);
  const previous = requireStage(state, 'cutover');
  if (current.routing.phase === 'switched' && current.cell === fence.targetCell) {
    return { ...previous, switched: true, switchedAtMs: fence.switchedAtMs ?? null };
  }
  if (current.routing.phase !== 'fenced') {
    throw new MigrationStateError(`cannot switch from phase '${current.routing.phase}'`);
  }
  const readyAt = Math.max(current.routing.fencedAtMs!, previous.fencedAtMs) + cutoverWaitMs(deps.lease);
  await waitUntil(deps, readyAt, (remaining) => new CutoverNotReadyError(remaining));
  // One budget for the catch-up and the verify: whatever is left is done by the next invocation.
  const stopAt = deadline(deps);
  // A stored round was started by an earlier invocation, after readyAt (it waited above first).
  const started = previous.finalCatchUp ?? initialCatchUp(latestCatchUp(state).sinceHlc);
  const complete = started.resume === null && started.rounds > 0;
  const final = complete
    ? started
    : await catchUpRound(deps, forward(deps, state), started, {
        items: deps.tuning.catchUpItemsPerInvocation,
        deadlineMono: stopAt,
      });
  if (final.resume !== null) {
    return { ...previous, switched: false, finalCatchUp: final, finalItemsShipped: final.itemsShipped };
  }
  // The catch-up trusted the `changes` index, which may lag arbitrarily under load. The switch does not: an
  // exact verify of the frozen source against the target, repairing what differs, must come back clean first.
  // Thanks to the catch-up it normally finds nothing, and costs one checksum scan of each side.
  const verified = deps.tuning.unsafeTrustChangesIndex
    ? { clean: true, progress: previous.frozenVerify ?? initialFrozenRepair() }
    : await repairFromFrozen(
        deps,
        state,
        forward(deps, state),
        previous.frozenVerify ?? initialFrozenRepair(),
        'cutover',
        stopAt,
      );
  if (!verified.clean) {
    return {
      ...previous,
      switched: false,
      finalCatchUp: final,
      finalItemsShipped: final.itemsShipped,
      frozenVerify: verified.progress,
    };
  }
  const r = await transition(deps, state, (c) => switchToTarget(c, state.migrationId, deps.wallNow()));
  return {
    ...previous,
    switched: true,
    switchedAtMs: r.fence?.switchedAtMs ?? deps.wallNow(),
    finalItemsShipped: final.itemsShipped,
    finalCatchUp: final,
    frozenVerify: verified.progress,
  };
}

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
