import { fnv1a32 } from '../domain/data-plane/key-hash.ts';
import { InputValidationError } from '../domain/errors.ts';

/** Seed of the partition → shard hash (independent of the data plane's key hashes). */
const PROFILER_SHARD_SEED = 0x2f6b1d3c;

/** The shard that profiles a partition: a stable hash, so a partition stays in its shard from cycle to cycle. */
export function profilerShardOf(partition: string, shards: number): number {
  return fnv1a32(partition, PROFILER_SHARD_SEED) % shards;
}

/** Start of the bucket that contains `timeMs`: the end of the history a cycle at that time reads. */
export function bucketStartOf(timeMs: number, intervalMs: number): number {
  return Math.floor(timeMs / intervalMs) * intervalMs;
}

/**
 * A cycle's id from its schedule time: the start of the interval bucket, in compact ISO form
 * (`20240305T101500Z`). A redelivered schedule event carries the same time, hence the same cycle.
 */
export function cycleIdFor(timeMs: number, intervalMs: number): string {
  return new Date(bucketStartOf(timeMs, intervalMs)).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** Inverse of cycleIdFor: the cycle's series end (epoch ms). */
export function parseCycleId(cycleId: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(cycleId);
  const ms = match
    ? Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6])
    : Number.NaN;
  if (!Number.isFinite(ms))
    throw new InputValidationError(
      { field: 'cycleId' },
      `expected a cycle id like 20240305T101500Z, found '${cycleId}'`,
    );
  return ms;
}
