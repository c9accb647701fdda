import type { MovementPlan } from './movement-plan.ts';
import type {
  MoveKey,
  MoveStatus,
  PlanHeader,
  PlanMoveRecord,
  PlanOutcomeCounts,
  PlanStatus,
  PlanTrigger,
} from './plan-record.ts';

/**
 * The ports of the plan workflow: the planner writes plans, ExecutePlan runs them, `prestage approve` answers
 * an approval. The use cases (src/planner-service, src/execute-plan) see only these; the AWS adapters
 * (src/adapters) implement them, and the tests bind them to memory or dynalite.
 */

/** What the writer of a plan knows besides the plan itself. */
export interface PlanMeta {
  /** Defaults to a new id (newPlanId: `plan-<UTC timestamp>-<random>`). Safe in Step Functions execution names. */
  readonly planId?: string;
  readonly trigger: PlanTrigger;
  /** Whether ExecutePlan waits for approval. */
  readonly approval: boolean;
  /** Days until the store's TTL removes the plan. @default 30 */
  readonly ttlDays?: number;
  readonly cycleId?: string;
  /** Time of the write, for `updatedAtMs`. @default the store's clock */
  readonly nowMs?: number;
}

export interface MovePage {
  readonly moves: PlanMoveRecord[];
  /**
   * Cursor of the next page (pass as `after`); absent when this was the last page. A full page that ends exactly
   * at the last move may still carry one (DynamoDB cannot tell), and the page after it is then empty.
   */
  readonly next?: string;
}

export interface PlanStatusChange {
  readonly outcomes?: PlanOutcomeCounts;
  readonly statusReason?: string;
  /** @default the store's clock */
  readonly nowMs?: number;
}

export interface MoveStatusChange {
  readonly executionArn?: string;
  readonly error?: string;
  /** @default the store's clock */
  readonly nowMs?: number;
}

/**
 * Stored plans: a header and one record per move. Status changes follow the lifecycle of plan-record.ts
 * (planStatusesAllowedBefore, moveStatusesAllowedBefore): a change the lifecycle forbids throws
 * PlanTransitionError, writing the current status again is a no-op (retried steps are safe), and a missing
 * plan or move throws PlanNotFoundError or MoveNotFoundError.
 */
export interface PlanRepository {
  /** Store a plan (status PENDING); idempotent on `meta.planId` (an existing header is returned unchanged). */
  create(plan: MovementPlan, meta: PlanMeta): Promise<PlanHeader>;
  getHeader(planId: string): Promise<PlanHeader | undefined>;
  getMove(planId: string, key: MoveKey): Promise<PlanMoveRecord | undefined>;
  /** Moves in priority order, `limit` at a time; `after` is the `next` cursor of the previous page. */
  pageMoves(planId: string, options: { limit: number; after?: string }): Promise<MovePage>;
  /** Every move of a plan, in priority order. */
  allMoves(planId: string): Promise<PlanMoveRecord[]>;
  /** Plan headers, oldest first, optionally only those in the given statuses. */
  listHeaders(statuses?: readonly PlanStatus[]): Promise<PlanHeader[]>;
  /** Change a plan's status if the lifecycle allows it; returns the updated header. */
  setPlanStatus(planId: string, to: PlanStatus, change?: PlanStatusChange): Promise<PlanHeader>;
  /** Store the approval task token and mark the plan PENDING_APPROVAL (from PENDING, or again on a retry). */
  storeTaskToken(planId: string, taskToken: string, nowMs?: number): Promise<PlanHeader>;
  /** Change a move's status if the lifecycle allows it; returns the updated move. */
  setMoveStatus(
    planId: string,
    key: MoveKey,
    to: MoveStatus,
    change?: MoveStatusChange,
  ): Promise<PlanMoveRecord>;
}

/** Starts ExecutePlan on a stored plan; a second start with the same name is not an error. */
export interface PlanExecutionStarter {
  start(request: { readonly planId: string; readonly approval: boolean; readonly name: string }): Promise<{
    readonly executionArn: string;
    readonly alreadyStarted: boolean;
  }>;
}

/** Sends an approval request to people (SNS in AWS, a recorder locally). */
export interface ApprovalNotifier {
  publish(subject: string, message: string): Promise<void>;
}

/** Completes a waiting Task state (Step Functions' SendTaskSuccess/SendTaskFailure, or the local runner). */
export interface TaskTokenSender {
  sendTaskSuccess(taskToken: string, output: string): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
}
