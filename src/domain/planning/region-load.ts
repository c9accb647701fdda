import type { ScaleInPartition } from './scale-in.ts';

/**
 * The region loads the forecast-driven scale-in judges (scale-in.ts): partitions' means plus their diversified gaps
 * to the upper forecast, per forecast step and per recent slot, and the packing check.
 */

/**
 * Per region, the load of a set of partitions per forecast step and per recent slot: the sum of their means plus
 * their gaps up to the upper forecast aggregated with correlation ρ, √((1 − ρ) Σ g² + ρ (Σ g)²) (scale-out.ts
 * prices the same spread). A partition without a mean (an older score record) counts at its upper forecast.
 */
export class RegionLoads {
  private readonly steps = new Map<string, Aggregate>();
  private readonly recent = new Map<string, Aggregate>();

  constructor(
    private readonly stepCount: number,
    private readonly slots: number,
    private readonly rho: number,
  ) {}

  add(region: string, p: ScaleInPartition): void {
    let steps = this.steps.get(region);
    if (!steps) {
      steps = new Aggregate(this.stepCount);
      this.steps.set(region, steps);
    }
    for (let t = 0; t < p.upper.length; t++) steps.add(t, p.upper[t], p.mean?.[t]);
    let recent = this.recent.get(region);
    if (!recent) {
      recent = new Aggregate(this.slots);
      this.recent.set(region, recent);
    }
    const peaks = p.recentPeaks;
    if (!peaks || peaks.length < this.slots) return;
    const offset = peaks.length - this.slots;
    const means = p.recentMeans;
    const meanOffset = means && means.length >= this.slots ? means.length - this.slots : -1;
    for (let s = 0; s < this.slots; s++)
      recent.add(s, peaks[offset + s], meanOffset >= 0 ? means![meanOffset + s] : undefined);
  }

  /** The larger of this and `other` per step. */
  upperOf(region: string, other: RegionLoads, rho = this.rho): Float64Array {
    return elementMax(
      this.steps.get(region)?.loads(rho),
      other.steps.get(region)?.loads(rho),
      this.stepCount,
    );
  }

  recentOf(region: string, other: RegionLoads, rho = this.rho): Float64Array {
    return elementMax(this.recent.get(region)?.loads(rho), other.recent.get(region)?.loads(rho), this.slots);
  }
}

/** Σ mean, Σ gap and Σ gap² per index. */
class Aggregate {
  private readonly mean: Float64Array;
  private readonly gap: Float64Array;
  private readonly gapSquares: Float64Array;

  constructor(n: number) {
    this.mean = new Float64Array(n);
    this.gap = new Float64Array(n);
    this.gapSquares = new Float64Array(n);
  }

  add(i: number, upper: number, mean: number | undefined): void {
    const m = mean === undefined ? upper : Math.min(mean, upper);
    const g = upper - m;
    this.mean[i] += m;
    this.gap[i] += g;
    this.gapSquares[i] += g * g;
  }

  loads(rho: number): Float64Array {
    const out = new Float64Array(this.mean.length);
    for (let i = 0; i < out.length; i++)
      out[i] = this.mean[i] + Math.sqrt((1 - rho) * this.gapSquares[i] + rho * this.gap[i] * this.gap[i]);
    return out;
  }
}

function elementMax(a: Float64Array | undefined, b: Float64Array | undefined, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.max(a?.[i] ?? 0, b?.[i] ?? 0);
  return out;
}

/** First-fit decreasing into the roomiest bin: whether every item fits. */
export function packs(items: readonly number[], rooms: number[]): boolean {
  const sorted = [...items].sort((a, b) => b - a);
  for (const item of sorted) {
    let best = -1;
    for (let i = 0; i < rooms.length; i++) if (best < 0 || rooms[i] > rooms[best]) best = i;
    if (best < 0 || rooms[best] + 1e-9 < item) return false;
    rooms[best] -= item;
  }
  return true;
}
