import type { EmbeddedTuning } from './embedded-tuning.ts';
import { DAY_MS, WEEK_MS } from './seasonal-periods.ts';
import { SeasonalProfile } from './seasonal-profile.ts';

const PROFILE_MSE_PRIOR = 1;
/** Profiles are compared on their 2-hour-ahead predictions (the profiler's horizon). */
const PROFILE_SCORE_HORIZON_MS = 7_200_000;
const MAX_SEASONAL_INDEX = 12;

/**
 * The embedded forecaster's seasonal index S(t) = Σ_k w_k·P_k(t): candidate profiles (fine daily, 30-minute
 * daily, 30-minute weekly), blended by inverse recent squared error, w_k ∝ 1 / (recent squared error of P_k's own
 * predictions).
 *
 * Profiles learn ratios against a slow reference level (a week's memory), so a weekend dip is learned as a
 * season rather than absorbed by the faster level. Each profile is scored on its own 2-hour-ahead
 * predictions (reading a coarse slot now would credit it for the buckets just folded into it). Daily data
 * has no daily cycle: its weekly profile (7 slots) is then the only one.
 */
export class SeasonalBlend {
  private readonly profiles: SeasonalProfile[];
  private readonly profileMse: Float64Array;
  private readonly profileScored: Float64Array;
  private readonly profileWeight: Float64Array;
  private readonly blendRate: number;
  /** Each profile's predictions for scoreHorizon buckets ahead, kept until scored. */
  private readonly profilePred: Float64Array;
  private readonly scoreHorizon: number;
  private readonly ring: number;

  /**
   * `cycleBuckets`: buckets in the primary cycle (0: none), which sets how fast the weights move; `maxHorizon`:
   * the forecaster's longest tracked horizon, which bounds the scoring horizon.
   */
  constructor(
    intervalMs: number,
    cycles: { readonly daily: boolean; readonly weekly: boolean },
    tuning: Pick<EmbeddedTuning, 'resolutionMs' | 'dailyRate' | 'weeklyRate'>,
    cycleBuckets: number,
    maxHorizon: number,
  ) {
    const t = tuning;
    this.profiles = [];
    if (cycles.daily) {
      // A fine profile keeps sharp repeated features (a job every 30 minutes) that the coarse one smooths.
      if (intervalMs < t.resolutionMs)
        this.profiles.push(new SeasonalProfile(DAY_MS, intervalMs, intervalMs, t.dailyRate));
      this.profiles.push(new SeasonalProfile(DAY_MS, intervalMs, t.resolutionMs, t.dailyRate));
    }
    if (cycles.weekly)
      this.profiles.push(new SeasonalProfile(WEEK_MS, intervalMs, t.resolutionMs, t.weeklyRate));
    const kp = this.profiles.length;
    this.profileMse = new Float64Array(kp).fill(PROFILE_MSE_PRIOR);
    this.profileScored = new Float64Array(kp);
    this.profileWeight = new Float64Array(kp).fill(1 / Math.max(1, kp));
    this.blendRate = 1 / (2 * Math.max(1, cycleBuckets));
    this.ring = maxHorizon + 1;
    this.scoreHorizon = Math.min(maxHorizon, Math.max(1, Math.round(PROFILE_SCORE_HORIZON_MS / intervalMs)));
    this.profilePred = new Float64Array(kp * this.ring).fill(Number.NaN);
  }

  /** Blended seasonal index of bucket `index` (1 where no profile has data yet). */
  at(index: number): number {
    let sum = 0;
    let weight = 0;
    const profiles = this.profiles;
    for (let k = 0; k < profiles.length; k++) {
      profiles[k].locate(index);
      const v = profiles[k].value();
      if (Number.isNaN(v)) continue;
      sum += this.profileWeight[k] * v;
      weight += this.profileWeight[k];
    }
    return weight > 0 ? sum / weight : 1;
  }

  /**
   * Score each profile's prediction for bucket t against the winsorised observation `yc` (relative to `scale`),
   * fold yc's ratio to the reference level into every profile, and reweight them.
   */
  learn(t: number, yc: number, scale: number, level: number, levelRef: number): void {
    if (levelRef <= 1e-12) return;
    // A seasonal index far above its mean is a burst, not a season.
    const ratio = Math.min(yc / levelRef, MAX_SEASONAL_INDEX);
    const profiles = this.profiles;
    const a = this.blendRate;
    const slot = t % this.ring;
    let weightSum = 0;
    for (let k = 0; k < profiles.length; k++) {
      const v = this.profilePred[k * this.ring + slot];
      if (!Number.isNaN(v)) {
        const e = (yc - level * v) / scale;
        // Running mean at first (the prior counts as one observation), then an EWMA.
        const n = ++this.profileScored[k];
        this.profileMse[k] += Math.max(a, 1 / (n + 1)) * (e * e - this.profileMse[k]);
      }
      profiles[k].locate(t);
      profiles[k].update(ratio);
      const w = 1 / (this.profileMse[k] + 1e-12);
      this.profileWeight[k] = w;
      weightSum += w;
    }
    for (let k = 0; k < profiles.length; k++) this.profileWeight[k] /= weightSum;
  }

  /** Each profile's prediction, made after bucket t, for the bucket it is scored on. */
  storePredictions(t: number): void {
    const target = t + this.scoreHorizon;
    const slot = target % this.ring;
    for (let k = 0; k < this.profiles.length; k++) {
      this.profiles[k].locate(target);
      this.profilePred[k * this.ring + slot] = this.profiles[k].value();
    }
  }

  /**
   * Keep the primary profile's mean at 1 once it is complete: divides every profile by that mean and returns it,
   * for the caller to move into its levels; undefined when nothing was divided.
   */
  normalize(): number | undefined {
    if (this.profiles.length === 0) return undefined;
    const primary = this.profiles[0];
    if (!primary.complete()) return undefined;
    const mean = primary.mean();
    if (!(mean > 1e-9)) return undefined;
    for (const profile of this.profiles) profile.divideBy(mean);
    return mean;
  }
}
