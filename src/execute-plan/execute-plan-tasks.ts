import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PrestageError } from '../domain/errors.ts';

/**
 * The Task states of ExecutePlan backed by a Lambda: the state name (also the step's name in the local runner)
 * and the handler's file under functions/execute-plan/. Shared by the CDK construct, the handlers and the local
 * runner.
 */
export const EXECUTE_PLAN_TASKS = {
  /** Validate `{planId, approval?}` and read the plan header. */
  ValidateInput: { file: 'validate-input' },
  /** `lambda:invoke.waitForTaskToken`: store the token on the header, publish the approval request. */
  RequestApproval: { file: 'request-approval' },
  /** Mark a plan REJECTED or EXPIRED after the approval step failed or timed out. */
  CloseUnapproved: { file: 'close-unapproved' },
  /** Mark the plan RUNNING. */
  StartRun: { file: 'start-run' },
  /** One page of moves by priority, as Map items. */
  PageMoves: { file: 'page-moves' },
  /** Reserve a per-cell migration slot against the run-time limits (or say how long to wait). */
  ReserveSlot: { file: 'reserve-slot' },
  /** Record a move's outcome, release its slot, publish its metrics. */
  RecordOutcome: { file: 'record-outcome' },
  /** Garbage-collect the cold copies the plan lists, within a budget per invocation (the state machine loops). */
  DropColdCopies: { file: 'drop-cold-copies' },
  /** Count the outcomes and set the plan's final status. */
  FinishPlan: { file: 'finish-plan' },
  /** Mark the plan FAILED after an unexpected error of the workflow itself. */
  AbortPlan: { file: 'abort-plan' },
} as const satisfies Record<string, { file: string }>;

export type ExecutePlanTaskName = keyof typeof EXECUTE_PLAN_TASKS;
export const EXECUTE_PLAN_TASK_NAMES = Object.keys(EXECUTE_PLAN_TASKS) as ExecutePlanTaskName[];

/** Named errors of ExecutePlan; its Fail states carry these names. */
export class InvalidPlanInputError extends PrestageError {}
/** An operator rejected the plan (the error SendTaskFailure sends). */
export class PlanRejectedError extends PrestageError {}
/** Nobody approved the plan within the approval timeout. */
export class PlanExpiredError extends PrestageError {}
/** Every move of the plan failed or rolled back. */
export class PlanFailedError extends PrestageError {}

export const PLAN_REJECTED_ERROR = 'PlanRejectedError';

/** Continuation numbers stay below this, so a continuation's name always fits (64 + `-cont-` + 9 digits). */
const MAX_CONTINUATION = 999_999_999;

/** The sort key cursor of a page of moves (`move#<6-digit priority>#<partition>`, see plan-repository). */
const MOVE_CURSOR = /^move#\d{6}#/;

/**
 * Execution input: `{"planId", "approval"?}`, or for a continuation (an execution ExecutePlan starts of itself
 * after `pagesPerExecution` pages) `{"planId", "approval": false, "resumeAfter", "continuation"}`.
 */
export const executePlanInputSchema = z
  .strictObject({
    planId: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{1,64}$/,
        'expected 1 to 64 letters, digits, - or _ (a plan id from the planner)',
      ),
    approval: z.boolean().optional(),
    /** The page cursor the continuation starts after (the `next` of the parent's last page). */
    resumeAfter: z
      .string()
      .max(2048)
      .regex(MOVE_CURSOR, 'expected a page cursor of the plan (move#<6-digit priority>#<partition>)')
      .optional(),
    /** 1 for the first continuation, 2 for the next...; absent or 0 for the execution that starts the plan. */
    continuation: z.number().int().min(0).max(MAX_CONTINUATION).optional(),
    /** Added by a parent that starts ExecutePlan with `associateWithParent` (e.g. ScaleCluster). */
    AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: z.string().optional(),
  })
  .superRefine((input, ctx) => {
    const continuing = (input.continuation ?? 0) > 0;
    if (input.resumeAfter !== undefined && !continuing)
      ctx.addIssue({
        code: 'custom',
        path: ['resumeAfter'],
        message: 'resumeAfter is only for a continuation (continuation 1 or more)',
      });
    if (continuing && input.approval === true)
      ctx.addIssue({
        code: 'custom',
        path: ['approval'],
        message: 'a continuation runs an approved, RUNNING plan: approval must be false or absent',
      });
  });
export type ExecutePlanInput = z.infer<typeof executePlanInputSchema>;

/** One Map item: everything a child MigratePartition execution and the outcome record need. */
export const moveItemSchema = z.strictObject({
  planId: z.string().min(1),
  partition: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  bytes: z.number().nonnegative(),
  priority: z.number().int().nonnegative(),
  moveId: z.string().min(1),
  childName: z.string().min(1).max(80),
  canarySteps: z.array(z.number().gt(0).lte(1)),
  /**
   * The planner's decision: keep the source as a cold copy (MigratePartition's `retainSource`), so that a move
   * back ships only the writes since. A move to a cell holding a copy needs no flag: MigratePartition finds the
   * copy and ships the delta.
   */
  retainSource: z.boolean(),
});
export type MoveItem = z.infer<typeof moveItemSchema>;

const EXECUTION_NAME_MAX = 80;

/**
 * A deterministic child execution name from the plan and the partition: Step Functions names allow 80
 * characters of `[A-Za-z0-9_-]`. When the partition id needs changing to fit, a hash of it keeps names unique.
 * The same move always gets the same name, so a restarted plan cannot start a move twice.
 */
export function childExecutionName(planId: string, partition: string): string {
  const safe = partition.replace(/[^A-Za-z0-9_-]/g, '_');
  const plain = `${planId}-${safe}`;
  if (safe === partition && plain.length <= EXECUTION_NAME_MAX) return plain;
  const hash = createHash('sha256').update(partition).digest('hex').slice(0, 12);
  const room = EXECUTION_NAME_MAX - planId.length - hash.length - 2;
  return `${planId}-${safe.slice(0, Math.max(0, room))}-${hash}`.slice(0, EXECUTION_NAME_MAX);
}

export function moveIdOf(planId: string, partition: string): string {
  return `${planId}/${partition}`;
}

/**
 * The name of continuation `n` of a plan's execution chain: deterministic, so a redelivered start of the same
 * continuation joins (or is refused by) the execution already started rather than starting a second one.
 */
export function continuationExecutionName(planId: string, continuation: number): string {
  return `${planId}-cont-${continuation}`;
}
