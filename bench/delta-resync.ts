/**
 * Bytes shipped by a delta re-sync against a full copy, when 1% of the items changed.
 *
 * Protocol: two regions (one in-process dynalite each), a partition of N items (values of ~300 B of JSON,
 * 8 shards) in cell A. MigratePartition (the synthesized ASL, run locally) moves it to cell B, retaining A as
 * a cold copy with a watermark: a full copy. Then 1% of the items are rewritten (and 0.1% deleted) through the
 * routing client, and MigratePartition moves it back to A: createReplica finds the cold copy, so only the
 * changes since the watermark are shipped (catch-up from the changes index), and the verify compares per-range
 * checksums and repairs nothing. Bytes shipped = bytes of the items written into the target table (DynamoDB
 * item size), plus the version probes catch-up makes before shipping (keys and HLCs, both ways), plus the
 * checksums the verify exchanges (16 ranges per shard, 16 bytes each, per side and round).
 *
 * Run: npx tsx bench/delta-resync.ts   (writes bench/results/delta-resync.json)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { CellHealth } from '../src/data-plane/cell-health.ts';
import { RoutingClient } from '../src/data-plane/routing-client.ts';
import { RANGE_BUCKETS, rangeBucketOf, shardOf } from '../src/domain/data-plane/key-hash.ts';
import { newPartitionRecord } from '../src/domain/data-plane/partition-record.ts';
import { encodeHlc, HybridLogicalClock } from '../src/domain/migration/hlc.ts';
import { EmbeddedCluster } from '../src/local/embedded-cluster.ts';
import { localMigrationDeps } from '../src/local/local-migration-deps.ts';
import { LocalMigrationRunner } from '../src/local/local-migration-runner.ts';
import { LOCAL_LEASE } from '../src/local/local-server.ts';
import { mapBounded } from '../src/support/bounded-parallel.ts';

const ITEMS = Number(process.env.DELTA_ITEMS ?? 20_000);
const SHARDS = 8;
const CHANGED = Math.round(ITEMS * 0.01);
const DELETED = Math.round(ITEMS * 0.001);

async function main() {
  const cluster = await EmbeddedCluster.start({ regions: ['us-east-1', 'eu-west-1'], cellsPerRegion: 1 });
  const [a, b] = ['us-east-1-c1', 'eu-west-1-c1'];
  const storeA = cluster.stores.forCell(a);
  const storeB = cluster.stores.forCell(b);
  const seedClock = Date.now() - 60_000;
  const seed = Array.from({ length: ITEMS }, (_, i) => {
    const key = `order-${String(i).padStart(7, '0')}`;
    return {
      partition: 'orders',
      shard: shardOf(key, SHARDS),
      key,
      bucket: rangeBucketOf(key),
      version: 1,
      hlc: encodeHlc({ wallMs: seedClock, logical: i % 1000, node: `s${Math.floor(i / 1000)}` }),
      deleted: false,
      encoding: 'json' as const,
      value: JSON.stringify({
        id: i,
        customer: `c-${i % 977}`,
        lines: [{ sku: `SKU-${i % 311}`, qty: 1 + (i % 4), price: 9.99 }],
        status: 'PAID',
        createdAt: '2026-03-01T10:00:00Z',
        note: 'leave at the door',
      }),
    };
  });
  for (let i = 0; i < seed.length; i += 2_000) await storeA.batchPut(seed.slice(i, i + 2_000));
  await cluster.partitions.createIfAbsent(newPartitionRecord('orders', a, SHARDS, Date.now()));

  const deps = localMigrationDeps(cluster, {
    lease: LOCAL_LEASE,
    health: new CellHealth(),
    tuning: { shardConcurrency: SHARDS },
  });
  const runner = new LocalMigrationRunner({
    deps,
    waitOverrideMs: 0,
    retryIntervalMs: 50,
    taskTimeoutSeconds: 120,
  });
  const move = async (target: string, retainSource: boolean) => {
    const store = cluster.stores.forCell(target);
    const before = { ...store.counters };
    const t0 = performance.now();
    const execution = runner.start({
      partition: 'orders',
      targetCell: target,
      canarySteps: [1],
      waitSeconds: 0,
      retainSource,
    });
    const done = await runner.wait(execution.migrationId);
    if (done.status !== 'SUCCEEDED') throw new Error(`migration ${done.status}: ${done.error?.cause}`);
    const output = done.output as {
      replica: { mode: string };
      verify: { rounds: number; repairedItems: number };
    };
    const checksumBytes = SHARDS * RANGE_BUCKETS * 16 * 2 * output.verify.rounds;
    return {
      mode: output.replica.mode,
      seconds: (performance.now() - t0) / 1000,
      itemsWritten: store.counters.itemsWritten - before.itemsWritten,
      itemBytes: store.counters.bytesWritten - before.bytesWritten,
      probeBytes: store.counters.bytesProbed - before.bytesProbed,
      checksumBytes,
      bytesShipped:
        store.counters.bytesWritten -
        before.bytesWritten +
        (store.counters.bytesProbed - before.bytesProbed) +
        checksumBytes,
      verifyRepairs: output.verify.repairedItems,
    };
  };

  const full = await move(b, true);
  const client = new RoutingClient({
    partitions: cluster.partitions,
    cells: cluster.cells,
    stores: cluster.stores,
    clock: new HybridLogicalClock('bench'),
    lease: LOCAL_LEASE,
    region: 'eu-west-1',
  });
  const changed = Array.from({ length: CHANGED }, (_, i) => seed[Math.floor((i * ITEMS) / CHANGED)].key);
  await mapBounded(changed, 16, (key) =>
    client.put('orders', key, { key, status: 'REFUNDED', refundedAt: new Date().toISOString() }),
  );
  const deleted = Array.from({ length: DELETED }, (_, i) => seed[Math.floor((i * ITEMS) / DELETED) + 1].key);
  await mapBounded(deleted, 16, (key) => client.delete('orders', key));
  const delta = await move(a, false);
  void storeB;
  await cluster.close();

  const ratio = delta.bytesShipped / full.bytesShipped;
  const table = [
    ['full copy (A → B)', full],
    ['delta re-sync (B → A)', delta],
  ] as const;
  process.stdout.write(
    `delta re-sync vs full copy, ${ITEMS} items, ${CHANGED} rewritten + ${DELETED} deleted (1.1%)\n\n`,
  );
  process.stdout.write(
    `${'move'.padEnd(24)}${'mode'.padEnd(7)}${'items shipped'.padStart(14)}${'bytes shipped'.padStart(15)}${'seconds'.padStart(9)}\n`,
  );
  for (const [name, r] of table) {
    process.stdout.write(
      `${name.padEnd(24)}${r.mode.padEnd(7)}${String(r.itemsWritten).padStart(14)}${String(r.bytesShipped).padStart(15)}${r.seconds.toFixed(1).padStart(9)}\n`,
    );
  }
  process.stdout.write(`\ndelta / full bytes = ${(ratio * 100).toFixed(2)}%\n`);
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/delta-resync.json',
    `${JSON.stringify({ generatedAt: new Date().toISOString(), items: ITEMS, changed: CHANGED, deleted: DELETED, full, delta, deltaToFullBytes: ratio }, null, 2)}\n`,
  );
}

await main();
