/**
 * Stable 32-bit FNV-1a over the UTF-16 code units of a string, with a seed so that the shard, the range bucket
 * and the canary point of one key are independent draws.
 */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32): FNV alone leaves the low bits weak for short keys.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

const SHARD_SEED = 0x811c9dc5;
const BUCKET_SEED = 0x9747b28c;
const CANARY_SEED = 0x5bd1e995;

/** Number of checksum ranges per shard (the leaves of the Merkle-style comparison). */
export const RANGE_BUCKETS = 16;

/** Which DynamoDB partition key (`partition#shard`) of its partition a key lives under. */
export function shardOf(key: string, shards: number): number {
  return fnv1a32(key, SHARD_SEED) % shards;
}

/** The checksum range of a key inside its shard. */
export function rangeBucketOf(key: string): number {
  return fnv1a32(key, BUCKET_SEED) % RANGE_BUCKETS;
}

/** A key's sticky canary point in [0, 1): reads go to the target when the point is below the read weight. */
export function canaryPointOf(key: string): number {
  return fnv1a32(key, CANARY_SEED) / 2 ** 32;
}
