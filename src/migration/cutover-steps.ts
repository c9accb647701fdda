import { CutoverNotReadyError, MigrationStateError } from '../domain/migration/migration-errors.ts';
import type { CutoverResult, MigrationState } from '../domain/migration/migration-state.ts';
import { fenceWrites, ownedFence, switchToTarget } from '../domain/migration/partition-transitions.ts';
import { cutoverWaitMs } from '../domain/migration/routing-lease.ts';
import { catchUpRound, initialCatchUp } from './catch-up.ts';
import type { MigrationDeps } from './migration-deps.ts';
import {
  deadline,
  enter,
  forward,
  initialFrozenRepair,
  latestCatchUp,
  record,
  repairFromFrozen,
  requireStage,
  transition,
  visibleEverywhereAt,
  waitUntil,
} from './step-support.ts';

/**
 * The MigratePartition cutover: fence writes, wait out every routing lease, carry the late writes, verify the
 * frozen source exactly, then switch. See migration-steps.ts for the stages' contract and the cutover design.
 */

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
