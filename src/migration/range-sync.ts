import { RANGE_BUCKETS } from '../domain/data-plane/key-hash.ts';
import type { CellDataStore } from '../domain/data-plane/ports.ts';
import type { StoredItem } from '../domain/data-plane/stored-item.ts';
import { differingRanges, type RangeChecksum, ShardChecksums } from '../domain/migration/range-checksum.ts';
import { mapBounded } from './bounded-parallel.ts';
import type { SyncPair } from './catch-up.ts';
import type { MigrationDeps } from './migration-deps.ts';

/** Fold one shard of one cell into per-range checksums (runs near the data; only checksums travel). */
export async function shardChecksums(
  store: CellDataStore,
  partition: string,
  shard: number,
  pageItems: number,
): Promise<RangeChecksum[]> {
  const sums = new ShardChecksums();
  let startAfter: string | undefined;
  do {
    const page = await store.queryShard(partition, shard, { startAfter, limit: pageItems });
    for (const item of page.items) sums.add(item.bucket, item.key, item.hlc, item.deleted);
    startAfter = page.lastKey;
  } while (startAfter !== undefined);
  return sums.ranges;
}

async function readRanges(
  store: CellDataStore,
  partition: string,
  shard: number,
  buckets: number[],
  pageItems: number,
): Promise<Map<string, StoredItem>> {
  const items = new Map<string, StoredItem>();
  let startAfter: string | undefined;
  do {
    const page = await store.queryShard(partition, shard, {
      startAfter,
      limit: pageItems,
      ...(buckets.length < RANGE_BUCKETS ? { buckets } : {}),
    });
    for (const item of page.items) items.set(item.key, item);
    startAfter = page.lastKey;
  } while (startAfter !== undefined);
  return items;
}

export interface RangeSyncReport {
  readonly differingRanges: number;
  /** Items older than the young bound that differed: real divergence (not writes racing the verify). */
  readonly repairedOld: number;
  readonly repairedYoung: number;
  readonly removed: number;
  /** Items where the copy is ahead of the source: cannot be repaired by shipping from the source. */
  readonly aheadOfSource: number;
}

/**
 * Merkle-style verify and repair of `to` against `from`: compare per-range checksums, then, for the differing
 * ranges only, ship the items that are missing or older (forward-only writes) and remove items `from` does not
 * have (only if they are still in the state that was read). Items whose source state is at or above
 * `youngBoundHlc` were written while the verify ran; catch-up carries them anyway, so they do not make the
 * verify unclean. `shards` limits the work to some shards (bounded steps); default all.
 */
export async function verifyAndRepair(
  deps: MigrationDeps,
  pair: SyncPair,
  youngBoundHlc: string,
  shards: readonly number[] = Array.from({ length: pair.shards }, (_, shard) => shard),
): Promise<RangeSyncReport> {
  const pageItems = deps.tuning.queryPageItems;
  const reports = await mapBounded(shards, deps.tuning.shardConcurrency, async (shard) => {
    const [source, copy] = await Promise.all([
      shardChecksums(pair.from, pair.partition, shard, pageItems),
      shardChecksums(pair.to, pair.partition, shard, pageItems),
    ]);
    const buckets = differingRanges(source, copy);
    const report = {
      differingRanges: buckets.length,
      repairedOld: 0,
      repairedYoung: 0,
      removed: 0,
      aheadOfSource: 0,
    };
    if (buckets.length === 0) return report;
    const [fromItems, toItems] = await Promise.all([
      readRanges(pair.from, pair.partition, shard, buckets, pageItems),
      readRanges(pair.to, pair.partition, shard, buckets, pageItems),
    ]);
    const toShip: StoredItem[] = [];
    for (const item of fromItems.values()) {
      const other = toItems.get(item.key);
      if (!other || other.hlc < item.hlc) toShip.push(item);
      else if (other.hlc > item.hlc) report.aheadOfSource += 1;
    }
    const extras = [...toItems.values()].filter((item) => !fromItems.has(item.key));
    await mapBounded(toShip, deps.tuning.writeConcurrency, async (item) => {
      if (await pair.to.putIfNewer(item)) {
        if (item.hlc >= youngBoundHlc) report.repairedYoung += 1;
        else report.repairedOld += 1;
      }
    });
    await mapBounded(extras, deps.tuning.writeConcurrency, async (item) => {
      if (await pair.to.deleteIfUnchanged(item, item.hlc)) report.removed += 1;
    });
    return report;
  });
  return reports.reduce(
    (sum, r) => ({
      differingRanges: sum.differingRanges + r.differingRanges,
      repairedOld: sum.repairedOld + r.repairedOld,
      repairedYoung: sum.repairedYoung + r.repairedYoung,
      removed: sum.removed + r.removed,
      aheadOfSource: sum.aheadOfSource + r.aheadOfSource,
    }),
    { differingRanges: 0, repairedOld: 0, repairedYoung: 0, removed: 0, aheadOfSource: 0 },
  );
}
