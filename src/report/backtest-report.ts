import type { BacktestResult } from '../domain/simulation/backtest.ts';
import { evaluateTargets } from '../domain/simulation/backtest-targets.ts';
import type { DemandTrace } from '../domain/simulation/demand-trace.ts';
import type { LatencyShare, PolicyName, PolicySeries } from '../domain/simulation/simulation-options.ts';
import { latencyBetween, type Topology } from '../domain/topology.ts';
import type { ReportContext } from './backtest-json.ts';
import { CHART_INTERACTIONS_SCRIPT } from './chart-interactions.ts';
import {
  COLUMNS,
  formatTargetThreshold,
  formatTargetValue,
  PRESTAGE_POLICY,
  policyLabel,
} from './comparison-table.ts';
import {
  type BarRow,
  barChart,
  type ChartMarker,
  type ChartSeries,
  escapeXml,
  lineChart,
  type SymbolShape,
} from './svg-chart.ts';

export interface HtmlReportContext extends ReportContext {
  /** Scaling events to mark on the charts. */
  readonly markers?: readonly ChartMarker[];
  /** Which region pairs each latency belongs to, for the latency panel (see `routeLabels`). */
  readonly routes?: ReadonlyMap<number, string>;
  /** Demand by client region, drawn with the total (see `regionalDemand`). */
  readonly regionalDemand?: readonly RegionDemand[];
}

export interface RegionDemand {
  readonly region: string;
  /** Mean ops/s per hour from the trace's start. */
  readonly hourly: Float64Array;
}

/** Hourly mean demand (reads + writes, ops/s) per client region: the regional peaks the policies chase. */
export function regionalDemand(trace: DemandTrace): RegionDemand[] {
  const perHour = Math.max(1, Math.round(HOUR_MS / trace.bucketMs));
  const hours = Math.ceil(trace.bucketCount / perHour);
  const P = trace.partitions.length;
  const R = trace.regions.length;
  return trace.regions.map((region, r) => {
    const hourly = new Float64Array(hours);
    for (let h = 0; h < hours; h++) {
      const first = h * perHour;
      const last = Math.min(trace.bucketCount, first + perHour);
      let sum = 0;
      for (let t = first; t < last; t++) {
        for (let p = 0; p < P; p++) {
          const i = (t * P + p) * R + r;
          sum += trace.reads[i] + trace.writes[i];
        }
      }
      hourly[h] = sum / (last - first);
    }
    return { region, hourly };
  });
}

/** Region lines on the demand chart: Tableau 10 hues, apart from the policies' colours. */
const REGION_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1'];

interface PolicyStyle {
  readonly color: string;
  readonly width: number;
  readonly dash?: string;
  readonly symbol: SymbolShape;
}

/**
 * Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), and a dash pattern and a
 * symbol each, so reactive, predictive and oracle, which often run close together, stay apart in print.
 */
const STYLE: Record<PolicyName, PolicyStyle> = {
  static: { color: '#7a7a7a', width: 1.4, symbol: 'ring' },
  reactive: { color: '#d55e00', width: 1.5, dash: '7 4', symbol: 'triangle' },
  'replicate-all': { color: '#cc79a7', width: 1.5, dash: '2 3', symbol: 'square' },
  predictive: { color: '#0072b2', width: 2.6, symbol: 'circle' },
  oracle: { color: '#009e73', width: 1.6, dash: '11 3 2 3', symbol: 'diamond' },
};

const HOUR_MS = 3_600_000;
const GIB = 2 ** 30;
/** Wide panels (demand, latency) span both columns of the chart grid: 2 × 640 + the 24 px gap. */
const WIDE = 1304;

/** Region pairs by the latency the simulator charges for them (the route's round trip + local latency). */
export function routeLabels(topology: Topology, localLatencyMs: number): Map<number, string> {
  const regions = Object.keys(topology.regions);
  const pairs = new Map<number, string[]>([[localLatencyMs, ['local']]]);
  for (let a = 0; a < regions.length; a++) {
    for (let b = a + 1; b < regions.length; b++) {
      const latency = latencyBetween(topology, regions[a], regions[b]) + localLatencyMs;
      if (!Number.isFinite(latency)) continue;
      pairs.set(latency, [...(pairs.get(latency) ?? []), `${regions[a]} ↔ ${regions[b]}`]);
    }
  }
  return new Map([...pairs].map(([latency, names]) => [latency, names.join(', ')]));
}

/** Self-contained HTML report: comparison table, targets, charts over time, latency by route and cost. */
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
    gapToOracleChart(result),
    chart(result, 'Mean request latency (6-hour mean)', 'ms', (s) => resample(s.meanLatencyMs, s, 6, 'mean')),
    chart(result, 'Cells in service (hourly)', 'cells', (s) => resample(s.cells, s, 1, 'max'), {
      zeroBased: false,
      step: true,
    }),
    chart(result, 'Bytes moved, cumulative from the end of the warm-up', 'GiB', (s) =>
      cumulative(s.bytesMoved, s, result.evaluationStartMs, GIB),
    ),
    overloadChart(result),
  ].filter((c) => c !== undefined);
  const regions = context.regionalDemand ?? [];
  const demand = lineChart({
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
    width: WIDE,
    height: 220,
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
  const latency = latencyPanel(result, context.routes);
  const cost = costPanels(result);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>prestage backtest${provenance?.name ? ` — ${escapeXml(provenance.name)}` : ''}</title>
<style>
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2329;margin:24px 32px;max-width:1304px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:30px 0 8px}
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
.charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px 24px}
.charts .wide{grid-column:1/-1}
.panel svg{display:block;width:100%;height:auto}
svg{background:#fff;border:1px solid #e3e7eb;border-radius:6px;box-sizing:border-box}
.note{color:#5f6b76;margin:4px 0 10px;max-width:1000px}
.hint{color:#7a8691;font-size:12px;margin:0 0 10px}
.chart-title{font-size:13px;font-weight:600;fill:#1d2329}.chart-unit{font-size:11px;fill:#7a8691}
.tick{font-size:10px;fill:#5f6b76}.legend{font-size:11px;fill:#1d2329}
.grid{stroke:#eef1f4}.axis{stroke:#9aa5b1}.zero{stroke:#9aa5b1;stroke-dasharray:4 3}
.warmup{fill:#f3f4f6}.warmup-label{font-size:10px;fill:#9aa5b1}
.marker{stroke:#c62828;stroke-dasharray:3 3}.marker-label{font-size:9px;fill:#c62828}
.bar-label{font-size:12px;fill:#1d2329}.bar-note{font-size:11px;fill:#37474f}.strong{font-weight:700}
.segment-label{font-size:10px;fill:#fff;pointer-events:none}
.segment:hover{stroke:#1d2329;stroke-width:1}
.legend-item{cursor:pointer}.legend-item.off{opacity:.35}.legend-hit{fill:transparent}
.legend-item:focus{outline:none}.legend-item:focus .legend-hit{stroke:#0072b2}
.series.hidden{display:none}
svg.focusing .series{opacity:.18}svg.focusing .series.focused{opacity:1}
.hover-area{fill:transparent;cursor:crosshair}
.crosshair{stroke:#37474f;stroke-width:1;stroke-dasharray:2 2;pointer-events:none}
.hover-dot{stroke:#fff;stroke-width:1.5;pointer-events:none}
.tip{position:absolute;z-index:10;background:#fff;border:1px solid #c9d1d9;border-radius:6px;box-shadow:0 2px 8px rgba(0,0,0,.15);padding:6px 9px;font-size:12px;pointer-events:none;max-width:360px}
.tip[hidden]{display:none}
.tip-time{font-weight:600;margin-bottom:3px}
.tip table td{padding:1px 4px}.tip-value{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.tip-swatch{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:5px}
footer{color:#5f6b76;font-size:12px;margin-top:28px}
@media (max-width:900px){.charts{grid-template-columns:1fr}}
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

interface ChartOptions {
  readonly zeroBased?: boolean;
  readonly yMax?: number;
  readonly step?: boolean;
  /** Only these policies, in result order. */
  readonly only?: readonly PolicyName[];
  readonly zeroLine?: boolean;
}

function chart(
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
    const style = STYLE[name];
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
  return chart(
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
  return chart(
    result,
    clip === undefined ? title : `${title} (replicate-all: ${replicated.toFixed(0)}, off the scale)`,
    'cell-minutes',
    (s) => cumulative(s.overloadCellMinutes, s, result.evaluationStartMs, 1),
    { yMax: clip },
  );
}

/** Green for local, through yellow, to red for the slowest route. */
const LATENCY_COLORS = ['#1b9e77', '#66a61e', '#e6ab02', '#e7742f', '#d7301f', '#a50f15'];

function latencyColor(rank: number, levels: number): string {
  if (levels <= 1) return LATENCY_COLORS[0];
  return LATENCY_COLORS[Math.round((rank / (levels - 1)) * (LATENCY_COLORS.length - 1))];
}

/** Latency at quantile q of a distribution (the smallest latency with at least q of the requests). */
function quantileOf(distribution: readonly LatencyShare[], q: number): number {
  let cumulativeShare = 0;
  for (const { latencyMs, share } of distribution) {
    cumulativeShare += share;
    if (cumulativeShare >= q - 1e-9) return latencyMs;
  }
  return distribution.length ? distribution[distribution.length - 1].latencyMs : Number.NaN;
}

/**
 * The simulator charges each request its route's round trip plus the local latency, with no queueing, so
 * latency takes one value per route and an hourly p99 is a flat line at the slowest route in use by more
 * than 1% of requests. The whole distribution per policy says more: how many requests each route serves.
 */
function latencyPanel(result: BacktestResult, routes: ReadonlyMap<number, string> | undefined): string {
  const names = Object.keys(result.policies) as PolicyName[];
  const levels = [
    ...new Set(names.flatMap((n) => result.policies[n]!.details.latencyDistribution.map((d) => d.latencyMs))),
  ].sort((a, b) => a - b);
  const routeOf = (latencyMs: number) =>
    routes?.get(latencyMs) ?? (latencyMs === result.options.localLatencyMs ? 'local' : 'remote');
  const colorOf = (latencyMs: number) => latencyColor(levels.indexOf(latencyMs), levels.length);
  const rows: BarRow[] = names.map((name) => {
    const distribution = result.policies[name]!.details.latencyDistribution;
    const p50 = quantileOf(distribution, 0.5);
    const p90 = quantileOf(distribution, 0.9);
    const p99 = quantileOf(distribution, 0.99);
    return {
      label: policyLabel(name),
      swatch: STYLE[name].color,
      emphasis: name === PRESTAGE_POLICY,
      note: `p50 ${p50} · p90 ${p90} · p99 ${p99} ms`,
      segments: distribution.map(({ latencyMs, share }) => ({
        value: share * 100,
        color: colorOf(latencyMs),
        label: `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`,
        tip: `${policyLabel(name)}: ${(share * 100).toFixed(1)}% of requests at ${latencyMs} ms\n${routeOf(latencyMs)}`,
      })),
    };
  });
  const prestage = result.policies[PRESTAGE_POLICY] ?? result.policies[names[0]]!;
  const p99 = quantileOf(prestage.details.latencyDistribution, 0.99);
  const chartSvg = barChart({
    title: 'Requests by latency, measured window',
    unit: '% of requests',
    rows,
    max: 100,
    format: (v) => `${v}%`,
    legend: levels.map((l) => ({ name: `${l} ms ${routeOf(l)}`, color: colorOf(l) })),
    width: WIDE,
    noteWidth: 210,
  });
  return `<p class="note">Latency in the simulator is the route's round trip from the topology plus ${
    result.options.localLatencyMs
  } ms local, with no queueing, so a percentile can only take one of the ${levels.length} values below. p99 is the slowest route that carries more than 1% of requests: for ${escapeXml(
    policyLabel(prestage.policy),
  )} ${p99} ms, ${escapeXml(routeOf(p99))}. It stays there hour after hour, which is why it is not charted over time; what changes is how many requests each route carries.</p>
<div class="charts"><div class="panel wide">${chartSvg}</div></div>`;
}

const TRANSFER_KINDS = [
  { key: 'migrationTransferBytes', name: 'migration copies', color: '#0072b2' },
  { key: 'remoteRequestBytes', name: 'remote requests', color: '#e69f00' },
  { key: 'replicatedWriteBytes', name: 'replicated writes', color: '#cc79a7' },
] as const;

/** Cell-hours in service and cross-region transfer per policy, over the measured window. */
function costPanels(result: BacktestResult): { note: string; panels: string[] } {
  const names = Object.keys(result.policies) as PolicyName[];
  const measuredHours = (result.trace.endMs - result.evaluationStartMs) / HOUR_MS;
  const cellRows: BarRow[] = names.map((name) => {
    const d = result.policies[name]!.details;
    return {
      label: policyLabel(name),
      swatch: STYLE[name].color,
      emphasis: name === PRESTAGE_POLICY,
      note: `${Math.round(d.cellHours).toLocaleString('en-US')} cell-h`,
      segments: [
        {
          value: d.cellHours,
          color: STYLE[name].color,
          tip: `${policyLabel(name)}: ${Math.round(d.cellHours).toLocaleString('en-US')} cell-hours\nmean ${d.cellsInServiceAvg.toFixed(1)} cells in service over ${measuredHours.toFixed(0)} h`,
        },
      ],
    };
  });
  const transferRows: BarRow[] = names.map((name) => {
    const { details: d, metrics: m } = result.policies[name]!;
    return {
      label: policyLabel(name),
      swatch: STYLE[name].color,
      emphasis: name === PRESTAGE_POLICY,
      note: `$${m.transferCostUsd.toFixed(2)}`,
      segments: TRANSFER_KINDS.map((kind) => ({
        value: d[kind.key] / GIB,
        color: kind.color,
        tip: `${policyLabel(name)}: ${(d[kind.key] / GIB).toFixed(1)} GiB of ${kind.name}`,
      })),
    };
  });
  // The result carries the price only inside transferCostUsd; recover it to say what the bars are worth.
  const priced = names
    .map((n) => result.policies[n]!)
    .find((r) => TRANSFER_KINDS.some((k) => r.details[k.key] > 0));
  const pricePerGb = priced
    ? priced.metrics.transferCostUsd /
      (TRANSFER_KINDS.reduce((sum, k) => sum + priced.details[k.key], 0) / GIB)
    : undefined;
  const note = `What each policy pays for its locality: the cells it keeps in service (the topology gives no price per cell-hour) and the bytes it sends between regions${
    pricePerGb === undefined ? '' : `, at $${pricePerGb.toFixed(3)} per GB`
  }. Measured window: ${measuredHours.toFixed(0)} h.`;
  return {
    note,
    panels: [
      barChart({
        title: 'Cell-hours in service',
        unit: 'cell-hours',
        rows: cellRows,
        noteWidth: 90,
        caption: `mean cells in service × ${measuredHours.toFixed(0)} measured hours`,
      }),
      barChart({
        title: 'Cross-region transfer',
        unit: 'GiB',
        rows: transferRows,
        legend: TRANSFER_KINDS.map((k) => ({ name: k.name, color: k.color })),
        noteWidth: 80,
      }),
    ],
  };
}

/** Aggregate `hours` of slots into one (mean or max), scaled by `scale`. */
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
