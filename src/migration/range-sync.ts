import { RANGE_BUCKETS } from '../domain/data-plane/key-hash.ts';
import type { CellDataStore } from '../domain/data-plane/ports.ts';
import type { StoredItem } from '../domain/data-plane/stored-item.ts';
import { RepairWindowClosedError } from '../domain/migration/migration-errors.ts';
import { differingRanges, type RangeChecksum, ShardChecksums } from '../domain/migration/range-checksum.ts';
import { mapBounded } from '../support/bounded-parallel.ts';
import type { SyncPair } from './catch-up.ts';
import type { MigrationDeps } from './migration-deps.ts';

/**
 * A tombstone past its TTL counts as absent. DynamoDB's TTL deletes expired items at its own pace, days apart
 * in two tables; judging both sides against one cutoff (taken once per pass) keeps that from making a verify
 * unclean forever. A live item never expires.
 */
function counts(item: StoredItem, expiredBeforeSec: number): boolean {
  return !(item.deleted && item.expiresAt !== undefined && item.expiresAt <= expiredBeforeSec);
}

/** Fold one shard of one cell into per-range checksums (runs near the data; only checksums travel). */
export async function shardChecksums(
  store: CellDataStore,
  partition: string,
  shard: number,
  pageItems: number,
  expiredBeforeSec = 0,
): Promise<RangeChecksum[]> {
  const sums = new ShardChecksums();
  let startAfter: string | undefined;
  do {
    const page = await store.queryShard(partition, shard, { startAfter, limit: pageItems });
    for (const item of page.items) {
      if (counts(item, expiredBeforeSec)) sums.add(item.bucket, item.key, item.hlc, item.deleted);
    }
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
  expiredBeforeSec: number,
): Promise<Map<string, StoredItem>> {
  const items = new Map<string, StoredItem>();
  let startAfter: string | undefined;
  do {
    const page = await store.queryShard(partition, shard, {
      startAfter,
      limit: pageItems,
      ...(buckets.length < RANGE_BUCKETS ? { buckets } : {}),
    });
    for (const item of page.items) if (counts(item, expiredBeforeSec)) items.set(item.key, item);
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
  /**
   * Items where the copy held a newer state than the authoritative side: a write that was never acknowledged
   * (it landed on a cold copy, or on the old source after the switch). Replaced by the authoritative state.
   */
  readonly replacedAhead: number;
  /** Differences left alone because the copy's state is at or above the young bound (see below). */
  readonly leftYoung: number;
}

export interface RangeSyncOptions {
  /**
   * Destructive repairs (removing an item the authoritative side lacks, replacing a newer state) touch only
   * states whose HLC is below this bound. Any acknowledged write that lands after the pass started carries an
   * HLC at or above it (it took its HLC at most maxRequest before landing, on a clock at most `skew` behind),
   * so a pass that outlives its stage (a zombie, a frozen worker) can never remove or overwrite such a write,
   * even on a cell that has become the primary since.
   */
  readonly destructiveBelowHlc: string;
  /** Items of `from` at or above this bound are writes racing the verify (catch-up carries them anyway). */
  readonly youngBoundHlc: string;
  /** Tombstones whose TTL (epoch seconds) is at or before this count as absent on both sides. */
  readonly expiredBeforeSec: number;
  /** Asked before each destructive write; false stops them (the step's writer lease ended). */
  readonly canWrite?: () => boolean;
  /** Limit the work to these shards (bounded steps); default all. */
  readonly shards?: readonly number[];
}

/**
 * Merkle-style verify and repair of `to` against `from` (the authoritative side): compare per-range
 * checksums, then, for the differing ranges only, ship the items that are missing or older (forward-only
 * writes), remove items `from` does not have and replace states `from` never had (both only if unchanged and
 * old enough, see RangeSyncOptions).
 *
 * `to` is read before `from`, never in parallel. Every state `to` holds came from `from` (copies, mirrors and
 * repairs write `from`'s states, and a mirror reaches `from` first), so an item `to` held before `from` was
 * read, and that `from` lacks or has older, was never an acknowledged state of `from`. Read the other way
 * round, a write landing in between would look extra on `to`, and be removed from the copy canary reads use.
 */
export async function verifyAndRepair(
  deps: MigrationDeps,
  pair: SyncPair,
  options: RangeSyncOptions,
): Promise<RangeSyncReport> {
  const pageItems = deps.tuning.queryPageItems;
  const shards = options.shards ?? Array.from({ length: pair.shards }, (_, shard) => shard);
  const canWrite = options.canWrite ?? (() => true);
  const expired = options.expiredBeforeSec;
  const reports = await mapBounded(shards, deps.tuning.shardConcurrency, async (shard) => {
    const copy = await shardChecksums(pair.to, pair.partition, shard, pageItems, expired);
    const source = await shardChecksums(pair.from, pair.partition, shard, pageItems, expired);
    const buckets = differingRanges(source, copy);
    const report = {
      differingRanges: buckets.length,
      repairedOld: 0,
      repairedYoung: 0,
      removed: 0,
      replacedAhead: 0,
      leftYoung: 0,
    };
    if (buckets.length === 0) return report;
    const toItems = await readRanges(pair.to, pair.partition, shard, buckets, pageItems, expired);
    const fromItems = await readRanges(pair.from, pair.partition, shard, buckets, pageItems, expired);
    const toShip: StoredItem[] = [];
    const toReplace: { item: StoredItem; expected: string }[] = [];
    for (const item of fromItems.values()) {
      const other = toItems.get(item.key);
      if (!other || other.hlc < item.hlc) toShip.push(item);
      else if (other.hlc > item.hlc) {
        if (other.hlc < options.destructiveBelowHlc) toReplace.push({ item, expected: other.hlc });
        else report.leftYoung += 1;
      }
    }
    const extras: StoredItem[] = [];
    for (const item of toItems.values()) {
      if (fromItems.has(item.key)) continue;
      if (item.hlc < options.destructiveBelowHlc) extras.push(item);
      else report.leftYoung += 1;
    }
    await mapBounded(toShip, deps.tuning.writeConcurrency, async (item) => {
      if (await pair.to.putIfNewer(item)) {
        if (item.hlc >= options.youngBoundHlc) report.repairedYoung += 1;
        else report.repairedOld += 1;
      }
    });
    await mapBounded(toReplace, deps.tuning.writeConcurrency, async ({ item, expected }) => {
      if (!canWrite()) throw new RepairWindowClosedError('the writer lease ended before the repair was done');
      if (await pair.to.replaceIfUnchanged(item, expected)) report.replacedAhead += 1;
    });
    await mapBounded(extras, deps.tuning.writeConcurrency, async (item) => {
      if (!canWrite()) throw new RepairWindowClosedError('the writer lease ended before the repair was done');
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
      replacedAhead: sum.replacedAhead + r.replacedAhead,
      leftYoung: sum.leftYoung + r.leftYoung,
    }),
    { differingRanges: 0, repairedOld: 0, repairedYoung: 0, removed: 0, replacedAhead: 0, leftYoung: 0 },
  );
}
