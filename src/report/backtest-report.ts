/**
 * The self-contained HTML report of `prestage backtest`: this module assembles the page; the charts, panels,
 * tables and styles it places come from the modules it imports.
 */
import type { BacktestResult } from '../domain/simulation/backtest.ts';
import type { HtmlReportContext } from './backtest-report-context.ts';
import { CHART_INTERACTIONS_SCRIPT } from './chart-interactions.ts';
import { costPanels } from './cost-panels.ts';
import { latencyPanel } from './latency-panel.ts';
import { HOUR_MS } from './report-series.ts';
import { REPORT_STYLESHEET } from './report-styles.ts';
import { comparisonTable, targetsTable } from './report-tables.ts';
import { escapeXml } from './svg-chart.ts';
import { demandChart, policyCharts } from './time-charts.ts';

export {
  type HtmlReportContext,
  type RegionDemand,
  regionalDemand,
  routeLabels,
} from './backtest-report-context.ts';

/** Self-contained HTML report: comparison table, targets, charts over time, latency by route and cost. */
export function renderBacktestReport(result: BacktestResult, context: HtmlReportContext): string {
  const trace = result.trace;
  const provenance = context.provenance;
  const charts = policyCharts(result);
  const demand = demandChart(result, context);
  const semi = provenance?.semiSynthetic
    ? `<div class="banner"><strong>Semi-synthetic trace.</strong> ${escapeXml(
        provenance.description ??
          'Demand per partition and region is synthesized from real public time series; it is not a recorded multi-region trace.',
      )}${
        provenance.sources?.length ? ` Real series: ${escapeXml(provenance.sources.join(', '))}.` : ''
      }${provenance.license ? ` License: ${escapeXml(provenance.license)}.` : ''}</div>`
    : '';
  const fmtDate = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
  const opts = result.options;
  const facts: [string, string][] = [
    ['trace', provenance?.name ?? context.files.trace ?? ''],
    ['period', `${fmtDate(trace.startMs)} → ${fmtDate(trace.endMs)} UTC`],
    [
      'measured from',
      `${fmtDate(result.evaluationStartMs)} UTC (warm-up ${(opts.warmupMs / 86_400_000).toFixed(1)} d)`,
    ],
    ['buckets', `${trace.buckets} × ${trace.bucketMs / 60_000} min`],
    ['partitions', `${trace.partitions} (${(trace.totalBytes / 2 ** 30).toFixed(0)} GiB)`],
    ['regions', trace.regions.join(', ')],
    ['cells at start', String(trace.cells)],
    [
      'demand',
      `mean ${trace.meanDemandOpsPerSec.toFixed(0)} ops/s, peak ${trace.peakDemandOpsPerSec.toFixed(0)} ops/s`,
    ],
    [
      'planning',
      `every ${opts.planningIntervalMs / 60_000} min, horizon ${opts.horizonMs / HOUR_MS} h, predictive plans on ${
        opts.planningQuantile === 'mean'
          ? 'the mean forecast'
          : opts.planningMargin === 'diversified'
            ? `the mean for locality and q${Math.round(opts.planningQuantile * 100)} for capacity, aggregated per cell`
            : `the mean + ${opts.planningMargin} × (q${Math.round(opts.planningQuantile * 100)} − mean)`
      }`,
    ],
  ];
  const table = comparisonTable(result);
  const targets = targetsTable(result);
  const latency = latencyPanel(result, context.routes);
  const cost = costPanels(result);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>prestage backtest${provenance?.name ? ` — ${escapeXml(provenance.name)}` : ''}</title>
<style>
${REPORT_STYLESHEET}
</style></head><body>
<h1>prestage backtest</h1>
<p class="sub">Replay of a demand trace against placement policies; <strong>predictive</strong> is prestage (forecast → score → plan), <strong>oracle</strong> is the same planner fed the true future.</p>
${semi}
<dl class="facts">${facts.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`).join('')}</dl>
<h2>Comparison (measured after the warm-up)</h2>
${table}
<h2>Targets for prestage (predictive)</h2>
${targets}
<h2>Over time</h2>
<p class="hint">Hover a chart for the values at that time; click a legend entry to hide or show that policy.</p>
<div class="charts">
<div class="panel wide">${demand}</div>
${charts.map((c) => `<div class="panel">${c}</div>`).join('\n')}
</div>
<h2>Latency by route</h2>
${latency}
<h2>Cost over the measured window</h2>
<p class="note">${cost.note}</p>
<div class="charts">${cost.panels.map((c) => `<div class="panel">${c}</div>`).join('\n')}</div>
<footer>
<p><strong>remote</strong>: share of requests served from another region. <strong>latency</strong>: request-weighted, inter-region round trip (topology matrix) + ${opts.localLatencyMs} ms local. <strong>moved</strong>: bytes copied by migrations; <strong>at load</strong>: while the source or target cell was above ${Math.round(opts.underLoadUtilization * 100)}% utilization. <strong>transfer</strong>: cross-region migration bytes, remote request bytes and replicated writes at the topology's price per GB. <strong>stored</strong>: average bytes held by all cells (a moving partition counts twice). <strong>overload</strong>: minutes a cell spent above its ops capacity. <strong>thrash</strong>: moves undone within ${opts.thrashWindowMs / HOUR_MS} h. <strong>cells+</strong>: cells added by alarms or ahead of a forecast shortfall after the warm-up; <strong>cells</strong>: mean cells in service after the warm-up (cells added during it included). Red dashed lines: scheduled scaling events.</p>
<p>Generated ${escapeXml(context.generatedAt)} by <code>prestage backtest</code>. Files: ${escapeXml(
    Object.entries(context.files)
      .map(([k, v]) => `${k} ${v}`)
      .join('; '),
  )}.</p>
</footer>
<script>${CHART_INTERACTIONS_SCRIPT}</script>
</body></html>
`;
}
