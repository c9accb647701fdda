/**
 * What `prestage up` shows while it runs: the contract between the live run (src/live/, which fills it) and the
 * dashboard (src/live/dashboard/, which draws it, served as JSON at `/api/snapshot`). Plain JSON data only.
 *
 * Times named `traceMs` are on the compressed trace clock (epoch ms of the trace), so charts line up with the
 * trace's own timestamps; `wallElapsedMs` is real time since start.
 */

export type LiveRunStatus = 'starting' | 'warming-up' | 'running' | 'finished' | 'stopped' | 'failed';

export type LiveCellStatus = 'provisioning' | 'active' | 'draining' | 'retired';

export interface LiveTraceClock {
  readonly name: string;
  /** The first and last trace instants the run replays live (the measured window), epoch ms. */
  readonly startMs: number;
  readonly endMs: number;
  /** Where the trace clock is now. */
  readonly nowMs: number;
  /** Trace milliseconds per wall millisecond. */
  readonly speed: number;
  /** Requests sent per request in the trace (e.g. 0.002: one request sent for 500 in the trace). */
  readonly requestScale: number;
  readonly bucketMs: number;
}

/** One region's latency over one trace bucket, as the load generator measured it. */
export interface LiveLatencyPoint {
  readonly traceMs: number;
  readonly region: string;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Share of this region's requests served by a cell in the region they arrived in, in [0, 1]. */
  readonly localShare: number;
}

export interface LivePlacedPartition {
  readonly id: string;
  /** The region the latest forecast expects most of its demand from (null before the first forecast). */
  readonly predictedRegion: string | null;
  /** The latest measured demand, ops/s in trace units. */
  readonly opsPerSec: number;
}

export interface LiveCell {
  readonly id: string;
  readonly region: string;
  readonly status: LiveCellStatus;
  readonly partitions: readonly LivePlacedPartition[];
}

export interface LiveMigration {
  readonly partition: string;
  readonly from: string;
  readonly to: string;
  /** MigratePartition's current stage (copying, verifying, shifting, fenced, committed, rolled-back...). */
  readonly stage: string;
  readonly startedTraceMs: number;
}

export interface LivePlanMove {
  readonly partition: string;
  readonly from: string;
  readonly to: string;
  readonly reasons: readonly string[];
}

export interface LivePlan {
  readonly id: string;
  readonly createdTraceMs: number;
  readonly moves: readonly LivePlanMove[];
}

export interface LiveForecastPoint {
  readonly traceMs: number;
  /** Measured ops/s in the bucket (null for buckets still in the future). */
  readonly actual: number | null;
  /** The forecast made for that bucket (null where none was made). */
  readonly forecast: number | null;
}

export interface LiveForecastSeries {
  readonly partition: string;
  readonly region: string;
  readonly points: readonly LiveForecastPoint[];
}

export interface LiveCellEvent {
  readonly traceMs: number;
  readonly cell: string;
  readonly region: string;
  readonly kind: 'added' | 'removed';
}

export interface LiveErrorPoint {
  readonly traceMs: number;
  /** Writes answered with an error other than a 503 (4xx refusals the load generator did not expect, 5xx). */
  readonly writeErrors: number;
  readonly http503: number;
}

export interface LiveTotals {
  readonly requests: number;
  readonly writesAcked: number;
  readonly writeErrors: number;
  readonly http503: number;
  readonly bytesMoved: number;
  readonly moves: number;
  readonly cellsInService: number;
}

export interface LiveSnapshot {
  readonly status: LiveRunStatus;
  readonly loop: 'on' | 'off';
  readonly wallElapsedMs: number;
  readonly trace: LiveTraceClock;
  readonly regions: readonly string[];
  readonly latency: readonly LiveLatencyPoint[];
  readonly cells: readonly LiveCell[];
  readonly migrations: readonly LiveMigration[];
  readonly plan: LivePlan | null;
  /** The hottest partitions (at most ~6 series), forecast against actual. */
  readonly forecasts: readonly LiveForecastSeries[];
  readonly cellEvents: readonly LiveCellEvent[];
  readonly errors: readonly LiveErrorPoint[];
  readonly totals: LiveTotals;
}
