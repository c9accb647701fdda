import { beforeEach, describe, expect, it } from 'vitest';
import type { MovementPlan } from '../../../src/domain/planning/movement-plan.ts';
import { PlanNotFoundError } from '../../../src/domain/planning/plan-record.ts';
import {
  DEFAULT_EXECUTE_PLAN_SETTINGS,
  type ExecutePlanDeps,
} from '../../../src/execute-plan/execute-plan-deps.ts';
import {
  finishPlan,
  pageMoves,
  recordOutcome,
  requestApproval,
  reserveSlot,
  startRun,
  validateInput,
} from '../../../src/execute-plan/execute-plan-steps.ts';
import type { MoveItem } from '../../../src/execute-plan/execute-plan-tasks.ts';
import {
  ApprovalTokenExpiredError,
  approvePlan,
  PlanNotAwaitingApprovalError,
} from '../../../src/execute-plan/plan-approval.ts';
import { METRIC } from '../../../src/support/metrics.ts';
import {
  InMemoryMigrationSlots,
  InMemoryPlanRepository,
  MetricsRecorder,
  NotifierRecorder,
  TaskTokenRecorder,
} from '../../support/in-memory-ports.ts';

/**
 * The ExecutePlan use cases on their ports alone (plans, slots, notifier, metrics in memory; see
 * test/unit/ports/port-contracts.test.ts for the contract these share with the DynamoDB adapters). The tests
 * drive the steps in the order the state machine runs them.
 */

const T0 = Date.UTC(2025, 5, 1, 12);

function planOf(
  moves: readonly { partition: string; from: string; to: string; bytes: number }[],
): MovementPlan {
  return {
    createdAtMs: T0,
    moves: moves.map((m, i) => ({
      ...m,
      priority: i + 1,
      startByMs: T0,
      deadlineMs: T0 + 3_600_000,
      expectedDurationMs: 60_000,
      benefit: 1,
      reasons: {},
    })),
    costBefore: 3,
    costAfter: 1,
    deferred: {},
    capacityForecast: [],
  };
}

describe('ExecutePlan use cases on in-memory ports', () => {
  let plans: InMemoryPlanRepository;
  let slots: InMemoryMigrationSlots;
  let metrics: MetricsRecorder;
  let logged: { message: string; details?: Record<string, unknown> }[];
  let nowMs: number;
  let deps: ExecutePlanDeps;

  beforeEach(() => {
    nowMs = T0;
    plans = new InMemoryPlanRepository(() => nowMs);
    slots = new InMemoryMigrationSlots({ maxConcurrentMovesPerCell: 1 });
    metrics = new MetricsRecorder();
    logged = [];
    deps = {
      plans,
      slots,
      metrics,
      settings: { ...DEFAULT_EXECUTE_PLAN_SETTINGS, canarySteps: [0.5, 1] },
      nowMs: () => nowMs,
      log: (message, details) => logged.push({ message, details }),
    };
  });

  /** Every move of the plan, paged as the Map's ItemReader loop does. */
  async function allItems(planId: string, limit: number): Promise<MoveItem[]> {
    const items: MoveItem[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await pageMoves(deps, { planId, after, limit });
      pages++;
      items.push(...page.moves);
      if (!page.hasMore) break;
      after = page.next;
    }
    // Three moves in pages of two: two pages; a page ending exactly at the last move starts no third one.
    expect(pages).toBe(Math.ceil(items.length / limit));
    return items;
  }

  it('runs a plan: moves sharing a cell wait for its slot, outcomes are counted, every slot comes back', async () => {
    await plans.create(
      planOf([
        { partition: 'p1', from: 'a', to: 'b', bytes: 100 },
        { partition: 'p2', from: 'a', to: 'c', bytes: 200 },
        { partition: 'p3', from: 'd', to: 'e', bytes: 400 },
      ]),
      { planId: 'plan-run', trigger: 'schedule', approval: false },
    );
    expect(await validateInput(deps, { planId: 'plan-run' })).toMatchObject({
      approval: false,
      moveCount: 3,
    });
    expect(await startRun(deps, { planId: 'plan-run' })).toEqual({ status: 'RUNNING' });
    const [p1, p2, p3] = await allItems('plan-run', 2);
    expect(p1).toMatchObject({ moveId: 'plan-run/p1', childName: 'plan-run-p1', canarySteps: [0.5, 1] });

    expect(await reserveSlot(deps, { move: p1 })).toEqual({ decision: 'start', waitSeconds: 0, inFlight: 1 });
    // p2 leaves cell a too, which p1 holds: it waits the configured first wait.
    expect(await reserveSlot(deps, { move: p2 })).toEqual({
      decision: 'wait',
      waitSeconds: DEFAULT_EXECUTE_PLAN_SETTINGS.slotWaitSeconds,
      inFlight: 1,
      blockedBy: 'maxConcurrentMovesPerCell',
    });
    expect(await reserveSlot(deps, { move: p3 })).toMatchObject({ decision: 'start', inFlight: 2 });
    expect(metrics.last(METRIC.migrationsInFlight)).toBe(2);

    nowMs += 60_000;
    await recordOutcome(deps, { move: p1, migration: { executionArn: 'arn:child:p1', status: 'SUCCEEDED' } });
    expect(await reserveSlot(deps, { move: p2, lastWaitSeconds: 30 })).toMatchObject({ decision: 'start' });
    await recordOutcome(deps, {
      move: p2,
      failure: {
        Error: 'States.TaskFailed',
        Cause: JSON.stringify({
          ExecutionArn: 'arn:child:p2',
          Error: 'MigrationRolledBackError',
          Cause: 'canary unhealthy',
        }),
      },
    });
    await recordOutcome(deps, { move: p3, failure: { Error: 'States.Timeout', Cause: 'step timed out' } });

    expect(await finishPlan(deps, { planId: 'plan-run' })).toEqual({
      planId: 'plan-run',
      status: 'PARTIAL',
      outcomes: { succeeded: 1, rolledBack: 1, failed: 1, skipped: 0 },
      moveCount: 3,
    });
    expect(
      (await plans.allMoves('plan-run')).map((m) => [m.partition, m.status, m.executionArn, m.error]),
    ).toEqual([
      ['p1', 'SUCCEEDED', 'arn:child:p1', undefined],
      ['p2', 'ROLLED_BACK', 'arn:child:p2', 'MigrationRolledBackError: canary unhealthy'],
      ['p3', 'FAILED', undefined, 'States.Timeout: step timed out'],
    ]);
    expect(slots.holders).toEqual({});
    expect(metrics.total(METRIC.migrationsStarted)).toBe(3);
    expect(metrics.total(METRIC.migrationsSucceeded)).toBe(1);
    expect(metrics.total(METRIC.bytesMoved)).toBe(100);
    expect(metrics.total(METRIC.migrationsRolledBack)).toBe(1);
    expect(metrics.total(METRIC.migrationsFailed)).toBe(1);
    expect(metrics.last(METRIC.migrationsInFlight)).toBe(0);
  });

  it('asks less often the longer a move waits, and a limit changed while the plan runs applies at once', async () => {
    await plans.create(planOf([{ partition: 'p1', from: 'a', to: 'b', bytes: 1 }]), {
      planId: 'plan-wait',
      trigger: 'schedule',
      approval: false,
    });
    await startRun(deps, { planId: 'plan-wait' });
    const [move] = await allItems('plan-wait', 10);
    slots.limits = { maxConcurrentMovesPerCell: 0 }; // an operator pauses all moves
    const waits: number[] = [];
    let last: number | undefined;
    for (let i = 0; i < 5; i++) {
      const decision = await reserveSlot(deps, { move, lastWaitSeconds: last });
      expect(decision.decision).toBe('wait');
      waits.push(decision.waitSeconds);
      last = decision.waitSeconds;
    }
    expect(waits).toEqual([30, 60, 120, 240, 240]);
    expect(metrics.total(METRIC.migrationsStarted)).toBe(0);
    slots.limits = { maxConcurrentMovesPerCell: 2 }; // and resumes them
    expect(await reserveSlot(deps, { move, lastWaitSeconds: last })).toMatchObject({ decision: 'start' });
  });

  it('a redelivered step changes nothing twice: one start, one outcome, a finished move is skipped', async () => {
    await plans.create(planOf([{ partition: 'p1', from: 'a', to: 'b', bytes: 50 }]), {
      planId: 'plan-again',
      trigger: 'schedule',
      approval: false,
    });
    await startRun(deps, { planId: 'plan-again' });
    const [move] = await allItems('plan-again', 10);
    expect((await reserveSlot(deps, { move })).decision).toBe('start');
    expect((await reserveSlot(deps, { move })).decision).toBe('start');
    expect(metrics.total(METRIC.migrationsStarted)).toBe(1);
    const done = { move, migration: { executionArn: 'arn:child', status: 'SUCCEEDED' } };
    expect(await recordOutcome(deps, done)).toEqual({ partition: 'p1', outcome: 'SUCCEEDED' });
    expect(await recordOutcome(deps, done)).toEqual({ partition: 'p1', outcome: 'SUCCEEDED' });
    expect(metrics.total(METRIC.migrationsSucceeded)).toBe(1);
    expect(metrics.total(METRIC.bytesMoved)).toBe(50);
    expect(await reserveSlot(deps, { move })).toEqual({ decision: 'skip', waitSeconds: 0, inFlight: 0 });
    expect(slots.holders).toEqual({});
  });

  it('a move that never started ends FAILED; an outcome it cannot record is logged and its slot still freed', async () => {
    await plans.create(
      planOf([
        { partition: 'p1', from: 'a', to: 'b', bytes: 1 },
        { partition: 'p2', from: 'c', to: 'd', bytes: 1 },
      ]),
      { planId: 'plan-odd', trigger: 'schedule', approval: false },
    );
    await startRun(deps, { planId: 'plan-odd' });
    const [p1, p2] = await allItems('plan-odd', 10);
    // p1's child could not even be started: PENDING goes straight to FAILED.
    await recordOutcome(deps, { move: p1, failure: { Error: 'StepFunctions.ExecutionLimitExceeded' } });
    expect(await plans.getMove('plan-odd', p1)).toMatchObject({
      status: 'FAILED',
      error: 'StepFunctions.ExecutionLimitExceeded',
    });
    // p2 holds a slot, then its outcome names a move the plan does not have.
    await reserveSlot(deps, { move: p2 });
    const stranger = { ...p2, partition: 'not-in-plan' };
    expect(await recordOutcome(deps, { move: stranger, migration: { status: 'SUCCEEDED' } })).toEqual({
      partition: 'not-in-plan',
      outcome: 'SUCCEEDED',
    });
    expect(logged).toEqual([
      {
        message: 'move outcome not recorded',
        details: expect.objectContaining({ moveId: p2.moveId, outcome: 'SUCCEEDED' }),
      },
    ]);
    expect(slots.holders).toEqual({});
    expect(metrics.total(METRIC.migrationsSucceeded)).toBe(0);
    // p2 itself never reported: FinishPlan counts it failed rather than leaving the plan RUNNING.
    expect(await finishPlan(deps, { planId: 'plan-odd' })).toMatchObject({
      status: 'FAILED',
      outcomes: { succeeded: 0, rolledBack: 0, failed: 2, skipped: 0 },
    });
  });

  it('asks for approval (logged only without a topic) and completes the waiting step on a decision', async () => {
    await plans.create(planOf([{ partition: 'p1', from: 'a', to: 'b', bytes: 1 }]), {
      planId: 'plan-ok',
      trigger: 'schedule',
      approval: true,
    });
    expect(await validateInput(deps, { planId: 'plan-ok' })).toMatchObject({ approval: true });
    expect(await requestApproval(deps, { planId: 'plan-ok', taskToken: 'token-ok' })).toEqual({
      notified: false,
    });
    expect(logged.map((l) => l.message)).toEqual(['approval requested; no topic configured']);
    const notifier = new NotifierRecorder();
    expect(
      await requestApproval({ ...deps, notifier }, { planId: 'plan-ok', taskToken: 'token-ok' }),
    ).toEqual({
      notified: true,
    });
    expect(notifier.published[0].subject).toBe('prestage: plan plan-ok awaits approval (1 moves)');

    const sender = new TaskTokenRecorder();
    const approved = await approvePlan({ plans, sender, planId: 'plan-ok', decidedBy: 'alice' });
    expect(approved).toMatchObject({ planId: 'plan-ok', decision: 'approved' });
    expect(sender.sent).toEqual([
      {
        kind: 'success',
        taskToken: 'token-ok',
        output: JSON.stringify({ approved: true, decidedBy: 'alice' }),
      },
    ]);

    await plans.create(planOf([{ partition: 'p1', from: 'a', to: 'b', bytes: 1 }]), {
      planId: 'plan-no',
      trigger: 'schedule',
      approval: true,
    });
    await requestApproval(deps, { planId: 'plan-no', taskToken: 'token-no' });
    await approvePlan({
      plans,
      sender,
      planId: 'plan-no',
      reject: true,
      reason: ' too big ',
      decidedBy: 'bob',
    });
    expect(sender.sent.at(-1)).toEqual({
      kind: 'failure',
      taskToken: 'token-no',
      error: 'PlanRejectedError',
      cause: 'too big (by bob)',
    });
  });

  it('names why an approval cannot be given', async () => {
    const sender = new TaskTokenRecorder();
    await expect(approvePlan({ plans, sender, planId: 'plan-none' })).rejects.toBeInstanceOf(
      PlanNotFoundError,
    );
    await plans.create(planOf([]), { planId: 'plan-auto', trigger: 'schedule', approval: false });
    await expect(approvePlan({ plans, sender, planId: 'plan-auto' })).rejects.toBeInstanceOf(
      PlanNotAwaitingApprovalError,
    );
    await plans.create(planOf([]), { planId: 'plan-late', trigger: 'schedule', approval: true });
    await requestApproval(deps, { planId: 'plan-late', taskToken: 'token-late' });
    sender.failWith = 'TaskTimedOut';
    const expired = await approvePlan({ plans, sender, planId: 'plan-late' }).catch(
      (error: unknown) => error,
    );
    expect(expired).toBeInstanceOf(ApprovalTokenExpiredError);
    expect((expired as Error).message).toContain('already answered or has expired (TaskTimedOut)');
    expect(sender.sent).toEqual([]);
  });
});
