import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { CellRecord } from '../../domain/data-plane/cell-record.ts';
import type { CellMetrics, CellMetricsSource, MetricsWindow } from '../../domain/profiling/ports.ts';
import { METRIC, METRICS_NAMESPACE } from '../../support/metrics.ts';

/** GetMetricData accepts at most 500 queries per call. */
export const MAX_QUERIES_PER_CALL = 500;

/**
 * DynamoDB operations whose ThrottledRequests are summed per table. AWS/DynamoDB publishes ThrottledRequests
 * only with the (TableName, Operation) dimensions, so each operation is one query and the sum is taken here:
 * - no SEARCH expression: SEARCH reads CloudWatch's metric index, which can lag a new table by minutes (a fresh
 *   scale-out cell would look unthrottled exactly when it matters) and only sees metrics reported in the last
 *   two weeks; explicit queries cost a known number of metrics per cell;
 * - no math expression (SUM of the operations): an expression must sit in the same call as the queries it
 *   references, which would tie batching to cells; independent queries split at any 500 boundary.
 * The list covers every operation prestage's data plane sends, plus the other item and batch operations a
 * co-tenant client may send to the same table.
 */
export const THROTTLED_OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
] as const;

export interface MetricSpec {
  /** Region whose CloudWatch holds the metric (a cell table's metrics live in the table's region). */
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: 'Sum' | 'Average' | 'Maximum';
}

export interface MetricPoints {
  /** Epoch ms, ascending. */
  readonly timestamps: number[];
  readonly values: number[];
}

export interface CloudWatchMetricsReaderProps {
  /** CloudWatch client of a region (clients are built once per region by the caller). */
  readonly clientFor: (region: string) => CloudWatchClient;
  /** Region of prestage's own metrics (namespace Prestage, published by the Lambdas). */
  readonly homeRegion: string;
  /** @default 500 (the API limit) */
  readonly maxQueriesPerCall?: number;
  /** @default METRICS_NAMESPACE */
  readonly namespace?: string;
}

/**
 * Reads CloudWatch metrics with GetMetricData: queries grouped by region, at most 500 per call, following
 * NextToken until every page is in; results map back to their query by Id.
 */
export class CloudWatchMetricsReader implements CellMetricsSource {
  private readonly clientFor: (region: string) => CloudWatchClient;
  private readonly homeRegion: string;
  private readonly maxQueries: number;
  private readonly namespace: string;
  /** GetMetricData calls made, and queries sent in each (for tests and logs). */
  readonly calls: { region: string; queries: number; paged: boolean }[] = [];

  constructor(props: CloudWatchMetricsReaderProps) {
    const max = props.maxQueriesPerCall ?? MAX_QUERIES_PER_CALL;
    if (!Number.isInteger(max) || max < 1 || max > MAX_QUERIES_PER_CALL)
      throw new RangeError(
        `maxQueriesPerCall must be an integer in [1, ${MAX_QUERIES_PER_CALL}], got ${max}`,
      );
    this.clientFor = props.clientFor;
    this.homeRegion = props.homeRegion;
    this.maxQueries = max;
    this.namespace = props.namespace ?? METRICS_NAMESPACE;
  }

  /** Data points of each spec over the window, in the order of `specs`. */
  async readSeries(specs: readonly MetricSpec[], window: MetricsWindow): Promise<MetricPoints[]> {
    const out: MetricPoints[] = specs.map(() => ({ timestamps: [], values: [] }));
    const byRegion = new Map<string, number[]>();
    specs.forEach((spec, i) => {
      const list = byRegion.get(spec.region);
      if (list) list.push(i);
      else byRegion.set(spec.region, [i]);
    });
    await Promise.all(
      [...byRegion].map(async ([region, indices]) => {
        const client = this.clientFor(region);
        for (let b = 0; b < indices.length; b += this.maxQueries) {
          const batch = indices.slice(b, b + this.maxQueries);
          const queries: MetricDataQuery[] = batch.map((i) => ({
            Id: `m${i}`,
            ReturnData: true,
            MetricStat: {
              Metric: {
                Namespace: specs[i].namespace,
                MetricName: specs[i].metricName,
                Dimensions: Object.entries(specs[i].dimensions).map(([Name, Value]) => ({ Name, Value })),
              },
              Period: window.periodSeconds,
              Stat: specs[i].stat,
            },
          }));
          let nextToken: string | undefined;
          let page = 0;
          do {
            const result = await client.send(
              new GetMetricDataCommand({
                MetricDataQueries: queries,
                StartTime: new Date(window.startMs),
                EndTime: new Date(window.endMs),
                ScanBy: 'TimestampAscending',
                NextToken: nextToken,
              }),
            );
            this.calls.push({ region, queries: queries.length, paged: page > 0 });
            for (const r of result.MetricDataResults ?? []) {
              const index = Number(r.Id?.slice(1));
              const target = out[index];
              if (target === undefined) continue;
              const timestamps = r.Timestamps ?? [];
              const values = r.Values ?? [];
              for (let k = 0; k < values.length; k++) {
                target.timestamps.push(new Date(timestamps[k]).getTime());
                target.values.push(values[k]);
              }
            }
            nextToken = result.NextToken;
            page++;
          } while (nextToken);
        }
      }),
    );
    for (const points of out) sortPoints(points);
    return out;
  }

  /**
   * Per cell, over the window: consumed read and write units per second, throttled requests per second (the sum
   * over THROTTLED_OPERATIONS) from AWS/DynamoDB in the cell's region, and the highest Prestage CellUtilization
   * published for it in the home region.
   */
  async read(cells: readonly CellRecord[], window: MetricsWindow): Promise<Map<string, CellMetrics>> {
    const specs: MetricSpec[] = [];
    const owner: { cell: number; kind: 'read' | 'write' | 'throttled' | 'published' }[] = [];
    cells.forEach((cell, c) => {
      const table = { TableName: cell.table };
      const dynamo = (metricName: string, dimensions: Record<string, string>) => ({
        region: cell.region,
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensions,
        stat: 'Sum' as const,
      });
      specs.push(dynamo('ConsumedReadCapacityUnits', table));
      owner.push({ cell: c, kind: 'read' });
      specs.push(dynamo('ConsumedWriteCapacityUnits', table));
      owner.push({ cell: c, kind: 'write' });
      for (const operation of THROTTLED_OPERATIONS) {
        specs.push(dynamo('ThrottledRequests', { ...table, Operation: operation }));
        owner.push({ cell: c, kind: 'throttled' });
      }
      specs.push({
        region: this.homeRegion,
        namespace: this.namespace,
        metricName: METRIC.cellUtilization,
        dimensions: { CellId: cell.id },
        stat: 'Maximum',
      });
      owner.push({ cell: c, kind: 'published' });
    });
    const series = await this.readSeries(specs, window);
    const seconds = Math.max(1, (window.endMs - window.startMs) / 1000);
    const sums = cells.map(() => ({ read: 0, write: 0, throttled: 0, published: Number.NaN }));
    series.forEach((points, i) => {
      const { cell, kind } = owner[i];
      if (kind === 'published') {
        for (const v of points.values) if (!(sums[cell].published >= v)) sums[cell].published = v;
      } else {
        for (const v of points.values) sums[cell][kind] += v;
      }
    });
    const out = new Map<string, CellMetrics>();
    cells.forEach((cell, c) => {
      const s = sums[c];
      out.set(cell.id, {
        cellId: cell.id,
        consumedReadUnitsPerSec: s.read / seconds,
        consumedWriteUnitsPerSec: s.write / seconds,
        throttledRequestsPerSec: s.throttled / seconds,
        ...(Number.isFinite(s.published) && { publishedUtilizationPercent: s.published }),
      });
    });
    return out;
  }
}

function sortPoints(points: MetricPoints): void {
  const n = points.timestamps.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (points.timestamps[i] < points.timestamps[i - 1]) sorted = false;
  if (sorted) return;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => points.timestamps[a] - points.timestamps[b],
  );
  const t = order.map((i) => points.timestamps[i]);
  const v = order.map((i) => points.values[i]);
  points.timestamps.splice(0, n, ...t);
  points.values.splice(0, n, ...v);
}
