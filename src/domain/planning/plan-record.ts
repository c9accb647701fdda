import { PrestageError } from '../errors.ts';
import type { ColdCopyDrop, MovementPlan, PlannedMove } from './movement-plan.ts';

/**
 * A stored movement plan: one header plus one record per move (the plans table, see
 * src/adapters/dynamodb/plan-repository.ts). ExecutePlan pages the moves by priority and never carries the
 * whole plan in its state, so a plan can hold any number of moves.
 */

/**
 * Plan lifecycle. PENDING: written, ExecutePlan not started yet. PENDING_APPROVAL: waiting for
 * `prestage approve` (a task token is stored). RUNNING: moves are being executed. Terminal: SUCCEEDED (every
 * move succeeded or was skipped), PARTIAL (some moves rolled back or failed, some succeeded), FAILED (no move
 * succeeded, or the run broke), REJECTED (an operator said no), EXPIRED (nobody approved in time).
 */
export const PLAN_STATUSES = [
  'PENDING',
  'PENDING_APPROVAL',
  'RUNNING',
  'SUCCEEDED',
  'PARTIAL',
  'FAILED',
  'REJECTED',
  'EXPIRED',
] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

/** Move lifecycle: PENDING → RUNNING → SUCCEEDED | ROLLED_BACK | FAILED; a move never started may be SKIPPED. */
export const MOVE_STATUSES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'ROLLED_BACK', 'FAILED', 'SKIPPED'] as const;
export type MoveStatus = (typeof MOVE_STATUSES)[number];

/** Outcomes a finished move can record. */
export type MoveOutcome = Extract<MoveStatus, 'SUCCEEDED' | 'ROLLED_BACK' | 'FAILED' | 'SKIPPED'>;

/** Allowed transitions (from → to). Writing the status a record already has is always allowed (redelivery). */
export const PLAN_TRANSITIONS: Readonly<Record<PlanStatus, readonly PlanStatus[]>> = {
  PENDING: ['PENDING_APPROVAL', 'RUNNING', 'FAILED', 'REJECTED', 'EXPIRED'],
  PENDING_APPROVAL: ['RUNNING', 'REJECTED', 'EXPIRED', 'FAILED'],
  RUNNING: ['SUCCEEDED', 'PARTIAL', 'FAILED'],
  SUCCEEDED: [],
  PARTIAL: [],
  FAILED: [],
  REJECTED: [],
  EXPIRED: [],
};

export const MOVE_TRANSITIONS: Readonly<Record<MoveStatus, readonly MoveStatus[]>> = {
  PENDING: ['RUNNING', 'SKIPPED', 'FAILED'],
  RUNNING: ['SUCCEEDED', 'ROLLED_BACK', 'FAILED'],
  SUCCEEDED: [],
  ROLLED_BACK: [],
  FAILED: [],
  SKIPPED: [],
};

export const TERMINAL_PLAN_STATUSES: readonly PlanStatus[] = PLAN_STATUSES.filter(
  (s) => PLAN_TRANSITIONS[s].length === 0,
);

/** Statuses from which `to` may be written (including `to` itself, so a retried step is a no-op). */
export function planStatusesAllowedBefore(to: PlanStatus): PlanStatus[] {
  return PLAN_STATUSES.filter((from) => from === to || PLAN_TRANSITIONS[from].includes(to));
}

export function moveStatusesAllowedBefore(to: MoveStatus): MoveStatus[] {
  return MOVE_STATUSES.filter((from) => from === to || MOVE_TRANSITIONS[from].includes(to));
}

export function canTransitionPlan(from: PlanStatus, to: PlanStatus): boolean {
  return from === to || PLAN_TRANSITIONS[from].includes(to);
}

/** What started the plan. */
export type PlanTrigger = 'schedule' | 'scaling' | 'manual';

export interface PlanOutcomeCounts {
  readonly succeeded: number;
  readonly rolledBack: number;
  readonly failed: number;
  readonly skipped: number;
}

export const NO_OUTCOMES: PlanOutcomeCounts = { succeeded: 0, rolledBack: 0, failed: 0, skipped: 0 };

export interface PlanHeader {
  readonly planId: string;
  readonly createdAtMs: number;
  readonly trigger: PlanTrigger;
  readonly status: PlanStatus;
  readonly moveCount: number;
  readonly totalBytes: number;
  /** Whether ExecutePlan waits for approval before running the moves. */
  readonly approval: boolean;
  /** Step Functions task token while the plan is PENDING_APPROVAL. */
  readonly taskToken?: string;
  /** Objective before and after the plan (US dollars per horizon). */
  readonly costBefore: number;
  readonly costAfter: number;
  /** Filled when the plan finishes. */
  readonly outcomes: PlanOutcomeCounts;
  /** Profiler cycle the plan came from (schedule trigger). */
  readonly cycleId?: string;
  /** Why the status changed last (a rejection reason, an error name). */
  readonly statusReason?: string;
  /**
   * The cold copies the plan garbage-collects after its moves (ExecutePlan's DropColdCopies), at most
   * MAX_COLD_COPY_DROPS_PER_PLAN: the planner asks again next cycle for any it left out.
   */
  readonly coldCopyDrops?: readonly ColdCopyDrop[];
  readonly updatedAtMs: number;
  /** TTL, epoch seconds (DynamoDB TTL attribute). */
  readonly expiresAt: number;
}

/**
 * Drops stored with one plan. They live on the header item (400 KB at most; a drop takes ~100 bytes), and a plan
 * runs them one after another after its moves, so a bound keeps both the item and the run short.
 */
export const MAX_COLD_COPY_DROPS_PER_PLAN = 100;

/** Identity and timing of a plan being stored, as both plan stores compute them. */
export interface NewPlanHeaderFields {
  readonly planId: string;
  readonly trigger: PlanTrigger;
  readonly approval: boolean;
  readonly cycleId?: string;
  readonly nowMs: number;
  readonly expiresAt: number;
}

/** The header of a plan as first stored (PENDING, no outcomes yet); shared by the DynamoDB and in-memory stores. */
export function newPlanHeader(plan: MovementPlan, fields: NewPlanHeaderFields): PlanHeader {
  const drops = (plan.coldCopyDrops ?? []).slice(0, MAX_COLD_COPY_DROPS_PER_PLAN);
  return {
    planId: fields.planId,
    createdAtMs: plan.createdAtMs,
    trigger: fields.trigger,
    status: 'PENDING',
    moveCount: plan.moves.length,
    totalBytes: plan.moves.reduce((sum, m) => sum + m.bytes, 0),
    approval: fields.approval,
    costBefore: plan.costBefore,
    costAfter: plan.costAfter,
    outcomes: NO_OUTCOMES,
    ...(fields.cycleId !== undefined ? { cycleId: fields.cycleId } : {}),
    ...(drops.length > 0
      ? {
          coldCopyDrops: drops.map((d) => ({
            partition: d.partition,
            cell: d.cell,
            bytes: d.bytes,
            reason: d.reason,
            ...(d.owner !== undefined ? { owner: d.owner } : {}),
          })),
        }
      : {}),
    updatedAtMs: fields.nowMs,
    expiresAt: fields.expiresAt,
  };
}

/** A planned move as stored with its plan (priority 1 = start first; moves are paged in priority order). */
export interface PlanMoveRecord extends PlannedMove {
  readonly planId: string;
  readonly status: MoveStatus;
  /** Child MigratePartition execution, once started. */
  readonly executionArn?: string;
  /** Error name and message of a rolled back or failed move. */
  readonly error?: string;
  readonly updatedAtMs: number;
  readonly expiresAt: number;
}

/** Identifies one move inside a plan (the sort key is derived from it). */
export interface MoveKey {
  readonly priority: number;
  readonly partition: string;
}

export const MAX_MOVE_PRIORITY = 999_999;

/**
 * A plan id that is unique, sorts by time and fits a Step Functions execution name:
 * `plan-<UTC timestamp to the second>-<uniqueSuffix>`. The caller draws the suffix (random hex), so two plans
 * of the same second differ while this function stays deterministic.
 */
export function newPlanId(nowMs: number, uniqueSuffix: string): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `plan-${stamp}-${uniqueSuffix}`;
}

export function planPartitionKey(planId: string): string {
  return `plan#${planId}`;
}

export const PLAN_HEADER_SORT_KEY = 'header';

/** `move#<6-digit priority>#<partition>`: a range query returns moves in priority order. */
export function moveSortKey(key: MoveKey): string {
  if (!Number.isInteger(key.priority) || key.priority < 0 || key.priority > MAX_MOVE_PRIORITY)
    throw new PrestageError(
      `move priority ${key.priority} of partition '${key.partition}' must be an integer in 0..${MAX_MOVE_PRIORITY}`,
    );
  return `move#${String(key.priority).padStart(6, '0')}#${key.partition}`;
}

/** Count the outcomes of finished moves. */
export function countOutcomes(moves: Iterable<Pick<PlanMoveRecord, 'status'>>): PlanOutcomeCounts {
  let succeeded = 0;
  let rolledBack = 0;
  let failed = 0;
  let skipped = 0;
  for (const move of moves) {
    if (move.status === 'SUCCEEDED') succeeded++;
    else if (move.status === 'ROLLED_BACK') rolledBack++;
    else if (move.status === 'FAILED') failed++;
    else if (move.status === 'SKIPPED') skipped++;
  }
  return { succeeded, rolledBack, failed, skipped };
}

/**
 * Final status of a plan from its move outcomes: SUCCEEDED when nothing rolled back or failed, FAILED when
 * something did and nothing succeeded, PARTIAL otherwise. A plan with no moves succeeds.
 */
export function finalPlanStatus(
  outcomes: PlanOutcomeCounts,
): Extract<PlanStatus, 'SUCCEEDED' | 'PARTIAL' | 'FAILED'> {
  const bad = outcomes.rolledBack + outcomes.failed;
  if (bad === 0) return 'SUCCEEDED';
  return outcomes.succeeded > 0 ? 'PARTIAL' : 'FAILED';
}

export class PlanNotFoundError extends PrestageError {
  readonly planId: string;
  constructor(planId: string) {
    super(`plan '${planId}' does not exist (or its TTL has expired)`);
    this.planId = planId;
  }
}

export class MoveNotFoundError extends PrestageError {
  constructor(planId: string, key: MoveKey) {
    super(`plan '${planId}' has no move of partition '${key.partition}' at priority ${key.priority}`);
  }
}

/** A status change the lifecycle does not allow (e.g. approving a plan that already ran). */
export class PlanTransitionError extends PrestageError {
  readonly from: string;
  readonly to: string;
  constructor(subject: string, from: string, to: string) {
    super(`${subject} is ${from}; it cannot become ${to}`);
    this.from = from;
    this.to = to;
  }
}
