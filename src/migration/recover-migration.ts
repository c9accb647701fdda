import { PartitionNotFoundError } from '../domain/data-plane/data-plane-errors.ts';
import type { MigrationOutcome, PartitionRecord } from '../domain/data-plane/partition-record.ts';
import { PrestageError } from '../domain/errors.ts';
import {
  CutoverNotReadyError,
  RepairWindowClosedError,
  WriterLeaseActiveError,
} from '../domain/migration/migration-errors.ts';
import { type FenceStage, isMigrationStage } from '../domain/migration/migration-stage.ts';
import {
  type MigrationState,
  migrationInputSchema,
  migrationStateSchema,
  type RollbackResult,
} from '../domain/migration/migration-state.ts';
import { isColdCopyDropOwner, resumeColdCopyDrop } from './cold-copy-gc.ts';
import type { MigrationDeps } from './migration-deps.ts';
import { rollback } from './rollback-step.ts';
import { stepDeps } from './step-handlers.ts';

/** The error recorded as the cause of a recovered migration (it becomes the rollback's reason). */
export const RECOVERED_ERROR = {
  Error: 'MigrationRecoveredError',
  Cause: 'recovered by an operator',
} as const;

/** The fence on the record cannot be turned into a MigrationState (a manual edit, or a newer record format). */
export class UnrecoverableFenceError extends PrestageError {}

/** The rollback did not finish within `maxRounds` invocations (storage still failing, or a repair that spins). */
export class RecoveryRoundsExceededError extends PrestageError {}

export interface RecoverOptions {
  /** The wall clock the loop times its retries with. @default deps.wallNow */
  readonly nowMs?: () => number;
  /** Rollback invocations (including retried "not yet" errors) before giving up. @default 1000 */
  readonly maxRounds?: number;
}

export type RecoverResult =
  | { readonly recovered: false; readonly reason: 'not fenced' }
  | {
      readonly recovered: true;
      readonly migrationId: string;
      /**
       * How the migration ended, from the record's `lastMigration`. `UNKNOWN` only if another migration took
       * the partition and ended before this one could read the record (its outcome overwrote this one's).
       */
      readonly outcome: MigrationOutcome['outcome'] | 'UNKNOWN' | 'COLD_COPY_DROPPED';
      readonly stage: FenceStage;
      readonly reason: string;
      /** Rollback invocations this recovery made (retries of "not yet" errors included). */
      readonly rounds: number;
    };

/** Shortest and longest pause before retrying a "not yet" error: the error's own hint, kept in this range. */
const MIN_RETRY_MS = 50;
const MAX_RETRY_MS = 5_000;

/**
 * Rebuild the execution state a MigratePartition execution would hand its Rollback, from what the partition
 * record still holds: the fence names the migration (its owner), the cells and the stage; the record has the
 * shards and the lease terms. Everything the rollback needs beyond that (when reads were unshifted, when the
 * reverse fence committed, how far a reverse repair got) is on the record or is recomputed by the rollback.
 */
export function recoveryState(record: PartitionRecord): MigrationState {
  const fence = record.fence;
  if (!fence) throw new UnrecoverableFenceError(`partition '${record.partition}' holds no fence`);
  const failedStage = fence.failedStage ?? fence.stage;
  const candidate = {
    input: migrationInputSchema.parse({ partition: record.partition, targetCell: fence.targetCell }),
    migrationId: fence.owner,
    startedAt: new Date(fence.acquiredAtMs).toISOString(),
    acquire: {
      sourceCell: fence.sourceCell,
      targetCell: fence.targetCell,
      shards: record.shards,
      acquiredAtMs: fence.acquiredAtMs,
      // `acquire` raised the record's terms to the migration's own, so the record's are at least the ones the
      // lost execution waited with; stepDeps lengthens this process's lease settings to them.
      ...(record.leaseTerms ? { leaseTerms: record.leaseTerms } : {}),
    },
    ...(isMigrationStage(failedStage) ? { failedStage } : {}),
    error: { ...RECOVERED_ERROR },
  };
  const parsed = migrationStateSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnrecoverableFenceError(
      `the fence of partition '${record.partition}' does not make a migration state: ${issue.path.join('.') || '(state)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/**
 * A fence a cold-copy drop left (ExecutePlan's DropColdCopies ran out of retries mid-deletion): there is no
 * migration to roll back, and the copy's replica entry is already gone, so the only way forward is to finish the
 * deletion and release the fence, as the drop's owner.
 */
async function finishColdCopyDrop(
  deps: MigrationDeps,
  record: PartitionRecord,
  now: () => number,
  maxRounds: number,
): Promise<RecoverResult> {
  const fence = record.fence!;
  let throttled = 0;
  for (let rounds = 1; rounds <= maxRounds; rounds++) {
    try {
      const result = await resumeColdCopyDrop(
        { partitions: deps.partitions, stores: deps.stores, nowMs: deps.wallNow },
        record,
      );
      return {
        recovered: true,
        migrationId: fence.owner,
        outcome: 'COLD_COPY_DROPPED',
        stage: fence.stage,
        reason: `the cold copy in ${fence.targetCell} is deleted (${result.itemsDeleted} items in this recovery) and the fence released`,
        rounds,
      };
    } catch (error) {
      const delay = retryDelayMs(error, now(), throttled);
      if (delay === undefined) throw error;
      throttled += 1;
      await deps.sleep(delay);
    }
  }
  throw new RecoveryRoundsExceededError(
    `the cold-copy drop '${fence.owner}' of partition '${record.partition}' did not finish in ${maxRounds} rounds`,
  );
}

/** How long to pause before retrying `error`, or undefined when it is not a "not yet" error. */
function retryDelayMs(error: unknown, nowMs: number, throttled: number): number | undefined {
  let hint: number;
  if (error instanceof WriterLeaseActiveError) hint = error.untilMs - nowMs;
  else if (error instanceof CutoverNotReadyError) hint = error.remainingMs;
  else if (error instanceof RepairWindowClosedError) hint = 0;
  // Storage throttling (what usually left the migration stuck) is retried too, with exponential backoff.
  else if ((error as Error | undefined)?.name === 'StorageThrottledError')
    hint = 100 * 2 ** Math.min(throttled, 6);
  else return undefined;
  return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, hint));
}

/**
 * Recover a stuck migration: one whose execution ended (FAILED: its Rollback exhausted its retries while
 * storage was down) or vanished while the partition still holds its fence, so every write gets 503
 * PARTITION_MOVING (or, before the cutover, no other migration can start). It runs the real Rollback use case,
 * as the state machine would, until it is done: the partition ends rolled back to the source, or rolled forward
 * to the target when a reverse repair cannot converge (see docs/migration.md, "Rollback").
 *
 * Safe while the original execution is still running somewhere (a zombie, or an execution an operator thought
 * dead): the recovery acts as that migration (the fence owner) through the same idempotent transitions. Entering
 * `rollback` closes every forward stage, so the execution's next step fails with StageClosedError (or
 * FenceLostError once the fence is gone) and goes to its own Rollback, which finds the work done or does the same
 * work again; writer leases and the lease waits are shared through the record. If the execution switched
 * between two reads of this recovery, the rollback refuses with MigrationStateError; running the recovery again
 * then does the reverse cutover.
 *
 * In AWS, `aws stepfunctions redrive-execution --execution-arn <arn>` does the same for a FAILED execution
 * (the redrive restarts its failed Rollback state, which is re-entrant); this is for local runs and for
 * executions that cannot be redriven.
 */
export async function recoverMigration(
  deps: MigrationDeps,
  partition: string,
  options: RecoverOptions = {},
): Promise<RecoverResult> {
  const now = options.nowMs ?? deps.wallNow;
  const maxRounds = options.maxRounds ?? 1000;
  const record = await deps.partitions.get(partition);
  if (!record) throw new PartitionNotFoundError(partition);
  if (!record.fence) return { recovered: false, reason: 'not fenced' };
  if (isColdCopyDropOwner(record.fence.owner)) return finishColdCopyDrop(deps, record, now, maxRounds);
  let state = recoveryState(record);
  // The waits must use the lease terms on the record, as the lost execution's steps did.
  const runDeps = stepDeps(deps, state);
  let rounds = 0;
  let throttled = 0;
  let result: RollbackResult | undefined;
  for (;;) {
    if (rounds >= maxRounds) {
      throw new RecoveryRoundsExceededError(
        `the rollback of migration '${state.migrationId}' of partition '${partition}' did not finish in ${maxRounds} rounds`,
      );
    }
    rounds += 1;
    try {
      result = await rollback(runDeps, state);
      throttled = 0;
    } catch (error) {
      const delay = retryDelayMs(error, now(), throttled);
      if (delay === undefined) throw error;
      if ((error as Error).name === 'StorageThrottledError') throttled += 1;
      await deps.sleep(delay);
      continue;
    }
    // As the state machine does: a Wait of `waitSeconds`, then (if not done) Rollback again with its result.
    if (result.waitSeconds > 0) await deps.sleep(result.waitSeconds * 1000);
    if (result.done) break;
    state = { ...state, rollback: result };
  }
  const after = await deps.partitions.get(partition);
  const last = after?.lastMigration;
  if (last?.id === state.migrationId) {
    return {
      recovered: true,
      migrationId: state.migrationId,
      outcome: last.outcome,
      stage: last.stage,
      reason: last.reason ?? result.reason,
      rounds,
    };
  }
  const stage = result.failedStage;
  return {
    recovered: true,
    migrationId: state.migrationId,
    outcome: 'UNKNOWN',
    stage: isMigrationStage(stage) || stage === 'rollback' ? stage : 'acquire',
    reason: result.reason,
    rounds,
  };
}
