/**
 * The profiler's partition size probe (src/adapters/dynamodb/partition-size-probe.ts) on dynalite: accuracy
 * against the true stored bytes, read units consumed and time per probe, for partitions from a few KB to tens
 * of MB, with the default sample (2,000 items, then extrapolate over the shards) and reading every shard; then
 * what refreshing a fleet of 100,000 partitions costs at the measured read units per byte.
 *
 * dynalite charges Query pages as DynamoDB does (item sizes summed per page, rounded up to 4 KB, 0.5 unit per
 * 4 KB eventually consistent), so read units here are what DynamoDB would charge; times are dynalite's on this
 * machine (a local LevelDB), not DynamoDB's.
 *
 * Targets: every estimate within 2× of the stored bytes (the contract; expected within a few %), and a probe's
 * read units at most 2 × (bytes read / 8 KiB) + 1 per shard read: large pages are read once; a page of at most
 * 16 KiB is read twice (count, then items for an exact sum), and DynamoDB charges at least 0.5 unit a page.
 *
 * Run: npx tsx bench/partition-size-probe.ts   (writes bench/results/partition-size-probe.json)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { DynamoCellDataStore, storedItemSize } from '../src/adapters/dynamodb/cell-data-store.ts';
import { createDynamoClient } from '../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionSizeProbe } from '../src/adapters/dynamodb/partition-size-probe.ts';
import { cellDataTableDefinition, ensureTable } from '../src/adapters/dynamodb/table-definitions.ts';
import type { CellRecord } from '../src/domain/data-plane/cell-record.ts';
import { rangeBucketOf, shardOf } from '../src/domain/data-plane/key-hash.ts';
import { newPartitionRecord } from '../src/domain/data-plane/partition-record.ts';
import type { StoredItem } from '../src/domain/data-plane/stored-item.ts';
import { hlcLowerBound } from '../src/domain/migration/hlc.ts';
import { startDynalite } from '../src/local/dynalite-server.ts';

const SHARDS = 8;
const TABLE = 'bench-size-probe';
/** On-demand read request units, US dollars per million (us-east-1 list price; an assumption of this table). */
const DOLLARS_PER_MILLION_READ_UNITS = 0.125;

interface Workload {
  readonly name: string;
  readonly items: number;
  /** Value bytes: uniform in [min, max] (random binary, as compressed values are). */
  readonly min: number;
  readonly max: number;
}

const WORKLOADS: readonly Workload[] = [
  { name: '5 KB', items: 20, min: 100, max: 400 },
  { name: '100 KB', items: 400, min: 100, max: 400 },
  { name: '1 MB', items: 1500, min: 200, max: 1200 },
  { name: '10 MB', items: 6000, min: 500, max: 3000 },
  { name: '40 MB', items: 8000, min: 2000, max: 8000 },
];

function itemsOf(partition: string, w: Workload): StoredItem[] {
  return Array.from({ length: w.items }, (_, i) => {
    const key = `${partition}/item-${i.toString().padStart(7, '0')}`;
    const n = w.min + Math.floor(Math.random() * (w.max - w.min + 1));
    return {
      partition,
      shard: shardOf(key, SHARDS),
      key,
      bucket: rangeBucketOf(key),
      version: 1,
      hlc: hlcLowerBound(1_700_000_000_000 + i),
      deleted: false,
      encoding: 'zstd',
      value: new Uint8Array(randomBytes(n)),
    };
  });
}

async function main(): Promise<void> {
  const dynamo = await startDynalite();
  const client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
  await ensureTable(client, cellDataTableDefinition(TABLE));
  const store = new DynamoCellDataStore('bench-cell', client, TABLE);
  const cell: CellRecord = {
    id: 'bench-cell',
    region: 'us-east-1',
    table: TABLE,
    capacityOpsPerSec: 1e6,
    capacityBytes: 1e12,
    status: 'ACTIVE',
    version: 1,
  };
  const probes = {
    sampled: new DynamoPartitionSizeProbe(() => client),
    every: new DynamoPartitionSizeProbe(() => client, { sampleItems: Number.POSITIVE_INFINITY }),
  };
  const rows: Record<string, unknown>[] = [];
  let pass = true;
  console.log(`size probe on dynalite, ${SHARDS} shards per partition\n`);
  console.log(
    'partition  items   stored bytes | probe     shards  measured bytes  ratio  read units  units/(bytes/8KiB)  ms',
  );
  for (const w of WORKLOADS) {
    const partition = `p-${w.name.replace(/\s/g, '')}`;
    const items = itemsOf(partition, w);
    for (let i = 0; i < items.length; i += 500) await store.batchPut(items.slice(i, i + 500));
    const stored = items.reduce((sum, item) => sum + storedItemSize(item), 0);
    const record = newPartitionRecord(partition, cell.id, SHARDS, 0);
    for (const [mode, probe] of Object.entries(probes)) {
      const t0 = performance.now();
      const m = await probe.measure(record, cell);
      const ms = performance.now() - t0;
      const ratio = m.sizeBytes / stored;
      const unitsPerRead = m.readUnits / Math.max(1, (stored * (m.shardsRead / SHARDS)) / 8192);
      const dataUnits = (stored * (m.shardsRead / SHARDS)) / 8192;
      const ok = ratio > 0.5 && ratio < 2 && m.readUnits <= 2 * dataUnits + m.shardsRead;
      pass &&= ok;
      rows.push({
        partition: w.name,
        items: w.items,
        storedBytes: stored,
        probe: mode,
        shardsRead: m.shardsRead,
        measuredBytes: m.sizeBytes,
        ratio,
        readUnits: m.readUnits,
        readUnitsPerDataUnit: unitsPerRead,
        method: m.method,
        ms,
        ok,
      });
      console.log(
        `${w.name.padEnd(9)} ${String(w.items).padStart(6)} ${String(stored).padStart(14)} | ${mode.padEnd(8)} ${`${m.shardsRead}/${SHARDS}`.padStart(6)} ${String(m.sizeBytes).padStart(15)} ${ratio.toFixed(3).padStart(6)} ${String(m.readUnits).padStart(11)} ${unitsPerRead.toFixed(2).padStart(18)} ${ms.toFixed(0).padStart(5)}${ok ? '' : '  FAIL'}`,
      );
    }
  }

  // A fleet of 100,000 partitions refreshed once a day (the default max age), at the measured cost per byte:
  // bytes read / 8 KiB, plus the floor of 0.5 unit per Query page (at least one page per shard read).
  const fleet = [100e3, 1e6, 100e6].map((meanBytes) => {
    // Sampling stops after the shard that brings the count to 2,000 items (~1 KB items here).
    const itemsPerShard = meanBytes / 1024 / SHARDS;
    const shardsRead = Math.min(SHARDS, Math.ceil(2000 / Math.max(1, itemsPerShard)));
    const floor = (shards: number) => 100_000 * shards * 0.5;
    const all = (100_000 * meanBytes) / 8192 + floor(SHARDS);
    const sampled = (100_000 * meanBytes * (shardsRead / SHARDS)) / 8192 + floor(shardsRead);
    return {
      meanPartitionBytes: meanBytes,
      readUnitsPerDayAll: all,
      readUnitsPerDaySampled: sampled,
      dollarsPerDaySampled: (sampled * DOLLARS_PER_MILLION_READ_UNITS) / 1e6,
    };
  });
  console.log('\n100,000 partitions, each measured once a day (~1 KB items, 8 shards):');
  console.log('mean size | read units/day, all shards | sampled | $/day sampled (at $0.125 per million)');
  for (const f of fleet)
    console.log(
      `${String(f.meanPartitionBytes).padStart(9)} | ${f.readUnitsPerDayAll.toExponential(2).padStart(26)} | ${f.readUnitsPerDaySampled.toExponential(2).padStart(7)} | ${f.dollarsPerDaySampled.toFixed(2)}`,
    );
  console.log(
    `\n${pass ? 'PASS' : 'FAIL'}: every estimate within 2x; read units at most 2 x bytes read/8KiB + 1 per shard`,
  );

  const out = {
    benchmark: 'partition-size-probe',
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    shardsPerPartition: SHARDS,
    pass,
    probes: rows,
    fleet,
    dollarsPerMillionReadUnits: DOLLARS_PER_MILLION_READ_UNITS,
  };
  await mkdir(new URL('results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('results/partition-size-probe.json', import.meta.url),
    `${JSON.stringify(out, null, 2)}\n`,
  );
  client.destroy();
  await dynamo.close();
  if (!pass) process.exitCode = 1;
}

await main();
