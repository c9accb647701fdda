import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';

/**
 * The partitions of a shard whose size the profiler should measure now, stalest first, at most `limit`:
 * never measured ones first (oldest record first: it had the longest time to grow), then those measured more
 * than `maxAgeMs` ago, oldest measurement first. Partitions in a migration are left out: their copy is about to
 * measure them, and their data is spread over two cells meanwhile.
 */
export function partitionsDueForSizing(
  records: readonly PartitionRecord[],
  nowMs: number,
  maxAgeMs: number,
  limit: number,
): { due: number; selected: PartitionRecord[] } {
  const due = records.filter(
    (r) =>
      r.fence === undefined &&
      r.status === 'ACTIVE' &&
      (r.sizeMeasuredAtMs === undefined || nowMs - r.sizeMeasuredAtMs > maxAgeMs),
  );
  const staleness = (r: PartitionRecord) => r.sizeMeasuredAtMs ?? Number.NEGATIVE_INFINITY;
  due.sort(
    (a, b) =>
      staleness(a) - staleness(b) ||
      a.createdAtMs - b.createdAtMs ||
      (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0),
  );
  return { due: due.length, selected: due.slice(0, Math.max(0, limit)) };
}
