/**
 * Copy throughput of MigratePartition's copy stage, as a ratio to raw BatchWriteItem throughput on the same
 * dynalite (target ≥ 0.8).
 *
 * Protocol: one in-process dynalite (region us-east-1) with a source cell holding one partition of N items
 * (8 shards, values of ~200 B of JSON); every run writes the same N items into a fresh table of the same
 * definition (a cell data table with its `changes` index).
 * - raw: the N items, already in memory as the attribute maps read from the source (nothing left to marshal),
 *   written with BatchWriteItem (25 per request), 8 shard streams of 500-item pages in parallel: the write path
 *   of the copy with nothing else;
 * - copy: the copy step use case, invoked in a loop exactly as the state machine loops it (bounded pages, a
 *   cursor per shard, the writer lease registered and released in the partition record), reading the source
 *   with parallel Queries while it writes.
 * A warm-up pair, then RUNS pairs in ABBA order (raw first in even pairs, copy first in odd ones, so drift in
 * the machine's load does not favour either), a full GC before every run. Reported: the median and spread of
 * the per-pair ratios of items/s (wall clock), and of CPU time per item (this process's user + system time,
 * which other processes on the machine disturb much less than wall time), with the load average before and
 * after.
 *
 * Run: npx tsx bench/copy-throughput.ts   (COPY_ITEMS, COPY_RUNS override; writes bench/results/copy-throughput.json)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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
import { copy } from '../src/migration/migration-steps.ts';
import { mapBounded } from '../src/support/bounded-parallel.ts';

const ITEMS = Number(process.env.COPY_ITEMS ?? 20_000);
const RUNS = Number(process.env.COPY_RUNS ?? 7);
const SHARDS = 8;
const PAGE = 500;

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

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

const quantile = (xs: readonly number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.ceil(at)] - sorted[lo]) * (at - lo);
};
const median = (xs: readonly number[]) => quantile(xs, 0.5);

interface RunFigures {
  readonly itemsPerSec: number;
  /** CPU time of this process per item, µs. */
  readonly cpuUsPerItem: number;
}

async function timed(run: () => Promise<number>): Promise<RunFigures> {
  fullGc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const n = await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (n !== ITEMS) throw new Error(`wrote ${n} of ${ITEMS} items`);
  return { itemsPerSec: n / seconds, cpuUsPerItem: (cpu.user + cpu.system) / n };
}

interface SetupFigures {
  readonly raw: RunFigures[];
  readonly copied: RunFigures[];
  readonly invocations: number;
}

async function measureSetup(dynaliteThread: boolean): Promise<SetupFigures> {
  const cluster = await EmbeddedCluster.start({ regions: ['us-east-1'], cellsPerRegion: 1, dynaliteThread });
  const [sourceCell] = cluster.cellIds();
  const source = cluster.stores.forCell(sourceCell);
  const seeded = items();
  await mapBounded(
    Array.from({ length: SHARDS }, (_, s) => seeded.filter((i) => i.shard === s)),
    SHARDS,
    async (shardItems) => {
      for (let i = 0; i < shardItems.length; i += PAGE) await source.batchPut(shardItems.slice(i, i + PAGE));
    },
  );
  await cluster.partitions.createIfAbsent({ ...newPartitionRecord('bench', sourceCell, SHARDS, Date.now()) });
  // The raw path writes exactly what the copy writes: the items as read from the source, attribute maps kept.
  const byShard = await mapBounded(
    Array.from({ length: SHARDS }, (_, s) => s),
    SHARDS,
    async (shard) => {
      const out: StoredItem[] = [];
      let after: string | undefined;
      do {
        const page = await source.queryShard('bench', shard, { startAfter: after, limit: PAGE });
        out.push(...page.items);
        after = page.lastKey;
      } while (after !== undefined);
      return out;
    },
  );

  let tableNo = 0;
  const freshCell = async () => {
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

  async function rawRun(): Promise<RunFigures> {
    const target = cluster.stores.forCell(await freshCell());
    return timed(async () => {
      await mapBounded(byShard, SHARDS, async (shardItems) => {
        for (let i = 0; i < shardItems.length; i += PAGE)
          await target.batchPut(shardItems.slice(i, i + PAGE));
      });
      return byShard.reduce((n, s) => n + s.length, 0);
    });
  }

  const deps = localMigrationDeps(cluster, {
    lease: { ...DEFAULT_ROUTING_LEASE, indexLagMs: 0 },
    health: new CellHealth(),
    // The production defaults: 20,000 items and 30 s per invocation, 500-item Query pages, 8 shards at once.
    tuning: { shardConcurrency: SHARDS },
  });

  let invocations = 0;
  async function copyRun(): Promise<RunFigures> {
    const targetCell = await freshCell();
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
    return timed(async () => {
      let result: CopyResult;
      invocations = 0;
      do {
        result = await copy(deps, state);
        invocations += 1;
        state = { ...state, copy: result };
      } while (!result.done);
      return result.itemsCopied;
    });
  }

  await rawRun(); // warm-up (sockets, JIT)
  await copyRun();
  const raw: RunFigures[] = [];
  const copied: RunFigures[] = [];
  for (let pair = 0; pair < RUNS; pair++) {
    if (pair % 2 === 0) {
      raw.push(await rawRun());
      copied.push(await copyRun());
    } else {
      copied.push(await copyRun());
      raw.push(await rawRun());
    }
  }
  await cluster.close();
  return { raw, copied, invocations };
}

const spread = (xs: readonly number[]) =>
  `min ${quantile(xs, 0).toFixed(2)}, quartiles ${quantile(xs, 0.25).toFixed(2)}–${quantile(xs, 0.75).toFixed(2)}, max ${quantile(xs, 1).toFixed(2)}`;
const out = (line = '') => process.stdout.write(`${line}\n`);

function summarize(title: string, { raw, copied, invocations }: SetupFigures) {
  const ratios = raw.map((r, i) => copied[i].itemsPerSec / r.itemsPerSec);
  const cpuRatios = raw.map((r, i) => r.cpuUsPerItem / copied[i].cpuUsPerItem);
  const ratio = median(ratios);
  out(title);
  out(
    `${'path'.padEnd(20)} ${'items/s (median)'.padStart(17)} ${'CPU µs/item'.padStart(12)}  items/s per run`,
  );
  for (const [name, runs] of [
    ['raw BatchWriteItem', raw],
    ['copy stage', copied],
  ] as const) {
    out(
      `${name.padEnd(20)} ${median(runs.map((r) => r.itemsPerSec))
        .toFixed(0)
        .padStart(17)} ${median(runs.map((r) => r.cpuUsPerItem))
        .toFixed(1)
        .padStart(12)}  ${runs.map((r) => r.itemsPerSec.toFixed(0)).join(' / ')}`,
    );
  }
  out(`copy / raw items/s = ${ratio.toFixed(2)} (median of paired runs; ${spread(ratios)})`);
  out(
    `raw / copy CPU per item = ${median(cpuRatios).toFixed(2)} (median of paired runs; ${spread(cpuRatios)})`,
  );
  out(
    `target ≥ 0.80 (items/s): ${ratio >= 0.8 ? 'met' : 'NOT met'}; ${invocations} copy invocation(s) per run`,
  );
  out();
  return {
    rawItemsPerSec: raw.map((r) => r.itemsPerSec),
    copyItemsPerSec: copied.map((r) => r.itemsPerSec),
    rawCpuUsPerItem: raw.map((r) => r.cpuUsPerItem),
    copyCpuUsPerItem: copied.map((r) => r.cpuUsPerItem),
    medianRaw: median(raw.map((r) => r.itemsPerSec)),
    medianCopy: median(copied.map((r) => r.itemsPerSec)),
    pairedRatios: ratios,
    ratio,
    ratioQuartiles: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
    pairedCpuRatios: cpuRatios,
    cpuRatio: median(cpuRatios),
    met: ratio >= 0.8,
    copyInvocationsPerRun: invocations,
  };
}

async function main() {
  const loadBefore = loadavg()[0];
  const ownThread = await measureSetup(true);
  const sharedThread = await measureSetup(false);
  const loadAfter = loadavg()[0];
  out(
    `copy throughput, ${ITEMS} items in ${SHARDS} shards, ${RUNS} ABBA pairs per setup, the same dynalite for both paths`,
  );
  out(
    `load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, on ${cpus().length} CPUs`,
  );
  out();
  const own = summarize('dynalite on its own thread (as DynamoDB serves from its own machines):', ownThread);
  const shared = summarize(
    "dynalite on the client's thread (serving the source Queries costs the copy CPU):",
    sharedThread,
  );
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/copy-throughput.json',
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        items: ITEMS,
        shards: SHARDS,
        pairsPerSetup: RUNS,
        order: 'ABBA',
        loadAverage: { before: loadBefore, after: loadAfter, cpus: cpus().length },
        target: 0.8,
        dynaliteOwnThread: own,
        dynaliteSharedThread: shared,
      },
      null,
      2,
    )}\n`,
  );
}

await main();
