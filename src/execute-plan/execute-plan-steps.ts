import { z } from 'zod';
import {
  countOutcomes,
  finalPlanStatus,
  MoveNotFoundError,
  type MoveOutcome,
  type PlanHeader,
  type PlanStatus,
  PlanTransitionError,
  TERMINAL_PLAN_STATUSES,
} from '../domain/planning/plan-record.ts';
import { METRIC } from '../support/metrics.ts';
import { dropColdCopies, dropColdCopiesInputSchema } from './drop-cold-copies.ts';
import type { ExecutePlanDeps } from './execute-plan-deps.ts';
import {
  childExecutionName,
  continuationExecutionName,
  executePlanInputSchema,
  InvalidPlanInputError,
  type MoveItem,
  moveIdOf,
  moveItemSchema,
} from './execute-plan-tasks.ts';

/** A caught Step Functions error (`{"Error","Cause"}` at the Catch's ResultPath). */
const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof caughtErrorSchema>;

const planIdOnly = z.object({ planId: z.string().min(1) });

export const STEP_SCHEMAS = {
  ValidateInput: executePlanInputSchema,
  RequestApproval: z.object({
    planId: z.string().min(1),
    taskToken: z.string().min(1),
    executionArn: z.string().optional(),
  }),
  CloseUnapproved: z.object({
    planId: z.string().min(1),
    outcome: z.enum(['REJECTED', 'EXPIRED']),
    error: caughtErrorSchema.optional(),
  }),
  StartRun: planIdOnly,
  PageMoves: z.object({
    planId: z.string().min(1),
    after: z.string().nullable().optional(),
    limit: z.number().int().min(1).max(1000),
  }),
  ReserveSlot: z.object({ move: moveItemSchema, lastWaitSeconds: z.number().nonnegative().optional() }),
  RecordOutcome: z.object({
    move: moveItemSchema,
    migration: z.object({ executionArn: z.string().optional(), status: z.string().optional() }).optional(),
    failure: caughtErrorSchema.optional(),
  }),
  DropColdCopies: dropColdCopiesInputSchema,
  FinishPlan: planIdOnly,
  AbortPlan: z.object({ planId: z.string().min(1), error: caughtErrorSchema.optional() }),
} as const;

type Input<K extends keyof typeof STEP_SCHEMAS> = z.infer<(typeof STEP_SCHEMAS)[K]>;

export interface ValidatedPlan {
  readonly planId: string;
  readonly approval: boolean;
  readonly status: PlanStatus;
  readonly moveCount: number;
  readonly totalBytes: number;
  /** 0 for the execution that starts the plan, n for its n-th continuation. */
  readonly continuation: number;
  /** The page cursor this execution starts after (null: the first page). */
  readonly resumeAfter: string | null;
  /** What this execution passes on if it continues in a child: its number and its deterministic name. */
  readonly nextContinuation: { readonly continuation: number; readonly executionName: string };
}

/**
 * ValidateInput: the plan exists and can still run; decide whether it waits for approval. A continuation (an
 * execution ExecutePlan started of itself to keep each history short) runs only a plan that is RUNNING.
 */
export async function validateInput(
  deps: ExecutePlanDeps,
  input: Input<'ValidateInput'>,
): Promise<ValidatedPlan> {
  const header = await deps.plans.getHeader(input.planId);
  if (!header)
    throw new InvalidPlanInputError(
      `field 'planId': plan '${input.planId}' does not exist in the plans table (or its TTL has expired)`,
    );
  if (TERMINAL_PLAN_STATUSES.includes(header.status))
    throw new InvalidPlanInputError(
      `field 'planId': plan '${input.planId}' is ${header.status}; a finished plan cannot run again`,
    );
  const continuation = input.continuation ?? 0;
  if (continuation > 0 && header.status !== 'RUNNING')
    throw new InvalidPlanInputError(
      `field 'continuation': plan '${input.planId}' is ${header.status}; a continuation only runs a RUNNING plan`,
    );
  // A plan already RUNNING (a restarted execution, or a continuation) was approved before.
  const approval = header.status === 'RUNNING' ? false : (input.approval ?? header.approval);
  return {
    planId: header.planId,
    approval,
    status: header.status,
    moveCount: header.moveCount,
    totalBytes: header.totalBytes,
    continuation,
    resumeAfter: input.resumeAfter ?? null,
    nextContinuation: {
      continuation: continuation + 1,
      executionName: continuationExecutionName(header.planId, continuation + 1),
    },
  };
}

export function approvalMessage(
  header: PlanHeader,
  executionArn?: string,
): { subject: string; message: string } {
  const gib = (header.totalBytes / 2 ** 30).toFixed(2);
  const subject = `prestage: plan ${header.planId} awaits approval (${header.moveCount} moves)`.slice(0, 99);
  const message = [
    `Movement plan ${header.planId} is waiting for approval.`,
    '',
    `  moves:       ${header.moveCount} (${gib} GiB)`,
    `  trigger:     ${header.trigger}${header.cycleId ? ` (cycle ${header.cycleId})` : ''}`,
    `  created:     ${new Date(header.createdAtMs).toISOString()}`,
    `  cost:        ${header.costBefore.toFixed(2)} -> ${header.costAfter.toFixed(2)} USD per horizon`,
    ...(executionArn ? [`  execution:   ${executionArn}`] : []),
    '',
    'Approve:',
    `  npx prestage approve ${header.planId}`,
    'Reject:',
    `  npx prestage approve ${header.planId} --reject --reason "why"`,
    '',
    'Or from the console / AWS CLI: read taskToken from the plan header item (pk "plan#<planId>", sk "header")',
    'in the plans table, then `aws stepfunctions send-task-success --task-token <token> --task-output "{}"`',
    '(or send-task-failure --error PlanRejectedError to reject).',
  ].join('\n');
  return { subject, message };
}

/** RequestApproval (waitForTaskToken): store the token on the header, then tell people. */
export async function requestApproval(
  deps: ExecutePlanDeps,
  input: Input<'RequestApproval'>,
): Promise<{ notified: boolean }> {
  const header = await deps.plans.storeTaskToken(input.planId, input.taskToken, deps.nowMs());
  const { subject, message } = approvalMessage(header, input.executionArn);
  if (!deps.notifier) {
    deps.log?.('approval requested; no topic configured', { planId: input.planId });
    return { notified: false };
  }
  await deps.notifier.publish(subject, message);
  return { notified: true };
}

/** CloseUnapproved: the approval step was rejected or timed out. */
export async function closeUnapproved(
  deps: ExecutePlanDeps,
  input: Input<'CloseUnapproved'>,
): Promise<{ planId: string; status: PlanStatus }> {
  const reason =
    input.outcome === 'REJECTED'
      ? `rejected: ${input.error?.Cause || 'no reason given'}`
      : 'nobody approved the plan before the approval timeout';
  const header = await deps.plans.setPlanStatus(input.planId, input.outcome, {
    statusReason: reason,
    nowMs: deps.nowMs(),
  });
  return { planId: header.planId, status: header.status };
}

/** StartRun: the plan is RUNNING. */
export async function startRun(
  deps: ExecutePlanDeps,
  input: Input<'StartRun'>,
): Promise<{ status: PlanStatus }> {
  const header = await deps.plans.setPlanStatus(input.planId, 'RUNNING', { nowMs: deps.nowMs() });
  return { status: header.status };
}

export interface MovePageResult {
  readonly moves: MoveItem[];
  readonly next: string | null;
  readonly hasMore: boolean;
}

/** PageMoves: the next `limit` moves by priority, as Map items (the plan never travels whole through state). */
export async function pageMoves(deps: ExecutePlanDeps, input: Input<'PageMoves'>): Promise<MovePageResult> {
  const page = await deps.plans.pageMoves(input.planId, {
    limit: input.limit,
    after: input.after ?? undefined,
  });
  const moves = page.moves.map(
    (m): MoveItem => ({
      planId: input.planId,
      partition: m.partition,
      from: m.from,
      to: m.to,
      bytes: m.bytes,
      priority: m.priority,
      moveId: moveIdOf(input.planId, m.partition),
      childName: childExecutionName(input.planId, m.partition),
      canarySteps: [...deps.settings.canarySteps],
      retainSource: m.retainSource === true,
    }),
  );
  // A full page can end exactly at the plan's last move (the store still returns a cursor): look one move
  // ahead, so the run does not page on (or start a continuation) for nothing.
  const hasMore =
    page.next !== undefined &&
    (await deps.plans.pageMoves(input.planId, { limit: 1, after: page.next })).moves.length > 0;
  return { moves, next: hasMore ? (page.next ?? null) : null, hasMore };
}

export interface SlotDecision {
  /** start: the slot is held, start the child; wait: ask again after waitSeconds; skip: the move is done. */
  readonly decision: 'start' | 'wait' | 'skip';
  readonly waitSeconds: number;
  readonly inFlight: number;
  readonly blockedBy?: string;
}

const FINISHED_MOVES = new Set(['SUCCEEDED', 'ROLLED_BACK', 'FAILED', 'SKIPPED']);

/** ReserveSlot: take a slot on both cells of the move under the limits in force now. */
export async function reserveSlot(deps: ExecutePlanDeps, input: Input<'ReserveSlot'>): Promise<SlotDecision> {
  const { move } = input;
  const key = { priority: move.priority, partition: move.partition };
  const current = await deps.plans.getMove(move.planId, key);
  if (!current) throw new MoveNotFoundError(move.planId, key);
  if (FINISHED_MOVES.has(current.status)) return { decision: 'skip', waitSeconds: 0, inFlight: 0 };
  const limits = await deps.slots.readLimits();
  const nowMs = deps.nowMs();
  const result = await deps.slots.reserve(move.moveId, move, {
    limits,
    nowMs,
    leaseMs: deps.settings.slotLeaseSeconds * 1000,
  });
  if (!result.reserved) {
    // A move that keeps waiting asks less often, so a long drain or a pause cannot fill the execution's history.
    const last = input.lastWaitSeconds ?? 0;
    const { slotWaitSeconds, slotWaitMaxSeconds } = deps.settings;
    return {
      decision: 'wait',
      waitSeconds:
        last > 0 ? Math.min(Math.max(slotWaitMaxSeconds, slotWaitSeconds), last * 2) : slotWaitSeconds,
      inFlight: result.inFlight,
      blockedBy: result.blockedBy,
    };
  }
  if (current.status === 'PENDING') {
    await deps.plans.setMoveStatus(move.planId, key, 'RUNNING', { nowMs });
    deps.metrics.add(METRIC.migrationsStarted, 'Count', 1);
  }
  deps.metrics.add(METRIC.migrationsInFlight, 'Count', result.inFlight);
  return { decision: 'start', waitSeconds: 0, inFlight: result.inFlight };
}

/**
 * What a child execution's failure means. `startExecution.sync:2` fails the Task with `States.TaskFailed` and
 * the child's DescribeExecution as the Cause (its `Error` is MigrationRolledBackError after a clean rollback);
 * a failure to start at all carries the API's error instead.
 */
export function classifyFailure(failure: CaughtError): {
  outcome: Extract<MoveOutcome, 'ROLLED_BACK' | 'FAILED'>;
  error: string;
  executionArn?: string;
} {
  let childError: string | undefined;
  let childCause: string | undefined;
  let executionArn: string | undefined;
  try {
    const described = JSON.parse(failure.Cause ?? '') as Record<string, unknown>;
    if (typeof described.Error === 'string') childError = described.Error;
    if (typeof described.Cause === 'string') childCause = described.Cause;
    if (typeof described.ExecutionArn === 'string') executionArn = described.ExecutionArn;
  } catch {
    // Not a DescribeExecution: the error came from starting the child or from a step of ExecutePlan.
  }
  const name = childError ?? failure.Error;
  const cause = childError ? childCause : failure.Cause;
  return {
    outcome: name === 'MigrationRolledBackError' ? 'ROLLED_BACK' : 'FAILED',
    error: `${name}${cause ? `: ${cause}` : ''}`.slice(0, 2000),
    ...(executionArn ? { executionArn } : {}),
  };
}

/** RecordOutcome: the move's final status, its slot back, its metrics. Safe to run twice. */
export async function recordOutcome(
  deps: ExecutePlanDeps,
  input: Input<'RecordOutcome'>,
): Promise<{ partition: string; outcome: MoveOutcome }> {
  const { move } = input;
  const key = { priority: move.priority, partition: move.partition };
  const nowMs = deps.nowMs();
  let outcome: MoveOutcome;
  let change: { executionArn?: string; error?: string };
  if (input.failure) {
    const failure = classifyFailure(input.failure);
    outcome = failure.outcome;
    change = {
      error: failure.error,
      ...(failure.executionArn ? { executionArn: failure.executionArn } : {}),
    };
  } else {
    outcome =
      input.migration?.status === undefined || input.migration.status === 'SUCCEEDED'
        ? 'SUCCEEDED'
        : 'FAILED';
    change = input.migration?.executionArn ? { executionArn: input.migration.executionArn } : {};
  }
  let changed = true;
  try {
    const current = await deps.plans.getMove(move.planId, key);
    if (current?.status === outcome) changed = false;
    // A move that failed before it started (its slot was never granted) passes through RUNNING for the record.
    if (current?.status === 'PENDING' && outcome !== 'FAILED')
      await deps.plans.setMoveStatus(move.planId, key, 'RUNNING', { nowMs });
    await deps.plans.setMoveStatus(move.planId, key, outcome, { ...change, nowMs });
  } catch (error) {
    if (!(error instanceof MoveNotFoundError) && !(error instanceof PlanTransitionError)) throw error;
    deps.log?.('move outcome not recorded', {
      moveId: move.moveId,
      outcome,
      error: (error as Error).message,
    });
    changed = false;
  }
  const inFlight = await deps.slots.release(move.moveId, nowMs);
  if (changed) {
    if (outcome === 'SUCCEEDED') {
      deps.metrics.add(METRIC.migrationsSucceeded, 'Count', 1);
      deps.metrics.add(METRIC.bytesMoved, 'Bytes', move.bytes);
    } else if (outcome === 'ROLLED_BACK') deps.metrics.add(METRIC.migrationsRolledBack, 'Count', 1);
    else if (outcome === 'FAILED') deps.metrics.add(METRIC.migrationsFailed, 'Count', 1);
  }
  deps.metrics.add(METRIC.migrationsInFlight, 'Count', inFlight);
  return { partition: move.partition, outcome };
}

export interface PlanResult {
  readonly planId: string;
  readonly status: PlanStatus;
  readonly outcomes: { succeeded: number; rolledBack: number; failed: number; skipped: number };
  readonly moveCount: number;
}

/** FinishPlan: count the outcomes and set SUCCEEDED, PARTIAL or FAILED. */
export async function finishPlan(deps: ExecutePlanDeps, input: Input<'FinishPlan'>): Promise<PlanResult> {
  const moves = await deps.plans.allMoves(input.planId);
  const outcomes = countOutcomes(moves);
  // A move still PENDING or RUNNING here never finished: count it as failed.
  const unfinished =
    moves.length - outcomes.succeeded - outcomes.rolledBack - outcomes.failed - outcomes.skipped;
  const counted = { ...outcomes, failed: outcomes.failed + unfinished };
  const status = finalPlanStatus(counted);
  const header = await deps.plans.setPlanStatus(input.planId, status, {
    outcomes: counted,
    statusReason: `${counted.succeeded} succeeded, ${counted.rolledBack} rolled back, ${counted.failed} failed, ${counted.skipped} skipped`,
    nowMs: deps.nowMs(),
  });
  return { planId: input.planId, status: header.status, outcomes: counted, moveCount: moves.length };
}

export interface AbortResult {
  readonly planId: string;
  readonly status: PlanStatus | 'UNKNOWN';
  /** The error the execution fails with: a failed continuation's own error, else PlanExecutionError. */
  readonly error: string;
  readonly cause: string;
}

/**
 * AbortPlan: the workflow itself broke, or a continuation it waited for failed; mark the plan FAILED unless it
 * already finished (a continuation that ended FAILED finished it itself). The result names the error the
 * execution fails with: the child's own (e.g. PlanFailedError) when the failure is a failed child execution.
 */
export async function abortPlan(deps: ExecutePlanDeps, input: Input<'AbortPlan'>): Promise<AbortResult> {
  const reason = input.error ? `${input.error.Error}: ${input.error.Cause ?? ''}`.slice(0, 2000) : 'aborted';
  const child = input.error ? childFailure(input.error) : undefined;
  const failure = child ?? { error: 'PlanExecutionError', cause: reason };
  // A plan that already ended keeps its status and reason (e.g. a continuation's FinishPlan set FAILED).
  const current = await deps.plans.getHeader(input.planId);
  if (current && TERMINAL_PLAN_STATUSES.includes(current.status))
    return { planId: input.planId, status: current.status, ...failure };
  try {
    const header = await deps.plans.setPlanStatus(input.planId, 'FAILED', {
      statusReason: child ? `${child.error}: ${child.cause}`.slice(0, 2000) : reason,
      nowMs: deps.nowMs(),
    });
    return { planId: input.planId, status: header.status, ...failure };
  } catch (error) {
    if (!(error instanceof PlanTransitionError)) throw error;
    const header = await deps.plans.getHeader(input.planId);
    return { planId: input.planId, status: header?.status ?? 'UNKNOWN', ...failure };
  }
}

/** The Error and Cause of a failed child execution (`startExecution.sync:2` puts its DescribeExecution in Cause). */
function childFailure(failure: CaughtError): { error: string; cause: string } | undefined {
  try {
    const described = JSON.parse(failure.Cause ?? '') as Record<string, unknown>;
    if (typeof described.ExecutionArn !== 'string') return undefined;
    const status = typeof described.Status === 'string' ? described.Status : 'FAILED';
    return {
      error:
        typeof described.Error === 'string' ? described.Error : `Continuation${capitalized(status)}Error`,
      cause:
        `${typeof described.Cause === 'string' ? described.Cause : ''} (in ${described.ExecutionArn})`.trim(),
    };
  } catch {
    return undefined;
  }
}

function capitalized(status: string): string {
  return (
    status.charAt(0) +
    status
      .slice(1)
      .toLowerCase()
      .replace(/_(.)/g, (_, c: string) => c.toUpperCase())
  );
}

export const STEP_USE_CASES = {
  ValidateInput: validateInput,
  RequestApproval: requestApproval,
  CloseUnapproved: closeUnapproved,
  StartRun: startRun,
  PageMoves: pageMoves,
  ReserveSlot: reserveSlot,
  RecordOutcome: recordOutcome,
  DropColdCopies: dropColdCopies,
  FinishPlan: finishPlan,
  AbortPlan: abortPlan,
} as const;
