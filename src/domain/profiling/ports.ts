import type { CellRecord } from '../data-plane/cell-record.ts';
import type { PartitionRecord } from '../data-plane/partition-record.ts';
import type { AccessCount, CoAccessCount } from '../data-plane/ports.ts';

/**
 * The profiler's ports. The use case (src/profiler) sees only these and the shared ones (scores, forecast model,
 * metrics); src/lambda/aws-profiler-deps.ts binds them to DynamoDB, CloudWatch, Step Functions and Lambda
 * (src/adapters), and the tests and the benchmark to dynalite or memory.
 */

/** Measured load of one cell over the metrics window (per second), from CloudWatch. */
export interface CellMetrics {
  readonly cellId: string;
  /** AWS/DynamoDB ConsumedReadCapacityUnits and ConsumedWriteCapacityUnits of the cell's table, per second. */
  readonly consumedReadUnitsPerSec: number;
  readonly consumedWriteUnitsPerSec: number;
  /** AWS/DynamoDB ThrottledRequests of the table, summed over its operations, per second. */
  readonly throttledRequestsPerSec: number;
  /** Prestage CellUtilization (percent) published for the cell in the window (the highest), if any. */
  readonly publishedUtilizationPercent?: number;
}

export interface MetricsWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly periodSeconds: number;
}

/** Cell metrics for a set of cells (CloudWatch GetMetricData, batched; see metric-data-reader.ts). */
export interface CellMetricsSource {
  read(cells: readonly CellRecord[], window: MetricsWindow): Promise<Map<string, CellMetrics>>;
}

/** A cell as the cycle saw it: topology plus its measured state, shared by every shard of the cycle. */
export interface CellSnapshot {
  readonly id: string;
  readonly region: string;
  readonly capacityOpsPerSec: number;
  readonly capacityBytes: number;
  readonly status: CellRecord['status'];
  /** When a scale-out added it (CellRecord.scaledOutAtMs); absent for the initial cells. */
  readonly scaledOutAtMs?: number;
  /** Consumed (read + write) capacity units per second: the measured load. Absent when not measured. */
  readonly measuredOpsPerSec?: number;
  /** Fraction of capacity in use, for the scorer's cell pressure. */
  readonly utilization?: number;
  /** Throttled share of requests, in [0, 1]. */
  readonly throttledFraction?: number;
}

/** The cycle record `cycle#<cycleId>` in the Coordination table. */
export interface ProfilerCycle {
  readonly cycleId: string;
  readonly shards: number;
  /** End of the observed history and start of forecast step 0 (a bucket boundary). */
  readonly seriesEndMs: number;
  readonly startedAtMs: number;
  readonly cells: readonly CellSnapshot[];
  /** Shards that have finished (each counted once). */
  readonly doneShards: readonly number[];
  /** Set once the capacity check has run and the planner was invoked. */
  readonly finishedAtMs?: number;
  readonly expiresAt: number;
}

export interface ShardCompletion {
  /** False when this shard had already been counted (a redelivery). */
  readonly counted: boolean;
  readonly done: number;
  readonly shards: number;
}

export interface ProfilerCycleRepository {
  /** Create the cycle unless it exists; returns the stored cycle either way. */
  create(cycle: ProfilerCycle): Promise<{ readonly created: boolean; readonly cycle: ProfilerCycle }>;
  get(cycleId: string): Promise<ProfilerCycle | undefined>;
  /** Atomically count a shard as done, once. */
  completeShard(cycleId: string, shard: number): Promise<ShardCompletion>;
  /** Record that the cycle's finish ran (planner invoked); false when it had already been recorded. */
  markFinished(cycleId: string, atMs: number): Promise<boolean>;
  /** The shortfall rule's memory, as the last cycle that ran its capacity check left it (absent: none has). */
  shortfallMemory(): Promise<StoredShortfallMemory | undefined>;
  /** Store it unless the memory of a later cycle is stored already; false when it was not stored. */
  rememberShortfalls(memory: StoredShortfallMemory): Promise<boolean>;
}

/**
 * What the profiler keeps between cycles for the shortfall rule (domain/scaling/shortfall-trigger.ts): a Lambda keeps
 * nothing, so it lives in the Coordination table. The previous cycle's regions are kept too, so a redelivered
 * cycle finish decides as the first delivery did.
 */
export interface StoredShortfallMemory {
  readonly cycleId: string;
  /** The cycle's `seriesEndMs`: a memory is only replaced by a later cycle's. */
  readonly seriesEndMs: number;
  /** Regions with a due shortfall in this cycle. */
  readonly shortRegions: readonly string[];
  /** The memory this cycle decided with (the regions short in the cycle before it). */
  readonly previousShortRegions: readonly string[];
}

/** Where access history comes from. `sinceMs` lets a ranged store read less; the profiler filters anyway. */
export interface AccessHistorySource {
  countsFor(partition: string, sinceMs?: number): Promise<AccessCount[]>;
  coAccessFor(partition: string, sinceMs?: number): Promise<CoAccessCount[]>;
  /**
   * The counters of many partitions in exactly these recorder buckets, every region (a batch read by key:
   * BatchGetItem, 100 keys a call, instead of a Query per partition and region). Absent where the store cannot
   * read by key; the profiler then reads every history whole.
   */
  countsInBuckets?(partitions: readonly string[], bucketStartsMs: readonly number[]): Promise<AccessCount[]>;
}

export interface PartitionSource {
  list(): Promise<PartitionRecord[]>;
}

export interface CellSource {
  list(): Promise<CellRecord[]>;
}

/** What a size probe found: the partition's stored bytes in its primary cell, and what finding out cost. */
export interface PartitionSizeMeasurement {
  /** Stored bytes (DynamoDB item sizes, names and values), estimated as the probe's method allows. */
  readonly sizeBytes: number;
  /** Items (tombstones included), scaled up like the bytes when only some shards were read. */
  readonly items: number;
  /** Shards of the partition read; fewer than all when a sample was enough (the rest are extrapolated). */
  readonly shardsRead: number;
  /** Read capacity units the probe consumed (eventually consistent reads). */
  readonly readUnits: number;
  /** `consumed-capacity`: from the Query's consumed capacity; `item-sizes`: items read and their sizes summed. */
  readonly method: 'consumed-capacity' | 'item-sizes';
}

/** Measures a partition's size in its cell's table (src/adapters/dynamodb/partition-size-probe.ts). */
export interface PartitionSizeProbe {
  measure(partition: PartitionRecord, cell: CellRecord): Promise<PartitionSizeMeasurement>;
}

/** Writes a measured size to the partition record (only the size fields; see DynamoPartitionRepository). */
export interface PartitionSizeStore {
  /** False when the record is gone or already holds a newer measurement. */
  recordSize(partition: string, sizeBytes: number, measuredAtMs: number): Promise<boolean>;
}

/** Starts one asynchronous invocation (Lambda InvocationType Event). */
export interface AsyncInvoker {
  invokeShard(event: { cycleId: string; shard: number; shards: number }): Promise<void>;
  invokePlanner(event: { trigger: 'schedule'; cycleId: string }): Promise<void>;
}

export interface ScaleOutRequest {
  readonly action: 'scale-out';
  readonly region: string;
  readonly cells: number;
  readonly reason: 'predicted-shortfall';
  readonly source: 'profiler';
}

/** A forecast-driven scale-in: ScaleCluster drains, backs up and deletes the cell the domain chose. */
export interface ScaleInRequest {
  readonly action: 'scale-in';
  readonly cellId: string;
  readonly reason: 'predicted-spare-capacity';
  readonly source: 'profiler';
}

/**
 * Starts ScaleCluster. `name` is deterministic per cycle and region (scale-out) or cell (scale-in); a second
 * start with it is a no-op.
 */
export interface ScalingStarter {
  start(name: string, input: ScaleOutRequest | ScaleInRequest): Promise<{ readonly started: boolean }>;
}
