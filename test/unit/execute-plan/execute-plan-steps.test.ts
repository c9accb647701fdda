import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoMigrationSlots } from '../../../src/adapters/dynamodb/migration-slots.ts';
import { DynamoPlanRepository } from '../../../src/adapters/dynamodb/plan-repository.ts';
import {
  coordinationTableDefinition,
  ensureTable,
  plansTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import type { MovementPlan } from '../../../src/domain/planning/movement-plan.ts';
import {
  DEFAULT_EXECUTE_PLAN_SETTINGS,
  type ExecutePlanDeps,
} from '../../../src/execute-plan/execute-plan-deps.ts';
import { createExecutePlanHandler } from '../../../src/execute-plan/execute-plan-handlers.ts';
import { classifyFailure } from '../../../src/execute-plan/execute-plan-steps.ts';
import type { MoveItem } from '../../../src/execute-plan/execute-plan-tasks.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { RecordingMetrics, RecordingNotifier } from '../../../src/local/execute-plan-runner.ts';
import { METRIC } from '../../../src/support/metrics.ts';
import { localDynamo } from '../../support/local-tables.ts';

function plan(moves: number): MovementPlan {
  return {
    createdAtMs: Date.UTC(2025, 0, 2),
    moves: Array.from({ length: moves }, (_, i) => ({
      partition: `p${i}`,
      from: 'cell-a',
      to: 'cell-b',
      bytes: 100 * (i + 1),
      priority: i + 1,
      startByMs: 0,
      deadlineMs: 0,
      expectedDurationMs: 0,
      benefit: 1,
      reasons: {},
      // The planner's retain decision on odd moves; the first has none, as plans stored before it existed.
      ...(i % 2 === 1 ? { retainSource: true } : i > 0 ? { retainSource: false } : {}),
    })),
    costBefore: 5,
    costAfter: 4,
    deferred: {},
    capacityForecast: [],
  };
}

describe('classifyFailure', () => {
  it('reads the child error out of a startExecution.sync:2 failure', () => {
    const described = (error: string, cause: string) =>
      JSON.stringify({ ExecutionArn: 'arn:exec', Status: 'FAILED', Error: error, Cause: cause });
    expect(
      classifyFailure({
        Error: 'States.TaskFailed',
        Cause: described('MigrationRolledBackError', 'canary unhealthy'),
      }),
    ).toEqual({
      outcome: 'ROLLED_BACK',
      error: 'MigrationRolledBackError: canary unhealthy',
      executionArn: 'arn:exec',
    });
    expect(
      classifyFailure({ Error: 'States.TaskFailed', Cause: described('MigrationInProgressError', 'held') }),
    ).toMatchObject({
      outcome: 'FAILED',
      error: 'MigrationInProgressError: held',
    });
    // Starting failed (no DescribeExecution in the cause), or a step of ExecutePlan failed.
    expect(
      classifyFailure({
        Error: 'StepFunctions.ExecutionAlreadyExistsException',
        Cause: 'Execution Already Exists',
      }),
    ).toEqual({
      outcome: 'FAILED',
      error: 'StepFunctions.ExecutionAlreadyExistsException: Execution Already Exists',
    });
    expect(classifyFailure({ Error: 'MoveNotFoundError' })).toEqual({
      outcome: 'FAILED',
      error: 'MoveNotFoundError',
    });
  });
});

describe('ExecutePlan step handlers on dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let deps: ExecutePlanDeps;
  let slots: DynamoMigrationSlots;
  let recorded: RecordingMetrics;
  let notifier: RecordingNotifier;
  const handler = (task: Parameters<typeof createExecutePlanHandler>[0]) =>
    createExecutePlanHandler(task, deps);

  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    await ensureTable(client, plansTableDefinition('plans'));
    await ensureTable(client, coordinationTableDefinition('coordination'));
    const documents = documentClient(client);
    recorded = new RecordingMetrics();
    notifier = new RecordingNotifier();
    slots = new DynamoMigrationSlots(documents, 'coordination', { maxConcurrentMovesPerCell: 1 });
    deps = {
      plans: new DynamoPlanRepository(documents, 'plans'),
      slots,
      notifier,
      metrics: recorded,
      settings: { ...DEFAULT_EXECUTE_PLAN_SETTINGS, canarySteps: [0.25, 1], slotWaitSeconds: 7 },
      nowMs: Date.now,
    };
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('validates the input and the plan, naming the field', async () => {
    await expect(handler('ValidateInput')({ planId: 'bad id' })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
    await expect(handler('ValidateInput')({ planId: 'nope' })).rejects.toMatchObject({
      name: 'InvalidPlanInputError',
      message: expect.stringContaining("field 'planId': plan 'nope' does not exist"),
    });
    await deps.plans.create(plan(2), { planId: 'plan-v', trigger: 'schedule', approval: true });
    expect(await handler('ValidateInput')({ planId: 'plan-v' })).toMatchObject({
      approval: true,
      moveCount: 2,
    });
    expect(await handler('ValidateInput')({ planId: 'plan-v', approval: false })).toMatchObject({
      approval: false,
    });
  });

  it('stores the approval token and sends a message saying how to approve', async () => {
    await deps.plans.create(plan(1), { planId: 'plan-ap', trigger: 'schedule', approval: true });
    expect(
      await handler('RequestApproval')({ planId: 'plan-ap', taskToken: 'tok', executionArn: 'arn:e' }),
    ).toEqual({
      notified: true,
    });
    expect(await deps.plans.getHeader('plan-ap')).toMatchObject({
      status: 'PENDING_APPROVAL',
      taskToken: 'tok',
    });
    const { subject, message } = notifier.messages.at(-1)!;
    expect(subject).toBe('prestage: plan plan-ap awaits approval (1 moves)');
    expect(message).toContain('npx prestage approve plan-ap');
    expect(message).toContain('npx prestage approve plan-ap --reject');
    expect(message).toContain('send-task-success');
    expect(message).not.toContain('tok\n');
    // Rejection closes it; approving afterwards is a lifecycle error, not a silent change.
    expect(
      await handler('CloseUnapproved')({
        planId: 'plan-ap',
        outcome: 'REJECTED',
        error: { Error: 'PlanRejectedError', Cause: 'no' },
      }),
    ).toEqual({
      planId: 'plan-ap',
      status: 'REJECTED',
    });
    await expect(handler('StartRun')({ planId: 'plan-ap' })).rejects.toMatchObject({
      name: 'PlanTransitionError',
    });
  });

  it('pages moves as Map items with everything the child needs', async () => {
    await deps.plans.create(plan(5), { planId: 'plan-pg', trigger: 'schedule', approval: false });
    const first = (await handler('PageMoves')({ planId: 'plan-pg', after: null, limit: 2 })) as {
      moves: MoveItem[];
      next: string | null;
      hasMore: boolean;
    };
    expect(first.hasMore).toBe(true);
    expect(first.moves[0]).toEqual({
      planId: 'plan-pg',
      partition: 'p0',
      from: 'cell-a',
      to: 'cell-b',
      bytes: 100,
      priority: 1,
      moveId: 'plan-pg/p0',
      childName: 'plan-pg-p0',
      canarySteps: [0.25, 1],
      retainSource: false,
    });
    // The planner's decision to keep the source as a cold copy reaches the child's input.
    expect(first.moves[1]).toMatchObject({ partition: 'p1', retainSource: true });
    const rest = (await handler('PageMoves')({
      planId: 'plan-pg',
      after: first.next,
      limit: 10,
    })) as typeof first;
    expect(rest.moves.map((m) => m.priority)).toEqual([3, 4, 5]);
    expect(rest.moves.map((m) => m.retainSource)).toEqual([false, true, false]);
    expect(rest).toMatchObject({ next: null, hasMore: false });
    // A full page ending exactly at the last move is the last page (no empty page, no empty continuation).
    const exact = (await handler('PageMoves')({
      planId: 'plan-pg',
      after: first.next,
      limit: 3,
    })) as typeof first;
    expect(exact.moves.map((m) => m.priority)).toEqual([3, 4, 5]);
    expect(exact).toMatchObject({ next: null, hasMore: false });
  });

  it('validates a continuation: only of a RUNNING plan, resuming after the cursor, naming its own successor', async () => {
    await deps.plans.create(plan(4), { planId: 'plan-cn', trigger: 'schedule', approval: true });
    const { next } = await deps.plans.pageMoves('plan-cn', { limit: 2 });
    const continuation = { planId: 'plan-cn', approval: false, resumeAfter: next, continuation: 3 };
    await expect(handler('ValidateInput')(continuation)).rejects.toMatchObject({
      name: 'InvalidPlanInputError',
      message: "field 'continuation': plan 'plan-cn' is PENDING; a continuation only runs a RUNNING plan",
    });
    await handler('StartRun')({ planId: 'plan-cn' });
    expect(await handler('ValidateInput')(continuation)).toEqual({
      planId: 'plan-cn',
      approval: false,
      status: 'RUNNING',
      moveCount: 4,
      totalBytes: 1000,
      continuation: 3,
      resumeAfter: next,
      nextContinuation: { continuation: 4, executionName: 'plan-cn-cont-4' },
    });
    // The execution that starts a plan is continuation 0 and starts at the first page.
    expect(await handler('ValidateInput')({ planId: 'plan-cn' })).toMatchObject({
      continuation: 0,
      resumeAfter: null,
      nextContinuation: { continuation: 1, executionName: 'plan-cn-cont-1' },
    });
    await expect(handler('ValidateInput')({ ...continuation, approval: true })).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringContaining("field 'approval'"),
    });
  });

  it('after a failed continuation, fails with the child error and leaves a finished plan as it ended', async () => {
    const described = (status: string, error?: string) =>
      JSON.stringify({
        ExecutionArn: 'arn:aws:states:us-east-1:1:execution:ExecutePlan:plan-cf-cont-1',
        Status: status,
        ...(error ? { Error: error, Cause: 'every move failed' } : {}),
      });
    // The continuation finished the plan FAILED itself: its reason stays, its error is passed on.
    await deps.plans.create(plan(1), { planId: 'plan-cf', trigger: 'schedule', approval: false });
    await handler('StartRun')({ planId: 'plan-cf' });
    await deps.plans.setPlanStatus('plan-cf', 'FAILED', { statusReason: '0 succeeded, 1 failed' });
    expect(
      await handler('AbortPlan')({
        planId: 'plan-cf',
        error: { Error: 'States.TaskFailed', Cause: described('FAILED', 'PlanFailedError') },
      }),
    ).toEqual({
      planId: 'plan-cf',
      status: 'FAILED',
      error: 'PlanFailedError',
      cause: 'every move failed (in arn:aws:states:us-east-1:1:execution:ExecutePlan:plan-cf-cont-1)',
    });
    expect((await deps.plans.getHeader('plan-cf'))?.statusReason).toBe('0 succeeded, 1 failed');
    // A continuation stopped by hand left the plan RUNNING: it is FAILED now, with the child named.
    await deps.plans.create(plan(1), { planId: 'plan-cs', trigger: 'schedule', approval: false });
    await handler('StartRun')({ planId: 'plan-cs' });
    expect(
      await handler('AbortPlan')({
        planId: 'plan-cs',
        error: { Error: 'States.TaskFailed', Cause: described('ABORTED') },
      }),
    ).toMatchObject({ status: 'FAILED', error: 'ContinuationAbortedError' });
    expect((await deps.plans.getHeader('plan-cs'))?.statusReason).toMatch(
      /^ContinuationAbortedError: \(in arn:.*plan-cf-cont-1\)$/,
    );
  });

  it('reserves a slot or says to wait, records outcomes once, releases the slot, and publishes metrics', async () => {
    await deps.plans.create(plan(3), { planId: 'plan-rs', trigger: 'schedule', approval: false });
    await handler('StartRun')({ planId: 'plan-rs' });
    const { moves } = (await handler('PageMoves')({ planId: 'plan-rs', limit: 10 })) as { moves: MoveItem[] };
    const before = { ...recorded.totals };
    expect(await handler('ReserveSlot')({ move: moves[0] })).toMatchObject({
      decision: 'start',
      inFlight: 1,
    });
    // Same cells, limit 1: the second move waits the configured time, then twice as long each time, up to the cap.
    expect(await handler('ReserveSlot')({ move: moves[1] })).toMatchObject({
      decision: 'wait',
      waitSeconds: 7,
      blockedBy: 'maxConcurrentMovesPerCell',
    });
    const waits: number[] = [];
    let last = 0;
    for (let i = 0; i < 7; i++) {
      const decision = (await handler('ReserveSlot')({ move: moves[1], lastWaitSeconds: last })) as {
        waitSeconds: number;
      };
      waits.push(decision.waitSeconds);
      last = decision.waitSeconds;
    }
    expect(waits).toEqual([7, 14, 28, 56, 112, 224, 240]);
    expect((await deps.plans.getMove('plan-rs', moves[0]))?.status).toBe('RUNNING');
    const success = {
      move: moves[0],
      slot: {},
      migration: { executionArn: 'arn:child', status: 'SUCCEEDED' },
    };
    expect(await handler('RecordOutcome')(success)).toEqual({ partition: 'p0', outcome: 'SUCCEEDED' });
    // Redelivered: no second count.
    await handler('RecordOutcome')(success);
    expect(recorded.totals[METRIC.migrationsSucceeded] - (before[METRIC.migrationsSucceeded] ?? 0)).toBe(1);
    expect(recorded.totals[METRIC.bytesMoved] - (before[METRIC.bytesMoved] ?? 0)).toBe(100);
    expect(recorded.last[METRIC.migrationsInFlight]).toBe(0);
    expect((await deps.plans.getMove('plan-rs', moves[0]))?.executionArn).toBe('arn:child');
    // The slot is free again; a finished move is skipped.
    expect(await handler('ReserveSlot')({ move: moves[1] })).toMatchObject({ decision: 'start' });
    expect(await handler('ReserveSlot')({ move: moves[0] })).toMatchObject({ decision: 'skip' });
    await handler('RecordOutcome')({
      move: moves[1],
      failure: {
        Error: 'States.TaskFailed',
        Cause: JSON.stringify({ Error: 'MigrationRolledBackError', Cause: 'verify mismatch' }),
      },
    });
    // A move whose reservation itself failed is recorded FAILED.
    await handler('RecordOutcome')({
      move: moves[2],
      failure: { Error: 'StorageThrottledError', Cause: 'slow down' },
    });
    const result = await handler('FinishPlan')({ planId: 'plan-rs' });
    expect(result).toEqual({
      planId: 'plan-rs',
      status: 'PARTIAL',
      outcomes: { succeeded: 1, rolledBack: 1, failed: 1, skipped: 0 },
      moveCount: 3,
    });
    expect((await slots.holders()).holders).toEqual({});
  });

  it('ends FAILED when nothing succeeded, and an abort after the end changes nothing', async () => {
    await deps.plans.create(plan(1), { planId: 'plan-f', trigger: 'schedule', approval: false });
    await handler('StartRun')({ planId: 'plan-f' });
    const { moves } = (await handler('PageMoves')({ planId: 'plan-f', limit: 10 })) as { moves: MoveItem[] };
    await handler('RecordOutcome')({ move: moves[0], failure: { Error: 'States.TaskFailed', Cause: '{}' } });
    expect(await handler('FinishPlan')({ planId: 'plan-f' })).toMatchObject({ status: 'FAILED' });
    expect(await handler('AbortPlan')({ planId: 'plan-f', error: { Error: 'X', Cause: 'y' } })).toEqual({
      planId: 'plan-f',
      status: 'FAILED',
      error: 'PlanExecutionError',
      cause: 'X: y',
    });
    expect((await deps.plans.getHeader('plan-f'))?.statusReason).toBe(
      '0 succeeded, 0 rolled back, 1 failed, 0 skipped',
    );
    await deps.plans.create(plan(1), { planId: 'plan-ab', trigger: 'schedule', approval: false });
    await handler('StartRun')({ planId: 'plan-ab' });
    expect(
      await handler('AbortPlan')({ planId: 'plan-ab', error: { Error: 'States.Runtime', Cause: 'boom' } }),
    ).toEqual({
      planId: 'plan-ab',
      status: 'FAILED',
      error: 'PlanExecutionError',
      cause: 'States.Runtime: boom',
    });
    expect((await deps.plans.getHeader('plan-ab'))?.statusReason).toBe('States.Runtime: boom');
  });
});
