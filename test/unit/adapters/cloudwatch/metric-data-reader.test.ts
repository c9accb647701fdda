import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CloudWatchMetricsReader,
  MAX_QUERIES_PER_CALL,
  THROTTLED_OPERATIONS,
} from '../../../../src/adapters/cloudwatch/metric-data-reader.ts';
import type { CellRecord } from '../../../../src/domain/data-plane/cell-record.ts';

const cloudwatch = mockClient(CloudWatchClient);
afterEach(() => cloudwatch.reset());

const WINDOW = {
  startMs: Date.UTC(2024, 2, 5, 10, 0),
  endMs: Date.UTC(2024, 2, 5, 10, 5),
  periodSeconds: 60,
};
const QUERIES_PER_CELL = 3 + THROTTLED_OPERATIONS.length;

function cell(i: number, region: string): CellRecord {
  return {
    id: `${region}-c${i}`,
    region,
    table: `prestage-cell-${region}-c${i}`,
    capacityOpsPerSec: 1000,
    capacityBytes: 1e10,
    status: 'ACTIVE',
    version: 1,
  };
}

/** A fake CloudWatch: the value of each query follows from its metric and dimensions, so mapping errors show. */
function fakeValue(query: NonNullable<GetMetricDataCommandInput['MetricDataQueries']>[number]): number {
  const metric = query.MetricStat!.Metric!;
  const dims = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
  const cellNo = Number(/c(\d+)$/.exec(dims.TableName ?? dims.CellId ?? '')?.[1]);
  switch (metric.MetricName) {
    case 'ConsumedReadCapacityUnits':
      return 60 * (cellNo + 1); // per minute → cellNo + 1 units/s
    case 'ConsumedWriteCapacityUnits':
      return 30;
    case 'ThrottledRequests':
      return dims.Operation === 'PutItem' ? 6 : dims.Operation === 'Query' ? 3 : 0;
    case 'CellUtilization':
      return 40 + cellNo;
    default:
      throw new Error(`unexpected metric ${metric.MetricName}`);
  }
}

const calls: { region: string; input: GetMetricDataCommandInput }[] = [];

/** Answers with 5 one-minute points per query, split across `pages` pages by NextToken. */
function serve(pages: number) {
  calls.length = 0;
  cloudwatch.on(GetMetricDataCommand).callsFake(async (input: GetMetricDataCommandInput, getClient) => {
    const region = await getClient().config.region();
    calls.push({ region, input });
    const page = input.NextToken ? Number(input.NextToken) : 0;
    const results: MetricDataResult[] = input.MetricDataQueries!.map((q) => {
      const points = [0, 1, 2, 3, 4].filter((k) => k % pages === page);
      return {
        Id: q.Id,
        Timestamps: points.map((k) => new Date(WINDOW.startMs + k * 60_000)),
        Values: points.map(() => fakeValue(q)),
        StatusCode: 'Complete',
      };
    });
    return { MetricDataResults: results, NextToken: page + 1 < pages ? String(page + 1) : undefined };
  });
}

function reader() {
  const clients = new Map<string, CloudWatchClient>();
  return new CloudWatchMetricsReader({
    homeRegion: 'us-east-1',
    clientFor: (region) => {
      if (!clients.has(region)) clients.set(region, new CloudWatchClient({ region }));
      return clients.get(region)!;
    },
  });
}

describe('CloudWatchMetricsReader', () => {
  it('sends at most 500 queries per call, grouped by region, and maps the sums back to each cell', async () => {
    serve(1);
    const cells = [
      ...Array.from({ length: 40 }, (_, i) => cell(i, 'us-east-1')),
      ...Array.from({ length: 3 }, (_, i) => cell(i, 'eu-west-1')),
    ];
    const metrics = await reader().read(cells, WINDOW);

    for (const call of calls) {
      expect(call.input.MetricDataQueries!.length).toBeLessThanOrEqual(MAX_QUERIES_PER_CALL);
      expect(call.input.StartTime).toEqual(new Date(WINDOW.startMs));
      expect(call.input.EndTime).toEqual(new Date(WINDOW.endMs));
      for (const q of call.input.MetricDataQueries!) {
        const metric = q.MetricStat!.Metric!;
        // AWS/DynamoDB metrics of a cell are read in the cell's region; prestage's own in the home region.
        const expected =
          metric.Namespace === 'Prestage'
            ? 'us-east-1'
            : metric
                .Dimensions!.find((d) => d.Name === 'TableName')!
                .Value!.split('-cell-')[1]
                .slice(0, 9);
        expect(call.region).toBe(expected);
      }
    }
    const total = calls.reduce((n, c) => n + c.input.MetricDataQueries!.length, 0);
    expect(total).toBe(43 * QUERIES_PER_CELL);
    // 40 us-east-1 cells: 480 DynamoDB + 40 Prestage + 3 eu-west-1 Prestage queries = 523 → two calls there.
    expect(
      calls.filter((c) => c.region === 'us-east-1').map((c) => c.input.MetricDataQueries!.length),
    ).toEqual([500, 23]);
    expect(
      calls.filter((c) => c.region === 'eu-west-1').map((c) => c.input.MetricDataQueries!.length),
    ).toEqual([36]);
    const throttleQueries = calls
      .flatMap((c) => c.input.MetricDataQueries!)
      .filter((q) => q.MetricStat!.Metric!.MetricName === 'ThrottledRequests');
    expect(throttleQueries).toHaveLength(43 * THROTTLED_OPERATIONS.length);
    expect(
      throttleQueries.every((q) => q.MetricStat!.Metric!.Dimensions!.some((d) => d.Name === 'Operation')),
    ).toBe(true);

    expect(metrics.size).toBe(43);
    for (const c of cells) {
      const n = Number(c.id.split('-c').at(-1));
      const m = metrics.get(c.id)!;
      expect(m.consumedReadUnitsPerSec).toBeCloseTo(n + 1, 9);
      expect(m.consumedWriteUnitsPerSec).toBeCloseTo(0.5, 9);
      // (6 PutItem + 3 Query) per minute, summed over the operations.
      expect(m.throttledRequestsPerSec).toBeCloseTo(9 / 60, 9);
      expect(m.publishedUtilizationPercent).toBe(40 + n);
    }
  });

  it('follows NextToken until every page is in and merges the points of each query', async () => {
    serve(3);
    const cells = [cell(7, 'us-east-1')];
    const r = reader();
    const metrics = await r.read(cells, WINDOW);
    expect(calls.map((c) => c.input.NextToken)).toEqual([undefined, '1', '2']);
    expect(r.calls.map((c) => c.paged)).toEqual([false, true, true]);
    expect(metrics.get('us-east-1-c7')!.consumedReadUnitsPerSec).toBeCloseTo(8, 9);

    const series = await r.readSeries(
      [
        {
          region: 'us-east-1',
          namespace: 'AWS/DynamoDB',
          metricName: 'ConsumedWriteCapacityUnits',
          dimensions: { TableName: 'prestage-cell-us-east-1-c7' },
          stat: 'Sum',
        },
      ],
      WINDOW,
    );
    expect(series[0].timestamps).toEqual([0, 1, 2, 3, 4].map((k) => WINDOW.startMs + k * 60_000));
    expect(series[0].values).toEqual([30, 30, 30, 30, 30]);
  });

  it('reports a cell with no data points as idle and without a published utilization', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const metrics = await reader().read([cell(1, 'us-east-1')], WINDOW);
    expect(metrics.get('us-east-1-c1')).toEqual({
      cellId: 'us-east-1-c1',
      consumedReadUnitsPerSec: 0,
      consumedWriteUnitsPerSec: 0,
      throttledRequestsPerSec: 0,
    });
  });

  it('refuses a batch size above the API limit', () => {
    expect(
      () =>
        new CloudWatchMetricsReader({
          homeRegion: 'x',
          clientFor: () => new CloudWatchClient({}),
          maxQueriesPerCall: 501,
        }),
    ).toThrow(/maxQueriesPerCall/);
  });
});
