import type { ForecastModel } from '../domain/forecasting/forecast-model.ts';
import type { KnownEventSource } from '../domain/forecasting/known-event-store.ts';
import type {
  AccessHistorySource,
  AsyncInvoker,
  CellMetricsSource,
  CellSource,
  PartitionSizeProbe,
  PartitionSizeStore,
  PartitionSource,
  ProfilerCycleRepository,
  ScalingStarter,
} from '../domain/profiling/ports.ts';
import type { ScoreRepository } from '../domain/scoring/score-record.ts';
import type { MetricsSink } from '../support/metrics.ts';

/** Structured log lines (the Powertools logger in Lambda, a recorder in tests). */
export interface ProfilerLog {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
}

/**
 * Dependencies of the profiler use case (profiler.ts): ports only, bound to AWS by
 * src/lambda/aws-profiler-deps.ts and to dynalite or memory by the tests and the benchmark.
 */
export interface ProfilerDeps {
  readonly partitions: PartitionSource;
  readonly cells: CellSource;
  readonly accessStats: AccessHistorySource;
  readonly scores: ScoreRepository;
  /**
   * Both present: each shard measures the sizes of a bounded number of its partitions that have none or a stale
   * one (ProfilerOptions.sizeProbesPerShard). Absent: scores carry the sizes the records already have.
   */
  readonly sizeProbe?: PartitionSizeProbe;
  readonly sizeStore?: PartitionSizeStore;
  readonly cycles: ProfilerCycleRepository;
  readonly cellMetrics: CellMetricsSource;
  readonly model: ForecastModel;
  /**
   * The operators' known events (launches, holidays): each series' forecast gets those of its region and partition
   * that overlap its history and horizon. Absent (no events table configured): forecasts without events.
   */
  readonly events?: KnownEventSource;
  readonly invoker: AsyncInvoker;
  /** Absent when no ScaleCluster is deployed: shortfalls are then only logged. */
  readonly scaling?: ScalingStarter;
  readonly metrics: MetricsSink;
  readonly log: ProfilerLog;
  readonly now: () => number;
}
