import { VerifyMismatchError } from '../domain/migration/migration-errors.ts';
import type { MigrationState, PassProgress, VerifyResult } from '../domain/migration/migration-state.ts';
import { startMirroring } from '../domain/migration/partition-transitions.ts';
import { cutoverWaitMs } from '../domain/migration/routing-lease.ts';
import type { MigrationDeps } from './migration-deps.ts';
import { continuePass, newPass, passComplete } from './range-sync.ts';
import {
  confirmedPhase,
  deadline,
  enter,
  forward,
  latestCatchUp,
  openRepairWindow,
  passBounds,
  waitForWriterLeases,
} from './step-support.ts';

/**
 * The MigratePartition verify stage: mirror writes, then check and repair the target range by range until a
 * clean pass. See migration-steps.ts for the stages' shared contract and the cutover design it prepares.
 */

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
