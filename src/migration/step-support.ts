import { randomUUID } from 'node:crypto';
import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import { hlcLowerBound } from '../domain/migration/hlc.ts';
import {
  MigrationStateError,
  ReplicationPendingError,
  VerifyMismatchError,
  WriterLeaseActiveError,
} from '../domain/migration/migration-errors.ts';
import type { FenceStage } from '../domain/migration/migration-stage.ts';
import type { CatchUpResult, FrozenRepair, MigrationState } from '../domain/migration/migration-state.ts';
import {
  confirmPhase,
  enterStage,
  registerWriterLease,
  releaseWriterLease,
  writerLeasesEndMs,
} from '../domain/migration/partition-transitions.ts';
import { writerLeaseEndMs } from '../domain/migration/routing-lease.ts';
import { initialCatchUp, type SyncPair } from './catch-up.ts';
import type { MigrationDeps } from './migration-deps.ts';
import { continuePass, newPass, passComplete } from './range-sync.ts';

/**
 * What the MigratePartition steps share: reading and transitioning the partition record, waits on wall-clock
 * instants and writer leases, repair windows (writer leases for destructive repairs), and the exact repair of
 * a frozen primary's copy used by the forward cutover and the reverse one.
 */

export function record(deps: MigrationDeps, state: MigrationState): Promise<PartitionRecord> {
  return deps.partitions.update(state.input.partition, () => undefined);
}

export function transition(
  deps: MigrationDeps,
  state: MigrationState,
  mutate: (r: PartitionRecord) => PartitionRecord | undefined,
): Promise<PartitionRecord> {
  return deps.partitions.update(state.input.partition, mutate);
}

export function enter(
  deps: MigrationDeps,
  state: MigrationState,
  stage: FenceStage,
): Promise<PartitionRecord> {
  return transition(deps, state, (r) => enterStage(r, state.migrationId, stage, deps.wallNow()));
}

export function pairFor(deps: MigrationDeps, state: MigrationState, from: string, to: string): SyncPair {
  return {
    partition: state.input.partition,
    shards: requireStage(state, 'acquire').shards,
    from: deps.stores.forCell(from),
    to: deps.stores.forCell(to),
  };
}

export function forward(deps: MigrationDeps, state: MigrationState): SyncPair {
  const { sourceCell, targetCell } = requireStage(state, 'acquire');
  return pairFor(deps, state, sourceCell, targetCell);
}

/** Wait for a wall-clock instant: inside the step when short, otherwise ask the state machine to retry. */
export async function waitUntil(
  deps: MigrationDeps,
  untilMs: number,
  tooLong: (remaining: number) => Error,
): Promise<void> {
  const remaining = untilMs - deps.wallNow();
  if (remaining <= 0) return;
  if (remaining > deps.tuning.maxInlineWaitMs) throw tooLong(remaining);
  await deps.sleep(remaining);
}

/** Wait until unconditional writers (copy or removal pages, zombies included) can no longer write. */
export async function waitForWriterLeases(deps: MigrationDeps, r: PartitionRecord): Promise<void> {
  const until = writerLeasesEndMs(r);
  await waitUntil(deps, until, () => new WriterLeaseActiveError(until, deps.wallNow()));
}

/** Drop a finished step's writer lease, so the next stage need not wait for it. */
export async function releaseLease(
  deps: MigrationDeps,
  state: MigrationState,
  leaseId: string,
): Promise<void> {
  await transition(deps, state, (r) =>
    releaseWriterLease(r, state.migrationId, leaseId, deps.wallNow()),
  ).catch(() => {
    // Safe to drop: a lease that is not released ends by itself at its `until`, and the next stage's
    // waitForWriterLeases waits for it. A failed release costs at most one step budget of waiting, never safety.
  });
}

/**
 * The result a stage stored in the execution state, which later steps depend on (the definition runs them in
 * order, so a missing one means a step ran out of order or the state was edited by hand).
 */
export function requireStage<K extends 'acquire' | 'replica' | 'cutover' | 'rollback'>(
  state: MigrationState,
  stage: K,
): NonNullable<MigrationState[K]> {
  const result = state[stage];
  if (result == null) {
    throw new MigrationStateError(
      `the execution state has no '${stage}' result: a step ran before that stage`,
    );
  }
  return result as NonNullable<MigrationState[K]>;
}

export function deadline(deps: MigrationDeps): number {
  return deps.monoNow() + deps.tuning.stepBudgetMs;
}

/**
 * A writer lease for a step's destructive repairs (removing items, replacing never-acknowledged states): the
 * stage after it waits the lease out, and registration is refused once the stage has closed, so a zombie of the
 * step never removes anything. `canWrite` is asked right before each such write.
 */
export async function openRepairWindow(
  deps: MigrationDeps,
  state: MigrationState,
  stage: 'verify' | 'cutover' | 'rollback',
): Promise<{ canWrite: () => boolean; close: () => Promise<void> }> {
  const leaseId = randomUUID();
  const stopAt = deps.monoNow() + deps.tuning.stepBudgetMs;
  const until = writerLeaseEndMs(deps.wallNow(), deps.tuning.stepBudgetMs, deps.lease);
  await transition(deps, state, (r) =>
    registerWriterLease(r, state.migrationId, stage, leaseId, until, deps.wallNow()),
  );
  return { canWrite: () => deps.monoNow() < stopAt, close: () => releaseLease(deps, state, leaseId) };
}

/**
 * Wait until a consistent read in every replica region shows the record at `version` or later, and return an
 * instant taken after that: from then on no client anywhere can fetch an older routing, so lease waits may
 * count from it. A confirmation, not an assumed replication bound: a replica that lags longer than the step may
 * wait inline makes the step fail with ReplicationPendingError, and the state machine runs it again.
 */
export async function visibleEverywhereAt(deps: MigrationDeps, partition: string, version: number) {
  const replicas = deps.replicas;
  if (!replicas || replicas.size === 0 || deps.tuning.unsafeSkipReplicaConfirmation) return deps.wallNow();
  const giveUpAt = deps.monoNow() + deps.tuning.maxInlineWaitMs;
  let pending = [...replicas.keys()];
  for (;;) {
    const seen = await Promise.all(
      pending.map(async (region) => ((await replicas.get(region)!.get(partition))?.version ?? 0) >= version),
    );
    pending = pending.filter((_, i) => !seen[i]);
    if (pending.length === 0) return deps.wallNow();
    if (deps.monoNow() + deps.tuning.replicaPollMs > giveUpAt) {
      throw new ReplicationPendingError(partition, version, pending);
    }
    await deps.sleep(deps.tuning.replicaPollMs);
  }
}

/**
 * Enter a routing phase and return an instant after it was certainly committed and readable in every region
 * (stored in the record, so a retry or a second run finds the same instant and does not wait again).
 */
export async function confirmedPhase(
  deps: MigrationDeps,
  state: MigrationState,
  phase: 'mirroring',
  enterPhase: (r: PartitionRecord) => PartitionRecord | undefined,
): Promise<number> {
  const entered = await transition(deps, state, enterPhase);
  await visibleEverywhereAt(deps, state.input.partition, entered.version);
  // Taken after the phase is committed and replicated everywhere.
  const confirmed = await transition(deps, state, (r) =>
    confirmPhase(r, state.migrationId, phase, deps.wallNow()),
  );
  if (confirmed.routing.phase !== phase || confirmed.routing.sinceMs === undefined) {
    throw new MigrationStateError(`expected phase '${phase}', found '${confirmed.routing.phase}'`);
  }
  return confirmed.routing.sinceMs;
}

/** Bounds of one verify pass that start now (see RangeSyncOptions). */
export function passBounds(deps: MigrationDeps) {
  const nowMs = deps.wallNow();
  const drift = 1 + deps.lease.clockDriftRate;
  return {
    destructiveBelowHlc: deps.tuning.unsafeIgnoreRepairYoungBound
      ? hlcLowerBound(Number.MAX_SAFE_INTEGER)
      : hlcLowerBound(nowMs - deps.lease.maxRequestMs * drift - deps.lease.maxClockSkewMs),
    expiredBeforeSec: Math.floor(nowMs / 1000),
  };
}

/**
 * Exact verify and repair of `pair.to` against a frozen `pair.from` (no acknowledged write can land on it any
 * more), in bounded pieces within the step budget (a shard of any size spans invocations), pass after pass until
 * one finds nothing to repair. Returns the progress; `clean` once a complete pass found no differing range.
 */
export async function repairFromFrozen(
  deps: MigrationDeps,
  state: MigrationState,
  pair: SyncPair,
  start: FrozenRepair,
  stage: 'cutover' | 'rollback',
  stopAt: number,
): Promise<{ progress: FrozenRepair; clean: boolean }> {
  let progress = start;
  const window = await openRepairWindow(deps, state, stage);
  // Every invocation advances the pass by at least one piece, even when the work before it (the final catch-up,
  // the repair window's registration) spent the budget: otherwise a slow store could stall the cutover forever.
  let advanced = false;
  try {
    for (;;) {
      if (passComplete(progress.pass, pair.shards)) {
        if (progress.pass.differingRanges === 0) return { progress, clean: true };
        if (progress.verifyRound >= deps.tuning.maxVerifyRounds + 1) {
          throw new VerifyMismatchError(
            `${pair.to.cellId} still differs from the frozen ${pair.from.cellId} after ${progress.verifyRound} repair passes`,
          );
        }
        progress = { verifyRound: progress.verifyRound + 1, pass: newPass() };
      }
      if (advanced && deps.monoNow() >= stopAt) return { progress, clean: false };
      advanced = true;
      const pass = await continuePass(deps, pair, progress.pass, {
        ...passBounds(deps),
        // Every difference is real: the primary is frozen.
        youngBoundHlc: hlcLowerBound(Number.MAX_SAFE_INTEGER),
        canWrite: window.canWrite,
        stopAt,
      });
      progress = { ...progress, pass };
    }
  } finally {
    await window.close();
  }
}

export function initialFrozenRepair(): FrozenRepair {
  return { verifyRound: 1, pass: newPass() };
}

/** The most recent catch-up progress: the read-shift steps continue the catch-up stage's rounds. */
export function latestCatchUp(state: MigrationState): CatchUpResult {
  return state.shift?.catchUp ?? state.catchUp ?? initialCatchUp(requireStage(state, 'replica').sinceHlc);
}

/**
 * The partition's stored bytes as this migration measured them: what its full copy read from the source, the
 * whole partition at copy time (catch-up then ships the writes of the migration window, mostly new states of
 * items already counted). A delta move copies no snapshot: the record keeps the size it had.
 */
export function measuredSizeBytes(state: MigrationState): number | undefined {
  return state.replica?.mode === 'full' && state.copy?.done === true ? state.copy.bytesCopied : undefined;
}

/** The next record, carrying the size this migration measured (written by the same compare-and-set). */
export function withMeasuredSize(
  next: PartitionRecord | undefined,
  state: MigrationState,
  nowMs: number,
): PartitionRecord | undefined {
  const sizeBytes = measuredSizeBytes(state);
  if (next === undefined || sizeBytes === undefined) return next;
  return { ...next, sizeBytes, sizeMeasuredAtMs: nowMs };
}
