import type { CellRecord, CellStatus } from './cell-record.ts';
import type { ValueEncoding } from './item-rules.ts';
import type { PartitionRecord } from './partition-record.ts';
import type { ItemAddress, StoredItem } from './stored-item.ts';

/** The partition metadata service. Reads are strongly consistent; every change is a compare-and-set on version. */
export interface PartitionRepository {
  get(partition: string): Promise<PartitionRecord | undefined>;
  /** Create the record unless one exists; returns whichever record is stored afterwards. */
  createIfAbsent(record: PartitionRecord): Promise<PartitionRecord>;
  /**
   * Read, apply `mutate`, write back on condition that the version did not move; retried on a conflict.
   * `mutate` returns the next record (its version is set by the repository) or `undefined` for "no change".
   * Errors thrown by `mutate` propagate unchanged.
   */
  update(
    partition: string,
    mutate: (current: PartitionRecord) => PartitionRecord | undefined,
  ): Promise<PartitionRecord>;
  list(): Promise<PartitionRecord[]>;
}

export interface CellRepository {
  list(): Promise<CellRecord[]>;
  get(id: string): Promise<CellRecord | undefined>;
  /** Register a cell; a no-op when the same id is already registered. */
  register(cell: CellRecord): Promise<CellRecord>;
  setStatus(id: string, status: CellStatus): Promise<CellRecord>;
}

export interface AccessCount {
  readonly partition: string;
  readonly region: string;
  /** Start of the time bucket, epoch ms. */
  readonly bucketStartMs: number;
  /** Requests, reads and writes together. */
  readonly count: number;
  /** The writes among them; undefined for counters recorded before reads and writes were told apart. */
  readonly writes?: number;
}

export interface CoAccessCount {
  readonly a: string;
  readonly b: string;
  readonly bucketStartMs: number;
  readonly count: number;
}

/** Counters per partition × region × time bucket, and co-access pairs, each with a TTL. */
export interface AccessStatsRepository {
  add(counts: readonly AccessCount[], coAccess: readonly CoAccessCount[]): Promise<void>;
  /** Counters of the partition, from `sinceMs` on when given (a ranged read: the profiler needs its lookback only). */
  countsFor(partition: string, sinceMs?: number): Promise<AccessCount[]>;
  coAccessFor(partition: string, sinceMs?: number): Promise<CoAccessCount[]>;
  /**
   * The counters recorded for `regions` of these partitions in exactly these buckets (a batch read by key); the
   * counters that do not exist are left out.
   */
  countsByKey?(
    partitions: readonly string[],
    bucketStartsMs: readonly number[],
    regions: readonly string[],
  ): Promise<AccessCount[]>;
}

/** A write coming from a client, applied under the per-item HLC and version rules. */
export interface UserWrite {
  readonly address: ItemAddress;
  readonly bucket: number;
  readonly hlc: string;
  readonly kind: 'put' | 'delete';
  readonly encoding?: ValueEncoding;
  readonly value?: string | Uint8Array;
  /** Expected current version; 0 means "only if no live item exists". */
  readonly ifMatch?: number;
  /** TTL of a tombstone, epoch seconds. */
  readonly tombstoneExpiresAt?: number;
}

export type UserWriteResult =
  | { readonly applied: true; readonly version: number }
  /** The item's HLC is at or above ours (clock behind): observe it and retry with a later HLC. */
  | { readonly applied: false; readonly reason: 'stale-clock'; readonly currentHlc: string }
  | { readonly applied: false; readonly reason: 'version-mismatch'; readonly currentVersion?: number }
  | { readonly applied: false; readonly reason: 'not-found' };

export interface ShardPage {
  readonly items: StoredItem[];
  /** Key to resume after, absent when the shard is exhausted. */
  readonly lastKey?: string;
}

export interface ChangedItemRef {
  readonly address: ItemAddress;
  readonly hlc: string;
}

export interface ChangePage {
  readonly changes: ChangedItemRef[];
  /** Opaque resume point, absent when exhausted. */
  readonly next?: { readonly key: string; readonly hlc: string };
}

/** Bytes and requests a store has moved, for throughput and delta accounting. */
export interface TransferCounters {
  itemsWritten: number;
  bytesWritten: number;
  itemsRead: number;
  bytesRead: number;
  conditionalWritesRefused: number;
  /** Bytes of version probes (key and HLC only) answered by this store. */
  bytesProbed: number;
}

/** Options of the unconditional batched writes, whose every attempt must fall inside a writer lease. */
export interface BatchWriteOptions {
  /** Aborts requests in flight. */
  readonly signal?: AbortSignal;
  /** Asked before every attempt (retries of unprocessed items included); false stops sending. */
  readonly canSend?: () => boolean;
}

/** One cell's data table. The only place that knows DynamoDB's item layout. */
export interface CellDataStore {
  readonly cellId: string;
  readonly counters: TransferCounters;
  /** Size of an item as this table stores it, by DynamoDB's rules (names and values). */
  itemSize(item: StoredItem): number;
  getItem(address: ItemAddress): Promise<StoredItem | undefined>;
  batchGet(addresses: readonly ItemAddress[]): Promise<StoredItem[]>;
  /** The HLC of each item this store holds (key → HLC), read consistently without values. */
  probeVersions(addresses: readonly ItemAddress[]): Promise<Map<string, string>>;
  writeUserItem(write: UserWrite, options?: { signal?: AbortSignal }): Promise<UserWriteResult>;
  /** Write a copy of an item if the cell has no newer state of it (HLC order). Returns whether it was written. */
  putIfNewer(item: StoredItem, options?: { signal?: AbortSignal }): Promise<boolean>;
  /** Remove an item only if it is still in the state with this HLC. */
  deleteIfUnchanged(address: ItemAddress, hlc: string): Promise<boolean>;
  /**
   * Replace an item only if it is still in the state with `expectedHlc`, even with an older state (a repair
   * from the authoritative copy of an item whose newer state was never acknowledged). Returns whether it was
   * written.
   */
  replaceIfUnchanged(item: StoredItem, expectedHlc: string): Promise<boolean>;
  /** Unconditional batched writes. Only for steps protected by a writer lease (see PartitionFence). */
  batchPut(items: readonly StoredItem[], options?: BatchWriteOptions): Promise<void>;
  batchDelete(addresses: readonly ItemAddress[], options?: BatchWriteOptions): Promise<void>;
  /** Items of one shard in key order, strongly consistent; optionally only some checksum ranges. */
  queryShard(
    partition: string,
    shard: number,
    options: { readonly startAfter?: string; readonly limit: number; readonly buckets?: readonly number[] },
  ): Promise<ShardPage>;
  /** Items of one shard changed at or after an HLC bound, in HLC order (the `changes` index). */
  queryChanges(
    partition: string,
    shard: number,
    options: {
      readonly sinceHlc: string;
      readonly startAfter?: { readonly key: string; readonly hlc: string };
      readonly limit: number;
    },
  ): Promise<ChangePage>;
}

/** Resolves a cell id to its data store (each cell's table lives in its own region). */
export interface CellDataStores {
  forCell(cellId: string): CellDataStore;
}
