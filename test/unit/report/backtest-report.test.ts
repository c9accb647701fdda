import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src/domain/simulation/backtest.ts';
import { evaluateTargets } from '../../../src/domain/simulation/backtest-targets.ts';
import { backtestJson } from '../../../src/report/backtest-json.ts';
import { regionalDemand, renderBacktestReport, routeLabels } from '../../../src/report/backtest-report.ts';
import { formatComparisonTable, formatTargets } from '../../../src/report/comparison-table.ts';
import {
  buildInput,
  HOUR,
  MIN,
  testDeps,
  twoRegionTopology,
} from '../domain/simulation/simulation-fixtures.ts';

const input = buildInput(
  twoRegionTopology(),
  [{ id: 'p', sizeBytes: 60e6, cell: 'e1' }],
  12,
  15 * MIN,
  (_t, _p, r) => (r === 1 ? [10, 1] : [1, 0]),
);
const result = runBacktest(input, testDeps, { warmupMs: HOUR });
function unescapeXml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));
}

const context = { files: { trace: 't.csv' }, generatedAt: '2024-01-01T00:00:00.000Z' };

describe('backtest report', () => {
  it('renders a self-contained page with the table, the targets and one chart per figure', () => {
    const html = renderBacktestReport(result, {
      ...context,
      provenance: { name: 'toy', semiSynthetic: true, sources: ['NAB realTweets/x.csv'], license: 'MIT' },
      markers: [{ atMs: input.trace.startMs + 2 * HOUR, label: '+w2' }],
    });
    expect(html).toContain('Semi-synthetic trace.');
    expect(html).toContain('NAB realTweets/x.csv');
    expect(html).toContain('<tr class="prestage">');
    // Demand and six charts over time (remote share, gap to the oracle, mean latency, cells, bytes moved,
    // overload); latency by route; cell-hours and transfer.
    expect(html.match(/<svg [^>]*data-chart=/g)?.length).toBe(7);
    expect(html.match(/<svg [^>]*class="bars"/g)?.length).toBe(3);
    expect(html).toMatch(/badge (pass|fail|na)/);
    expect(html).toContain('+w2');
    // Works offline: one inline script, nothing fetched.
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script [^>]*src=|<link|<img|url\(|@import/);
  });

  it('puts the demand panel in the chart grid, as wide as the grid', () => {
    const html = renderBacktestReport(result, context);
    const grid = html.slice(html.indexOf('<div class="charts">'));
    expect(grid.indexOf('<div class="panel wide"><svg')).toBeGreaterThan(0);
    expect(grid.indexOf('Total demand')).toBeLessThan(grid.indexOf('Remote share of requests'));
    expect(html).toContain('.charts .wide{grid-column:1/-1}');
  });

  it("embeds each time chart's values for the hover, per policy, with distinct styles", () => {
    const html = renderBacktestReport(result, context);
    const charts = [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => JSON.parse(unescapeXml(m[1])));
    const remote = charts.find((c) => c.unit === '%');
    expect(remote.series.map((s: { name: string }) => s.name)).toEqual([
      'static',
      'reactive',
      'replicate-all',
      'predictive (prestage)',
      'oracle',
    ]);
    // 6-hour means of the hourly remote share, in percent: 12 quarter-hours make 3 hourly slots, one 6-hour slot.
    const staticSeries = result.policies.static!.series;
    const hourly = [...staticSeries.remoteShare].filter(Number.isFinite);
    const mean = (hourly.reduce((a, b) => a + b, 0) / hourly.length) * 100;
    expect(remote.series[0].values[0]).toBeCloseTo(mean, 2);
    const colors = new Set(remote.series.map((s: { color: string }) => s.color));
    const symbols = new Set(remote.series.map((s: { symbol: string }) => s.symbol));
    expect(colors.size).toBe(5);
    expect(symbols.size).toBe(5);
    // The close-running policies also differ in dash pattern.
    const remoteSvg = html.split('<svg ').find((svg) => svg.includes('Remote share of requests'))!;
    const dashes = ['reactive', 'predictive (prestage)', 'oracle'].map((name) => {
      const k = remote.series.findIndex((s: { name: string }) => s.name === name);
      const path = new RegExp(`data-series="${k}"><path ([^>]*)>`).exec(remoteSvg)![1];
      return /stroke-dasharray="([^"]+)"/.exec(path)?.[1] ?? 'solid';
    });
    expect(new Set(dashes).size).toBe(3);
    const gap = charts.find((c) => c.unit === 'percentage points');
    expect(gap.series.map((s: { name: string }) => s.name)).toEqual(['reactive', 'predictive (prestage)']);
  });

  it('explains p99 with the latency distribution instead of a flat line over time', () => {
    const html = renderBacktestReport(result, {
      ...context,
      routes: routeLabels(input.topology, result.options.localLatencyMs),
    });
    expect(html).not.toContain('p99 request latency (hourly)');
    expect(html).toContain('Requests by latency, measured window');
    expect(html).toContain('5 ms local');
    expect(html).toContain('85 ms east ↔ west');
    for (const name of ['static', 'oracle'] as const) {
      const shares = result.policies[name]!.details.latencyDistribution.map((d) => d.share);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    }
    expect(html).toMatch(/p50 \d+ · p90 \d+ · p99 \d+ ms/);
  });

  it('shows the cell-hours and the cross-region transfer of every policy', () => {
    const html = renderBacktestReport(result, context);
    for (const name of ['static', 'reactive', 'replicate-all', 'predictive', 'oracle'] as const) {
      const { details, metrics } = result.policies[name]!;
      expect(details.cellHours).toBeCloseTo(details.cellsInServiceAvg * 2, 9); // a 2-hour measured window
      expect(html).toContain(`${Math.round(details.cellHours).toLocaleString('en-US')} cell-h`);
      expect(html).toContain(`$${metrics.transferCostUsd.toFixed(2)}`);
    }
    expect(html).toMatch(/data-tip="predictive \(prestage\): [\d.]+ GiB of remote requests"/);
  });

  it('draws the demand of each client region with the total', () => {
    const byRegion = regionalDemand(input.trace);
    // The toy trace: 11 ops/s from west (10 reads, 1 write), 1 from east, for three hours.
    expect(byRegion.map((r) => [r.region, [...r.hourly]])).toEqual([
      ['east', [1, 1, 1]],
      ['west', [11, 11, 11]],
    ]);
    const html = renderBacktestReport(result, { ...context, regionalDemand: byRegion });
    const demand = JSON.parse(unescapeXml(/data-chart="([^"]+)"/.exec(html)![1]));
    expect(demand.series.map((s: { name: string }) => s.name)).toEqual(['total', 'east', 'west']);
    expect(demand.series[0].values).toEqual([12, 12, 12]);
  });

  it('says nothing about semi-synthetic data for a trace without provenance', () => {
    expect(renderBacktestReport(result, context)).not.toContain('Semi-synthetic');
  });

  it('writes the documented JSON keys and finite numbers', () => {
    const json = backtestJson(result, context) as {
      policies: Record<string, Record<string, number>>;
      semiSynthetic: boolean;
    };
    expect(Object.keys(json.policies)).toEqual([
      'static',
      'reactive',
      'replicate-all',
      'predictive',
      'oracle',
    ]);
    expect(json.policies.static.remoteShare).toBe(result.policies.static!.metrics.remoteShare);
    expect(json.semiSynthetic).toBe(false);
    expect(() => JSON.stringify(json)).not.toThrow();
  });

  it('prints a text table with one row per policy and the prestage row marked', () => {
    const table = formatComparisonTable(result);
    const lines = table.trim().split('\n');
    expect(lines).toHaveLength(3 + 5);
    expect(lines.filter((l) => l.startsWith('▶'))).toEqual([
      expect.stringContaining('predictive (prestage)'),
    ]);
    const targets = formatTargets(evaluateTargets({ static: result.policies.static!.metrics }));
    expect(targets).toContain('n/a');
  });
});
