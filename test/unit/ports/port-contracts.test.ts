import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoMigrationSlots } from '../../../src/adapters/dynamodb/migration-slots.ts';
import { DynamoPlanRepository } from '../../../src/adapters/dynamodb/plan-repository.ts';
import { DynamoScalingCoordination } from '../../../src/adapters/dynamodb/scaling-coordination.ts';
import {
  coordinationTableDefinition,
  ensureTable,
  plansTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import type { MigrationLimits, MigrationSlots } from '../../../src/domain/planning/migration-slots.ts';
import type { MovementPlan, PlannedMove } from '../../../src/domain/planning/movement-plan.ts';
import {
  MoveNotFoundError,
  PlanNotFoundError,
  PlanTransitionError,
} from '../../../src/domain/planning/plan-record.ts';
import type { PlanRepository } from '../../../src/domain/planning/ports.ts';
import type { ScalingCoordination } from '../../../src/domain/scaling/scaling-coordination.ts';
import { ScalingInProgressError } from '../../../src/domain/scaling/scaling-errors.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import {
  InMemoryMigrationSlots,
  InMemoryPlanRepository,
  InMemoryScalingCoordination,
} from '../../support/in-memory-ports.ts';
import { localDynamo } from '../../support/local-tables.ts';

/**
 * One suite per port, run against the DynamoDB adapter (on dynalite) and the in-memory implementation the use-case
 * tests use: a use case tested in memory then runs against the same contract it meets in AWS.
 */

interface Implementations {
  plans(): PlanRepository;
  slots(defaults: MigrationLimits): Promise<MigrationSlots>;
  coordination(): Promise<ScalingCoordination>;
}

let dynamo: LocalDynamo | undefined;
let tables = 0;

async function dynamoImplementations(): Promise<Implementations> {
  const local = await localDynamo();
  dynamo = local.dynamo;
  const documents = documentClient(local.client);
  await ensureTable(local.client, plansTableDefinition('plans'));
  return {
    plans: () => new DynamoPlanRepository(documents, 'plans'),
    // Slots and locks keep all their state in one item per key: a fresh table per test keeps tests apart.
    slots: async (defaults) => {
      const table = `coordination-${++tables}`;
      await ensureTable(local.client, coordinationTableDefinition(table));
      return new DynamoMigrationSlots(documents, table, defaults);
    },
    coordination: async () => {
      const table = `coordination-${++tables}`;
      await ensureTable(local.client, coordinationTableDefinition(table));
      return new DynamoScalingCoordination(documents, table);
    },
  };
}

const memoryImplementations = async (): Promise<Implementations> => ({
  plans: () => new InMemoryPlanRepository(),
  slots: async (defaults) => new InMemoryMigrationSlots(defaults),
  coordination: async () => new InMemoryScalingCoordination(),
});

function move(priority: number, partition = `p${priority}`): PlannedMove {
  return {
    partition,
    from: 'cell-a',
    to: 'cell-b',
    bytes: 100 * priority,
    priority,
    startByMs: 0,
    deadlineMs: 1,
    expectedDurationMs: 1,
    benefit: 1,
    reasons: {},
  };
}

function plan(moves: PlannedMove[]): MovementPlan {
  return {
    createdAtMs: Date.UTC(2025, 0, 2),
    moves,
    costBefore: 2,
    costAfter: 1,
    deferred: {},
    capacityForecast: [],
  };
}

afterAll(async () => {
  await dynamo?.close();
});

describe.each([
  ['DynamoDB adapters on dynalite', dynamoImplementations],
  ['in-memory ports', memoryImplementations],
])('port contracts: %s', (_name, make) => {
  let impl: Implementations;
  let run = 0;
  beforeAll(async () => {
    impl = await make();
  });

  describe('PlanRepository', () => {
    it('creates once per plan id and pages moves by priority; a full last page may carry a cursor', async () => {
      const plans = impl.plans();
      const id = `plan-c${++run}`;
      const header = await plans.create(plan([move(12), move(3), move(7)]), {
        planId: id,
        trigger: 'manual',
        approval: true,
        nowMs: 5,
      });
      expect(header).toMatchObject({ planId: id, status: 'PENDING', moveCount: 3, totalBytes: 2200 });
      const again = await plans.create(plan([move(1)]), { planId: id, trigger: 'manual', approval: false });
      expect(again).toEqual(header);
      const first = await plans.pageMoves(id, { limit: 2 });
      expect(first.moves.map((m) => m.priority)).toEqual([3, 7]);
      const last = await plans.pageMoves(id, { limit: 2, after: first.next });
      expect(last.moves.map((m) => m.priority)).toEqual([12]);
      expect(last.next).toBeUndefined();
      const exact = await plans.pageMoves(id, { limit: 3 });
      if (exact.next !== undefined)
        expect((await plans.pageMoves(id, { limit: 1, after: exact.next })).moves).toEqual([]);
      expect((await plans.allMoves(id)).map((m) => m.status)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    });

    it('follows the lifecycle: retries are no-ops, forbidden changes and missing records are named', async () => {
      const plans = impl.plans();
      const id = `plan-l${++run}`;
      await plans.create(plan([move(1)]), { planId: id, trigger: 'schedule', approval: true });
      expect(await plans.storeTaskToken(id, 'token-1', 10)).toMatchObject({
        status: 'PENDING_APPROVAL',
        taskToken: 'token-1',
      });
      const running = await plans.setPlanStatus(id, 'RUNNING', { nowMs: 11 });
      expect(running.status).toBe('RUNNING');
      expect(running.taskToken).toBeUndefined();
      expect((await plans.setPlanStatus(id, 'RUNNING', { nowMs: 12 })).status).toBe('RUNNING');
      await expect(plans.setPlanStatus(id, 'PENDING')).rejects.toBeInstanceOf(PlanTransitionError);
      await expect(plans.setPlanStatus('no-such-plan', 'RUNNING')).rejects.toBeInstanceOf(PlanNotFoundError);

      const key = { priority: 1, partition: 'p1' };
      await plans.setMoveStatus(id, key, 'RUNNING', { nowMs: 13 });
      const done = await plans.setMoveStatus(id, key, 'SUCCEEDED', { executionArn: 'arn:x', nowMs: 14 });
      expect(done).toMatchObject({ status: 'SUCCEEDED', executionArn: 'arn:x', updatedAtMs: 14 });
      await expect(plans.setMoveStatus(id, key, 'FAILED')).rejects.toBeInstanceOf(PlanTransitionError);
      await expect(
        plans.setMoveStatus(id, { priority: 2, partition: 'p2' }, 'RUNNING'),
      ).rejects.toBeInstanceOf(MoveNotFoundError);
      const finished = await plans.setPlanStatus(id, 'SUCCEEDED', {
        outcomes: { succeeded: 1, rolledBack: 0, failed: 0, skipped: 0 },
        statusReason: 'all done',
        nowMs: 15,
      });
      expect(finished).toMatchObject({ status: 'SUCCEEDED', statusReason: 'all done', updatedAtMs: 15 });
      expect((await plans.listHeaders(['SUCCEEDED'])).map((h) => h.planId)).toContain(id);
      expect((await plans.listHeaders(['RUNNING'])).map((h) => h.planId)).not.toContain(id);
    });
  });

  describe('MigrationSlots', () => {
    it('holds each cell to its limit, keeps a holder its slot, frees it on release or lease expiry', async () => {
      const slots = await impl.slots({ maxConcurrentMovesPerCell: 1 });
      const limits = await slots.readLimits();
      expect(limits).toEqual({ maxConcurrentMovesPerCell: 1 });
      const at = { limits, nowMs: 1000, leaseMs: 100 };
      expect(await slots.reserve('m1', { from: 'a', to: 'b' }, at)).toMatchObject({
        reserved: true,
        inFlight: 1,
      });
      expect(await slots.reserve('m1', { from: 'a', to: 'b' }, at)).toMatchObject({
        reserved: true,
        inFlight: 1,
      });
      expect(await slots.reserve('m2', { from: 'c', to: 'b' }, at)).toMatchObject({
        reserved: false,
        blockedBy: 'maxConcurrentMovesPerCell',
        perCell: { a: 1, b: 1 },
      });
      expect(await slots.release('m1', 1000)).toBe(0);
      expect(await slots.release('m1', 1000)).toBe(0);
      expect((await slots.reserve('m2', { from: 'c', to: 'b' }, at)).reserved).toBe(true);
      // m2's lease ends at 1100: after it, m3 gets the cell although m2 never released.
      expect((await slots.reserve('m3', { from: 'b', to: 'd' }, { ...at, nowMs: 1101 })).reserved).toBe(true);
      expect(
        await slots.reserve(
          'm4',
          { from: 'x', to: 'y' },
          { ...at, nowMs: 1101, limits: { ...limits, maxConcurrency: 1 } },
        ),
      ).toMatchObject({ reserved: false, blockedBy: 'maxConcurrency' });
    });
  });

  describe('ScalingCoordination', () => {
    const T0 = Date.UTC(2025, 0, 1);
    const lock = (
      coordination: ScalingCoordination,
      owner: string,
      nowMs = T0,
      alive?: (arn: string) => boolean,
    ) =>
      coordination.acquire({
        region: 'r1',
        owner,
        ownerArn: `arn:exec:${owner}`,
        action: 'scale-out',
        nowMs,
        ttlSeconds: 600,
        ...(alive ? { isRunning: async (arn: string) => alive(arn) } : {}),
      });

    it('one owner at a time, re-entrant for it, free once released, expired, or its execution stopped', async () => {
      const coordination = await impl.coordination();
      expect(await lock(coordination, 'a')).toMatchObject({ owner: 'a', expiresAt: T0 / 1000 + 600 });
      expect(await lock(coordination, 'a', T0 + 1000)).toMatchObject({ owner: 'a' });
      const refused = await lock(coordination, 'b').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ScalingInProgressError);
      expect(refused).toMatchObject({ region: 'r1', holder: 'a' });
      expect(await coordination.release('r1', 'b')).toBe(false);
      expect(await coordination.release('r1', 'a')).toBe(true);
      expect(await lock(coordination, 'b')).toMatchObject({ owner: 'b' });
      // b's lock, taken at T0, expires at T0 + 600 s.
      await expect(lock(coordination, 'c', T0 + 599_000)).rejects.toBeInstanceOf(ScalingInProgressError);
      expect(await lock(coordination, 'c', T0 + 601_000)).toMatchObject({ owner: 'c' });
      await expect(lock(coordination, 'd', T0 + 601_000, () => true)).rejects.toBeInstanceOf(
        ScalingInProgressError,
      );
      expect(await lock(coordination, 'd', T0 + 601_000, () => false)).toMatchObject({ owner: 'd' });
    });

    it('a cooldown holds until its end', async () => {
      const coordination = await impl.coordination();
      expect(await coordination.cooldownUntil('r1', T0)).toBeUndefined();
      await coordination.startCooldown('r1', T0 + 60_000, 'exec-1');
      expect(await coordination.cooldownUntil('r1', T0 + 59_999)).toBe(T0 + 60_000);
      expect(await coordination.cooldownUntil('r1', T0 + 60_000)).toBeUndefined();
    });
  });
});
