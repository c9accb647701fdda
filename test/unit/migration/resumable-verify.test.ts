import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellHealth } from '../../../src/data-plane/cell-health.ts';
import { rangeBucketOf, shardOf } from '../../../src/domain/data-plane/key-hash.ts';
import type { CellDataStore } from '../../../src/domain/data-plane/ports.ts';
import type { StoredItem } from '../../../src/domain/data-plane/stored-item.ts';
import { encodeHlc, hlcLowerBound } from '../../../src/domain/migration/hlc.ts';
import {
  type CutoverResult,
  type PassProgress,
  passProgressSchema,
  type VerifyResult,
} from '../../../src/domain/migration/migration-state.ts';
import type { EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import { localMigrationDeps } from '../../../src/local/local-migration-deps.ts';
import { continuePass, newPass, passComplete } from '../../../src/migration/range-sync.ts';
import { migrationRunner } from '../../support/migration-harness.ts';
import { storedItem } from '../../support/stored-items.ts';
import { clientOn, startTestCluster, TEST_LEASE } from '../../support/test-cluster.ts';

const SHARDS = 4; // clientOn places new partitions with 4 shards

function item(partition: string, key: string, wallMs: number, value = '{}'): StoredItem {
  return storedItem(partition, key, { wallMs, value, shards: SHARDS });
}

/** A write that reached one cell only (as one whose mirror failed would: answered 503, in doubt). */
async function landOn(store: CellDataStore, partition: string, key: string, json: string) {
  const result = await store.writeUserItem({
    address: { partition, shard: shardOf(key, SHARDS), key },
    bucket: rangeBucketOf(key),
    hlc: encodeHlc({ wallMs: Date.now(), logical: 0, node: 'doubt' }),
    kind: 'put',
    encoding: 'json',
    value: json,
  });
  expect(result.applied).toBe(true);
}

/** A key of `shard` that sorts before `after` (already read on both sides), not yet in `taken`. */
function keyBefore(after: string, shard: number, taken: Set<string>): string {
  for (let i = 0; ; i++) {
    const key = `a-${i}`;
    if (shardOf(key, SHARDS) === shard && key < after && !taken.has(key)) return key;
  }
}

describe('resumable verify passes (a shard larger than one invocation)', () => {
  let cluster: EmbeddedCluster;
  let source: CellDataStore;
  let target: CellDataStore;
  beforeAll(async () => {
    cluster = await startTestCluster(['us-east-1', 'eu-west-1'], 1);
    [source, target] = cluster.cellIds().map((id) => cluster.stores.forCell(id));
  });
  afterAll(async () => {
    await cluster.close();
  });

  const deps = () =>
    localMigrationDeps(cluster, {
      lease: TEST_LEASE,
      health: new CellHealth(),
      tuning: { queryPageItems: 10, shardConcurrency: 2 },
    });
  const bounds = {
    youngBoundHlc: hlcLowerBound(Number.MAX_SAFE_INTEGER),
    destructiveBelowHlc: hlcLowerBound(Number.MAX_SAFE_INTEGER),
    expiredBeforeSec: 0,
  };

  /** One bounded piece per worker per call (the budget is spent before it starts), state through JSON. */
  async function step(pair: Parameters<typeof continuePass>[1], pass: PassProgress) {
    const d = deps();
    const next = await continuePass(d, pair, pass, { ...bounds, stopAt: d.monoNow() });
    return passProgressSchema.parse(JSON.parse(JSON.stringify(next)));
  }

  it('verifies over many invocations with a spent budget, resuming from the returned state, and repairs what differs', async () => {
    const partition = 'resume';
    const items = Array.from({ length: 200 }, (_, i) => item(partition, `k-${1000 + i}`, 1_000_000 + i));
    await source.batchPut(items);
    await target.batchPut(items.filter((_, i) => i % 50 !== 7)); // 4 items missing on the copy
    await target.putIfNewer(item(partition, 'k-extra', 1_500_000)); // one the source never had
    const pair = { partition, shards: SHARDS, from: source, to: target };
    let pass = newPass();
    let calls = 0;
    const opened = new Set<string>();
    while (!passComplete(pass, SHARDS)) {
      pass = await step(pair, pass);
      calls += 1;
      for (const scan of pass.open) if (scan.after !== null) opened.add(`${scan.shard}:${scan.after}`);
      expect(pass.open.length).toBeLessThanOrEqual(2);
      expect(calls).toBeLessThan(200);
    }
    // 200 items in pages of 10, two shards at a time, checksums then the differing ranges: many invocations,
    // each resuming where the last stopped.
    expect(calls).toBeGreaterThanOrEqual(10);
    expect(opened.size).toBeGreaterThanOrEqual(10);
    expect(pass).toMatchObject({ repairedOld: 4, removed: 1, replacedAhead: 0, leftYoung: 0 });
    for (const i of [7, 57, 107, 157])
      expect(await target.getItem(items[i])).toMatchObject({ hlc: items[i].hlc });
    expect(await target.getItem(item(partition, 'k-extra', 0))).toBeUndefined();
    // A second pass, also in pieces, finds nothing.
    let again = newPass();
    while (!passComplete(again, SHARDS)) again = await step(pair, again);
    expect(again.differingRanges).toBe(0);
  });

  it('finds a change made between invocations ahead of the cursor; one behind it is left to the next pass', async () => {
    const partition = 'between';
    const items = Array.from({ length: 160 }, (_, i) => item(partition, `k-${1000 + i}`, 2_000_000 + i));
    await source.batchPut(items);
    await target.batchPut(items);
    const pair = { partition, shards: SHARDS, from: source, to: target };
    let pass = await step(pair, newPass());
    pass = await step(pair, pass);
    const scans = pass.open.filter((s) => s.after !== null && s.repair === null);
    expect(scans.length).toBe(2);
    // Ahead of a cursor: an item lost on the copy (its checksum is not summed yet).
    const ahead = items.filter((i) => i.shard === scans[1].shard).findLast((i) => i.key > scans[1].after!)!;
    await target.batchDelete([ahead]);
    // Behind the other cursor, where both sides are already summed: a write that reached the source only (in
    // doubt). It is in another shard, so the repair of the first difference does not come across it.
    const scan = scans[0];
    const behind = keyBefore(scan.after!, scan.shard, new Set());
    await landOn(source, partition, behind, '"in doubt"');
    while (!passComplete(pass, SHARDS)) pass = await step(pair, pass);
    expect(pass.repairedOld).toBe(1);
    expect(await target.getItem(ahead)).toMatchObject({ hlc: ahead.hlc });
    // The write behind the cursor landed after this pass read its key; no acknowledged write can do that while
    // a verify runs (it is mirrored first). The next pass sees it like any other difference.
    expect(await target.getItem({ partition, shard: scan.shard, key: behind })).toBeUndefined();
    let next = newPass();
    while (!passComplete(next, SHARDS)) next = await step(pair, next);
    expect(next.differingRanges).toBe(1);
    expect(await target.getItem({ partition, shard: scan.shard, key: behind })).toMatchObject({
      value: '"in doubt"',
    });
  });

  it('runs Verify over several invocations in a migration; writes between them, acknowledged or in doubt, end on the target', async () => {
    const partition = 'long-shards';
    const client = clientOn(cluster);
    const expected = new Map<string, string>();
    for (let i = 0; i < 160; i++) {
      await client.put(partition, `k-${1000 + i}`, { i });
      expected.set(`k-${1000 + i}`, JSON.stringify({ i }));
    }
    const before = (await cluster.partitions.get(partition))!;
    const targetCell = cluster.cellIds().find((c) => c !== before.cell)!;
    const sourceStore = cluster.stores.forCell(before.cell);
    const verifies: VerifyResult[] = [];
    const switches: CutoverResult[] = [];
    const taken = new Set<string>();
    const { runner } = migrationRunner(cluster, {
      // A budget spent almost as soon as it starts: a verify invocation does one bounded piece per shard.
      tuning: { stepBudgetMs: 1, queryPageItems: 10 },
      afterStep: async (task, result) => {
        if (task === 'CutoverSwitch') switches.push(result as CutoverResult);
        if (task !== 'Verify') return;
        const verify = result as VerifyResult;
        verifies.push(verify);
        const scan = verify.pass?.open.find((s) => s.after !== null && s.repair === null);
        if (!scan) return;
        // Behind the cursor, where both checksums are already summed: an acknowledged write (mirrored, so on
        // the target too), and a write that reached the source only (in doubt; a catch-up round or, at the
        // latest, the cutover's exact verify of the frozen source carries it before the switch).
        const acked = keyBefore(scan.after!, scan.shard, taken);
        taken.add(acked);
        await client.put(partition, acked, { acked });
        expected.set(acked, JSON.stringify({ acked }));
        const inDoubt = keyBefore(scan.after!, scan.shard, taken);
        taken.add(inDoubt);
        await landOn(sourceStore, partition, inDoubt, JSON.stringify({ inDoubt }));
        expected.set(inDoubt, JSON.stringify({ inDoubt }));
      },
    });
    // Retained: the source removal's pages would not fit a 1 ms budget (it is not what this test is about).
    const execution = runner.start({
      partition,
      targetCell,
      canarySteps: [1],
      waitSeconds: 0,
      retainSource: true,
    });
    const done = await runner.wait(execution.migrationId);
    expect(done.error).toBeUndefined();
    expect(done.status).toBe('SUCCEEDED');
    const partial = verifies.filter((v) => v.pass);
    expect(partial.length).toBeGreaterThanOrEqual(3);
    expect(taken.size).toBeGreaterThanOrEqual(2);
    expect(verifies.at(-1)).toMatchObject({ clean: true, pass: null });
    // The exact verify of the frozen source also took several invocations, and found the writes in doubt.
    expect(switches.filter((s) => !s.switched && s.frozenVerify).length).toBeGreaterThanOrEqual(2);
    const reader = clientOn(cluster);
    for (const [key, json] of expected) expect((await reader.get(partition, key)).json).toBe(json);
    expect((await cluster.partitions.get(partition))!.cell).toBe(targetCell);
  });
});
