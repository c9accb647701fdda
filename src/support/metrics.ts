/**
 * CloudWatch metrics prestage publishes (namespace `Prestage`, EMF through Powertools). The dashboard and the
 * alarms in lib/ read the same constants, so a renamed metric cannot leave a widget empty. Use cases publish
 * through the MetricsSink port below and adapters read metrics back by these names, so the catalogue sits in
 * src/support, which every layer may import.
 */
export const METRICS_NAMESPACE = 'Prestage';

export const METRIC = {
  /** ExecutePlan, per move outcome. Count. */
  migrationsStarted: 'MigrationsStarted',
  migrationsSucceeded: 'MigrationsSucceeded',
  migrationsFailed: 'MigrationsFailed',
  migrationsRolledBack: 'MigrationsRolledBack',
  /** Gauge published by ExecutePlan when it starts or finishes a move. Count. */
  migrationsInFlight: 'MigrationsInFlight',
  /** Bytes of partitions moved by committed migrations. Bytes. */
  bytesMoved: 'BytesMoved',
  /** ExecutePlan's DropColdCopies: cold copies garbage-collected (Count) and the bytes they held (Bytes). */
  coldCopiesDropped: 'ColdCopiesDropped',
  coldCopyBytesFreed: 'ColdCopyBytesFreed',
  /** Moves in each plan the planner writes. Count. */
  planMoves: 'PlanMoves',
  /** Online forecast error of earlier forecasts against what happened. None. */
  forecastMase: 'ForecastMASE',
  forecastMape: 'ForecastMAPE',
  /** Batches the hosted model failed, scored by the embedded fallback instead. Count. */
  forecastFallbacks: 'ForecastFallbacks',
  partitionsScored: 'PartitionsScored',
  /** Predictive scale-outs the profiler started. Count. */
  predictiveScaleOuts: 'PredictiveScaleOuts',
  predictiveScaleIns: 'PredictiveScaleIns',
  /** Interceptor: request latency (Milliseconds) and requests served in the caller's region (Count). */
  interceptorLatency: 'InterceptorLatency',
  interceptorLocalRequests: 'InterceptorLocalRequests',
  interceptorRemoteRequests: 'InterceptorRemoteRequests',
  /** Per cell (dimension CellId): consumed ops/s over capacity. Percent. */
  cellUtilization: 'CellUtilization',
  scaleOuts: 'ScaleOuts',
  scaleIns: 'ScaleIns',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The units prestage publishes with (CloudWatch's Count, Bytes, None and Percent). */
export type MetricUnit = 'Count' | 'Bytes' | 'None' | 'Percent' | 'Milliseconds';

/** Where use cases publish their metrics: Powertools EMF in Lambda (src/lambda), a recorder in tests and local runs. */
export interface MetricsSink {
  /** `dimensions`: published as a metric of its own with these dimensions; absent: with the invocation's. */
  add(name: MetricName, unit: MetricUnit, value: number, dimensions?: Readonly<Record<string, string>>): void;
}
