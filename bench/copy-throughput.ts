/**
 * Copy throughput of MigratePartition's copy stage, as a ratio to raw BatchWriteItem throughput on the same
 * dynalite (target ≥ 0.8).
 *
 * Protocol: one in-process dynalite (region us-east-1) with a source cell holding one partition of N items
 * (8 shards, values of ~200 B of JSON); fresh target tables for every run.
 * - raw: the same N items, already in memory, written with BatchWriteItem (25 per request), 8 shard streams of
 *   500-item pages in parallel: the write path of the copy with nothing else;
 * - copy: the copy step use case, invoked in a loop exactly as the state machine loops it (bounded pages, a
 *   cursor per shard, the writer lease registered and released in the partition record), reading the source
 *   with parallel Queries while it writes.
 * Seven alternating pairs (after a warm-up); the ratio reported is the median of the per-pair ratios, which
 * is steadier than a ratio of medians when other processes share the machine (the load average is recorded).
 *
 * Run: npx tsx bench/copy-throughput.ts   (writes bench/results/copy-throughput.json)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { DynamoCellDataStore } from '../src/adapters/dynamodb/cell-data-store.ts';
import { cellDataTableDefinition, ensureTable } from '../src/adapters/dynamodb/table-definitions.ts';
import { CellHealth } from '../src/data-plane/cell-health.ts';
import { rangeBucketOf, shardOf } from '../src/domain/data-plane/key-hash.ts';
import { newPartitionRecord } from '../src/domain/data-plane/partition-record.ts';
import type { StoredItem } from '../src/domain/data-plane/stored-item.ts';
import { encodeHlc } from '../src/domain/migration/hlc.ts';
import type { CopyResult, MigrationState } from '../src/domain/migration/migration-state.ts';
import { acquireFence, enterStage } from '../src/domain/migration/partition-transitions.ts';
import { DEFAULT_ROUTING_LEASE } from '../src/domain/migration/routing-lease.ts';
import { EmbeddedCluster } from '../src/local/embedded-cluster.ts';
import { localMigrationDeps } from '../src/local/local-migration-deps.ts';
import { mapBounded } from '../src/migration/bounded-parallel.ts';
import { copy } from '../src/migration/migration-steps.ts';

const ITEMS = Number(process.env.COPY_ITEMS ?? 20_000);
const SHARDS = 8;
const RUNS = 7;

function items(): StoredItem[] {
  return Array.from({ length: ITEMS }, (_, i) => {
    const key = `user-${String(i).padStart(7, '0')}`;
    const value = JSON.stringify({
      id: i,
      name: `Customer ${i}`,
      email: `c${i}@example.com`,
      tier: i % 3,
      tags: ['a', 'b'],
      balance: i * 1.25,
    });
    return {
      partition: 'bench',
      shard: shardOf(key, SHARDS),
      key,
      bucket: rangeBucketOf(key),
      version: 1,
      hlc: encodeHlc({ wallMs: 1_700_000_000_000 + i, logical: 0, node: 'seed' }),
      deleted: false,
      encoding: 'json',
      value,
    };
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const cluster = await EmbeddedCluster.start({ regions: ['us-east-1'], cellsPerRegion: 1 });
  const client = cluster.clientFor('us-east-1');
  const [sourceCell] = cluster.cellIds();
  const source = cluster.stores.forCell(sourceCell);
  const all = items();
  const byShard = Array.from({ length: SHARDS }, (_, s) => all.filter((i) => i.shard === s));
  await mapBounded(byShard, SHARDS, async (shardItems) => {
    for (let i = 0; i < shardItems.length; i += 500) await source.batchPut(shardItems.slice(i, i + 500));
  });
  await cluster.partitions.createIfAbsent({ ...newPartitionRecord('bench', sourceCell, SHARDS, Date.now()) });

  let tableNo = 0;
  const freshTable = async () => {
    tableNo += 1;
    const id = `bench-target-${tableNo}`;
    await cluster.addCell({
      id,
      region: 'us-east-1',
      table: `prestage-data-${id}`,
      capacityOpsPerSec: 1000,
      capacityBytes: 1e10,
      status: 'ACTIVE',
      version: 1,
    });
    return id;
  };

  async function rawRun(): Promise<number> {
    const table = `raw-${++tableNo}`;
    await ensureTable(client, cellDataTableDefinition(table));
    const target = new DynamoCellDataStore('raw', client, table);
    const t0 = performance.now();
    await mapBounded(byShard, SHARDS, async (shardItems) => {
      for (let i = 0; i < shardItems.length; i += 500) await target.batchPut(shardItems.slice(i, i + 500));
    });
    return ITEMS / ((performance.now() - t0) / 1000);
  }

  const deps = localMigrationDeps(cluster, {
    lease: { ...DEFAULT_ROUTING_LEASE, indexLagMs: 0 },
    health: new CellHealth(),
    // The production defaults: 20,000 items and 30 s per invocation, 500-item Query pages, 8 shards at once.
    tuning: { shardConcurrency: SHARDS },
  });

  async function copyRun(): Promise<{ rate: number; invocations: number }> {
    const targetCell = await freshTable();
    const migrationId = `bench-${tableNo}`;
    await cluster.partitions.update('bench', (r) => {
      const acquired = acquireFence(
        { ...r, fence: undefined, status: 'ACTIVE', routing: { phase: 'stable', readWeight: 0 } },
        migrationId,
        targetCell,
        Date.now(),
      )!;
      return enterStage(acquired, migrationId, 'createReplica', Date.now());
    });
    let state: MigrationState = {
      input: { partition: 'bench', targetCell, canarySteps: [1], waitSeconds: 0, retainSource: false },
      migrationId,
      startedAt: new Date().toISOString(),
      acquire: { sourceCell, targetCell, shards: SHARDS, acquiredAtMs: Date.now() },
      replica: { mode: 'full', sinceHlc: '0' },
    };
    let invocations = 0;
    const t0 = performance.now();
    let result: CopyResult;
    do {
      result = await copy(deps, state);
      invocations += 1;
      state = { ...state, copy: result };
    } while (!result.done);
    const rate = result.itemsCopied / ((performance.now() - t0) / 1000);
    if (result.itemsCopied !== ITEMS) throw new Error(`copied ${result.itemsCopied} of ${ITEMS}`);
    return { rate, invocations };
  }

  await rawRun(); // warm-up (sockets, JIT)
  const raw: number[] = [];
  const copied: number[] = [];
  let invocations = 0;
  for (let run = 0; run < RUNS; run++) {
    raw.push(await rawRun());
    const c = await copyRun();
    copied.push(c.rate);
    invocations = c.invocations;
  }
  await cluster.close();

  const rawRate = median(raw);
  const copyRate = median(copied);
  const ratios = raw.map((r, i) => copied[i] / r);
  const ratio = median(ratios);
  const rows = [
    ['raw BatchWriteItem', rawRate.toFixed(0), raw.map((r) => r.toFixed(0)).join(' / ')],
    ['copy stage', copyRate.toFixed(0), copied.map((r) => r.toFixed(0)).join(' / ')],
  ];
  process.stdout.write(
    `copy throughput, ${ITEMS} items in ${SHARDS} shards, ${cpus().length} CPUs, same in-process dynalite\n\n`,
  );
  process.stdout.write(`${'path'.padEnd(20)} ${'items/s (median)'.padStart(17)}  runs\n`);
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(20)} ${b.padStart(17)}  ${c}\n`);
  process.stdout.write(
    `\ncopy / raw = ${ratio.toFixed(2)}, median of paired runs (${[...ratios]
      .sort((a, b) => a - b)
      .map((r) => r.toFixed(2))
      .join(
        ' ',
      )}); target ≥ 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'}\n${invocations} copy invocation(s) per run; load average ${loadavg()[0].toFixed(2)} on ${cpus().length} CPUs\n`,
  );
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/copy-throughput.json',
    `${JSON.stringify({ generatedAt: new Date().toISOString(), items: ITEMS, shards: SHARDS, runs: RUNS, rawItemsPerSec: raw, copyItemsPerSec: copied, medianRaw: rawRate, medianCopy: copyRate, pairedRatios: ratios, ratio, loadAverage: loadavg()[0], target: 0.8, met: ratio >= 0.8, copyInvocationsPerRun: invocations }, null, 2)}\n`,
  );
}

await main();
