import type { ValueEncoding } from './item-rules.ts';

/**
 * One item as the data tables store it, value still encoded (copies ship the stored bytes unchanged, so
 * compression saves transfer as well as storage).
 */
export interface StoredItem {
  readonly partition: string;
  readonly shard: number;
  readonly key: string;
  /** Checksum range inside the shard (see rangeBucketOf). */
  readonly bucket: number;
  /** Per-item version seen by clients (`If-Match`); +1 on every write, deletes included. */
  readonly version: number;
  /** Encoded hybrid logical clock of the write that produced this state. */
  readonly hlc: string;
  /** A delete leaves a tombstone so that catch-up and move-back deltas carry it. */
  readonly deleted: boolean;
  readonly encoding: ValueEncoding;
  /** JSON text for `json`; compressed bytes otherwise. Empty for tombstones. */
  readonly value: string | Uint8Array;
  /** TTL (epoch seconds) of tombstones. */
  readonly expiresAt?: number;
}

/** The identity of an item in a cell's data table. */
export interface ItemAddress {
  readonly partition: string;
  readonly shard: number;
  readonly key: string;
}
