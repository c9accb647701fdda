import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../../src/cli/commands/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { CellHealth } from '../../../src/data-plane/cell-health.ts';
import type { RoutingClient } from '../../../src/data-plane/routing-client.ts';
import {
  PartitionFencedError,
  PartitionNotFoundError,
} from '../../../src/domain/data-plane/data-plane-errors.ts';
import { MigrationInProgressError } from '../../../src/domain/migration/migration-errors.ts';
import { type MigrationState, migrationInputSchema } from '../../../src/domain/migration/migration-state.ts';
import { localMigrationDeps } from '../../../src/local/local-migration-deps.ts';
import { LocalServer } from '../../../src/local/local-server.ts';
import type { MigrationDeps } from '../../../src/migration/migration-deps.ts';
import * as steps from '../../../src/migration/migration-steps.ts';
import { recoverMigration } from '../../../src/migration/recover-migration.ts';
import { stepDeps } from '../../../src/migration/step-handlers.ts';
import { captureCliIo } from '../../support/cli-capture.ts';
import { migrationRunner, TEST_TUNING, testAsl } from '../../support/migration-harness.ts';
import { clientOn, TEST_LEASE } from '../../support/test-cluster.ts';

registerAllCommands();

const NOT_YET = new Set(['WriterLeaseActiveError', 'CutoverNotReadyError', 'RepairWindowClosedError']);

/** One step as the state machine runs it: "not yet" errors are retried after a short pause. */
async function step<T>(
  deps: MigrationDeps,
  state: MigrationState,
  use: (deps: MigrationDeps, state: MigrationState) => Promise<T>,
): Promise<T> {
  for (;;) {
    try {
      return await use(stepDeps(deps, state), state);
    } catch (error) {
      if (!NOT_YET.has((error as Error).name)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A write that may meet a routing entry cached before the fence moved (a 503 the client retries). */
async function putEventually(client: RoutingClient, partition: string, key: string, value: unknown) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.put(partition, key, value);
    } catch (error) {
      if (!(error instanceof PartitionFencedError) || attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('recoverMigration: a migration whose execution was lost while it held the fence', () => {
  let server: LocalServer;
  let deps: MigrationDeps;
  let ids = 0;

  beforeAll(async () => {
    testAsl();
    server = await LocalServer.start({
      port: 0,
      regions: ['us-east-1', 'eu-west-1'],
      cellsPerRegion: 1,
      lease: TEST_LEASE,
      waitOverrideMs: 0,
      shardsPerPartition: 4,
      tuning: TEST_TUNING,
    });
    deps = localMigrationDeps(server.cluster, {
      lease: TEST_LEASE,
      health: new CellHealth(),
      tuning: TEST_TUNING,
    });
    // Synthesizing the CDK definition takes seconds on a busy machine.
  }, 60_000);
  afterAll(async () => {
    await server.close();
  });

  async function seed(partition: string, n: number): Promise<Map<string, unknown>> {
    const client = clientOn(server.cluster);
    const expected = new Map<string, unknown>();
    for (let i = 0; i < n; i++) {
      await client.put(partition, `k-${i}`, { i });
      expected.set(`k-${i}`, { i });
    }
    return expected;
  }

  async function expectAll(partition: string, expected: Map<string, unknown>) {
    const reader = clientOn(server.cluster);
    for (const [key, value] of expected) {
      expect((await reader.get(partition, key)).json, key).toBe(JSON.stringify(value));
    }
  }

  async function newState(partition: string): Promise<MigrationState> {
    const record = (await server.cluster.partitions.get(partition))!;
    ids += 1;
    return {
      input: migrationInputSchema.parse({
        partition,
        targetCell: server.cluster.cellIds().find((c) => c !== record.cell)!,
        canarySteps: [1],
        waitSeconds: 0,
      }),
      migrationId: `lost-${ids}`,
      startedAt: new Date().toISOString(),
    };
  }

  /** Acquire, replica, copy until done: a migration that reached the end of its copy. */
  async function throughCopy(state: MigrationState): Promise<MigrationState> {
    let s: MigrationState = { ...state, acquire: await step(deps, state, steps.acquire) };
    s = { ...s, replica: await step(deps, s, steps.createReplica) };
    do s = { ...s, copy: await step(deps, s, steps.copy) };
    while (!s.copy!.done);
    return s;
  }

  /** From the copy to the fence of the cutover (writes refused), not switched. */
  async function throughFence(state: MigrationState): Promise<MigrationState> {
    let s = state;
    do s = { ...s, catchUp: await step(deps, s, steps.catchUp) };
    while (!s.catchUp!.caughtUp);
    do s = { ...s, verify: await step(deps, s, steps.verify) };
    while (!s.verify!.clean);
    do s = { ...s, shift: await step(deps, s, steps.shiftReads) };
    while (!s.shift!.done);
    return { ...s, cutover: await step(deps, s, steps.cutoverFence) };
  }

  it('recovers a migration lost after the switch, in its reverse cutover: nothing acknowledged is lost', async () => {
    const expected = await seed('lost-after-switch', 60);
    const sourceCell = (await server.cluster.partitions.get('lost-after-switch'))!.cell;
    let state = await throughCopy(await newState('lost-after-switch'));
    // Writes acknowledged during the migration (source only while `preparing`): catch-up carries them.
    const client = clientOn(server.cluster);
    for (let i = 0; i < 10; i++) {
      await client.put('lost-after-switch', `k-${i}`, { i, v: 2 });
      expected.set(`k-${i}`, { i, v: 2 });
    }
    state = await throughFence(state);
    do state = { ...state, cutover: await step(deps, state, steps.cutoverSwitch) };
    while (!state.cutover!.switched);
    // Writes acknowledged by the new primary: only the reverse repair can carry them back to the source.
    for (let i = 0; i < 10; i++) {
      await putEventually(client, 'lost-after-switch', `after-${i}`, { after: i });
      expected.set(`after-${i}`, { after: i });
    }
    // One removal page (the source loses items), then storage fails: the Rollback fences the target, and the
    // execution is lost (its Rollback ran out of retries while storage was down).
    state = { ...state, remove: await step(deps, state, steps.removeSource) };
    const first = await step(
      deps,
      {
        ...state,
        failedStage: 'removeSource',
        error: { Error: 'StorageThrottledError', Cause: 'storage down' },
      },
      steps.rollback,
    );
    expect(first.done).toBe(false);
    const stuck = (await server.cluster.partitions.get('lost-after-switch'))!;
    expect(stuck).toMatchObject({
      routing: { phase: 'fenced' },
      fence: { owner: state.migrationId, stage: 'rollback' },
    });
    await expect(clientOn(server.cluster).put('lost-after-switch', 'blocked', 1)).rejects.toBeInstanceOf(
      PartitionFencedError,
    );

    const result = await recoverMigration(deps, 'lost-after-switch');
    expect(result).toMatchObject({
      recovered: true,
      migrationId: state.migrationId,
      outcome: 'ROLLED_BACK',
      stage: 'removeSource',
      reason: 'MigrationRecoveredError: recovered by an operator',
    });
    const after = (await server.cluster.partitions.get('lost-after-switch'))!;
    expect(after.fence).toBeUndefined();
    expect(after).toMatchObject({ cell: sourceCell, routing: { phase: 'stable' } });
    await expectAll('lost-after-switch', expected);
    const writer = clientOn(server.cluster);
    await writer.put('lost-after-switch', 'k-0', { i: 0, v: 3 });
    expect((await writer.get('lost-after-switch', 'k-0')).json).toBe(JSON.stringify({ i: 0, v: 3 }));
  });

  it('recovers a migration lost after its copy (the fence blocks every other migration)', async () => {
    const expected = await seed('lost-after-copy', 40);
    const sourceCell = (await server.cluster.partitions.get('lost-after-copy'))!.cell;
    await throughCopy(await newState('lost-after-copy'));
    const next = await newState('lost-after-copy');
    await expect(steps.acquire(deps, next)).rejects.toBeInstanceOf(MigrationInProgressError);

    const result = await recoverMigration(deps, 'lost-after-copy');
    expect(result).toMatchObject({ recovered: true, outcome: 'ROLLED_BACK', stage: 'copy' });
    const after = (await server.cluster.partitions.get('lost-after-copy'))!;
    expect(after.fence).toBeUndefined();
    expect(after).toMatchObject({ cell: sourceCell, routing: { phase: 'stable' } });
    expect(after.replicas[next.input.targetCell]).toMatchObject({ state: 'stale' });
    await expectAll('lost-after-copy', expected);
    // The partition can move again.
    expect((await steps.acquire(deps, next)).sourceCell).toBe(sourceCell);
    expect(await recoverMigration(deps, 'lost-after-copy')).toMatchObject({ outcome: 'ROLLED_BACK' });
  });

  it('recovers a migration lost while fenced before the switch: writes refused, then accepted again', async () => {
    const expected = await seed('lost-fenced', 40);
    const sourceCell = (await server.cluster.partitions.get('lost-fenced'))!.cell;
    const client = clientOn(server.cluster);
    let state = await throughCopy(await newState('lost-fenced'));
    for (let i = 0; i < 5; i++) {
      await client.put('lost-fenced', `k-${i}`, { i, v: 2 });
      expected.set(`k-${i}`, { i, v: 2 });
    }
    state = await throughFence(state);
    await expect(clientOn(server.cluster).put('lost-fenced', 'blocked', 1)).rejects.toBeInstanceOf(
      PartitionFencedError,
    );

    const result = await recoverMigration(deps, 'lost-fenced');
    expect(result).toMatchObject({ recovered: true, outcome: 'ROLLED_BACK', stage: 'cutover' });
    expect((await server.cluster.partitions.get('lost-fenced'))!).toMatchObject({
      cell: sourceCell,
      routing: { phase: 'stable' },
    });
    await expectAll('lost-fenced', expected);
    await putEventually(client, 'lost-fenced', 'k-1', { i: 1, v: 3 });
    expect((await clientOn(server.cluster).get('lost-fenced', 'k-1')).json).toBe(
      JSON.stringify({ i: 1, v: 3 }),
    );
  });

  it('is safe while the original execution is still running', async () => {
    const expected = await seed('still-running', 80);
    const sourceCell = (await server.cluster.partitions.get('still-running'))!.cell;
    let recovery: ReturnType<typeof recoverMigration> | undefined;
    const { runner } = migrationRunner(server.cluster, {
      afterStep: async (task) => {
        // The operator recovers while the execution is in the middle of its copy.
        if (task === 'Copy' && !recovery) recovery = recoverMigration(deps, 'still-running');
      },
    });
    const execution = runner.start({
      partition: 'still-running',
      targetCell: server.cluster.cellIds().find((c) => c !== sourceCell)!,
      canarySteps: [1],
      waitSeconds: 0,
    });
    const done = await runner.wait(execution.migrationId);
    expect(recovery).toBeDefined();
    expect(await recovery).toMatchObject({ recovered: true, outcome: 'ROLLED_BACK' });
    expect(done.status).toBe('ROLLED_BACK');
    const after = (await server.cluster.partitions.get('still-running'))!;
    expect(after.fence).toBeUndefined();
    expect(after).toMatchObject({ cell: sourceCell, routing: { phase: 'stable' } });
    await expectAll('still-running', expected);
  });

  it('reports a partition without a fence, and an unknown one', async () => {
    await seed('calm', 1);
    expect(await recoverMigration(deps, 'calm')).toEqual({ recovered: false, reason: 'not fenced' });
    await expect(recoverMigration(deps, 'no-such-partition')).rejects.toBeInstanceOf(PartitionNotFoundError);
  });

  it('POST /v1/admin/migrations/recover and prestage migrations recover', async () => {
    const post = async (body: string) => {
      const response = await fetch(`${server.url}/v1/admin/migrations/recover`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await post('{}')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PARTITION' } } });
    expect(await post('{bad')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_JSON' } } });
    expect(await post('{"partition":"nope"}')).toMatchObject({
      status: 404,
      body: { error: { code: 'PARTITION_NOT_FOUND' } },
    });
    await seed('via-cli', 10);
    expect(await post('{"partition":"via-cli"}')).toEqual({
      status: 200,
      body: { recovered: false, reason: 'not fenced' },
    });
    await throughFence(await throughCopy(await newState('via-cli')));
    const cli = captureCliIo();
    expect(
      await runCli(['migrations', 'recover', '--partition', 'via-cli', '--server', server.url], cli.io),
    ).toBe(0);
    expect(cli.out()).toMatch(/^migration lost-\d+ of via-cli: ROLLED_BACK \(failed at cutover\): /);
    expect((await server.cluster.partitions.get('via-cli'))!.fence).toBeUndefined();

    for (const argv of [['migrations', 'rescue'], ['migrations'], ['migrations', 'recover']]) {
      const bad = captureCliIo();
      expect(await runCli(argv, bad.io)).toBe(2);
      expect(bad.err().trimEnd().split('\n')).toHaveLength(1);
    }
    const help = captureCliIo();
    expect(await runCli(['migrations', '--help'], help.io)).toBe(0);
    expect(help.out()).toContain('aws stepfunctions redrive-execution --execution-arn <arn>');
  });
});
