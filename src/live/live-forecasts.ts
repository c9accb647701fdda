import type { ScoreRecord } from '../domain/scoring/score-record.ts';
import type { LiveForecastPoint, LiveForecastSeries } from './live-snapshot.ts';

/** Series the dashboard's forecast panel shows: the hottest partitions of the latest cycle. */
const SERIES = 6;

/** The region whose demand a score forecasts most of (its prediction vector's largest share). */
function mainRegion(score: ScoreRecord): string | undefined {
  const shares = Object.entries(score.predictionVector);
  if (shares.length === 0) return Object.keys(score.mean)[0];
  return shares.reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
}

/**
 * Forecast against actual for the dashboard, from what the profiler stored: each cycle's score of a partition
 * carries its forecast per region and step (`mean`, from the bucket in progress) and what it observed in the last
 * complete bucket (`observedOpsPerSec`). A bucket's forecast is the latest one made for it before it was
 * observed; its actual is what the next cycle's profiler observed. Ops/s in the trace's units.
 */
export class ForecastTracker {
  private readonly points = new Map<
    string,
    Map<number, { actual: number | null; forecast: number | null }>
  >();
  private readonly regionOf = new Map<string, string>();
  private hottest: string[] = [];
  private lastCycleStartMs = Number.NEGATIVE_INFINITY;

  /** The scores of one cycle (or the table's current content: a score seen before changes nothing). */
  observe(scores: readonly ScoreRecord[]): void {
    const latest = Math.max(Number.NEGATIVE_INFINITY, ...scores.map((s) => s.forecastStartMs));
    if (!(latest > this.lastCycleStartMs)) return;
    this.lastCycleStartMs = latest;
    const current = scores.filter((s) => s.forecastStartMs === latest);
    this.hottest = [...current]
      .sort((a, b) => b.peakOpsPerSec - a.peakOpsPerSec || a.partition.localeCompare(b.partition))
      .slice(0, SERIES)
      .map((s) => s.partition);
    for (const score of current) {
      // A partition keeps the region its series started with, so its points stay one series.
      const region = this.regionOf.get(score.partition) ?? mainRegion(score);
      if (!region) continue;
      this.regionOf.set(score.partition, region);
      const points = this.points.get(score.partition) ?? new Map();
      this.points.set(score.partition, points);
      const stepMs = score.stepSeconds * 1000;
      const observedAt = score.forecastStartMs - stepMs;
      const observed = points.get(observedAt) ?? { actual: null, forecast: null };
      observed.actual = score.observedOpsPerSec[region] ?? 0;
      points.set(observedAt, observed);
      (score.mean[region] ?? []).forEach((forecast, step) => {
        const at = score.forecastStartMs + step * stepMs;
        const point = points.get(at) ?? { actual: null, forecast: null };
        point.forecast = forecast;
        points.set(at, point);
      });
    }
  }

  series(): LiveForecastSeries[] {
    return this.hottest.map((partition) => ({
      partition,
      region: this.regionOf.get(partition) ?? '',
      points: [...(this.points.get(partition) ?? new Map())]
        .sort((a, b) => a[0] - b[0])
        .map(([traceMs, p]): LiveForecastPoint => ({ traceMs, actual: p.actual, forecast: p.forecast })),
    }));
  }
}
