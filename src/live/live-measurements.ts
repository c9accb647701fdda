import { LatencyHistogram } from '../domain/simulation/latency-histogram.ts';
import type { LiveErrorPoint, LiveLatencyPoint } from './live-snapshot.ts';

/** How one request the load generator sent ended. */
export interface RequestOutcome {
  readonly region: string;
  readonly kind: 'read' | 'write';
  /** Trace instant it was due. */
  readonly atTraceMs: number;
  /** Wall milliseconds from sending to the whole response. */
  readonly latencyMs: number;
  /** HTTP status, or 0 when no response came (connection error, timeout). */
  readonly status: number;
  /** Served by a cell in the region it arrived in (the interceptor's local-share definition). */
  readonly local: boolean;
  /**
   * The trace requests it stands for (a counted sample declares it): latency and locality are weighted by it, as
   * the backtest weighs its buckets by their demand. @default 1
   */
  readonly weight?: number;
  /** Diagnostics (not in the figures): a carrier rather than a sampled request (see `SampledRequest.carrier`). */
  readonly carrier?: boolean;
  /** Diagnostics: how late it was sent, trace ms after its due time (0 when on time). */
  readonly sentLateTraceMs?: number;
  /** Diagnostics: the listener's own account (`x-prestage-timing`), ms: in all, in cell calls, in routing reads. */
  readonly server?: {
    readonly total: number;
    readonly cell: number;
    readonly routing: number;
    /** Calls to cells, and those to another region's cell (a write mirrored, a read of both copies). */
    readonly calls?: number;
    readonly remoteCalls?: number;
  };
  /** Diagnostics: the cell that served it. */
  readonly servedBy?: string;
}

interface PointAccumulator {
  /** Latency and weight of each request, flat: [latency, weight, latency, weight, …]. */
  readonly samples: number[];
  weight: number;
  local: number;
  requests: number;
}

/** The weighted q-quantile of a point's samples: the first latency at which the cumulative weight reaches q. */
function weightedQuantile(samples: readonly number[], total: number, q: number): number {
  if (total <= 0) return Number.NaN;
  const order = Array.from({ length: samples.length / 2 }, (_, i) => i).sort(
    (a, b) => samples[2 * a] - samples[2 * b],
  );
  let cumulative = 0;
  for (const i of order) {
    cumulative += samples[2 * i + 1];
    if (cumulative >= q * total - 1e-9 * total) return samples[2 * i];
  }
  return samples[2 * order[order.length - 1]];
}

/** Per-region figures of the measured window. */
export interface RegionFigures {
  readonly requests: number;
  readonly localShare: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

/**
 * What the load generator measured: latency per region (whole window, and per point of `pointMs` trace time for
 * the charts), local share, and the errors. Only successful requests (2xx) count in latency and locality.
 */
export class LiveMeasurements {
  readonly regions: readonly string[];
  readonly pointMs: number;
  requests = 0;
  /** Served requests (2xx), weighted by what each stands for; `local` of them served in their own region. */
  served = 0;
  local = 0;
  writesAcked = 0;
  writeErrors = 0;
  readErrors = 0;
  http503 = 0;
  /** Responses with a 5xx status (the 503s included). */
  http5xx = 0;
  private readonly byRegion = new Map<
    string,
    { histogram: LatencyHistogram; local: number; requests: number }
  >();
  private readonly overall = new LatencyHistogram(10_000, 0.5);
  private readonly points = new Map<number, Map<string, PointAccumulator>>();
  private readonly errorPoints = new Map<number, { writeErrors: number; http503: number }>();
  private readonly latencyPoints: LiveLatencyPoint[] = [];
  private closedUpTo = Number.NEGATIVE_INFINITY;

  /** Every outcome recorded, in order, when built with `keepOutcomes` (diagnostics); empty otherwise. */
  readonly outcomes: RequestOutcome[] = [];
  private readonly keepOutcomes: boolean;

  constructor(regions: readonly string[], pointMs: number, options: { keepOutcomes?: boolean } = {}) {
    this.regions = regions;
    this.pointMs = pointMs;
    this.keepOutcomes = options.keepOutcomes ?? false;
    for (const region of regions) {
      this.byRegion.set(region, { histogram: new LatencyHistogram(10_000, 0.5), local: 0, requests: 0 });
    }
  }

  record(outcome: RequestOutcome): void {
    if (this.keepOutcomes) this.outcomes.push(outcome);
    this.requests += 1;
    const point = outcome.atTraceMs - (outcome.atTraceMs % this.pointMs);
    const ok = outcome.status >= 200 && outcome.status < 300;
    if (outcome.status === 503) this.http503 += 1;
    if (outcome.status >= 500) this.http5xx += 1;
    if (outcome.kind === 'write') {
      if (ok) this.writesAcked += 1;
      else if (outcome.status !== 503) this.writeErrors += 1;
    } else if (!ok && outcome.status !== 503) this.readErrors += 1;
    if (!ok) {
      const errors = this.errorPoints.get(point) ?? { writeErrors: 0, http503: 0 };
      if (outcome.status === 503) errors.http503 += 1;
      else if (outcome.kind === 'write') errors.writeErrors += 1;
      this.errorPoints.set(point, errors);
      return;
    }
    const weight = outcome.weight ?? 1;
    this.served += weight;
    if (outcome.local) this.local += weight;
    const region = this.byRegion.get(outcome.region)!;
    region.histogram.add(outcome.latencyMs, weight);
    region.requests += 1;
    if (outcome.local) region.local += weight;
    this.overall.add(outcome.latencyMs, weight);
    let byRegion = this.points.get(point);
    if (!byRegion) {
      byRegion = new Map();
      this.points.set(point, byRegion);
    }
    const acc = byRegion.get(outcome.region) ?? { samples: [], weight: 0, local: 0, requests: 0 };
    acc.samples.push(outcome.latencyMs, weight);
    acc.weight += weight;
    acc.requests += 1;
    if (outcome.local) acc.local += weight;
    byRegion.set(outcome.region, acc);
  }

  /** Fold the points that ended before `traceMs` into the chart series (their raw latencies are dropped). */
  closePointsBefore(traceMs: number): void {
    for (const [point, byRegion] of [...this.points].sort((a, b) => a[0] - b[0])) {
      if (point + this.pointMs > traceMs) break;
      for (const [region, acc] of byRegion) {
        this.latencyPoints.push({
          traceMs: point,
          region,
          requests: acc.requests,
          p50Ms: weightedQuantile(acc.samples, acc.weight, 0.5),
          p99Ms: weightedQuantile(acc.samples, acc.weight, 0.99),
          localShare: acc.weight > 0 ? acc.local / acc.weight : Number.NaN,
        });
      }
      this.points.delete(point);
      this.closedUpTo = Math.max(this.closedUpTo, point + this.pointMs);
    }
  }

  latencySeries(): readonly LiveLatencyPoint[] {
    return this.latencyPoints;
  }

  errorSeries(): LiveErrorPoint[] {
    return [...this.errorPoints]
      .sort((a, b) => a[0] - b[0])
      .map(([traceMs, e]) => ({ traceMs, writeErrors: e.writeErrors, http503: e.http503 }));
  }

  get remoteShare(): number {
    return this.served > 0 ? 1 - this.local / this.served : Number.NaN;
  }

  get meanLatencyMs(): number {
    return this.overall.mean();
  }

  get p99LatencyMs(): number {
    return this.overall.quantile(0.99);
  }

  region(region: string): RegionFigures {
    const r = this.byRegion.get(region)!;
    return {
      requests: r.requests,
      localShare: r.histogram.total > 0 ? r.local / r.histogram.total : Number.NaN,
      p50Ms: r.histogram.quantile(0.5),
      p99Ms: r.histogram.quantile(0.99),
      meanMs: r.histogram.mean(),
    };
  }
}
