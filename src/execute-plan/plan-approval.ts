import { PrestageError } from '../domain/errors.ts';
import { type PlanHeader, PlanNotFoundError } from '../domain/planning/plan-record.ts';
import type { PlanRepository, TaskTokenSender } from '../domain/planning/ports.ts';
import { PLAN_REJECTED_ERROR } from './execute-plan-tasks.ts';

/** The plan exists but is not waiting for approval (already running, finished, or not yet asked). */
export class PlanNotAwaitingApprovalError extends PrestageError {
  readonly status: string;
  constructor(planId: string, status: string) {
    super(
      `plan '${planId}' is ${status}; only a plan waiting for approval (PENDING_APPROVAL) can be approved or rejected`,
    );
    this.status = status;
  }
}

/** The token was already used or its wait timed out (Step Functions: TaskTimedOut, TaskDoesNotExist, InvalidToken). */
export class ApprovalTokenExpiredError extends PrestageError {}

const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export interface ApprovePlanRequest {
  readonly plans: Pick<PlanRepository, 'getHeader'>;
  readonly sender: TaskTokenSender;
  readonly planId: string;
  /** Reject instead of approving. */
  readonly reject?: boolean;
  readonly reason?: string;
  /** Who decided (recorded in the task output, so the execution history shows it). */
  readonly decidedBy?: string;
}

export interface ApprovalDecision {
  readonly planId: string;
  readonly decision: 'approved' | 'rejected';
  readonly header: PlanHeader;
}

/**
 * `prestage approve`: read the task token from the plan header and complete the waiting ExecutePlan step.
 * Approval resumes the execution (the plan becomes RUNNING); rejection fails the step with PlanRejectedError
 * (the plan becomes REJECTED and no move starts). The workflow writes the status, not this function.
 */
export async function approvePlan(request: ApprovePlanRequest): Promise<ApprovalDecision> {
  const header = await request.plans.getHeader(request.planId);
  if (!header) throw new PlanNotFoundError(request.planId);
  if (header.status !== 'PENDING_APPROVAL' || !header.taskToken)
    throw new PlanNotAwaitingApprovalError(request.planId, header.status);
  const decidedBy = request.decidedBy ?? 'prestage approve';
  try {
    if (request.reject) {
      await request.sender.sendTaskFailure(
        header.taskToken,
        PLAN_REJECTED_ERROR,
        `${request.reason?.trim() || 'rejected'} (by ${decidedBy})`.slice(0, 32_000),
      );
    } else {
      await request.sender.sendTaskSuccess(
        header.taskToken,
        JSON.stringify({ approved: true, decidedBy, ...(request.reason ? { reason: request.reason } : {}) }),
      );
    }
  } catch (error) {
    const name = (error as Error).name;
    if (STALE_TOKEN_ERRORS.has(name))
      throw new ApprovalTokenExpiredError(
        `the approval request of plan '${request.planId}' was already answered or has expired (${name})`,
        { cause: error },
      );
    throw error;
  }
  return { planId: request.planId, decision: request.reject ? 'rejected' : 'approved', header };
}
