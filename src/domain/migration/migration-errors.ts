import { PrestageError } from '../errors.ts';

/**
 * Named errors of the migration workflow. Step Functions Retry/Catch match on `error.name`, so these names are
 * part of the state machine's contract (see lib/migrate-partition-workflow.ts).
 */

/** A second migration of a partition that another migration holds (the fence). Never rolled back. */
export class MigrationInProgressError extends PrestageError {
  readonly owner: string;
  constructor(partition: string, owner: string) {
    super(`partition '${partition}' is already being migrated by '${owner}'`);
    this.owner = owner;
  }
}

/** The target cell is unknown, not ACTIVE, or already the partition's cell. Never rolled back. */
export class InvalidMigrationTargetError extends PrestageError {}

/** The migration no longer owns the partition's fence (it was rolled back or finished elsewhere). */
export class FenceLostError extends PrestageError {
  constructor(partition: string, migrationId: string) {
    super(`migration '${migrationId}' does not hold the fence of partition '${partition}'`);
  }
}

/** A step asked to write without conditions after its stage closed; it must stop (it is a zombie retry). */
export class StageClosedError extends PrestageError {}

/** A stage must wait until unconditional writers' leases have expired. Retried by the state machine. */
export class WriterLeaseActiveError extends PrestageError {
  readonly untilMs: number;
  constructor(untilMs: number, nowMs: number) {
    super(`writer lease still active for ${Math.max(0, untilMs - nowMs)} ms`);
    this.untilMs = untilMs;
  }
}

/** The switch ran before routing leases from before the fence could have expired. Retried. */
export class CutoverNotReadyError extends PrestageError {
  readonly remainingMs: number;
  constructor(remainingMs: number) {
    super(`routing leases may still be live for ${remainingMs} ms`);
    this.remainingMs = remainingMs;
  }
}

/**
 * A routing change is committed in the home region but a replica region does not show it yet: the lease wait
 * cannot start (a client there may still fetch the old routing). Retried until every replica confirms.
 */
export class ReplicationPendingError extends PrestageError {
  readonly regions: readonly string[];
  constructor(partition: string, version: number, regions: readonly string[]) {
    super(`partition ${partition} version ${version} is not yet readable in ${regions.join(', ')}`);
    this.regions = regions;
  }
}

/**
 * A verify or repair had destructive writes left (removals, replacements of never-acknowledged states) when its
 * writer lease ended; it stops sending and the state machine runs the step again, which registers a new lease.
 */
export class RepairWindowClosedError extends PrestageError {}

/** The canary health check failed while reads were split: the workflow rolls back. */
export class CanaryUnhealthyError extends PrestageError {}

/** Checksums still differ after the allowed repair rounds. */
export class VerifyMismatchError extends PrestageError {}

/** The state the step found is not one it can act on (a bug or a manual change of the record). */
export class MigrationStateError extends PrestageError {}

/** Final error of an execution that rolled back cleanly; the cause names the failure. */
export class MigrationRolledBackError extends PrestageError {}

/** Error names the state machine retries with backoff (transient). */
export const RETRYABLE_THROTTLE_ERRORS = ['StorageThrottledError'] as const;
/** Error names that mean "not yet": retried on a fixed interval until the condition passes. */
export const RETRYABLE_WAIT_ERRORS = [
  'WriterLeaseActiveError',
  'CutoverNotReadyError',
  'RepairWindowClosedError',
  'ReplicationPendingError',
] as const;
/** Errors of `acquire` that refuse the migration without rolling anything back. */
export const REFUSAL_ERRORS = [
  'MigrationInProgressError',
  'InvalidMigrationTargetError',
  'PartitionNotFoundError',
] as const;
