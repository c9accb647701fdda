/**
 * What the HTML report is given besides the backtest result, and how the CLI derives it from the trace and the
 * topology: regional demand for the demand chart, and route names for the latency panel.
 */
import type { DemandTrace } from '../domain/simulation/demand-trace.ts';
import { latencyBetween, type Topology } from '../domain/topology.ts';
import type { ReportContext } from './backtest-json.ts';
import { HOUR_MS } from './report-series.ts';
import type { ChartMarker } from './svg-chart.ts';

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
