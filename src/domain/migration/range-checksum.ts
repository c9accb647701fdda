import { fnv1a32, RANGE_BUCKETS } from '../data-plane/key-hash.ts';

/**
 * Order-independent checksums per key range (shard × range bucket), the leaves of a Merkle-style comparison:
 * each side folds its items into its own ranges wherever the data lives, only the checksums cross regions, and
 * only the ranges whose checksums differ are repaired (as Cassandra's repair ships only differing ranges).
 *
 * An item contributes a 52-bit digest of (key, HLC, tombstone); a range's checksum is the item count and the
 * sum of digests modulo 2^52 (exact in float64, and unlike XOR a duplicated entry cannot cancel out).
 */
export interface RangeChecksum {
  count: number;
  sum: number;
}

const MOD = 2 ** 52;

export function itemDigest(key: string, hlc: string, deleted: boolean): number {
  const text = `${key}\u0000${hlc}\u0000${deleted ? 1 : 0}`;
  const high = fnv1a32(text, 0x2545f491);
  const low = fnv1a32(text, 0x9e3779b9) & 0xfffff;
  return high * 2 ** 20 + low;
}

/** Checksums of one shard: one entry per range bucket. */
export class ShardChecksums {
  readonly ranges: RangeChecksum[];
  /** Start from partial checksums (a copy of them, e.g. resumed from a step's state), or from empty ones. */
  constructor(partial?: readonly RangeChecksum[]) {
    if (partial && partial.length !== RANGE_BUCKETS) {
      throw new RangeError(`expected ${RANGE_BUCKETS} range checksums, got ${partial.length}`);
    }
    this.ranges = partial
      ? partial.map((r) => ({ count: r.count, sum: r.sum }))
      : Array.from({ length: RANGE_BUCKETS }, () => ({ count: 0, sum: 0 }));
  }

  add(bucket: number, key: string, hlc: string, deleted: boolean): void {
    const range = this.ranges[bucket];
    range.count += 1;
    range.sum = (range.sum + itemDigest(key, hlc, deleted)) % MOD;
  }

  toJSON(): RangeChecksum[] {
    return this.ranges;
  }
}

/** Ranges (bucket numbers) whose checksums differ between two sides of one shard. */
export function differingRanges(a: readonly RangeChecksum[], b: readonly RangeChecksum[]): number[] {
  const out: number[] = [];
  for (let bucket = 0; bucket < RANGE_BUCKETS; bucket++) {
    const x = a[bucket];
    const y = b[bucket];
    if (x.count !== y.count || x.sum !== y.sum) out.push(bucket);
  }
  return out;
}
