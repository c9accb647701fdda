import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPlanRepository } from '../../../../src/adapters/dynamodb/plan-repository.ts';
import { ensureTable, plansTableDefinition } from '../../../../src/adapters/dynamodb/table-definitions.ts';
import type { MovementPlan, PlannedMove } from '../../../../src/domain/planning/movement-plan.ts';
import {
  canTransitionPlan,
  finalPlanStatus,
  MOVE_STATUSES,
  MoveNotFoundError,
  type MoveStatus,
  moveSortKey,
  newPlanId,
  PLAN_STATUSES,
  PlanNotFoundError,
  PlanTransitionError,
  TERMINAL_PLAN_STATUSES,
} from '../../../../src/domain/planning/plan-record.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../../support/local-tables.ts';
import { assertProperty } from '../../../support/property.ts';

function move(priority: number, partition = `p${priority}`): PlannedMove {
  return {
    partition,
    from: 'cell-a',
    to: 'cell-b',
    bytes: 1000 * priority,
    priority,
    startByMs: 10_000,
    deadlineMs: 20_000,
    expectedDurationMs: 500,
    benefit: 1.5,
    reasons: { locality: 2, transferCost: -0.5 },
  };
}

function plan(moves: PlannedMove[]): MovementPlan {
  return {
    createdAtMs: Date.UTC(2025, 0, 2, 3, 4, 5),
    moves,
    costBefore: 10,
    costAfter: 7,
    deferred: {},
    capacityForecast: [],
  };
}

describe('plan records (pure)', () => {
  it('sorts moves by priority through the 6-digit sort key', () => {
    assertProperty(
      fc.property(fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: 0, max: 999_999 }), (a, b) => {
        const ka = moveSortKey({ priority: a, partition: 'x' });
        const kb = moveSortKey({ priority: b, partition: 'x' });
        expect(ka < kb).toBe(a < b);
      }),
    );
    expect(() => moveSortKey({ priority: 1_000_000, partition: 'x' })).toThrow(/0\.\.999999/);
  });

  it('terminal statuses allow no change but a repeat of themselves', () => {
    for (const terminal of TERMINAL_PLAN_STATUSES)
      for (const to of PLAN_STATUSES) expect(canTransitionPlan(terminal, to)).toBe(to === terminal);
    expect(TERMINAL_PLAN_STATUSES).toEqual(['SUCCEEDED', 'PARTIAL', 'FAILED', 'REJECTED', 'EXPIRED']);
  });

  it('derives the final status from outcomes', () => {
    expect(finalPlanStatus({ succeeded: 3, rolledBack: 0, failed: 0, skipped: 1 })).toBe('SUCCEEDED');
    expect(finalPlanStatus({ succeeded: 2, rolledBack: 1, failed: 0, skipped: 0 })).toBe('PARTIAL');
    expect(finalPlanStatus({ succeeded: 0, rolledBack: 1, failed: 1, skipped: 0 })).toBe('FAILED');
    expect(finalPlanStatus({ succeeded: 0, rolledBack: 0, failed: 0, skipped: 0 })).toBe('SUCCEEDED');
  });

  it('makes plan ids that sort by time and fit Step Functions execution names', () => {
    const id = newPlanId(Date.UTC(2025, 0, 2, 3, 4, 5, 678), '0a1b2c3d');
    expect(id).toBe('plan-20250102T030405Z-0a1b2c3d');
    expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(newPlanId(Date.UTC(2025, 0, 2, 3, 4, 6), '00000000') > id).toBe(true);
  });
});

describe('DynamoPlanRepository on dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let repository: DynamoPlanRepository;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    await ensureTable(client, plansTableDefinition('plans'));
    repository = new DynamoPlanRepository(documentClient(client), 'plans');
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('stores a header and every move (more than one batch), and pages them by priority', async () => {
    // Priorities out of order and past 9, so a lexical sort of unpadded numbers would be wrong.
    const moves = Array.from({ length: 60 }, (_, i) => move(60 - i));
    const header = await repository.create(plan(moves), {
      planId: 'plan-paging',
      trigger: 'schedule',
      approval: false,
      ttlDays: 2,
      cycleId: 'c1',
    });
    expect(header).toMatchObject({
      planId: 'plan-paging',
      status: 'PENDING',
      moveCount: 60,
      totalBytes: (1000 * 60 * 61) / 2,
      costBefore: 10,
      costAfter: 7,
      cycleId: 'c1',
      outcomes: { succeeded: 0, rolledBack: 0, failed: 0, skipped: 0 },
      expiresAt: Math.floor(Date.UTC(2025, 0, 2, 3, 4, 5) / 1000) + 2 * 86_400,
    });
    expect(await repository.getHeader('plan-paging')).toEqual(header);

    const seen: number[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await repository.pageMoves('plan-paging', { limit: 7, after });
      expect(page.moves.length).toBeLessThanOrEqual(7);
      seen.push(...page.moves.map((m) => m.priority));
      after = page.next;
      pages++;
    } while (after);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(pages).toBeGreaterThanOrEqual(9);
    const first = (await repository.pageMoves('plan-paging', { limit: 1 })).moves[0];
    expect(first).toMatchObject({
      planId: 'plan-paging',
      partition: 'p1',
      status: 'PENDING',
      reasons: { locality: 2, transferCost: -0.5 },
      expiresAt: header.expiresAt,
    });
  });

  it('gives a plan written without an id a fresh one stamped with its creation time', async () => {
    const first = await repository.create(plan([move(1)]), { trigger: 'manual', approval: false });
    const second = await repository.create(plan([move(1)]), { trigger: 'manual', approval: false });
    expect(first.planId).toMatch(/^plan-20250102T030405Z-[0-9a-f]{8}$/);
    expect(second.planId).not.toBe(first.planId);
    expect(await repository.getHeader(second.planId)).toMatchObject({ status: 'PENDING', moveCount: 1 });
  });

  it('is idempotent on the plan id and never shows a header without its moves', async () => {
    const first = await repository.create(plan([move(1)]), {
      planId: 'plan-idem',
      trigger: 'manual',
      approval: true,
    });
    const again = await repository.create(plan([move(1), move(2)]), {
      planId: 'plan-idem',
      trigger: 'manual',
      approval: true,
    });
    expect(again).toEqual(first);
    expect((await repository.allMoves('plan-idem')).map((m) => m.partition)).toEqual(['p1']);

    // Concurrent readers while a big plan is written: whenever the header is visible, all moves are.
    const big = plan(Array.from({ length: 120 }, (_, i) => move(i + 1)));
    const writing = repository.create(big, { planId: 'plan-visible', trigger: 'schedule', approval: false });
    let sawHeader = false;
    while (!sawHeader) {
      const header = await repository.getHeader('plan-visible');
      if (header) {
        sawHeader = true;
        expect((await repository.allMoves('plan-visible')).length).toBe(120);
      }
    }
    await writing;
  });

  it('enforces the plan lifecycle with conditional updates, and keeps the token only while waiting', async () => {
    await repository.create(plan([move(1)]), { planId: 'plan-life', trigger: 'schedule', approval: true });
    const waiting = await repository.storeTaskToken('plan-life', 'token-1');
    expect(waiting).toMatchObject({ status: 'PENDING_APPROVAL', taskToken: 'token-1' });
    // A redelivered approval step stores its new token.
    expect((await repository.storeTaskToken('plan-life', 'token-2')).taskToken).toBe('token-2');
    const running = await repository.setPlanStatus('plan-life', 'RUNNING');
    expect(running.status).toBe('RUNNING');
    expect(running.taskToken).toBeUndefined();
    // Same status again is a no-op success (a retried step).
    expect((await repository.setPlanStatus('plan-life', 'RUNNING')).status).toBe('RUNNING');
    await expect(repository.setPlanStatus('plan-life', 'REJECTED')).rejects.toThrow(
      "plan 'plan-life' is RUNNING; it cannot become REJECTED",
    );
    await expect(repository.storeTaskToken('plan-life', 'late')).rejects.toBeInstanceOf(PlanTransitionError);
    const done = await repository.setPlanStatus('plan-life', 'PARTIAL', {
      outcomes: { succeeded: 1, rolledBack: 1, failed: 0, skipped: 0 },
      statusReason: '1 move rolled back',
    });
    expect(done).toMatchObject({
      status: 'PARTIAL',
      outcomes: { succeeded: 1, rolledBack: 1, failed: 0, skipped: 0 },
      statusReason: '1 move rolled back',
    });
    await expect(repository.setPlanStatus('plan-life', 'RUNNING')).rejects.toBeInstanceOf(
      PlanTransitionError,
    );
    await expect(repository.setPlanStatus('no-such-plan', 'RUNNING')).rejects.toBeInstanceOf(
      PlanNotFoundError,
    );
    await expect(repository.requireHeader('no-such-plan')).rejects.toThrow(
      /plan 'no-such-plan' does not exist/,
    );
  });

  it('enforces the move lifecycle and records the execution and error', async () => {
    await repository.create(plan([move(1), move(2)]), {
      planId: 'plan-moves',
      trigger: 'schedule',
      approval: false,
    });
    const key = { priority: 1, partition: 'p1' };
    const running = await repository.setMoveStatus('plan-moves', key, 'RUNNING', { executionArn: 'arn:x' });
    expect(running).toMatchObject({ status: 'RUNNING', executionArn: 'arn:x' });
    const rolled = await repository.setMoveStatus('plan-moves', key, 'ROLLED_BACK', {
      error: 'MigrationRolledBackError: canary unhealthy',
    });
    expect(rolled).toMatchObject({ status: 'ROLLED_BACK', executionArn: 'arn:x', error: /canary/ });
    await expect(repository.setMoveStatus('plan-moves', key, 'SUCCEEDED')).rejects.toThrow(
      "move of partition 'p1' in plan 'plan-moves' is ROLLED_BACK; it cannot become SUCCEEDED",
    );
    await expect(
      repository.setMoveStatus('plan-moves', { priority: 2, partition: 'p1' }, 'RUNNING'),
    ).rejects.toBeInstanceOf(MoveNotFoundError);
    // SUCCEEDED straight from PENDING skips RUNNING: not allowed.
    await expect(
      repository.setMoveStatus('plan-moves', { priority: 2, partition: 'p2' }, 'SUCCEEDED'),
    ).rejects.toBeInstanceOf(PlanTransitionError);
    expect((await repository.listHeaders(['PENDING'])).map((h) => h.planId)).toContain('plan-moves');
    expect((await repository.listHeaders(['SUCCEEDED'])).map((h) => h.planId)).not.toContain('plan-moves');
  });

  it('allows exactly the transitions of the lifecycle (any sequence of attempted changes)', async () => {
    const documents = documentClient(client);
    const key = { priority: 1, partition: 'p1' };
    const reset = async () => {
      for (const sk of ['header', moveSortKey(key)])
        await documents.send(new DeleteCommand({ TableName: 'plans', Key: { pk: 'plan#plan-prop', sk } }));
    };
    await assertProperty(
      fc.asyncProperty(fc.array(fc.constantFrom(...MOVE_STATUSES), { maxLength: 6 }), async (attempts) => {
        await reset();
        await repository.create(plan([move(1)]), { planId: 'plan-prop', trigger: 'manual', approval: false });
        let status: MoveStatus = 'PENDING';
        for (const to of attempts) {
          const allowed =
            to === status ||
            (status === 'PENDING' && ['RUNNING', 'SKIPPED', 'FAILED'].includes(to)) ||
            (status === 'RUNNING' && ['SUCCEEDED', 'ROLLED_BACK', 'FAILED'].includes(to));
          const applied = await repository.setMoveStatus('plan-prop', key, to).then(
            () => true,
            (error: Error) => {
              expect(error).toBeInstanceOf(PlanTransitionError);
              return false;
            },
          );
          expect(applied).toBe(allowed);
          if (allowed) status = to;
          expect((await repository.getMove('plan-prop', key))?.status).toBe(status);
        }
      }),
      { numRuns: 40 },
    );
  });
});
