import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { documentClient } from '../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoMigrationSlots } from '../../src/adapters/dynamodb/migration-slots.ts';
import { DynamoPlanRepository } from '../../src/adapters/dynamodb/plan-repository.ts';
import {
  coordinationTableDefinition,
  ensureTable,
  plansTableDefinition,
} from '../../src/adapters/dynamodb/table-definitions.ts';
import type { RoutingClient } from '../../src/data-plane/routing-client.ts';
import { shardOf } from '../../src/domain/data-plane/key-hash.ts';
import { newPartitionRecord } from '../../src/domain/data-plane/partition-record.ts';
import type { MovementPlan, PlannedMove, PlannerInput } from '../../src/domain/planning/movement-plan.ts';
import { planMoves as planMovesByDefault } from '../../src/domain/planning/placement-planner.ts';
import type { PlannerOptions } from '../../src/domain/planning/planner-options.ts';
import { approvePlan } from '../../src/execute-plan/plan-approval.ts';
import { cellIdFor, type EmbeddedCluster } from '../../src/local/embedded-cluster.ts';
import {
  type ExecutePlanLocalDeps,
  type ExecutePlanLocalResult,
  localExecutePlanDeps,
  RecordingMetrics,
  RecordingNotifier,
  type RunExecutePlanLocallyOptions,
  runExecutePlanLocally,
} from '../../src/local/execute-plan-runner.ts';
import { FaultInjector } from '../../src/local/fault-injector.ts';
import { LocalTaskTokens } from '../../src/local/local-step-functions.ts';
import { coldCopiesOf } from '../../src/planner-service/planner-input.ts';
import { METRIC } from '../../src/support/metrics.ts';
import { migrationRunner } from '../support/migration-harness.ts';
import { clientOn, putRetried, startTestCluster } from '../support/test-cluster.ts';

/** Retained copies are off by default (issue 12: on until they pass the scenario suite); these tests turn them on. */
function planMoves(input: PlannerInput, options: PlannerOptions = {}): MovementPlan {
  return planMovesByDefault(input, { retainColdCopies: true, ...options });
}

/**
 * The proof for ExecutePlan: the state machine synthesized from its CDK construct runs under
 * aws-local-stepfunctions, every Lambda Task bound to the real step handler against dynalite, and every
 * `startExecution.sync:2` running the real MigratePartition locally (its own synthesized definition and
 * handlers) on an embedded cluster with real data.
 */

const REGION = 'us-east-1';
const [A, B, C] = [1, 2, 3].map((i) => cellIdFor(REGION, i));
const KEYS = 12;

describe('ExecutePlan, run locally from its synthesized definition', () => {
  let cluster: EmbeddedCluster;
  let client: RoutingClient;
  let slots: DynamoMigrationSlots;
  let plans: DynamoPlanRepository;
  const summary: string[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster([REGION], 3);
    const home = cluster.clientFor(REGION);
    await ensureTable(home, plansTableDefinition('prestage-plans'));
    await ensureTable(home, coordinationTableDefinition('prestage-coordination'));
    client = clientOn(cluster);
    // The same tables the steps use, through the adapters' operator calls (writeLimits, holders).
    const documents = documentClient(home);
    slots = new DynamoMigrationSlots(documents, 'prestage-coordination', { maxConcurrentMovesPerCell: 2 });
    plans = new DynamoPlanRepository(documents, 'prestage-plans');
  }, 60_000);

  afterAll(async () => {
    if (summary.length > 0) process.stdout.write(`\nExecutePlan local runs\n${summary.join('\n')}\n\n`);
    await cluster?.close();
  });

  function newDeps(
    options: { metrics?: RecordingMetrics; notifier?: RecordingNotifier } = {},
  ): ExecutePlanLocalDeps {
    return localExecutePlanDeps({
      documents: documentClient(cluster.clientFor(REGION)),
      plansTable: 'prestage-plans',
      coordinationTable: 'prestage-coordination',
      migrations: migrationRunner(cluster).runner,
      maxConcurrentMovesPerCell: 2,
      settings: { canarySteps: [0.5, 1] },
      ...options,
    });
  }

  /** Partitions with data in their source cells, and a stored plan moving them. */
  async function storedPlan(
    planId: string,
    moves: readonly { from: string; to: string }[],
    approval = false,
  ): Promise<{ partitions: string[] }> {
    const partitions: string[] = [];
    const planned: PlannedMove[] = [];
    for (const [i, move] of moves.entries()) {
      const partition = `${planId}-p${i}`;
      partitions.push(partition);
      await cluster.partitions.createIfAbsent(newPartitionRecord(partition, move.from, 4, Date.now()));
      for (let k = 0; k < KEYS; k++) await putRetried(client, partition, `k${k}`, { partition, k });
      planned.push({
        partition,
        from: move.from,
        to: move.to,
        bytes: 1000 * (i + 1),
        priority: i + 1,
        startByMs: Date.now() + 60_000,
        deadlineMs: Date.now() + 120_000,
        expectedDurationMs: 1000,
        benefit: 1,
        reasons: { locality: 1 },
      });
    }
    const plan: MovementPlan = {
      createdAtMs: Date.now(),
      moves: planned,
      costBefore: 10,
      costAfter: 8,
      deferred: {},
      capacityForecast: [],
    };
    await plans.create(plan, { planId, trigger: 'manual', approval });
    return { partitions };
  }

  async function expectServedFrom(partition: string, cell: string) {
    const record = await cluster.partitions.get(partition);
    expect({ partition, cell: record?.cell, phase: record?.routing.phase, fence: record?.fence }).toEqual({
      partition,
      cell,
      phase: 'stable',
      fence: undefined,
    });
    const fresh = clientOn(cluster);
    for (let k = 0; k < KEYS; k++) {
      const read = await fresh.get(partition, `k${k}`);
      expect(JSON.parse(String(read.json))).toEqual({ partition, k });
      // The data is in the cell routing points at, not only reachable through it.
      const key = `k${k}`;
      const item = await cluster.stores
        .forCell(cell)
        .getItem({ partition, shard: shardOf(key, record!.shards), key });
      expect(item?.deleted).toBe(false);
    }
  }

  function run(options: Omit<RunExecutePlanLocallyOptions, 'deps'> & { deps?: ExecutePlanLocalDeps }) {
    return runExecutePlanLocally({ deps: options.deps ?? newDeps(), ...options });
  }

  function report(label: string, result: ExecutePlanLocalResult, ms: number) {
    const cells = Object.entries(result.maxConcurrentPerCell)
      .map(([cell, n]) => `${cell}=${n}`)
      .join(' ');
    summary.push(
      `  ${label.padEnd(34)} ${result.status.padEnd(9)} ${String(result.children.length).padStart(2)} children, ` +
        `max in flight ${result.maxConcurrent}, per cell ${cells || '-'}, ${(ms / 1000).toFixed(1)} s`,
    );
  }

  it('(a) runs 6 moves across 3 cells in pages, never more than 2 migrations per cell, and moves the data', async () => {
    await slots.writeLimits({ maxConcurrentMovesPerCell: 2 });
    const moves = [
      { from: A, to: B },
      { from: A, to: C },
      { from: B, to: C },
      { from: B, to: A },
      { from: C, to: A },
      { from: C, to: B },
    ];
    const { partitions } = await storedPlan('plan-a', moves);
    const metrics = new RecordingMetrics();
    const t0 = Date.now();
    const result = await run({
      deps: newDeps({ metrics }),
      planId: 'plan-a',
      aslOptions: { maxConcurrency: 6, pageSize: 4 },
    });
    report('(a) 6 moves, 3 cells, limit 2/cell', result, Date.now() - t0);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      planId: 'plan-a',
      status: 'SUCCEEDED',
      outcomes: { succeeded: 6, rolledBack: 0, failed: 0, skipped: 0 },
      moveCount: 6,
    });
    expect(result.children.map((c) => c.status)).toEqual(Array(6).fill('SUCCEEDED'));
    // The per-cell limit held at every instant, and it was the limit that bounded the run (not the Map).
    for (const [cell, n] of Object.entries(result.maxConcurrentPerCell))
      expect({ cell, n: n <= 2 }).toEqual({ cell, n: true });
    expect(Math.max(...Object.values(result.maxConcurrentPerCell))).toBe(2);
    expect(result.maxConcurrent).toBeGreaterThan(1);
    // Child execution names are the deterministic ones from the plan.
    expect(result.children.map((c) => c.name).sort()).toEqual(partitions.map((p) => `plan-a-${p}`).sort());
    for (const [i, partition] of partitions.entries()) await expectServedFrom(partition, moves[i].to);
    const header = await plans.getHeader('plan-a');
    expect(header).toMatchObject({ status: 'SUCCEEDED', outcomes: { succeeded: 6 } });
    const stored = await plans.allMoves('plan-a');
    expect(stored.map((m) => m.status)).toEqual(Array(6).fill('SUCCEEDED'));
    expect(
      stored.every((m) => m.executionArn?.endsWith(`:execution:MigratePartition:plan-a-${m.partition}`)),
    ).toBe(true);
    expect(metrics.totals[METRIC.migrationsStarted]).toBe(6);
    expect(metrics.totals[METRIC.migrationsSucceeded]).toBe(6);
    expect(metrics.totals[METRIC.bytesMoved]).toBe(21_000);
    expect(metrics.last[METRIC.migrationsInFlight]).toBe(0);
    expect((await slots.holders()).holders).toEqual({});
  });

  it('(b) rolls back the one child migration that fails, finishes the others, and ends PARTIAL', async () => {
    await slots.writeLimits({ maxConcurrentMovesPerCell: 2 });
    const moves = [
      { from: A, to: B },
      { from: B, to: C },
      { from: C, to: A },
      { from: A, to: C },
    ];
    const { partitions } = await storedPlan('plan-b', moves);
    const failing = partitions[1];
    const faults = new FaultInjector();
    faults.arm({ step: 'verify', mode: 'error', times: 1 });
    const faulty = migrationRunner(cluster, { faults }).runner;
    const metrics = new RecordingMetrics();
    const t0 = Date.now();
    const result = await run({
      deps: newDeps({ metrics }),
      planId: 'plan-b',
      migrationsFor: (input) => (input.partition === failing ? faulty : undefined) as never,
    });
    report('(b) one child fails at verify', result, Date.now() - t0);
    expect(faults.injected).toBe(1);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      status: 'PARTIAL',
      outcomes: { succeeded: 3, rolledBack: 1, failed: 0, skipped: 0 },
    });
    const stored = await plans.allMoves('plan-b');
    const byPartition = Object.fromEntries(stored.map((m) => [m.partition, m]));
    expect(byPartition[failing]).toMatchObject({
      status: 'ROLLED_BACK',
      error: expect.stringMatching(/^MigrationRolledBackError/),
    });
    expect(byPartition[failing].error).toContain('InjectedFaultError');
    // The failed partition is still served from its source; the others moved.
    for (const [i, partition] of partitions.entries())
      await expectServedFrom(partition, partition === failing ? moves[i].from : moves[i].to);
    expect(await plans.getHeader('plan-b')).toMatchObject({ status: 'PARTIAL' });
    expect(metrics.totals[METRIC.migrationsRolledBack]).toBe(1);
    expect(metrics.totals[METRIC.migrationsSucceeded]).toBe(3);
    expect((await slots.holders()).holders).toEqual({});
  });

  it('(c) waits for approval by task token, and `prestage approve` logic resumes it', async () => {
    const { partitions } = await storedPlan(
      'plan-c',
      [
        { from: A, to: B },
        { from: B, to: A },
      ],
      true,
    );
    const tokens = new LocalTaskTokens();
    const notifier = new RecordingNotifier();
    let started = 0;
    const t0 = Date.now();
    const running = run({
      deps: newDeps({ notifier }),
      planId: 'plan-c',
      taskTokens: tokens,
      onChildStart: () => {
        started++;
      },
    });
    const waiting = await until(async () => {
      const header = await plans.getHeader('plan-c');
      return header?.status === 'PENDING_APPROVAL' ? header : undefined;
    });
    expect(waiting.taskToken).toBeTruthy();
    // Nothing moves while the plan waits.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(started).toBe(0);
    expect(notifier.messages).toHaveLength(1);
    expect(notifier.messages[0].message).toContain('npx prestage approve plan-c');
    const decision = await approvePlan({ plans, sender: tokens, planId: 'plan-c' });
    expect(decision.decision).toBe('approved');
    const result = await running;
    report('(c) approved by task token', result, Date.now() - t0);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ status: 'SUCCEEDED', outcomes: { succeeded: 2 } });
    expect(started).toBe(2);
    await expectServedFrom(partitions[0], B);
    const header = await plans.getHeader('plan-c');
    expect(header?.status).toBe('SUCCEEDED');
    expect(header?.taskToken).toBeUndefined();
    // A second answer finds nothing to approve.
    await expect(approvePlan({ plans, sender: tokens, planId: 'plan-c' })).rejects.toThrow(
      "plan 'plan-c' is SUCCEEDED; only a plan waiting for approval (PENDING_APPROVAL) can be approved or rejected",
    );
  });

  it('(c) a rejection ends the plan REJECTED with no move started', async () => {
    const { partitions } = await storedPlan('plan-r', [{ from: A, to: C }], true);
    const tokens = new LocalTaskTokens();
    let started = 0;
    const t0 = Date.now();
    const running = run({ planId: 'plan-r', taskTokens: tokens, onChildStart: () => void started++ });
    await until(async () =>
      (await plans.getHeader('plan-r'))?.status === 'PENDING_APPROVAL' ? true : undefined,
    );
    await approvePlan({
      plans,
      sender: tokens,
      planId: 'plan-r',
      reject: true,
      reason: 'not during the sale',
    });
    const result = await running;
    report('(c) rejected', result, Date.now() - t0);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PlanRejectedError');
    expect(result.error?.cause).toContain('not during the sale');
    expect(started).toBe(0);
    const header = await plans.getHeader('plan-r');
    expect(header).toMatchObject({
      status: 'REJECTED',
      statusReason: expect.stringContaining('not during the sale'),
    });
    expect((await plans.allMoves('plan-r')).map((m) => m.status)).toEqual(['PENDING']);
    await expectServedFrom(partitions[0], A);
  });

  it('(c) a plan nobody approves in time EXPIRES', async () => {
    await storedPlan('plan-x', [{ from: B, to: C }], true);
    const tokens = new LocalTaskTokens();
    const result = await run({
      planId: 'plan-x',
      taskTokens: tokens,
      aslOptions: { approvalTimeoutSeconds: 1 },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PlanExpiredError');
    const header = await plans.getHeader('plan-x');
    expect(header?.status).toBe('EXPIRED');
    expect(header?.taskToken).toBeUndefined();
    await expect(approvePlan({ plans, sender: tokens, planId: 'plan-x' })).rejects.toThrow(/is EXPIRED/);
  });

  it('(d) a change of limits#migration while the plan runs applies to the moves still waiting', async () => {
    await slots.writeLimits({ maxConcurrentMovesPerCell: 1 });
    // Every move touches cell A, so A's limit alone decides how many run at once.
    const moves = [
      { from: A, to: B },
      { from: A, to: C },
      { from: B, to: A },
      { from: C, to: A },
      { from: A, to: B },
      { from: A, to: C },
    ];
    await storedPlan('plan-d', moves);
    const runningAtStart: { onA: number; afterChange: boolean }[] = [];
    let changed = false;
    const t0 = Date.now();
    const result = await run({
      planId: 'plan-d',
      aslOptions: { maxConcurrency: 6, pageSize: 10 },
      onChildStart: async (_child, running) => {
        runningAtStart.push({
          onA: running.filter((c) => c.from === A || c.to === A).length,
          afterChange: changed,
        });
        if (runningAtStart.length === 2 && !changed) {
          await slots.writeLimits({ maxConcurrentMovesPerCell: 3 });
          changed = true;
        }
      },
    });
    report('(d) limit 1 -> 3 while running', result, Date.now() - t0);
    expect(result.output).toMatchObject({ status: 'SUCCEEDED', outcomes: { succeeded: 6 } });
    const before = runningAtStart.filter((s) => !s.afterChange).map((s) => s.onA);
    const after = runningAtStart.filter((s) => s.afterChange).map((s) => s.onA);
    expect(before).toEqual([1, 1]);
    expect(Math.max(...after)).toBeGreaterThan(1);
    expect(Math.max(...after)).toBeLessThanOrEqual(3);
    expect(result.maxConcurrentPerCell[A]).toBeLessThanOrEqual(3);
  });

  /** Nine moves around the three cells, for the chained runs. */
  const NINE_MOVES = Array.from({ length: 9 }, (_, i) => ({ from: [A, B, C][i % 3], to: [B, C, A][i % 3] }));

  /** Plan status writes of a run, in order (StartRun, FinishPlan, AbortPlan...). */
  function recordStatusWrites(deps: ExecutePlanLocalDeps): string[] {
    const writes: string[] = [];
    const original = deps.steps.plans.setPlanStatus.bind(deps.steps.plans);
    vi.spyOn(deps.steps.plans, 'setPlanStatus').mockImplementation(async (planId, to, change) => {
      writes.push(to);
      return original(planId, to, change);
    });
    return writes;
  }

  it('(e) a long plan continues in child executions of itself: 9 moves, pages of 2, 2 pages per execution', async () => {
    await slots.writeLimits({ maxConcurrentMovesPerCell: 2 });
    const { partitions } = await storedPlan('plan-k', NINE_MOVES);
    const deps = newDeps();
    const writes = recordStatusWrites(deps);
    const t0 = Date.now();
    const result = await run({
      deps,
      planId: 'plan-k',
      executionName: 'plan-k',
      aslOptions: { pageSize: 2, pagesPerExecution: 2 },
    });
    report('(e) 9 moves, chain of executions', result, Date.now() - t0);
    expect(result.error).toBeUndefined();
    const final = {
      planId: 'plan-k',
      status: 'SUCCEEDED',
      outcomes: { succeeded: 9, rolledBack: 0, failed: 0, skipped: 0 },
      moveCount: 9,
    };
    expect(result.output).toEqual(final);
    // A chain of three executions with deterministic names, each started after its parent's last cursor.
    const cursor = async (moves: number) => (await plans.pageMoves('plan-k', { limit: moves })).next;
    expect(result.executions.map((e) => ({ name: e.name, status: e.status, input: e.input }))).toEqual([
      { name: 'plan-k', status: 'SUCCEEDED', input: { planId: 'plan-k' } },
      {
        name: 'plan-k-cont-1',
        status: 'SUCCEEDED',
        input: {
          planId: 'plan-k',
          approval: false,
          resumeAfter: await cursor(4),
          continuation: 1,
          AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: result.executionArn,
        },
      },
      {
        name: 'plan-k-cont-2',
        status: 'SUCCEEDED',
        input: expect.objectContaining({ resumeAfter: await cursor(8), continuation: 2 }),
      },
    ]);
    // Every execution ends with the final plan result (each parent ends with its child's output).
    for (const execution of result.executions) expect(execution.output).toEqual(final);
    // Each move ran exactly once, in the execution that owns its page: 4, 4 and 1.
    const childName = (i: number) => `plan-k-${partitions[i]}`;
    expect(result.children.map((c) => c.name).sort()).toEqual(partitions.map((_, i) => childName(i)).sort());
    expect(result.executions.map((e) => [...e.migrations].sort())).toEqual([
      [0, 1, 2, 3].map(childName).sort(),
      [4, 5, 6, 7].map(childName).sort(),
      [childName(8)],
    ]);
    expect(result.maxConcurrentPerCell[A]).toBeLessThanOrEqual(2);
    // Outcomes recorded; the plan went RUNNING once (the continuations skip StartRun) and ended once.
    const stored = await plans.allMoves('plan-k');
    expect(stored.map((m) => m.status)).toEqual(Array(9).fill('SUCCEEDED'));
    expect(
      stored.every((m) => m.executionArn?.endsWith(`:execution:MigratePartition:plan-k-${m.partition}`)),
    ).toBe(true);
    expect(writes).toEqual(['RUNNING', 'SUCCEEDED']);
    expect(await plans.getHeader('plan-k')).toMatchObject({ status: 'SUCCEEDED', outcomes: final.outcomes });
    for (const [i, partition] of partitions.entries()) await expectServedFrom(partition, NINE_MOVES[i].to);
    expect((await slots.holders()).holders).toEqual({});
  });

  it('(e) a move that fails in the second execution of the chain still ends the plan PARTIAL, once', async () => {
    await slots.writeLimits({ maxConcurrentMovesPerCell: 2 });
    const { partitions } = await storedPlan('plan-kf', NINE_MOVES);
    const failing = partitions[5];
    const faults = new FaultInjector();
    faults.arm({ step: 'verify', mode: 'error', times: 1 });
    const faulty = migrationRunner(cluster, { faults }).runner;
    const deps = newDeps();
    const writes = recordStatusWrites(deps);
    const t0 = Date.now();
    const result = await run({
      deps,
      planId: 'plan-kf',
      aslOptions: { pageSize: 2, pagesPerExecution: 2 },
      migrationsFor: (input) => (input.partition === failing ? faulty : undefined) as never,
    });
    report('(e) chain, a move of run 2 fails', result, Date.now() - t0);
    expect(faults.injected).toBe(1);
    expect(result.executions).toHaveLength(3);
    expect(result.executions[1].migrations).toContain(`plan-kf-${failing}`);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      status: 'PARTIAL',
      outcomes: { succeeded: 8, rolledBack: 1, failed: 0, skipped: 0 },
    });
    expect(writes).toEqual(['RUNNING', 'PARTIAL']);
    const byPartition = Object.fromEntries((await plans.allMoves('plan-kf')).map((m) => [m.partition, m]));
    expect(byPartition[failing]).toMatchObject({ status: 'ROLLED_BACK' });
    await expectServedFrom(failing, NINE_MOVES[5].from);
    expect(await plans.getHeader('plan-kf')).toMatchObject({ status: 'PARTIAL' });
  });

  it('(e) when the last execution of a chain fails the plan, every execution fails with its error', async () => {
    await slots.writeLimits({ maxConcurrentMovesPerCell: 2 });
    await storedPlan('plan-kx', [
      { from: A, to: B },
      { from: B, to: C },
      { from: C, to: A },
    ]);
    const faults = new FaultInjector();
    faults.arm({ step: 'verify', mode: 'error', times: 3 });
    const faulty = migrationRunner(cluster, { faults }).runner;
    const deps = newDeps();
    const writes = recordStatusWrites(deps);
    const result = await run({
      deps,
      planId: 'plan-kx',
      aslOptions: { pageSize: 1, pagesPerExecution: 1 },
      migrationsFor: () => faulty,
    });
    expect(faults.injected).toBe(3);
    expect(result.executions.map((e) => [e.name.replace(/^plan-kx-[0-9a-f]{8}$/, 'top'), e.status])).toEqual([
      ['top', 'FAILED'],
      ['plan-kx-cont-1', 'FAILED'],
      ['plan-kx-cont-2', 'FAILED'],
    ]);
    for (const execution of result.executions) expect(execution.error?.name).toBe('PlanFailedError');
    // The last execution finished the plan; the parents kept its status and reason.
    expect(writes).toEqual(['RUNNING', 'FAILED']);
    expect(await plans.getHeader('plan-kx')).toMatchObject({
      status: 'FAILED',
      statusReason: '0 succeeded, 3 rolled back, 0 failed, 0 skipped',
    });
  });

  it('fails bad input with InvalidInputError before touching anything', async () => {
    const missing = await run({ planId: 'plan-none' });
    expect(missing.status).toBe('FAILED');
    expect(missing.error).toEqual({
      name: 'InvalidInputError',
      cause: expect.stringContaining("plan 'plan-none' does not exist"),
    });
    const malformed = await run({ planId: 'x', input: { planId: 'has spaces', extra: 1 } });
    expect(malformed.error?.name).toBe('InvalidInputError');
    expect(malformed.error?.cause).toMatch(/event field 'planId'/);
    // A continuation only continues a RUNNING plan, and only a continuation resumes after a cursor.
    await storedPlan('plan-n', [{ from: A, to: B }]);
    const early = await run({
      planId: 'plan-n',
      input: { planId: 'plan-n', approval: false, continuation: 1 },
    });
    expect(early.error).toEqual({
      name: 'InvalidInputError',
      cause: expect.stringContaining("field 'continuation': plan 'plan-n' is PENDING"),
    });
    const stray = await run({ planId: 'plan-n', input: { planId: 'plan-n', resumeAfter: 'move#000001#x' } });
    expect(stray.error?.cause).toMatch(/event field 'resumeAfter': resumeAfter is only for a continuation/);
    expect((await plans.getHeader('plan-n'))?.status).toBe('PENDING');
    // A finished plan does not run again.
    const again = await run({ planId: 'plan-a' });
    expect(again.error).toEqual({
      name: 'InvalidInputError',
      cause: expect.stringContaining('is SUCCEEDED'),
    });
  });
});

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ExecutePlan drives retained copies: a planned move keeps its source, the planned move back ships the delta', () => {
  const [US, EU] = [cellIdFor('us-east-1', 1), cellIdFor('eu-west-1', 1)];
  const ITEMS = 120;
  const CHANGED = 4;
  let cluster: EmbeddedCluster;
  let plans: DynamoPlanRepository;

  beforeAll(async () => {
    cluster = await startTestCluster(['us-east-1', 'eu-west-1'], 1);
    const home = cluster.clientFor('us-east-1');
    await ensureTable(home, plansTableDefinition('prestage-plans'));
    await ensureTable(home, coordinationTableDefinition('prestage-coordination'));
    plans = new DynamoPlanRepository(documentClient(home), 'prestage-plans');
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  /** The planner's input for one 10 GiB, read-mostly partition with this demand (ops/s per region, 12 steps). */
  function plannerInputFor(cell: string, demand: Record<string, number>, extra = {}): PlannerInput {
    const GiB = 2 ** 30;
    return {
      nowMs: Date.now(),
      stepSeconds: 300,
      topology: {
        regions: { 'us-east-1': { utcOffsetHours: -5 }, 'eu-west-1': { utcOffsetHours: 0 } },
        latencyMs: { 'us-east-1': { 'eu-west-1': 80 } },
        transferCostPerGB: 0.02,
        migrationBandwidthBytesPerSec: 100e6,
        cells: [US, EU].map((id) => ({
          id,
          region: id.startsWith('us') ? 'us-east-1' : 'eu-west-1',
          capacityOpsPerSec: 10_000,
          capacityBytes: 100 * GiB,
        })),
        scalingEvents: [],
      },
      partitions: [
        {
          id: 'roundtrip',
          sizeBytes: 10 * GiB,
          cell,
          writeFraction: 0.01,
          forecast: Object.fromEntries(Object.entries(demand).map(([r, v]) => [r, Array(12).fill(v)])),
          ...extra,
        },
      ],
    };
  }

  function put(client: RoutingClient, key: string, value: unknown) {
    return putRetried(client, 'roundtrip', key, value);
  }

  async function execute(planId: string, plan: MovementPlan) {
    await plans.create(plan, { planId, trigger: 'schedule', approval: false });
    const deps = localExecutePlanDeps({
      documents: documentClient(cluster.clientFor('us-east-1')),
      plansTable: 'prestage-plans',
      coordinationTable: 'prestage-coordination',
      migrations: migrationRunner(cluster).runner,
      maxConcurrentMovesPerCell: 2,
      settings: { canarySteps: [1] },
    });
    const result = await runExecutePlanLocally({ deps, planId });
    expect(result.error).toBeUndefined();
    expect(result.output).toMatchObject({ status: 'SUCCEEDED', outcomes: { succeeded: 1 } });
  }

  it("garbage-collects a plan's cold copies after its moves, in budgeted pieces, leaving the primary whole", async () => {
    const partition = 'gc-flow';
    await cluster.partitions.createIfAbsent(newPartitionRecord(partition, US, 4, Date.now()));
    const client = clientOn(cluster);
    for (let k = 0; k < 40; k++) await putRetried(client, partition, `k${k}`, { k });
    const move = (to: string, retainSource: boolean) => ({
      partition,
      from: US,
      to,
      bytes: 4000,
      priority: 1,
      startByMs: Date.now() + 60_000,
      deadlineMs: Date.now() + 120_000,
      expectedDurationMs: 1000,
      benefit: 1,
      reasons: { locality: 1 },
      retainSource,
    });
    const plan = (moves: PlannedMove[], drops: MovementPlan['coldCopyDrops'] = []): MovementPlan => ({
      createdAtMs: Date.now(),
      moves,
      costBefore: 1,
      costAfter: 1,
      deferred: {},
      capacityForecast: [],
      coldCopyDrops: drops,
    });
    await execute('plan-gc-out', plan([move(EU, true)]));
    const itemsInUs = async () => {
      let n = 0;
      for (let shard = 0; shard < 4; shard++)
        n += (await cluster.stores.forCell(US).queryShard(partition, shard, { limit: 1000 })).items.length;
      return n;
    };
    expect(await itemsInUs()).toBe(40);
    expect((await cluster.partitions.get(partition))?.replicas[US]?.state).toBe('cold');

    // The next plan drops the copy. A budget of 1 ms per invocation cuts the deletion into pieces: the state
    // machine must loop on `done` (else items are left behind) and each piece resume under the drop's fence.
    await plans.create(plan([], [{ partition, cell: US, bytes: 4000, reason: 'age' }]), {
      planId: 'plan-gc-drop',
      trigger: 'schedule',
      approval: false,
    });
    const metrics = new RecordingMetrics();
    const deps = localExecutePlanDeps({
      documents: documentClient(cluster.clientFor('us-east-1')),
      plansTable: 'prestage-plans',
      coordinationTable: 'prestage-coordination',
      migrations: migrationRunner(cluster).runner,
      settings: { canarySteps: [1], dropBudgetMs: 1 },
      metrics,
    });
    const result = await runExecutePlanLocally({
      deps: { ...deps, steps: { ...deps.steps, coldCopies: { ...deps.steps.coldCopies!, pageItems: 5 } } },
      planId: 'plan-gc-drop',
    });
    expect(result.error).toBeUndefined();
    expect(result.output).toMatchObject({ status: 'SUCCEEDED', moveCount: 0 });
    expect(await itemsInUs()).toBe(0);
    const record = await cluster.partitions.get(partition);
    expect(record).toMatchObject({ cell: EU, status: 'ACTIVE', replicas: {} });
    expect(record?.fence).toBeUndefined();
    expect(metrics.totals[METRIC.coldCopiesDropped]).toBe(1);
    const fresh = clientOn(cluster);
    for (let k = 0; k < 40; k++)
      expect(JSON.parse(String((await fresh.get(partition, `k${k}`)).json))).toEqual({ k });
  }, 120_000);

  it('retains on the way out, then moves back to the copy shipping only the changed items', async () => {
    await cluster.partitions.createIfAbsent(newPartitionRecord('roundtrip', US, 4, Date.now()));
    const client = clientOn(cluster);
    for (let k = 0; k < ITEMS; k++) await put(client, `k${k}`, { k, v: 1 });

    // Out: eu-west-1 leads, us-east-1 still sends 80% as much (a daily peak that comes back). Keep a copy.
    const out = planMoves(plannerInputFor(US, { 'eu-west-1': 500, 'us-east-1': 400 }));
    expect(out.moves.map((m) => [m.to, m.retainSource])).toEqual([[EU, true]]);
    const usStore = cluster.stores.forCell(US);
    const euStore = cluster.stores.forCell(EU);
    const euBefore = euStore.counters.itemsWritten;
    await execute('plan-rt-out', out);
    expect(euStore.counters.itemsWritten - euBefore).toBeGreaterThanOrEqual(ITEMS);
    const away = await cluster.partitions.get('roundtrip');
    expect(away?.cell).toBe(EU);
    expect(away?.replicas[US]).toMatchObject({ state: 'cold' });
    expect((await plans.allMoves('plan-rt-out'))[0]).toMatchObject({
      retainSource: true,
      status: 'SUCCEEDED',
    });

    for (let k = 0; k < CHANGED; k++) await put(client, `k${k}`, { k, v: 2 });

    // Back: us-east-1 leads again. The planner sees the copy (read from the partition record as the planner
    // Lambda does), prices the move as the delta and says so; MigratePartition ships only what changed.
    const coldCopies = coldCopiesOf(away!, new Set([US, EU]));
    expect(coldCopies.map((c) => c.cell)).toEqual([US]);
    const back = planMoves(plannerInputFor(EU, { 'us-east-1': 500, 'eu-west-1': 20 }, { coldCopies }));
    expect(back.moves).toHaveLength(1);
    expect(back.moves[0]).toMatchObject({ to: US, delta: { sizeBytes: 10 * 2 ** 30 } });
    expect(back.moves[0].notes?.[0]).toMatch(/^delta move, ~/);
    expect(back.moves[0].bytes).toBeLessThan(2 ** 20);
    const usBefore = usStore.counters.itemsWritten;
    await execute('plan-rt-back', back);
    const shipped = usStore.counters.itemsWritten - usBefore;
    expect(shipped).toBeGreaterThanOrEqual(CHANGED);
    expect(shipped).toBeLessThan(ITEMS / 4);
    const home = await cluster.partitions.get('roundtrip');
    expect(home?.cell).toBe(US);
    expect(home?.fence).toBeUndefined();
    const fresh = clientOn(cluster);
    for (let k = 0; k < ITEMS; k++) {
      const read = await fresh.get('roundtrip', `k${k}`);
      expect(JSON.parse(String(read.json))).toEqual({ k, v: k < CHANGED ? 2 : 1 });
    }
  }, 120_000);
});
