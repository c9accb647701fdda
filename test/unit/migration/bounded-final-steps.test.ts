import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangeBucketOf, shardOf } from '../../../src/domain/data-plane/key-hash.ts';
import type { CellDataStore } from '../../../src/domain/data-plane/ports.ts';
import { encodeHlc } from '../../../src/domain/migration/hlc.ts';
import type { CutoverResult, RollbackResult } from '../../../src/domain/migration/migration-state.ts';
import type { EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import { migrationRunner } from '../../support/migration-harness.ts';
import { clientOn, startTestCluster } from '../../support/test-cluster.ts';

const SHARDS = 4; // clientOn places new partitions with 4 shards

/** A write that landed directly on a cell (as an acknowledged write through a stale or current route would). */
async function landWrite(store: CellDataStore, partition: string, key: string, value: string, node: string) {
  const result = await store.writeUserItem({
    address: { partition, shard: shardOf(key, SHARDS), key },
    bucket: rangeBucketOf(key),
    hlc: encodeHlc({ wallMs: Date.now(), logical: 0, node }),
    kind: 'put',
    encoding: 'json',
    value,
  });
  expect(result.applied).toBe(true);
}

describe('bounded final catch-up and reverse repair', () => {
  let cluster: EmbeddedCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(['us-east-1', 'eu-west-1'], 1);
  });
  afterAll(async () => {
    await cluster.close();
  });

  async function seed(partition: string, n: number): Promise<Map<string, string>> {
    const client = clientOn(cluster);
    const expected = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      const json = JSON.stringify({ i });
      await client.put(partition, `k-${i}`, { i });
      expected.set(`k-${i}`, json);
    }
    return expected;
  }

  async function expectAll(partition: string, expected: Map<string, string>) {
    const reader = clientOn(cluster);
    for (const [key, json] of expected) expect((await reader.get(partition, key)).json).toBe(json);
  }

  it('runs the final catch-up over several CutoverSwitch invocations and switches only after a whole round', async () => {
    const expected = await seed('late-writes', 40);
    const before = (await cluster.partitions.get('late-writes'))!;
    const target = cluster.cellIds().find((c) => c !== before.cell)!;
    const source = cluster.stores.forCell(before.cell);
    const switchResults: CutoverResult[] = [];
    const phasesWhileNotSwitched: string[] = [];
    const { runner } = migrationRunner(cluster, {
      tuning: { catchUpItemsPerInvocation: 20, queryPageItems: 10 },
      afterStep: async (task, result) => {
        if (task === 'CutoverFence') {
          // Writes acknowledged by the source during the lease wait (through routing entries from before the
          // fence): only the final catch-up can carry them.
          for (let i = 0; i < 120; i++) {
            const json = JSON.stringify({ late: i });
            await landWrite(source, 'late-writes', `late-${i}`, json, 'stale');
            expected.set(`late-${i}`, json);
          }
        }
        if (task === 'CutoverSwitch') {
          const cutover = result as CutoverResult;
          switchResults.push(cutover);
          if (!cutover.switched) {
            phasesWhileNotSwitched.push((await cluster.partitions.get('late-writes'))!.routing.phase);
          }
        }
      },
    });
    const execution = runner.start({
      partition: 'late-writes',
      targetCell: target,
      canarySteps: [1],
      waitSeconds: 0,
    });
    const done = await runner.wait(execution.migrationId);
    expect(done.error).toBeUndefined();
    expect(done.status).toBe('SUCCEEDED');
    const partial = switchResults.filter((r) => !r.switched);
    // The final catch-up round spans invocations; an invocation that finished it may still leave the exact verify
    // of the frozen source unfinished (its pieces are bounded by the same budget), and the next one resumes it.
    const catchingUp = partial.filter((r) => r.finalCatchUp?.resume != null);
    expect(catchingUp.length).toBeGreaterThanOrEqual(2);
    for (const r of partial.filter((p) => p.finalCatchUp?.resume == null)) {
      expect(r.frozenVerify).toBeTruthy();
    }
    expect(phasesWhileNotSwitched.every((phase) => phase === 'fenced')).toBe(true);
    const last = switchResults.at(-1)!;
    expect(last.switched).toBe(true);
    expect(last.finalItemsShipped).toBeGreaterThanOrEqual(120);
    expect((await cluster.partitions.get('late-writes'))!.cell).toBe(target);
    await expectAll('late-writes', expected);
  });

  it('repairs the source in bounded Rollback invocations after a failure past the switch', async () => {
    const expected = await seed('reverse', 60);
    const before = (await cluster.partitions.get('reverse'))!;
    const target = cluster.cellIds().find((c) => c !== before.cell)!;
    const targetStore = cluster.stores.forCell(target);
    const rollbacks: RollbackResult[] = [];
    const { runner, faults } = migrationRunner(cluster, {
      tuning: { catchUpItemsPerInvocation: 20, queryPageItems: 10 },
      afterStep: async (task, result) => {
        if (task === 'CutoverSwitch' && (result as CutoverResult).switched) {
          // Writes acknowledged by the new primary after the switch: the reverse catch-up must carry them back.
          for (let i = 0; i < 100; i++) {
            const json = JSON.stringify({ after: i });
            await landWrite(targetStore, 'reverse', `after-${i}`, json, 'primary');
            expected.set(`after-${i}`, json);
          }
        }
        if (task === 'Rollback') rollbacks.push(result as RollbackResult);
      },
    });
    // removeSource deletes the source's items before the commit fails, so the verify passes must restore them.
    faults.arm({ step: 'commit', mode: 'error', times: 1 });
    const execution = runner.start({
      partition: 'reverse',
      targetCell: target,
      canarySteps: [1],
      waitSeconds: 0,
      retainSource: false,
    });
    const done = await runner.wait(execution.migrationId);
    expect(done.status).toBe('ROLLED_BACK');
    const after = (await cluster.partitions.get('reverse'))!;
    expect(after).toMatchObject({ cell: before.cell, routing: { phase: 'stable' } });
    expect(after.fence).toBeUndefined();
    // The first invocation fences the target; the repair then takes several bounded pieces.
    const pieces = rollbacks.filter((r) => !r.done && r.reverse);
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(pieces.some((r) => r.reverse!.catchUp.resume !== null)).toBe(true);
    expect(rollbacks.at(-1)!.done).toBe(true);
    await expectAll('reverse', expected);
    const source = cluster.stores.forCell(before.cell);
    let onSource = 0;
    for (let shard = 0; shard < SHARDS; shard++) {
      let startAfter: string | undefined;
      do {
        const page = await source.queryShard('reverse', shard, { startAfter, limit: 100 });
        onSource += page.items.filter((item) => !item.deleted).length;
        startAfter = page.lastKey;
      } while (startAfter !== undefined);
    }
    expect(onSource).toBe(expected.size);
  });
});
