import { RANGE_BUCKETS } from '../domain/data-plane/key-hash.ts';
import type { ShardPage } from '../domain/data-plane/ports.ts';
import type { StoredItem } from '../domain/data-plane/stored-item.ts';
import { RepairWindowClosedError } from '../domain/migration/migration-errors.ts';
import type { PassProgress, ShardScan } from '../domain/migration/migration-state.ts';
import { differingRanges, ShardChecksums } from '../domain/migration/range-checksum.ts';
import { mapBounded } from '../support/bounded-parallel.ts';
import type { SyncPair } from './catch-up.ts';
import type { MigrationDeps } from './migration-deps.ts';

/**
 * A tombstone past its TTL counts as absent. DynamoDB's TTL deletes expired items at its own pace, days apart
 * in two tables; judging both sides against one cutoff (taken once per piece of a pass, for both sides) keeps
 * that from making a verify unclean forever. A live item never expires.
 */
function counts(item: StoredItem, expiredBeforeSec: number): boolean {
  return !(item.deleted && item.expiresAt !== undefined && item.expiresAt <= expiredBeforeSec);
}

/** DynamoDB orders string sort keys by their UTF-8 bytes (and so does dynalite), not by UTF-16 code units. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export type RangeSyncReport = Pick<
  PassProgress,
  'differingRanges' | 'repairedOld' | 'repairedYoung' | 'removed' | 'replacedAhead' | 'leftYoung'
>;
// Field notes for RangeSyncReport:
// - repairedOld: items older than the young bound that differed (real divergence, not writes racing the verify);
// - replacedAhead: items where the copy held a newer state than the authoritative side, a write that was never
//   acknowledged (it landed on a cold copy, or on the old source after the switch), replaced by the
//   authoritative state;
// - leftYoung: differences left alone because the copy's state is at or above the destructive bound.

export interface RangeSyncOptions {
  /**
   * Destructive repairs (removing an item the authoritative side lacks, replacing a newer state) touch only
   * states whose HLC is below this bound. Any acknowledged write that lands after the invocation started carries
   * an HLC at or above it (it took its HLC at most maxRequest before landing, on a clock at most `skew` behind),
   * so work that outlives its stage (a zombie, a frozen worker) can never remove or overwrite such a write, even
   * on a cell that has become the primary since.
   */
  readonly destructiveBelowHlc: string;
  /** Items of `from` at or above this bound are writes racing the verify (catch-up carries them anyway). */
  readonly youngBoundHlc: string;
  /** Tombstones whose TTL (epoch seconds) is at or before this count as absent on both sides. */
  readonly expiredBeforeSec: number;
  /** Asked before each destructive write; false stops them (the step's writer lease ended). */
  readonly canWrite?: () => boolean;
  /**
   * No new piece of work starts at or after this `deps.monoNow()` instant (the step's budget); what is left is
   * returned in the progress. Each call does at least one piece, so a pass always advances. @default no limit
   */
  readonly stopAt?: number;
}

export function newPass(): PassProgress {
  return {
    nextShard: 0,
    open: [],
    differingRanges: 0,
    repairedOld: 0,
    repairedYoung: 0,
    removed: 0,
    replacedAhead: 0,
    leftYoung: 0,
  };
}

/** Whether a pass has covered every shard. */
export function passComplete(pass: PassProgress, shards: number): boolean {
  return pass.nextShard >= shards && pass.open.length === 0;
}

function emptySums(): NonNullable<ShardScan['sums']> {
  return { to: new ShardChecksums().ranges, from: new ShardChecksums().ranges };
}

/**
 * Merkle-style verify and repair of `to` against `from` (the authoritative side), resumable: per shard, fold
 * each side into per-range checksums, compare them, then, for the differing ranges only, ship the items that
 * are missing or older (forward-only writes), remove items `from` does not have and replace states `from`
 * never had (both only if unchanged and old enough, see RangeSyncOptions).
 *
 * A shard is read in pieces, in key order: a page of `to`, then a page of `from`, each piece covering the keys
 * up to the smaller of the two pages' last keys (the rest is read again by the next piece). A piece is bounded
 * (two pages), so a shard of any size is verified over as many invocations as it takes; the cursor and the
 * partial checksums travel in the execution state, and a step retried after a timeout resumes from the last
 * progress it returned.
 *
 * Within every piece `to` is read before `from`, never in parallel, so each key is read on the copy before it
 * is read on the authoritative side. Every state the copy holds came from `from` (copies, mirrors and repairs
 * write `from`'s states, and a mirror reaches `from` first), so an item the copy held before `from` was read,
 * and that `from` lacks or has older, was never an acknowledged state of `from`. Read the other way round, a
 * write landing in between would look extra on `to`, and be removed from the copy canary reads use.
 *
 * A write that lands on a key after its piece was read is not seen by this pass, whether the pass is one
 * invocation or many: its checksum already holds the key's earlier state on both sides. The pass does not need
 * to see it: while a verify runs, every acknowledged write is mirrored (it is on both sides), and a frozen
 * primary receives none (docs/migration.md, "Before reads shift" and "Verify and repair").
 */
export async function continuePass(
  deps: MigrationDeps,
  pair: SyncPair,
  previous: PassProgress,
  options: RangeSyncOptions,
): Promise<PassProgress> {
  const progress: PassProgress = { ...previous, open: [] };
  const queue = previous.open.map((scan) => ({ ...scan, sums: scan.sums && structuredClone(scan.sums) }));
  const unfinished: ShardScan[] = [];
  let pieces = 0;
  let windowClosed = false;
  const timeLeft = () => !windowClosed && (options.stopAt === undefined || deps.monoNow() < options.stopAt);
  // Shards left open by the last invocation first, then new ones; nothing new once the budget is spent (but the
  // first pieces of a call always run, so every call advances).
  const take = (): ShardScan | undefined => {
    if (pieces > 0 && !timeLeft()) return undefined;
    const open = queue.shift();
    if (open) return open;
    if (progress.nextShard >= pair.shards) return undefined;
    return { shard: progress.nextShard++, after: null, sums: emptySums(), repair: null };
  };
  const workers = Array.from({ length: Math.max(1, deps.tuning.shardConcurrency) }, (_, i) => i);
  await mapBounded(workers, workers.length, async () => {
    for (let scan = take(); scan; scan = take()) {
      let done: boolean;
      do {
        const outcome = await piece(deps, pair, scan, progress, options);
        // A piece whose destructive repairs found the writer lease over is left for the next invocation.
        if (outcome === 'window-closed') windowClosed = true;
        done = outcome === 'done';
        pieces += 1;
      } while (!done && timeLeft());
      if (!done) unfinished.push(scan);
    }
  });
  progress.open = [...unfinished, ...queue].sort((a, b) => a.shard - b.shard);
  return progress;
}

/** One bounded piece of one shard. Updates `scan` (unless the piece could not finish) and the pass's counts. */
async function piece(
  deps: MigrationDeps,
  pair: SyncPair,
  scan: ShardScan,
  progress: PassProgress,
  options: RangeSyncOptions,
): Promise<'done' | 'more' | 'window-closed'> {
  const buckets = scan.repair;
  const read = (store: SyncPair['to']): Promise<ShardPage> =>
    store.queryShard(pair.partition, scan.shard, {
      startAfter: scan.after ?? undefined,
      limit: deps.tuning.queryPageItems,
      ...(buckets && buckets.length < RANGE_BUCKETS ? { buckets } : {}),
    });
  let toPage: ShardPage;
  let fromPage: ShardPage;
  if (deps.tuning.unsafeReadSourceFirst) {
    fromPage = await read(pair.from);
    toPage = await read(pair.to);
  } else {
    toPage = await read(pair.to);
    fromPage = await read(pair.from);
  }
  // The piece covers the keys both pages cover: up to the smaller last key (undefined: a side's end).
  const upTo =
    toPage.lastKey === undefined
      ? fromPage.lastKey
      : fromPage.lastKey === undefined
        ? toPage.lastKey
        : compareKeys(toPage.lastKey, fromPage.lastKey) <= 0
          ? toPage.lastKey
          : fromPage.lastKey;
  const expired = options.expiredBeforeSec;
  const within = (item: StoredItem) =>
    (upTo === undefined || compareKeys(item.key, upTo) <= 0) && counts(item, expired);
  const toItems = toPage.items.filter(within);
  const fromItems = fromPage.items.filter(within);

  if (buckets === null) {
    const sums = scan.sums ?? emptySums();
    const to = new ShardChecksums(sums.to);
    const from = new ShardChecksums(sums.from);
    for (const item of toItems) to.add(item.bucket, item.key, item.hlc, item.deleted);
    for (const item of fromItems) from.add(item.bucket, item.key, item.hlc, item.deleted);
    scan.sums = { to: to.ranges, from: from.ranges };
    if (upTo !== undefined) {
      scan.after = upTo;
      return 'more';
    }
    const differing = differingRanges(from.ranges, to.ranges);
    progress.differingRanges += differing.length;
    if (differing.length === 0) return 'done';
    // Repair phase: the differing ranges, read again from the start of the shard.
    scan.sums = null;
    scan.repair = differing;
    scan.after = null;
    return 'more';
  }

  if (!(await repairPiece(deps, pair, toItems, fromItems, progress, options))) return 'window-closed';
  if (upTo === undefined) return 'done';
  scan.after = upTo;
  return 'more';
}

/**
 * Compare one piece's items key by key and repair the copy (see continuePass). Returns false, before any
 * destructive write, when there are some to make and the writer lease no longer allows them: the piece is then
 * done again by the next invocation (its forward-only repairs are harmless to repeat).
 */
async function repairPiece(
  deps: MigrationDeps,
  pair: SyncPair,
  toList: readonly StoredItem[],
  fromList: readonly StoredItem[],
  progress: PassProgress,
  options: RangeSyncOptions,
): Promise<boolean> {
  const canWrite = options.canWrite ?? (() => true);
  const toItems = new Map(toList.map((item) => [item.key, item]));
  const fromKeys = new Set(fromList.map((item) => item.key));
  const toShip: StoredItem[] = [];
  const toReplace: { item: StoredItem; expected: string }[] = [];
  let young = 0;
  for (const item of fromList) {
    const other = toItems.get(item.key);
    if (!other || other.hlc < item.hlc) toShip.push(item);
    else if (other.hlc > item.hlc) {
      if (other.hlc < options.destructiveBelowHlc) toReplace.push({ item, expected: other.hlc });
      else young += 1;
    }
  }
  const extras: StoredItem[] = [];
  for (const item of toList) {
    if (fromKeys.has(item.key)) continue;
    if (item.hlc < options.destructiveBelowHlc) extras.push(item);
    else young += 1;
  }
  await mapBounded(toShip, deps.tuning.writeConcurrency, async (item) => {
    if (await pair.to.putIfNewer(item)) {
      if (item.hlc >= options.youngBoundHlc) progress.repairedYoung += 1;
      else progress.repairedOld += 1;
    }
  });
  if (toReplace.length + extras.length > 0 && !canWrite()) return false;
  await mapBounded(toReplace, deps.tuning.writeConcurrency, async ({ item, expected }) => {
    if (!canWrite()) throw new RepairWindowClosedError('the writer lease ended before the repair was done');
    if (await pair.to.replaceIfUnchanged(item, expected)) progress.replacedAhead += 1;
  });
  await mapBounded(extras, deps.tuning.writeConcurrency, async (item) => {
    if (!canWrite()) throw new RepairWindowClosedError('the writer lease ended before the repair was done');
    if (await pair.to.deleteIfUnchanged(item, item.hlc)) progress.removed += 1;
  });
  progress.leftYoung += young;
  return true;
}

/** A whole verify-and-repair pass in one call (no budget): its counts. */
export async function verifyAndRepair(
  deps: MigrationDeps,
  pair: SyncPair,
  options: Omit<RangeSyncOptions, 'stopAt'>,
): Promise<RangeSyncReport> {
  const { nextShard: _next, open: _open, ...report } = await continuePass(deps, pair, newPass(), options);
  return report;
}
