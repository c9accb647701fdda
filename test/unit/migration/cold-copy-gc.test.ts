import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import { dropColdCopies } from '../../../src/execute-plan/drop-cold-copies.ts';
import { DEFAULT_EXECUTE_PLAN_SETTINGS } from '../../../src/execute-plan/execute-plan-deps.ts';
import { cellIdFor, type EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import { coldCopyDropOwner, dropColdCopy } from '../../../src/migration/cold-copy-gc.ts';
import { recoverMigration } from '../../../src/migration/recover-migration.ts';
import { InMemoryPlanRepository } from '../../support/in-memory-ports.ts';
import { migrationRunner } from '../../support/migration-harness.ts';
import { clientOn, putRetried, startTestCluster } from '../../support/test-cluster.ts';

/**
 * Garbage collection of a cold copy on the local data plane (dynalite): a migration with `retainSource` leaves
 * the source's items and a cold replica entry; dropping it deletes those items from the cell's table and the
 * record forgets the copy, without touching the primary; a copy of a partition under migration is left alone.
 */

const REGION = 'us-east-1';
const [A, B] = [1, 2].map((i) => cellIdFor(REGION, i));
const KEYS = 30;

describe('dropColdCopy on the local data plane', () => {
  let cluster: EmbeddedCluster;

  beforeAll(async () => {
    cluster = await startTestCluster([REGION], 2);
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  const deps = () => ({
    partitions: cluster.partitions,
    stores: cluster.stores,
    nowMs: Date.now,
    pageItems: 7,
  });

  async function itemsIn(cell: string, partition: string): Promise<number> {
    const record = await cluster.partitions.get(partition);
    let n = 0;
    for (let shard = 0; shard < (record?.shards ?? 0); shard++) {
      n += (await cluster.stores.forCell(cell).queryShard(partition, shard, { limit: 1000 })).items.length;
    }
    return n;
  }

  /** A partition with KEYS items moved from A to B with its source retained as a cold copy in A. */
  async function movedWithCopy(partition: string) {
    await cluster.partitions.createIfAbsent(newPartitionRecord(partition, A, 4, Date.now()));
    const client = clientOn(cluster);
    for (let k = 0; k < KEYS; k++) await putRetried(client, partition, `k${k}`, { k });
    const { runner } = migrationRunner(cluster);
    const execution = runner.start({
      partition,
      targetCell: B,
      canarySteps: [1],
      waitSeconds: 0,
      retainSource: true,
    });
    expect((await runner.wait(execution.migrationId)).status).toBe('SUCCEEDED');
    const record = await cluster.partitions.get(partition);
    expect(record?.replicas[A]?.state).toBe('cold');
    expect(await itemsIn(A, partition)).toBe(KEYS);
  }

  it('deletes the copy’s items from its cell, forgets it in the record, and leaves the primary whole', async () => {
    await movedWithCopy('gc-1');
    const owner = coldCopyDropOwner('plan-gc', { partition: 'gc-1', cell: A });
    const result = await dropColdCopy(deps(), { partition: 'gc-1', cell: A }, owner);
    expect(result).toEqual({ partition: 'gc-1', cell: A, outcome: 'dropped', itemsDeleted: KEYS });
    expect(await itemsIn(A, 'gc-1')).toBe(0);
    const record = await cluster.partitions.get('gc-1');
    expect(record).toMatchObject({ cell: B, status: 'ACTIVE', replicas: {} });
    expect(record?.fence).toBeUndefined();
    expect(await itemsIn(B, 'gc-1')).toBe(KEYS);
    const read = await clientOn(cluster).get('gc-1', 'k3');
    expect(JSON.parse(String(read.json))).toEqual({ k: 3 });
    // Again: nothing left to drop.
    expect(await dropColdCopy(deps(), { partition: 'gc-1', cell: A }, owner)).toMatchObject({
      outcome: 'gone',
    });
  }, 60_000);

  it('a retried drop whose first run died after taking the fence resumes and releases it', async () => {
    await movedWithCopy('gc-2');
    const owner = coldCopyDropOwner('plan-gc', { partition: 'gc-2', cell: A });
    // The first run took the fence and forgot the copy, then died before deleting.
    await cluster.partitions.update('gc-2', (r) => {
      const { [A]: _copy, ...replicas } = r.replicas;
      return {
        ...r,
        status: 'MIGRATING',
        fence: { owner, sourceCell: B, targetCell: A, acquiredAtMs: Date.now(), stage: 'acquire' },
        replicas,
      };
    });
    expect(await dropColdCopy(deps(), { partition: 'gc-2', cell: A }, owner)).toMatchObject({
      outcome: 'dropped',
      itemsDeleted: KEYS,
    });
    expect(await itemsIn(A, 'gc-2')).toBe(0);
    expect((await cluster.partitions.get('gc-2'))?.fence).toBeUndefined();
  }, 60_000);

  it('leaves the copy of a partition a migration holds (busy), and one a move landed on (gone)', async () => {
    await movedWithCopy('gc-3');
    await cluster.partitions.update('gc-3', (r) => ({
      ...r,
      status: 'MIGRATING',
      fence: { owner: 'mig-x', sourceCell: B, targetCell: A, acquiredAtMs: Date.now(), stage: 'acquire' },
    }));
    const owner = coldCopyDropOwner('plan-gc', { partition: 'gc-3', cell: A });
    expect(await dropColdCopy(deps(), { partition: 'gc-3', cell: A }, owner)).toMatchObject({
      outcome: 'busy',
    });
    expect(await itemsIn(A, 'gc-3')).toBe(KEYS);
    expect((await cluster.partitions.get('gc-3'))?.replicas[A]?.state).toBe('cold');
    // The primary's own cell is never a copy to drop.
    expect(await dropColdCopy(deps(), { partition: 'gc-3', cell: B }, owner)).toMatchObject({
      outcome: 'gone',
    });
    expect(await itemsIn(B, 'gc-3')).toBe(KEYS);
  }, 60_000);

  it('a drop cut short by its deadline keeps the fence (no migration can start) and the next call finishes it', async () => {
    await movedWithCopy('gc-4');
    const owner = coldCopyDropOwner('plan-gc', { partition: 'gc-4', cell: A });
    // A clock past the deadline at the first check: one page (7 items), then `partial`.
    const first = await dropColdCopy(deps(), { partition: 'gc-4', cell: A }, owner, {
      deadlineMs: 1,
      wallNow: () => 2,
    });
    expect(first).toEqual({ partition: 'gc-4', cell: A, outcome: 'partial', itemsDeleted: 7 });
    expect(await itemsIn(A, 'gc-4')).toBe(KEYS - 7);
    const held = await cluster.partitions.get('gc-4');
    expect(held).toMatchObject({ status: 'MIGRATING', fence: { owner, targetCell: A } });
    // The attack: a migration back into the copy's cell while items of the copy are left there. It must not
    // start (its copy would find the leftover items); the drop's fence refuses it.
    const { runner } = migrationRunner(cluster);
    const back = runner.start({ partition: 'gc-4', targetCell: A, canarySteps: [1], waitSeconds: 0 });
    const ended = await runner.wait(back.migrationId);
    expect(ended.status).toBe('FAILED');
    expect(ended.error?.name).toBe('MigrationInProgressError');
    expect((await cluster.partitions.get('gc-4'))?.cell).toBe(B);
    // Resumed under the same owner: the rest is deleted and the fence released.
    expect(await dropColdCopy(deps(), { partition: 'gc-4', cell: A }, owner)).toMatchObject({
      outcome: 'dropped',
      itemsDeleted: KEYS - 7,
    });
    expect(await itemsIn(A, 'gc-4')).toBe(0);
    expect((await cluster.partitions.get('gc-4'))?.fence).toBeUndefined();
  }, 60_000);

  it('recover finishes a drop whose invocations all failed, rather than rolling back a migration', async () => {
    await movedWithCopy('gc-5');
    const owner = coldCopyDropOwner('plan-gc', { partition: 'gc-5', cell: A });
    await dropColdCopy(deps(), { partition: 'gc-5', cell: A }, owner, { deadlineMs: 1, wallNow: () => 2 });
    const { deps: migrationDeps } = migrationRunner(cluster);
    const result = await recoverMigration(migrationDeps, 'gc-5');
    expect(result).toMatchObject({ recovered: true, migrationId: owner, outcome: 'COLD_COPY_DROPPED' });
    expect(await itemsIn(A, 'gc-5')).toBe(0);
    const record = await cluster.partitions.get('gc-5');
    expect(record).toMatchObject({ cell: B, status: 'ACTIVE', replicas: {} });
    expect(record?.fence).toBeUndefined();
    expect(await itemsIn(B, 'gc-5')).toBe(KEYS);
  }, 60_000);

  it("DropColdCopies resumes a stale drop under the fence's own owner, as a later plan lists it", async () => {
    await movedWithCopy('gc-6');
    const stale = coldCopyDropOwner('plan-old', { partition: 'gc-6', cell: A });
    await dropColdCopy(deps(), { partition: 'gc-6', cell: A }, stale, { deadlineMs: 1, wallNow: () => 2 });
    const plans = new InMemoryPlanRepository();
    const plan = {
      createdAtMs: Date.now(),
      moves: [],
      costBefore: 0,
      costAfter: 0,
      deferred: {},
      capacityForecast: [],
      coldCopyDrops: [{ partition: 'gc-6', cell: A, bytes: 0, reason: 'resume' as const, owner: stale }],
    };
    await plans.create(plan, { planId: 'plan-new', trigger: 'schedule', approval: false });
    const result = await dropColdCopies(
      {
        plans,
        slots: undefined as never,
        metrics: { add: () => undefined },
        settings: DEFAULT_EXECUTE_PLAN_SETTINGS,
        nowMs: Date.now,
        coldCopies: deps(),
      },
      { planId: 'plan-new' },
    );
    expect(result).toMatchObject({ done: true, dropped: 1, busy: 0, itemsDeleted: KEYS - 7 });
    expect(await itemsIn(A, 'gc-6')).toBe(0);
    expect((await cluster.partitions.get('gc-6'))?.fence).toBeUndefined();
  }, 60_000);

  it("negative control: listed under the new plan's own owner, the stale drop never finishes", async () => {
    await movedWithCopy('gc-7');
    const stale = coldCopyDropOwner('plan-old', { partition: 'gc-7', cell: A });
    await dropColdCopy(deps(), { partition: 'gc-7', cell: A }, stale, { deadlineMs: 1, wallNow: () => 2 });
    // What a planner that did not resume under the fence's owner would list: a fresh drop of the same copy. The
    // first piece already forgot the copy in the record, so the fresh owner finds nothing to drop ('gone').
    const fresh = coldCopyDropOwner('plan-new', { partition: 'gc-7', cell: A });
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(await dropColdCopy(deps(), { partition: 'gc-7', cell: A }, fresh)).toMatchObject({
        outcome: 'gone',
        itemsDeleted: 0,
      });
    }
    // The leftover items stay, and so does the fence: only its own owner (or recovery) can finish it.
    expect(await itemsIn(A, 'gc-7')).toBe(KEYS - 7);
    expect((await cluster.partitions.get('gc-7'))?.fence?.owner).toBe(stale);
  }, 60_000);

  it('negative control: a drop that let go of its fence early loses writes to a migration back into the cell', async () => {
    await movedWithCopy('gc-8');
    const owner = coldCopyDropOwner('plan-gc', { partition: 'gc-8', cell: A });
    await dropColdCopy(deps(), { partition: 'gc-8', cell: A }, owner, { deadlineMs: 1, wallNow: () => 2 });
    // The protection turned off: the fence is released while the drop still has pages to delete.
    await cluster.partitions.update('gc-8', (r) => {
      const { fence: _fence, ...rest } = r;
      return { ...rest, status: 'ACTIVE' };
    });
    // A migration back into A now starts, and succeeds: the data is primary in A again.
    const { runner } = migrationRunner(cluster);
    const back = runner.start({ partition: 'gc-8', targetCell: A, canarySteps: [1], waitSeconds: 0 });
    expect((await runner.wait(back.migrationId)).status).toBe('SUCCEEDED');
    expect((await cluster.partitions.get('gc-8'))?.cell).toBe(A);
    // The drop's next piece deletes its next page in A, as it would with no fence to stop it.
    const record = (await cluster.partitions.get('gc-8'))!;
    const store = cluster.stores.forCell(A);
    for (let shard = 0; shard < record.shards; shard++) {
      const page = await store.queryShard('gc-8', shard, { limit: 7 });
      if (page.items.length === 0) continue;
      await store.batchDelete(page.items);
      break;
    }
    // The checker: every acknowledged write read back. Some are gone.
    const client = clientOn(cluster);
    let lost = 0;
    for (let k = 0; k < KEYS; k++) {
      try {
        await client.get('gc-8', `k${k}`);
      } catch {
        lost += 1;
      }
    }
    expect(lost).toBeGreaterThan(0);
  }, 60_000);
});
