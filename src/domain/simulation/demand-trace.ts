/**
 * A per-partition, per-region demand trace on a regular bucket grid, stored as struct-of-arrays so the
 * simulator walks it without allocating. Values are mean ops/s over the bucket.
 */
export interface DemandTrace {
  readonly startMs: number;
  readonly bucketMs: number;
  readonly bucketCount: number;
  /** Partition ids; index p in the arrays. */
  readonly partitions: readonly string[];
  /** Region names; index r in the arrays (topology order). */
  readonly regions: readonly string[];
  /** Mean read ops/s at index `(bucket * partitions.length + p) * regions.length + r`. */
  readonly reads: Float64Array;
  /** Mean write ops/s, same layout as `reads`. */
  readonly writes: Float64Array;
}

/** Offset of (bucket, partition, region) in `reads`/`writes`. */
export function traceIndex(trace: DemandTrace, bucket: number, partition: number, region: number): number {
  return (bucket * trace.partitions.length + partition) * trace.regions.length + region;
}

/** An all-zero trace of the given shape, to be filled by a reader or a generator. */
export function emptyTrace(
  startMs: number,
  bucketMs: number,
  bucketCount: number,
  partitions: readonly string[],
  regions: readonly string[],
): DemandTrace {
  const size = bucketCount * partitions.length * regions.length;
  return {
    startMs,
    bucketMs,
    bucketCount,
    partitions,
    regions,
    reads: new Float64Array(size),
    writes: new Float64Array(size),
  };
}

/** The initial placement of one partition, from the partitions file. */
export interface PartitionSpec {
  readonly id: string;
  readonly sizeBytes: number;
  readonly cell: string;
}
