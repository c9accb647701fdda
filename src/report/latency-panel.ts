/**
 * The latency-by-route panel: the share of requests each policy serves at each latency the simulator charges,
 * as stacked bars over the measured window.
 */
import type { BacktestResult } from '../domain/simulation/backtest.ts';
import type { LatencyShare, PolicyName } from '../domain/simulation/simulation-options.ts';
import { PRESTAGE_POLICY, policyLabel } from './comparison-table.ts';
import { POLICY_STYLES, WIDE_PANEL_WIDTH } from './report-styles.ts';
import { type BarRow, barChart, escapeXml } from './svg-chart.ts';

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
export function latencyPanel(
  result: BacktestResult,
  routes: ReadonlyMap<number, string> | undefined,
): string {
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
      swatch: POLICY_STYLES[name].color,
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
    width: WIDE_PANEL_WIDTH,
    noteWidth: 210,
  });
  return `<p class="note">Latency in the simulator is the route's round trip from the topology plus ${
    result.options.localLatencyMs
  } ms local, with no queueing, so a percentile can only take one of the ${levels.length} values below. p99 is the slowest route that carries more than 1% of requests: for ${escapeXml(
    policyLabel(prestage.policy),
  )} ${p99} ms, ${escapeXml(routeOf(p99))}. It stays there hour after hour, which is why it is not charted over time; what changes is how many requests each route carries.</p>
<div class="charts"><div class="panel wide">${chartSvg}</div></div>`;
}
