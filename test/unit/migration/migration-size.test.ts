import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CopyResult } from '../../../src/domain/migration/migration-state.ts';
import type { EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import { FaultInjector } from '../../../src/local/fault-injector.ts';
import { migrationRunner } from '../../support/migration-harness.ts';
import { clientOn, startTestCluster } from '../../support/test-cluster.ts';

/** Stored bytes of a partition in a cell: every item of every shard, by DynamoDB's size rules. */
async function storedBytes(cluster: EmbeddedCluster, cellId: string, partition: string): Promise<number> {
  const record = (await cluster.partitions.get(partition))!;
  const store = cluster.stores.forCell(cellId);
  let bytes = 0;
  for (let shard = 0; shard < record.shards; shard++) {
    let startAfter: string | undefined;
    do {
      const page = await store.queryShard(partition, shard, { startAfter, limit: 100 });
      for (const item of page.items) bytes += store.itemSize(item);
      startAfter = page.lastKey;
    } while (startAfter !== undefined);
  }
  return bytes;
}

/** Writes `count` items through the data plane: small JSON values, and every fifth one large (stored compressed). */
async function fill(cluster: EmbeddedCluster, partition: string, count: number, seed: number) {
  const client = clientOn(cluster, { accessRecorder: undefined });
  for (let i = 0; i < count; i++) {
    const big = i % 5 === 0;
    await client.put(partition, `k-${i}`, {
      i,
      text: big ? `${seed}-${i} `.repeat(300 + seed * 10) : `v${i}`.repeat(1 + (i % 9)),
    });
  }
  await client.delete(partition, 'k-1');
}

describe('MigratePartition records the partition size it copied (local runs on dynalite)', () => {
  let cluster: EmbeddedCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(['us-east-1', 'eu-west-1'], 2);
  });
  afterAll(async () => cluster?.close());

  const targetOf = async (partition: string) => {
    const cell = (await cluster.partitions.get(partition))!.cell;
    return cluster
      .cellIds()
      .find((c) => c !== cell && cluster.regionOfCell(c) !== cluster.regionOfCell(cell))!;
  };

  it('commits the stored bytes of the full copy on the partition record', async () => {
    await fill(cluster, 'sized', 120, 1);
    const before = (await cluster.partitions.get('sized'))!;
    expect(before.sizeBytes).toBeUndefined();
    const target = await targetOf('sized');
    const copies: CopyResult[] = [];
    const { runner } = migrationRunner(cluster, {
      afterStep: async (task, result) => {
        if (task === 'Copy') copies.push(result as CopyResult);
      },
    });
    const startedAtMs = Date.now();
    const execution = runner.start({
      partition: 'sized',
      targetCell: target,
      canarySteps: [1],
      waitSeconds: 0,
    });
    const done = await runner.wait(execution.migrationId);
    expect(done.error).toBeUndefined();
    const after = (await cluster.partitions.get('sized'))!;
    const stored = await storedBytes(cluster, target, 'sized');
    expect(stored).toBeGreaterThan(5_000);
    // Several copy invocations (small test pages), summed across them: exactly what the target stores.
    expect(copies.length).toBeGreaterThan(1);
    expect(copies.at(-1)).toMatchObject({ done: true, bytesCopied: stored });
    expect(after).toMatchObject({ cell: target, sizeBytes: stored, lastMigration: { outcome: 'COMMITTED' } });
    expect(after.sizeMeasuredAtMs).toBeGreaterThanOrEqual(startedAtMs);
    expect(after.sizeMeasuredAtMs).toBe(after.lastMigration!.atMs);
  });

  it('keeps each migration its own bytes when several copy into the same cell at once', async () => {
    const partitions = ['conc-a', 'conc-b', 'conc-c'];
    for (const [i, p] of partitions.entries()) await fill(cluster, p, 60 + 30 * i, 2 + i);
    const sources = await Promise.all(partitions.map(async (p) => (await cluster.partitions.get(p))!.cell));
    // One target cell for all, outside every source's region.
    const target = await targetOf(partitions[0]);
    expect(sources.every((s) => cluster.regionOfCell(s) !== cluster.regionOfCell(target))).toBe(true);
    const { runner } = migrationRunner(cluster);
    const executions = partitions.map((p) =>
      runner.start({ partition: p, targetCell: target, canarySteps: [1], waitSeconds: 0 }),
    );
    for (const e of executions) expect((await runner.wait(e.migrationId)).error).toBeUndefined();
    for (const p of partitions) {
      const record = (await cluster.partitions.get(p))!;
      expect({ p, size: record.sizeBytes }).toEqual({ p, size: await storedBytes(cluster, target, p) });
    }
  });

  it('records the size on a rollback after the copy, and a delta move back keeps the last measurement', async () => {
    await fill(cluster, 'rolled', 80, 6);
    const source = (await cluster.partitions.get('rolled'))!.cell;
    const target = await targetOf('rolled');
    const faults = new FaultInjector();
    faults.arm({ step: 'verify', mode: 'error', times: 1 });
    const failing = migrationRunner(cluster, { faults }).runner;
    const rolledBack = failing.start({
      partition: 'rolled',
      targetCell: target,
      canarySteps: [1],
      waitSeconds: 0,
    });
    await failing.wait(rolledBack.migrationId);
    const afterRollback = (await cluster.partitions.get('rolled'))!;
    expect(afterRollback).toMatchObject({
      cell: source,
      lastMigration: { outcome: 'ROLLED_BACK' },
      sizeBytes: await storedBytes(cluster, source, 'rolled'),
    });

    // Move away keeping the source as a cold copy, then back: the way back is a delta (no full copy).
    const { runner } = migrationRunner(cluster);
    const away = runner.start({
      partition: 'rolled',
      targetCell: target,
      canarySteps: [1],
      waitSeconds: 0,
      retainSource: true,
    });
    expect((await runner.wait(away.migrationId)).error).toBeUndefined();
    const moved = (await cluster.partitions.get('rolled'))!;
    expect(moved.sizeBytes).toBe(await storedBytes(cluster, target, 'rolled'));
    const back = runner.start({ partition: 'rolled', targetCell: source, canarySteps: [1], waitSeconds: 0 });
    const backDone = await runner.wait(back.migrationId);
    expect(backDone.error).toBeUndefined();
    const home = (await cluster.partitions.get('rolled'))!;
    expect(home.cell).toBe(source);
    expect(home.lastMigration).toMatchObject({ id: back.migrationId, outcome: 'COMMITTED' });
    expect({ sizeBytes: home.sizeBytes, at: home.sizeMeasuredAtMs }).toEqual({
      sizeBytes: moved.sizeBytes,
      at: moved.sizeMeasuredAtMs,
    });
  });
});
