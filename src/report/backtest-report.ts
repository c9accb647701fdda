import type { BacktestResult } from '../domain/simulation/backtest.ts';
import { evaluateTargets } from '../domain/simulation/backtest-targets.ts';
import type { PolicyName, PolicySeries } from '../domain/simulation/simulation-options.ts';
import type { ReportContext } from './backtest-json.ts';
import {
  COLUMNS,
  formatTargetThreshold,
  formatTargetValue,
  PRESTAGE_POLICY,
  policyLabel,
} from './comparison-table.ts';
import { type ChartMarker, type ChartSeries, escapeXml, lineChart } from './svg-chart.ts';

export interface HtmlReportContext extends ReportContext {
  /** Scaling events to mark on the charts. */
  readonly markers?: readonly ChartMarker[];
}

const STYLE: Record<PolicyName, { color: string; width: number; dash?: string }> = {
  static: { color: '#8c8c8c', width: 1.2 },
  reactive: { color: '#e8710a', width: 1.2 },
  'replicate-all': { color: '#9c27b0', width: 1.2, dash: '2 2' },
  predictive: { color: '#1565c0', width: 2.2 },
  oracle: { color: '#2e7d32', width: 1.2, dash: '5 3' },
};

const HOUR_MS = 3_600_000;

/** Self-contained HTML report: comparison table, targets, and per-policy charts over time (inline SVG). */
export function renderBacktestReport(result: BacktestResult, context: HtmlReportContext): string {
  const names = Object.keys(result.policies) as PolicyName[];
  const metrics = Object.fromEntries(names.map((n) => [n, result.policies[n]!.metrics]));
  const targets = evaluateTargets(metrics);
  const trace = result.trace;
  const provenance = context.provenance;
  const first = result.policies[names[0]]!.series;
  const charts = [
    chart(result, 'Remote share of requests (6-hour mean)', '%', (s) =>
      resample(s.remoteShare, s, 6, 'mean', 100),
    ),
    chart(result, 'Mean request latency (6-hour mean)', 'ms', (s) => resample(s.meanLatencyMs, s, 6, 'mean')),
    chart(result, 'p99 request latency (hourly)', 'ms', (s) => resample(s.p99LatencyMs, s, 1, 'mean')),
    chart(result, 'Bytes moved, cumulative from the end of the warm-up', 'GiB', (s) =>
      cumulative(s.bytesMoved, s, result.evaluationStartMs, 2 ** 30),
    ),
    overloadChart(result),
    chart(result, 'Cells in service', 'cells', (s) => resample(s.cells, s, 1, 'max'), false),
  ];
  const demand = lineChart({
    title: 'Total demand, all partitions and regions (hourly mean)',
    unit: 'ops/s',
    startMs: first.startMs,
    stepMs: first.stepMs,
    series: [{ name: 'demand', color: '#455a64', values: first.demandOpsPerSec, strokeWidth: 1.2 }],
    shadeUntilMs: result.evaluationStartMs,
    markers: context.markers,
    width: 1280,
    height: 200,
  });
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
  const table = `<table class="metrics"><thead><tr><th>policy</th>${COLUMNS.map(
    (c) => `<th>${escapeXml(c.header)}<br><span class="unit">${escapeXml(c.unit)}</span></th>`,
  ).join('')}</tr></thead><tbody>${names
    .map((name) => {
      const m = result.policies[name]!;
      const cls = name === PRESTAGE_POLICY ? ' class="prestage"' : '';
      return `<tr${cls}><td><span class="swatch" style="background:${STYLE[name].color}"></span>${escapeXml(
        policyLabel(name),
      )}</td>${COLUMNS.map((c) => `<td>${escapeXml(c.format(m))}</td>`).join('')}</tr>`;
    })
    .join('')}</tbody></table>`;
  const targetRows = targets
    .map((t) => {
      const badge =
        t.pass === undefined
          ? '<span class="badge na">n/a</span>'
          : t.pass
            ? '<span class="badge pass">PASS</span>'
            : '<span class="badge fail">FAIL</span>';
      return `<tr><td>${badge}</td><td>${escapeXml(t.description)}</td><td class="num">${escapeXml(
        formatTargetValue(t),
      )}</td><td class="num">${escapeXml(formatTargetThreshold(t))}</td><td>${escapeXml(t.detail)}</td></tr>`;
    })
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>prestage backtest${provenance?.name ? ` — ${escapeXml(provenance.name)}` : ''}</title>
<style>
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2329;margin:24px 32px;max-width:1320px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:26px 0 8px}
.sub{color:#5f6b76;margin:0 0 14px}
.banner{background:#fff4d6;border:1px solid #f0c36d;padding:10px 14px;border-radius:6px;margin:12px 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.facts dt{color:#5f6b76}dl.facts dd{margin:0}
table{border-collapse:collapse}
table.metrics th,table.metrics td{padding:5px 9px;border-bottom:1px solid #e3e7eb;text-align:right;white-space:nowrap}
table.metrics th:first-child,table.metrics td:first-child{text-align:left}
table.metrics th{font-weight:600;font-size:12px;vertical-align:bottom}
.unit{font-weight:400;color:#7a8691}
tr.prestage td{background:#e3f0fd;font-weight:600}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
table.targets td{padding:5px 9px;border-bottom:1px solid #e3e7eb}
table.targets td.num{text-align:right;white-space:nowrap}
.badge{display:inline-block;min-width:38px;text-align:center;padding:1px 6px;border-radius:4px;font-weight:700;font-size:12px}
.pass{background:#d8f3dc;color:#1b5e20}.fail{background:#fde0e0;color:#b71c1c}.na{background:#eceff1;color:#546e7a}
.charts{display:grid;grid-template-columns:repeat(2,640px);gap:18px 24px}
svg{background:#fff;border:1px solid #e3e7eb;border-radius:6px}
.chart-title{font-size:13px;font-weight:600;fill:#1d2329}.chart-unit{font-size:11px;fill:#7a8691}
.tick{font-size:10px;fill:#5f6b76}.legend{font-size:11px;fill:#1d2329}
.grid{stroke:#eef1f4}.axis{stroke:#9aa5b1}
.warmup{fill:#f3f4f6}.warmup-label{font-size:10px;fill:#9aa5b1}
.marker{stroke:#c62828;stroke-dasharray:3 3}.marker-label{font-size:9px;fill:#c62828}
footer{color:#5f6b76;font-size:12px;margin-top:28px}
</style></head><body>
<h1>prestage backtest</h1>
<p class="sub">Replay of a demand trace against placement policies; <strong>predictive</strong> is prestage (forecast → score → plan), <strong>oracle</strong> is the same planner fed the true future.</p>
${semi}
<dl class="facts">${facts.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`).join('')}</dl>
<h2>Comparison (measured after the warm-up)</h2>
${table}
<h2>Targets for prestage (predictive)</h2>
<table class="targets"><tbody>${targetRows}</tbody></table>
<h2>Over time</h2>
<div class="demand">${demand}</div>
<div class="charts">${charts.join('\n')}</div>
<footer>
<p><strong>remote</strong>: share of requests served from another region. <strong>latency</strong>: request-weighted, inter-region round trip (topology matrix) + ${opts.localLatencyMs} ms local. <strong>moved</strong>: bytes copied by migrations; <strong>at load</strong>: while the source or target cell was above ${Math.round(opts.underLoadUtilization * 100)}% utilization. <strong>transfer</strong>: cross-region migration bytes, remote request bytes and replicated writes at the topology's price per GB. <strong>stored</strong>: average bytes held by all cells (a moving partition counts twice). <strong>overload</strong>: minutes a cell spent above its ops capacity. <strong>thrash</strong>: moves undone within ${opts.thrashWindowMs / HOUR_MS} h. <strong>cells+</strong>: cells added by alarms or ahead of a forecast shortfall after the warm-up; <strong>cells</strong>: mean cells in service after the warm-up (cells added during it included). Red dashed lines: scheduled scaling events.</p>
<p>Generated ${escapeXml(context.generatedAt)} by <code>prestage backtest</code>. Files: ${escapeXml(
    Object.entries(context.files)
      .map(([k, v]) => `${k} ${v}`)
      .join('; '),
  )}.</p>
</footer>
</body></html>
`;
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
  return chart(
    result,
    clip === undefined ? title : `${title} (replicate-all: ${replicated.toFixed(0)}, off the scale)`,
    'cell-minutes',
    (s) => cumulative(s.overloadCellMinutes, s, result.evaluationStartMs, 1),
    true,
    clip,
  );
}

function chart(
  result: BacktestResult,
  title: string,
  unit: string,
  values: (series: PolicySeries) => { values: Float64Array; stepMs: number },
  zeroBased = true,
  yMax?: number,
): string {
  const names = Object.keys(result.policies) as PolicyName[];
  const first = result.policies[names[0]]!.series;
  let stepMs = first.stepMs;
  const series: ChartSeries[] = names.map((name) => {
    const out = values(result.policies[name]!.series);
    stepMs = out.stepMs;
    return {
      name: policyLabel(name),
      color: STYLE[name].color,
      values: out.values,
      strokeWidth: STYLE[name].width,
      dash: STYLE[name].dash,
    };
  });
  return lineChart({
    title,
    unit,
    startMs: first.startMs,
    stepMs,
    series,
    shadeUntilMs: result.evaluationStartMs,
    zeroBased,
    yMax,
  });
}

/** Aggregate `factor` hourly slots into one (mean or max), scaled by `scale`. */
function resample(
  values: Float64Array,
  series: PolicySeries,
  hours: number,
  how: 'mean' | 'max',
  scale = 1,
): { values: Float64Array; stepMs: number } {
  const factor = Math.max(1, Math.round((hours * HOUR_MS) / series.stepMs));
  const out = new Float64Array(Math.ceil(values.length / factor));
  for (let i = 0; i < out.length; i++) {
    let acc = how === 'max' ? Number.NEGATIVE_INFINITY : 0;
    let count = 0;
    for (let j = i * factor; j < Math.min(values.length, (i + 1) * factor); j++) {
      if (!Number.isFinite(values[j])) continue;
      acc = how === 'max' ? Math.max(acc, values[j]) : acc + values[j];
      count++;
    }
    out[i] = count === 0 ? Number.NaN : (how === 'max' ? acc : acc / count) * scale;
  }
  return { values: out, stepMs: factor * series.stepMs };
}

/** Running total from `fromMs` (NaN before it), divided by `unit`. */
function cumulative(
  values: Float64Array,
  series: PolicySeries,
  fromMs: number,
  unit: number,
): { values: Float64Array; stepMs: number } {
  const out = new Float64Array(values.length);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    if (series.startMs + i * series.stepMs < fromMs) {
      out[i] = Number.NaN;
      continue;
    }
    total += values[i];
    out[i] = total / unit;
  }
  return { values: out, stepMs: series.stepMs };
}
