import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoCellRepository } from '../../../src/adapters/dynamodb/cell-repository.ts';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../../../src/adapters/dynamodb/partition-repository.ts';
import { DynamoPlanRepository } from '../../../src/adapters/dynamodb/plan-repository.ts';
import { DynamoScoreRepository } from '../../../src/adapters/dynamodb/score-repository.ts';
import {
  cellsTableDefinition,
  ensureTable,
  partitionsTableDefinition,
  plansTableDefinition,
  scoresTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import { SfnPlanExecutionStarter } from '../../../src/adapters/stepfunctions/plan-execution-starter.ts';
import type { CellRecord } from '../../../src/domain/data-plane/cell-record.ts';
import { newPartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import { hlcLowerBound } from '../../../src/domain/migration/hlc.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { PlannerRequestError } from '../../../src/planner-service/planner-errors.ts';
import {
  cyclePlanId,
  PlannerService,
  type PlannerServiceConfig,
  type SchedulePlanResult,
  scalingPlanId,
} from '../../../src/planner-service/planner-service.ts';
import { localDynamo } from '../../support/local-tables.ts';
import { flatScore } from './planner-fixtures.ts';

const NOW = Date.parse('2025-03-01T00:00:00Z');
const EXECUTE_PLAN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ExecutePlan';
const STEP = 3600;
const HORIZON = 24;

const config: PlannerServiceConfig = {
  stepSeconds: STEP,
  horizonSteps: HORIZON,
  homeRegion: 'us-east-1',
  dataRegions: ['us-east-1', 'eu-west-1'],
  maxConcurrentMovesPerCell: 2,
  maxBytesPerCycle: 1e12,
  planTtlDays: 2,
  approvalMode: 'auto',
};

const cell = (id: string, region: string, status: CellRecord['status'] = 'ACTIVE'): CellRecord => ({
  id,
  region,
  table: `t-${id}`,
  capacityOpsPerSec: 100,
  capacityBytes: 1e9,
  status,
  version: 1,
});

describe('PlannerService (dynalite tables, Step Functions mocked)', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  const sfn = new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const sfnMock = mockClient(sfn);
  let tables: {
    cells: DynamoCellRepository;
    partitions: DynamoPartitionRepository;
    scores: DynamoScoreRepository;
    plans: DynamoPlanRepository;
  };
  let recorded: { moveCount: number; trigger: string }[];

  const service = (overrides: Partial<PlannerServiceConfig> = {}) =>
    new PlannerService(
      {
        ...tables,
        executions: new SfnPlanExecutionStarter(sfn, EXECUTE_PLAN),
        now: () => NOW,
        recordPlan: (plan) => recorded.push(plan),
      },
      { ...config, ...overrides },
    );

  /** Cells, partitions (one per entry) and their scores: `ops` per region. */
  const load = async (
    cells: CellRecord[],
    parts: { id: string; cell: string; ops: Record<string, number> }[],
  ) => {
    for (const c of cells) await tables.cells.register(c);
    for (const p of parts)
      await tables.partitions.createIfAbsent(newPartitionRecord(p.id, p.cell, 4, NOW - 86_400_000));
    await tables.scores.putAll(
      parts.map((p) =>
        flatScore(p.id, p.cell, p.ops, { nowMs: NOW, steps: HORIZON, stepSeconds: STEP, sizeBytes: 1e6 }),
      ),
    );
  };

  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    documents = documentClient(client);
  });
  afterAll(async () => {
    sfnMock.restore();
    await dynamo.close();
  });
  beforeEach(async () => {
    const prefix = randomUUID().slice(0, 8);
    await ensureTable(client, cellsTableDefinition(`${prefix}-cells`));
    await ensureTable(client, partitionsTableDefinition(`${prefix}-partitions`));
    await ensureTable(client, scoresTableDefinition(`${prefix}-scores`));
    await ensureTable(client, plansTableDefinition(`${prefix}-plans`));
    tables = {
      cells: new DynamoCellRepository(documents, `${prefix}-cells`),
      partitions: new DynamoPartitionRepository(documents, `${prefix}-partitions`),
      scores: new DynamoScoreRepository(documents, `${prefix}-scores`),
      plans: new DynamoPlanRepository(documents, `${prefix}-plans`),
    };
    recorded = [];
    sfnMock.reset();
    sfnMock.on(StartExecutionCommand).resolves({
      executionArn: `${EXECUTE_PLAN.replace('stateMachine', 'execution')}:x`,
      startDate: new Date(),
    });
  });

  it('schedule: writes the plan (header, moves, TTL) and starts ExecutePlan under the cycle name', async () => {
    // p1 lives in us-east-1 but its demand comes from eu-west-1: worth moving.
    await load(
      [cell('a', 'us-east-1'), cell('b', 'eu-west-1')],
      [
        { id: 'p1', cell: 'a', ops: { 'eu-west-1': 10 } },
        { id: 'p2', cell: 'a', ops: { 'us-east-1': 10 } },
      ],
    );
    const result = await service().schedule({ trigger: 'schedule', cycleId: 'c1' });
    expect(result).toMatchObject({ planId: 'cycle-c1', moveCount: 1, reused: false, started: true });
    const header = await tables.plans.getHeader('cycle-c1');
    expect(header).toMatchObject({
      status: 'PENDING',
      trigger: 'schedule',
      cycleId: 'c1',
      approval: false,
      moveCount: 1,
    });
    expect(header?.expiresAt).toBe(Math.floor(NOW / 1000) + 2 * 86_400);
    expect(await tables.plans.allMoves('cycle-c1')).toEqual([
      expect.objectContaining({ partition: 'p1', from: 'a', to: 'b' }),
    ]);
    expect(sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        stateMachineArn: EXECUTE_PLAN,
        name: 'cycle-c1',
        input: JSON.stringify({ planId: 'cycle-c1', approval: false }),
      },
    ]);
    expect(recorded).toEqual([{ moveCount: 1, trigger: 'schedule' }]);
  });

  it('schedule is idempotent on cycleId: a redelivery plans nothing new and the start is not doubled', async () => {
    await load(
      [cell('a', 'us-east-1'), cell('b', 'eu-west-1')],
      [{ id: 'p1', cell: 'a', ops: { 'eu-west-1': 10 } }],
    );
    await service().schedule({ trigger: 'schedule', cycleId: 'c1' });
    // Meanwhile the demand moved: a re-plan would differ. The stored plan stands.
    await tables.scores.putAll([
      flatScore('p1', 'a', { 'us-east-1': 10 }, { nowMs: NOW, steps: HORIZON, stepSeconds: STEP }),
    ]);
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }));
    const again = await service().schedule({ trigger: 'schedule', cycleId: 'c1' });
    expect(again).toMatchObject({ planId: 'cycle-c1', moveCount: 1, reused: true, started: true });
    expect(await tables.plans.listHeaders()).toHaveLength(1);
    expect(sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([
      'cycle-c1',
      'cycle-c1',
    ]);
    expect(recorded).toHaveLength(1);
  });

  it('an empty plan is written but starts nothing', async () => {
    await load(
      [cell('a', 'us-east-1'), cell('b', 'eu-west-1')],
      [{ id: 'p1', cell: 'a', ops: { 'us-east-1': 10 } }],
    );
    const result: SchedulePlanResult = await service().schedule({ trigger: 'schedule', cycleId: 'quiet' });
    expect(result).toMatchObject({ planId: 'cycle-quiet', moveCount: 0, started: false });
    expect(await tables.plans.getHeader('cycle-quiet')).toMatchObject({ moveCount: 0 });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(recorded).toEqual([{ moveCount: 0, trigger: 'schedule' }]);
  });

  it('a plan with no moves but cold copies to drop is stored with its drops and started', async () => {
    await load(
      [cell('a', 'us-east-1'), cell('b', 'eu-west-1')],
      [{ id: 'p1', cell: 'a', ops: { 'us-east-1': 10 } }],
    );
    // A copy retained in b three days ago: past the one-day age limit, so the plan garbage-collects it.
    await tables.partitions.update('p1', (r) => ({
      ...r,
      replicas: { b: { state: 'cold', watermark: hlcLowerBound(NOW - 3 * 86_400_000), updatedAtMs: NOW } },
    }));
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${EXECUTE_PLAN}:cycle-gc`, startDate: new Date() });
    const result = await service().schedule({ trigger: 'schedule', cycleId: 'gc' });
    expect(result).toMatchObject({ planId: 'cycle-gc', moveCount: 0, started: true });
    expect((await tables.plans.getHeader('cycle-gc'))?.coldCopyDrops).toEqual([
      { partition: 'p1', cell: 'b', bytes: 1e6, reason: 'age' },
    ]);
    expect(sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([
      'cycle-gc',
    ]);
  });

  it('resumes a drop an earlier plan left unfinished, once its fence is stale, and holds the partition meanwhile', async () => {
    await load(
      [cell('a', 'us-east-1'), cell('b', 'eu-west-1')],
      [
        { id: 'stuck', cell: 'a', ops: { 'eu-west-1': 50 } },
        { id: 'fresh', cell: 'a', ops: { 'eu-west-1': 50 } },
      ],
    );
    // Both hold a drop's fence on their copy in b; 'stuck' was last touched 11 minutes ago, 'fresh' 1 minute ago.
    for (const [id, ageMs] of [
      ['stuck', 11 * 60_000],
      ['fresh', 60_000],
    ] as const) {
      await tables.partitions.update(id, (r) => ({
        ...r,
        status: 'MIGRATING',
        fence: {
          owner: `gc:plan-old:b`,
          sourceCell: 'a',
          targetCell: 'b',
          acquiredAtMs: NOW - 3_600_000,
          stage: 'acquire',
        },
        updatedAtMs: NOW - ageMs,
      }));
    }
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${EXECUTE_PLAN}:cycle-r`, startDate: new Date() });
    const result = await service().schedule({ trigger: 'schedule', cycleId: 'r' });
    expect(result).toMatchObject({ planId: 'cycle-r', started: true });
    const header = await tables.plans.getHeader('cycle-r');
    expect(header?.coldCopyDrops).toEqual([
      { partition: 'stuck', cell: 'b', bytes: 0, reason: 'resume', owner: 'gc:plan-old:b' },
    ]);
    // Both want to be in eu-west-1, but no migration can start on a fenced partition: neither is planned.
    expect((await tables.plans.allMoves('cycle-r')).map((m) => m.partition)).toEqual([]);
  });

  it('judges the cooldown since a move on the control clock when the data plane stamps the wall clock', async () => {
    await load(
      [cell('a', 'us-east-1'), cell('b', 'eu-west-1')],
      [{ id: 'p', cell: 'a', ops: { 'eu-west-1': 50 } }],
    );
    // The data plane committed p's last move at a wall instant a year after the planner's (trace) now: `prestage
    // up` replays 2015 on a trace clock while the data plane's stamps are real time. On the trace clock that
    // commit was two days ago.
    const wallCommit = NOW + 365 * 86_400_000;
    await tables.partitions.update('p', (r) => ({
      ...r,
      lastMigration: {
        id: 'm-old',
        outcome: 'COMMITTED',
        fromCell: 'b',
        toCell: 'a',
        stage: 'commit',
        atMs: wallCommit,
      },
      updatedAtMs: wallCommit,
    }));
    const plannedOn = async (cycleId: string, fromDataPlaneMs?: (wallMs: number) => number) => {
      const planner = new PlannerService(
        {
          ...tables,
          executions: new SfnPlanExecutionStarter(sfn, EXECUTE_PLAN),
          now: () => NOW,
          ...(fromDataPlaneMs ? { fromDataPlaneMs } : {}),
        },
        config,
      );
      await planner.schedule({ trigger: 'schedule', cycleId });
      return (await tables.plans.allMoves(cyclePlanId(cycleId))).map(
        (m) => `${m.partition}:${m.from}->${m.to}`,
      );
    };
    expect(await plannedOn('mapped', (wallMs) => wallMs - wallCommit + NOW - 2 * 86_400_000)).toEqual([
      'p:a->b',
    ]);
    // Negative control: the wall stamp read as a trace time lies in the future, and the partition never cools down.
    expect(await plannedOn('unmapped')).toEqual([]);
  });

  it('in approval mode the plan and ExecutePlan both wait for approval', async () => {
    await load(
      [cell('a', 'us-east-1'), cell('b', 'eu-west-1')],
      [{ id: 'p1', cell: 'a', ops: { 'eu-west-1': 10 } }],
    );
    await service({ approvalMode: 'approval' }).schedule({ trigger: 'schedule', cycleId: 'c9' });
    expect(await tables.plans.getHeader('cycle-c9')).toMatchObject({ approval: true });
    expect(JSON.parse(String(sfnMock.commandCalls(StartExecutionCommand)[0].args[0].input.input))).toEqual({
      planId: 'cycle-c9',
      approval: true,
    });
  });

  it('skips partitions whose move is in flight in a RUNNING plan', async () => {
    await load(
      [cell('a', 'us-east-1'), cell('b', 'eu-west-1')],
      [
        { id: 'p1', cell: 'a', ops: { 'eu-west-1': 10 } },
        { id: 'p2', cell: 'a', ops: { 'eu-west-1': 10 } },
      ],
    );
    await service().schedule({ trigger: 'schedule', cycleId: 'first' });
    expect((await tables.plans.allMoves('cycle-first')).map((m) => m.partition).sort()).toEqual(['p1', 'p2']);
    await tables.plans.setPlanStatus('cycle-first', 'RUNNING');
    const [running, done] = await tables.plans.allMoves('cycle-first');
    await tables.plans.setMoveStatus('cycle-first', running, 'RUNNING');
    await tables.plans.setMoveStatus('cycle-first', done, 'RUNNING');
    await tables.plans.setMoveStatus('cycle-first', done, 'SUCCEEDED');
    await service().schedule({ trigger: 'schedule', cycleId: 'second' });
    // The RUNNING move is in flight and left alone; the finished one's partition has not moved in this test's
    // tables, so it is planned again.
    expect((await tables.plans.allMoves('cycle-second')).map((m) => m.partition)).toEqual([done.partition]);
  });

  it('schedule keeps planning when a DRAINING cell cannot be emptied: its partitions stay put this cycle', async () => {
    const warnings: string[] = [];
    // x serves 210 ops/s; y and b have 150 free below the 80% headroom: the drain cannot be planned.
    await load(
      [cell('x', 'us-east-1', 'DRAINING'), cell('y', 'us-east-1'), cell('b', 'eu-west-1')],
      [
        ...[0, 1, 2].map((i) => ({ id: `x${i}`, cell: 'x', ops: { 'us-east-1': 70 } })),
        { id: 'far', cell: 'y', ops: { 'eu-west-1': 10 } },
      ],
    );
    const planner = new PlannerService(
      {
        ...tables,
        executions: new SfnPlanExecutionStarter(sfn, EXECUTE_PLAN),
        now: () => NOW,
        warn: (message) => warnings.push(message),
      },
      config,
    );
    const drain = planner.scaling({ trigger: 'scaling', action: 'scale-in', cellIds: ['x'], round: 1 });
    await expect(drain).rejects.toMatchObject({ name: 'InfeasiblePlacementError' });
    const result = await planner.schedule({ trigger: 'schedule', cycleId: 'stuck' });
    expect(warnings).toEqual(['drain infeasible this cycle: partitions of draining cells stay put']);
    expect((await tables.plans.allMoves(result.planId)).map((m) => [m.partition, m.from, m.to])).toEqual([
      ['far', 'y', 'b'],
    ]);
  });

  it('scaling scale-out: fills the PROVISIONING cell from the loaded ones, returns the plan id, starts nothing', async () => {
    const hot = [1, 2].flatMap((c) =>
      [0, 1, 2, 3].map((i) => ({ id: `h${c}${i}`, cell: `a${c}`, ops: { 'us-east-1': 25 } })),
    );
    await load(
      [
        cell('a1', 'us-east-1'),
        cell('a2', 'us-east-1'),
        cell('n', 'us-east-1', 'ACTIVE'),
        cell('b', 'eu-west-1'),
      ],
      hot,
    );
    const event = {
      trigger: 'scaling' as const,
      action: 'scale-out' as const,
      region: 'us-east-1',
      cellIds: ['n'],
      requestId: 'exec-7',
      round: 1,
    };
    const result = await service().scaling(event);
    expect(result.planId).toBe(scalingPlanId('scale-out', 'exec-7', 1));
    expect(result.planId).toBe('scale-out-exec-7-r1');
    expect(result.moveCount).toBeGreaterThanOrEqual(2);
    const moves = await tables.plans.allMoves(result.planId);
    expect(moves.every((m) => m.to === 'n' && ['a1', 'a2'].includes(m.from))).toBe(true);
    expect(await tables.plans.getHeader(result.planId)).toMatchObject({
      trigger: 'scaling',
      approval: false,
      status: 'PENDING',
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    // A retried invocation of the same round answers with the stored plan.
    expect(await service().scaling(event)).toEqual(result);
    expect(await tables.plans.listHeaders()).toHaveLength(1);
  });

  it('scaling scale-in: drains every partition of the cell in one plan, past the per-cell move limit', async () => {
    const parts = [0, 1, 2, 3, 4].map((i) => ({ id: `d${i}`, cell: 'x', ops: { 'us-east-1': 5 + i } }));
    await load([cell('x', 'us-east-1'), cell('y', 'us-east-1'), cell('z', 'us-east-1')], parts);
    const result = await service().scaling({
      trigger: 'scaling',
      action: 'scale-in',
      region: 'us-east-1',
      cellIds: ['x'],
      requestId: 'drain',
      round: 2,
    });
    expect(result.planId).toBe('scale-in-drain-r2');
    const moves = await tables.plans.allMoves(result.planId);
    expect(moves.map((m) => m.partition).sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    expect(moves.every((m) => m.from === 'x' && m.to !== 'x')).toBe(true);
    // By predicted demand: the busiest partition leaves first.
    expect(moves[0].partition).toBe('d4');
  });

  it('scaling scale-in: the drain plan carries the drain and only the usual budget of other moves', async () => {
    const parts = [
      ...[0, 1, 2].map((i) => ({ id: `d${i}`, cell: 'x', ops: { 'us-east-1': 5 + i } })),
      // Served from the US but read in Europe: worth moving on its own, held back by the bytes budget.
      { id: 'eu-reader', cell: 'y', ops: { 'eu-west-1': 30 } },
    ];
    await load([cell('x', 'us-east-1'), cell('y', 'us-east-1'), cell('e', 'eu-west-1')], parts);
    const drain = (maxBytesPerCycle: number, requestId: string) =>
      service({ maxBytesPerCycle }).scaling({
        trigger: 'scaling',
        action: 'scale-in',
        region: 'us-east-1',
        cellIds: ['x'],
        requestId,
        round: 1,
      });
    const tight = await tables.plans.allMoves((await drain(0, 'tight')).planId);
    expect(tight.map((m) => m.partition).sort()).toEqual(['d0', 'd1', 'd2']);
    // With room in the budget the unrelated move joins, so the bound above is what kept it out.
    const roomy = await tables.plans.allMoves((await drain(1e12, 'roomy')).planId);
    expect(roomy.map((m) => m.partition).sort()).toEqual(['d0', 'd1', 'd2', 'eu-reader']);
  });

  it('refuses cells that are unknown or in another region', async () => {
    await load(
      [cell('a', 'us-east-1'), cell('b', 'eu-west-1')],
      [{ id: 'p1', cell: 'a', ops: { 'us-east-1': 1 } }],
    );
    await expect(
      service().scaling({ trigger: 'scaling', action: 'scale-in', cellIds: ['nope'], round: 1 }),
    ).rejects.toThrow(PlannerRequestError);
    await expect(
      service().scaling({
        trigger: 'scaling',
        action: 'scale-in',
        region: 'us-east-1',
        cellIds: ['b'],
        round: 1,
      }),
    ).rejects.toThrow(/cell 'b' is in region 'eu-west-1', not 'us-east-1'/);
  });

  it('plan ids fit Step Functions execution names whatever the cycle or request id', () => {
    for (const id of ['c1', 'a'.repeat(200), 'with spaces/and:colons', '2025-03-01T00:00:00Z#7']) {
      for (const planId of [cyclePlanId(id), scalingPlanId('scale-out', id, 3)]) {
        expect(planId).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
      }
    }
    expect(cyclePlanId('x y')).not.toBe(cyclePlanId('x-y'));
  });
});
