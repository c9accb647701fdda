import type { AccessCount, CoAccessCount } from '../domain/data-plane/ports.ts';
import type { AccessHistorySource } from '../domain/profiling/ports.ts';
import { mapBounded } from '../support/bounded-parallel.ts';

/** What the profiler reads of one partition: its counters and co-access pairs from the lookback on. */
export interface PartitionAccessHistory {
  readonly counts: AccessCount[];
  readonly coAccess: CoAccessCount[];
}

export interface AccessHistoryCacheOptions {
  /** Width of the recorder's buckets (the counters' keys). */
  readonly accessBucketMs: number;
  /** Partitions whose history is kept between cycles at most (the oldest entries go first). */
  readonly maxPartitions: number;
  /**
   * Buckets before the newest one read last time that are read again: counts flushed late into a bucket already
   * read (an interceptor's flush interval, a retried flush) are picked up by the next cycle.
   */
  readonly rereadBuckets: number;
  /**
   * Each partition's history is read whole (co-access pairs included, whose keys name the other partition and
   * cannot be read by key) at least this often; the partitions' turns are spread over the period by a hash.
   */
  readonly fullReadEveryMs: number;
  /** Whole reads in flight at once. */
  readonly readConcurrency: number;
}

interface Entry {
  /** Counters by `bucket#region`. */
  readonly counts: Map<string, AccessCount>;
  coAccess: CoAccessCount[];
  /** Buckets from this one on were still open at the last read (read again next time). */
  openFromMs: number;
  /** The next whole read is due at this time. */
  fullReadDueMs: number;
  /** The kept history starts here (counters before it were never read or have been dropped). */
  coveredFromMs: number;
}

/** An entry this many buckets behind is read whole again (a long pause, a clock that jumped). */
const MAX_INCREMENTAL_BUCKETS = 64;

function counterKey(c: AccessCount): string {
  return `${c.bucketStartMs}#${c.region}`;
}

/** FNV-1a, for spreading the partitions' turns (whole reads, lookback anchors) over a period. */
export function hashFraction(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h / 2 ** 32;
}

/**
 * The profiler's access history, read incrementally across cycles. A partition seen for the first time (or whose
 * turn for a whole read has come, or whose entry is too old) is read whole: a Query per region for its counters
 * and its co-access pairs. Otherwise only the buckets since the last read are read, for every such partition at
 * once, by key (`countsInBuckets`: BatchGetItem, 100 counters a call), and merged into what was kept: a cycle of
 * N partitions costs N × regions / 100 calls instead of 2 × N × regions Queries. The history is kept on the
 * Profiler, so it lives as long as a Lambda execution environment stays warm; a cold one reads whole, and the
 * result is the same either way (counters are only ever added to, and a late add within `rereadBuckets` is read
 * again) except for co-access pairs, which are as fresh as the partition's last whole read.
 */
export class AccessHistoryCache {
  private readonly source: AccessHistorySource;
  private readonly o: AccessHistoryCacheOptions;
  private readonly entries = new Map<string, Entry>();
  /** Whole and incremental reads, for the shard's result and the tests. */
  readonly stats = { wholeReads: 0, incrementalReads: 0 };

  constructor(source: AccessHistorySource, options: AccessHistoryCacheOptions) {
    this.source = source;
    this.o = options;
  }

  /**
   * The history of each partition from `sinceMs` on, as of `nowMs` (the counters of the bucket in progress
   * included, as a whole read returns them).
   */
  async read(
    partitions: readonly string[],
    sinceMs: number,
    nowMs: number,
  ): Promise<Map<string, PartitionAccessHistory>> {
    const bucketMs = this.o.accessBucketMs;
    const openFromMs = Math.floor(nowMs / bucketMs) * bucketMs;
    const incremental = new Map<number, string[]>();
    const whole: string[] = [];
    const read = new Map<string, Entry>();
    for (const partition of partitions) {
      const entry = this.entries.get(partition);
      const usable =
        this.source.countsInBuckets !== undefined &&
        entry !== undefined &&
        nowMs < entry.fullReadDueMs &&
        entry.coveredFromMs <= sinceMs &&
        entry.openFromMs <= openFromMs &&
        openFromMs - entry.openFromMs <= MAX_INCREMENTAL_BUCKETS * bucketMs;
      if (!usable) whole.push(partition);
      else {
        const from = entry.openFromMs - this.o.rereadBuckets * bucketMs;
        const group = incremental.get(from);
        if (group) group.push(partition);
        else incremental.set(from, [partition]);
        read.set(partition, entry);
      }
    }

    for (const [fromMs, group] of incremental) {
      const buckets: number[] = [];
      for (let b = fromMs; b <= openFromMs; b += bucketMs) buckets.push(b);
      const found = await this.source.countsInBuckets!(group, buckets);
      this.stats.incrementalReads += group.length;
      const byPartition = new Map<string, AccessCount[]>();
      for (const c of found) {
        const list = byPartition.get(c.partition);
        if (list) list.push(c);
        else byPartition.set(c.partition, [c]);
      }
      for (const partition of group) {
        const entry = read.get(partition)!;
        // The buckets read again replace what was kept of them (a counter only grows; a missing one had none).
        for (const [key, c] of entry.counts) if (c.bucketStartMs >= fromMs) entry.counts.delete(key);
        for (const c of byPartition.get(partition) ?? []) entry.counts.set(counterKey(c), c);
        entry.openFromMs = openFromMs;
        this.remember(partition, entry);
      }
    }

    await mapBounded(whole, this.o.readConcurrency, async (partition) => {
      const [counts, coAccess] = await Promise.all([
        this.source.countsFor(partition, sinceMs),
        this.source.coAccessFor(partition, sinceMs),
      ]);
      this.stats.wholeReads += 1;
      // The first whole read of each partition is placed at a point of the period given by its name, so the
      // partitions' turns spread over the cycles instead of all coming due together.
      const periodStart = this.entries.has(partition)
        ? nowMs
        : nowMs - hashFraction(partition) * this.o.fullReadEveryMs;
      const entry: Entry = {
        counts: new Map(counts.map((c) => [counterKey(c), c])),
        coAccess,
        coveredFromMs: sinceMs,
        openFromMs,
        fullReadDueMs: periodStart + this.o.fullReadEveryMs,
      };
      read.set(partition, entry);
      this.remember(partition, entry);
    });

    const out = new Map<string, PartitionAccessHistory>();
    for (const partition of partitions) {
      const entry = read.get(partition)!;
      for (const [key, c] of entry.counts) if (c.bucketStartMs < sinceMs) entry.counts.delete(key);
      entry.coAccess = entry.coAccess.filter((c) => c.bucketStartMs >= sinceMs);
      entry.coveredFromMs = Math.max(entry.coveredFromMs, sinceMs);
      out.set(partition, { counts: [...entry.counts.values()], coAccess: entry.coAccess });
    }
    return out;
  }

  private remember(partition: string, entry: Entry): void {
    this.entries.delete(partition);
    this.entries.set(partition, entry);
    while (this.entries.size > this.o.maxPartitions) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
