import type { AccessCount } from '../domain/data-plane/ports.ts';
import { hashFraction } from './access-history-cache.ts';

export interface DemandWindow {
  /** Earliest history read (the lookback). */
  readonly startMs: number;
  /** End of the last complete interval bucket; buckets at or after it are in progress and ignored. */
  readonly endMs: number;
  readonly intervalMs: number;
  /** Width of the access recorder's counting buckets. */
  readonly accessBucketMs: number;
}

/** Per-region demand of one partition, ops/s per interval bucket, all regions on one grid. */
export interface DemandHistory {
  readonly startMs: number;
  readonly intervalMs: number;
  readonly regions: Map<string, Float64Array>;
}

/**
 * Turn access counters into per-region demand series (mean ops/s per interval bucket). A recorder bucket
 * spreads over the interval buckets it overlaps, in proportion. The grid starts at the partition's first
 * observed bucket (or the lookback start): a new partition gets a short history, which the forecaster
 * recognises, rather than days of zeros. After that, a bucket without a counter had no request: 0, not missing.
 */
export function buildDemandHistory(counts: readonly AccessCount[], window: DemandWindow): DemandHistory {
  const { intervalMs, accessBucketMs, endMs } = window;
  let first = Number.POSITIVE_INFINITY;
  for (const c of counts) {
    if (c.bucketStartMs + accessBucketMs > window.startMs && c.bucketStartMs < endMs && c.count > 0)
      first = Math.min(first, c.bucketStartMs);
  }
  const lookbackStart = Math.ceil(window.startMs / intervalMs) * intervalMs;
  const startMs = Number.isFinite(first)
    ? Math.max(lookbackStart, Math.floor(first / intervalMs) * intervalMs)
    : endMs;
  const n = Math.max(0, Math.round((endMs - startMs) / intervalMs));
  const regions = new Map<string, Float64Array>();
  if (n === 0) return { startMs, intervalMs, regions };
  const intervalSeconds = intervalMs / 1000;
  for (const c of counts) {
    if (!(c.count > 0)) continue;
    const from = Math.max(c.bucketStartMs, startMs);
    const to = Math.min(c.bucketStartMs + accessBucketMs, endMs);
    if (!(to > from)) continue;
    let values = regions.get(c.region);
    if (!values) {
      values = new Float64Array(n);
      regions.set(c.region, values);
    }
    for (let b = Math.floor((from - startMs) / intervalMs); b < n; b++) {
      const bucketStart = startMs + b * intervalMs;
      const overlap = Math.min(to, bucketStart + intervalMs) - Math.max(from, bucketStart);
      if (overlap <= 0) break;
      values[b] += (c.count * overlap) / accessBucketMs / intervalSeconds;
    }
  }
  return { startMs, intervalMs, regions };
}

/** The share of writes among measured requests, per region and overall. */
export interface MeasuredWriteFraction {
  readonly overall: number;
  readonly byRegion: Readonly<Record<string, number>>;
}

/**
 * Write fractions measured from access counters that tell reads and writes apart (older counters without a
 * write count are left out); undefined when none measured anything, so the scorer's default applies.
 */
export function measuredWriteFraction(counts: readonly AccessCount[]): MeasuredWriteFraction | undefined {
  const totals = new Map<string, { requests: number; writes: number }>();
  for (const c of counts) {
    if (c.writes === undefined || !(c.count > 0)) continue;
    const t = totals.get(c.region) ?? { requests: 0, writes: 0 };
    t.requests += c.count;
    t.writes += Math.min(c.writes, c.count);
    totals.set(c.region, t);
  }
  let requests = 0;
  let writes = 0;
  const byRegion: Record<string, number> = {};
  for (const [region, t] of totals) {
    byRegion[region] = t.writes / t.requests;
    requests += t.requests;
    writes += t.writes;
  }
  return requests > 0 ? { overall: writes / requests, byRegion } : undefined;
}

/**
 * Where a partition's demand series starts: `lookbackMs` before the series' end, or, with `anchorMs` > 0, held on
 * a grid of that period (offset per partition by a hash, so the partitions' moves are spread over it) at or before
 * that, so the series keeps its start for `anchorMs` and a forecaster kept between cycles only observes the new
 * buckets (warm-forecast-model.ts). The lookback is then between `lookbackMs` and `lookbackMs + anchorMs`.
 */
export function lookbackStartOf(
  partition: string,
  seriesEndMs: number,
  lookbackMs: number,
  anchorMs: number,
  intervalMs: number,
): number {
  const sliding = seriesEndMs - lookbackMs;
  if (!(anchorMs > 0)) return sliding;
  const offset = Math.floor((hashFraction(partition) * anchorMs) / intervalMs) * intervalMs;
  return Math.floor((sliding - offset) / anchorMs) * anchorMs + offset;
}
