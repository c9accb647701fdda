import type { StartedScaleIn, StartedScaleOut } from './predictive-scaling-starts.ts';

/** The profiler's invocation events and results: the schedule tick, one shard, and what each returns. */

export interface ScheduleEvent {
  /** EventBridge Scheduled Event time (ISO); absent for `{}` (a manual start: now). */
  readonly time?: string;
}

export interface ShardEvent {
  readonly cycleId: string;
  readonly shard: number;
  readonly shards: number;
}

export interface CoordinatorResult {
  readonly cycleId: string;
  readonly shards: number;
  /** False when the cycle already existed (a redelivered schedule event): shards are re-invoked, idempotently. */
  readonly created: boolean;
  readonly cells: number;
}

export interface ShardResult {
  readonly cycleId: string;
  readonly shard: number;
  readonly partitions: number;
  /** Partition × region series forecast, and how many came from each model. */
  readonly series: number;
  /** Known events passed to the model with at least one series, by name. */
  readonly events: readonly string[];
  readonly models: Readonly<Record<string, number>>;
  /** MASE and MAPE are absent when nothing could be compared (results are stored as JSON: no NaN). */
  readonly onlineError: {
    readonly points: number;
    readonly series: number;
    readonly mase?: number;
    readonly mape?: number;
  };
  /** Partition sizes: due (missing or stale), measured this cycle, failed, and the read units spent. */
  readonly sizes: {
    readonly due: number;
    readonly measured: number;
    readonly failed: number;
    readonly readUnits: number;
  };
  readonly counted: boolean;
  readonly last: boolean;
  readonly scaleOuts: readonly StartedScaleOut[];
  readonly scaleIns: readonly StartedScaleIn[];
  readonly plannerInvoked: boolean;
}
