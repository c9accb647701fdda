import { hlcLowerBound } from '../domain/migration/hlc.ts';
import {
  CutoverNotReadyError,
  MigrationStateError,
  VerifyMismatchError,
} from '../domain/migration/migration-errors.ts';
import type {
  FrozenRepair,
  MigrationState,
  ReverseRepair,
  RollbackResult,
} from '../domain/migration/migration-state.ts';
import {
  fenceForReverse,
  finishRollback,
  rollForward,
  unshiftReads,
} from '../domain/migration/partition-transitions.ts';
import { changeWindowMs, cutoverWaitMs } from '../domain/migration/routing-lease.ts';
import { catchUpRound, initialCatchUp } from './catch-up.ts';
import type { MigrationDeps } from './migration-deps.ts';
import {
  confirmedPhase,
  deadline,
  enter,
  initialFrozenRepair,
  pairFor,
  repairFromFrozen,
  requireStage,
  transition,
  visibleEverywhereAt,
  waitForWriterLeases,
  waitUntil,
  withMeasuredSize,
} from './step-support.ts';

function reasonOf(state: MigrationState): string {
  if (!state.error) return 'unknown failure';
  let cause = state.error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    cause = parsed.errorMessage ?? cause;
  } catch {
    // Cause is plain text (local runs).
  }
  return cause ? `${state.error.Error}: ${cause}` : state.error.Error;
}

/**
 * Roll back from any stage, re-entrantly (the state machine calls it again after `waitSeconds` until `done`):
 * - nothing to undo if this migration never took the fence (or already ended);
 * - before the switch: routing back to the source only, fence released, target marked stale; then wait out
 *   routing leases, so that when the execution ends no interceptor still reads the target;
 * - after the switch: a reverse cutover: fence the target, wait out leases and writer leases, catch up and
 *   verify-and-repair the source from the target, then route back to the source.
 */
export async function rollback(deps: MigrationDeps, state: MigrationState): Promise<RollbackResult> {
  const reason = reasonOf(state);
  const current = await deps.partitions.get(state.input.partition);
  if (!current || current.fence?.owner !== state.migrationId) {
    const failedStage =
      current?.lastMigration?.id === state.migrationId
        ? current.lastMigration.stage
        : (state.failedStage ?? 'acquire');
    return { done: true, waitSeconds: state.rollback?.waitSeconds ?? 0, failedStage, reason };
  }
  const fence = current.fence;
  // The state machine names the failed stage; the fence's stage is the fallback (it may lag by one stage).
  const failedStage =
    state.failedStage ?? fence.failedStage ?? (fence.stage === 'rollback' ? 'acquire' : fence.stage);
  const phase = current.routing.phase;
  const leaseWaitSeconds = Math.ceil(cutoverWaitMs(deps.lease) / 1000);

  if (current.cell === fence.sourceCell) {
    const r = await enter(deps, state, 'rollback');
    if (r.routing.phase === 'shifting' || r.routing.phase === 'fenced' || r.routing.phase === 'mirroring') {
      // Reads may be going to the target (shifting; or fenced, where clients may still hold the shifting
      // routing from before the fence), whose copy is about to be abandoned: send them back to the source while
      // writes stay mirrored, and release only once no client can still hold the shifted routing. Released at
      // once, a client with `stable` would write to the source alone while one with `shifting` still reads the
      // target: a stale read (the nemesis found it). (From `mirroring` no read went to the target, unless an
      // earlier attempt of this rollback unshifted them and its result was lost: the wait is always safe.)
      const unshiftedAtMs = await confirmedPhase(deps, state, 'mirroring', (c) =>
        unshiftReads(c, state.migrationId, deps.wallNow()),
      );
      const remaining = unshiftedAtMs + cutoverWaitMs(deps.lease) - deps.wallNow();
      if (remaining > 0) {
        return {
          done: false,
          waitSeconds: Math.ceil(remaining / 1000),
          failedStage,
          reason,
          unshiftedAtMs,
        };
      }
    }
    // Copy pages and repairs can no longer register; the fence is released only once earlier ones cannot
    // write either, so no zombie can write into a later migration's replica.
    await waitForWriterLeases(deps, r);
    const stage = state.failedStage ?? r.fence?.failedStage ?? failedStage;
    await transition(deps, state, (c) => {
      const nowMs = deps.wallNow();
      return withMeasuredSize(
        finishRollback(c, state.migrationId, stage, reason, { state: 'stale' }, nowMs),
        state,
        nowMs,
      );
    });
    return { done: true, waitSeconds: 0, failedStage: stage, reason };
  }

  if (phase !== 'switched' && phase !== 'fenced') {
    throw new MigrationStateError(`cannot roll back from phase '${phase}'`);
  }
  if (phase === 'switched' || state.rollback?.fencedAtMs == null) {
    // Fence the target (or find it fenced by an attempt whose result was lost); the wait counts from now,
    // when the fence is certainly committed.
    const fenced = await transition(deps, state, (c) =>
      fenceForReverse(c, state.migrationId, deps.wallNow()),
    );
    const fencedAtMs = await visibleEverywhereAt(deps, state.input.partition, fenced.version);
    return { done: false, waitSeconds: leaseWaitSeconds, failedStage, reason, fencedAtMs };
  }

  // Reverse cutover: the target is fenced and is the primary; bring the source up to date from it, in bounded
  // pieces (a catch-up round, then verify-and-repair passes shard by shard). An invocation that runs out of
  // budget returns `done: false` with its progress, and the state machine calls it again.
  await waitUntil(
    deps,
    Math.max(current.routing.fencedAtMs!, state.rollback.fencedAtMs) + cutoverWaitMs(deps.lease),
    (remaining) => new CutoverNotReadyError(remaining),
  );
  await waitForWriterLeases(deps, current);
  const back = pairFor(deps, state, fence.targetCell, fence.sourceCell);
  const switchedAtMs = fence.switchedAtMs ?? current.routing.fencedAtMs!;
  const stopAt = deadline(deps);
  let progress: ReverseRepair = state.rollback.reverse ?? {
    catchUp: initialCatchUp(hlcLowerBound(switchedAtMs - changeWindowMs(deps.lease))),
    ...initialFrozenRepair(),
  };
  const notYet = (): RollbackResult => ({
    done: false,
    waitSeconds: 0,
    failedStage,
    reason,
    fencedAtMs: requireStage(state, 'rollback').fencedAtMs,
    reverse: progress,
  });
  // One complete catch-up round that started after the lease wait (the target is frozen, so one is enough).
  if (progress.catchUp.resume !== null || progress.catchUp.rounds === 0) {
    const caught = await catchUpRound(deps, back, progress.catchUp, {
      items: deps.tuning.catchUpItemsPerInvocation,
      deadlineMono: stopAt,
    });
    progress = { ...progress, catchUp: caught };
    if (caught.resume !== null) return notYet();
  }
  // The target is frozen, so every difference is real and one repair pass should settle it; the next pass
  // must find nothing.
  let repaired: { progress: FrozenRepair; clean: boolean };
  try {
    repaired = await repairFromFrozen(deps, state, back, progress, 'rollback', stopAt);
  } catch (error) {
    if (!(error instanceof VerifyMismatchError)) throw error;
    // The source cannot be brought back in line, but the target, the frozen primary, holds every acknowledged
    // write: finish the move instead of leaving the partition fenced (every write refused) for a person.
    await transition(deps, state, (c) => {
      const nowMs = deps.wallNow();
      return withMeasuredSize(
        rollForward(c, state.migrationId, `${reason}; rolled forward: ${error.message}`, nowMs),
        state,
        nowMs,
      );
    });
    return { done: true, waitSeconds: 0, failedStage, reason: `${reason} (rolled forward)` };
  }
  progress = { ...progress, ...repaired.progress };
  if (!repaired.clean) return notYet();
  const watermark = hlcLowerBound(deps.wallNow());
  await transition(deps, state, (c) => {
    const nowMs = deps.wallNow();
    return withMeasuredSize(
      finishRollback(c, state.migrationId, failedStage, reason, { state: 'cold', watermark }, nowMs),
      state,
      nowMs,
    );
  });
  return { done: true, waitSeconds: 0, failedStage, reason };
}
