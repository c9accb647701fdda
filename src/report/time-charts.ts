/**
 * The line charts over time: demand, and one line per policy for each figure (remote share, its gap to the
 * oracle, latency, cells, bytes moved, overload), with the warm-up shaded.
 */
import type { BacktestResult } from '../domain/simulation/backtest.ts';
import type { PolicyName, PolicySeries } from '../domain/simulation/simulation-options.ts';
import type { HtmlReportContext } from './backtest-report-context.ts';
import { policyLabel } from './comparison-table.ts';
import { cumulative, GIB, HOUR_MS, resample } from './report-series.ts';
import { POLICY_STYLES, WIDE_PANEL_WIDTH } from './report-styles.ts';
import { type ChartSeries, lineChart } from './svg-chart.ts';

/** Region lines on the demand chart: Tableau 10 hues, apart from the policies' colours. */
const REGION_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1'];

/** Demand over the whole trace, in total and by client region when the context has it; as wide as the grid. */
export function demandChart(result: BacktestResult, context: HtmlReportContext): string {
  const names = Object.keys(result.policies) as PolicyName[];
  const first = result.policies[names[0]]!.series;
  const regions = context.regionalDemand ?? [];
  return lineChart({
    title: regions.length
      ? 'Demand, in total and by client region (hourly mean)'
      : 'Total demand, all partitions and regions (hourly mean)',
    unit: 'ops/s',
    startMs: first.startMs,
    stepMs: HOUR_MS,
    series: [
      {
        name: 'total',
        color: '#37474f',
        values: resample(first.demandOpsPerSec, first, 1, 'mean').values,
        strokeWidth: 1.8,
      },
      ...regions.map((r, i) => ({
        name: r.region,
        color: REGION_COLORS[i % REGION_COLORS.length],
        values: r.hourly,
        strokeWidth: 1.2,
      })),
    ],
    shadeUntilMs: result.evaluationStartMs,
    markers: context.markers,
    width: WIDE_PANEL_WIDTH,
    height: 220,
  });
}

/** The per-policy charts over time, in page order; a chart with nothing to compare is left out. */
export function policyCharts(result: BacktestResult): string[] {
  return [
    policyChart(result, 'Remote share of requests (6-hour mean)', '%', (s) =>
      resample(s.remoteShare, s, 6, 'mean', 100),
    ),
    gapToOracleChart(result),
    policyChart(result, 'Mean request latency (6-hour mean)', 'ms', (s) =>
      resample(s.meanLatencyMs, s, 6, 'mean'),
    ),
    policyChart(result, 'Cells in service (hourly)', 'cells', (s) => resample(s.cells, s, 1, 'max'), {
      zeroBased: false,
      step: true,
    }),
    policyChart(result, 'Bytes moved, cumulative from the end of the warm-up', 'GiB', (s) =>
      cumulative(s.bytesMoved, s, result.evaluationStartMs, GIB),
    ),
    overloadChart(result),
  ].filter((c) => c !== undefined);
}

interface ChartOptions {
  readonly zeroBased?: boolean;
  readonly yMax?: number;
  readonly step?: boolean;
  /** Only these policies, in result order. */
  readonly only?: readonly PolicyName[];
  readonly zeroLine?: boolean;
}

function policyChart(
  result: BacktestResult,
  title: string,
  unit: string,
  values: (series: PolicySeries, policy: PolicyName) => { values: Float64Array; stepMs: number },
  options: ChartOptions = {},
): string {
  const names = (Object.keys(result.policies) as PolicyName[]).filter(
    (n) => options.only === undefined || options.only.includes(n),
  );
  const first = result.policies[names[0]]!.series;
  let stepMs = first.stepMs;
  const series: ChartSeries[] = names.map((name) => {
    const out = values(result.policies[name]!.series, name);
    stepMs = out.stepMs;
    const style = POLICY_STYLES[name];
    return {
      name: policyLabel(name),
      color: style.color,
      values: out.values,
      strokeWidth: style.width,
      dash: style.dash,
      symbol: style.symbol,
      step: options.step,
    };
  });
  return lineChart({
    title,
    unit,
    startMs: first.startMs,
    stepMs,
    series,
    shadeUntilMs: result.evaluationStartMs,
    zeroBased: options.zeroBased ?? true,
    yMax: options.yMax,
    zeroLine: options.zeroLine,
  });
}

/**
 * Reactive, predictive and oracle reach almost the same remote share, so on one axis with static their
 * lines overlap. Their distance from the oracle, in percentage points, separates them: above zero is
 * locality the policy left on the table at that time.
 */
function gapToOracleChart(result: BacktestResult): string | undefined {
  const oracle = result.policies.oracle?.series;
  const compared = (['reactive', 'predictive'] as const).filter((n) => result.policies[n] !== undefined);
  if (!oracle || compared.length === 0) return undefined;
  const oracleShare = resample(oracle.remoteShare, oracle, 6, 'mean', 100).values;
  return policyChart(
    result,
    'Remote share above the oracle’s (6-hour mean)',
    'percentage points',
    (s) => {
      const own = resample(s.remoteShare, s, 6, 'mean', 100);
      return { values: own.values.map((v, i) => v - oracleShare[i]), stepMs: own.stepMs };
    },
    { only: compared, zeroBased: false, zeroLine: true },
  );
}

/**
 * Cumulative overload. replicate-all (writes everywhere) can dwarf the others: the axis then stops at
 * twice the others' worst and its line runs off the top, with its total in the title.
 */
function overloadChart(result: BacktestResult): string {
  const title = 'Overloaded cell-minutes, cumulative';
  const totals = Object.entries(result.policies).map(
    ([name, r]) => [name, r!.metrics.overloadCellMinutes] as const,
  );
  const others = Math.max(0, ...totals.filter(([name]) => name !== 'replicate-all').map(([, v]) => v));
  const replicated = totals.find(([name]) => name === 'replicate-all')?.[1] ?? 0;
  const clip = replicated > 3 * others && others > 0 ? 2 * others : undefined;
  return policyChart(
    result,
    clip === undefined ? title : `${title} (replicate-all: ${replicated.toFixed(0)}, off the scale)`,
    'cell-minutes',
    (s) => cumulative(s.overloadCellMinutes, s, result.evaluationStartMs, 1),
    { yMax: clip },
  );
}
