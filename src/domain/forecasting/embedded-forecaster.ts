import { ErrorQuantileTracks, inverseNormalCdf } from './error-quantiles.ts';
import type {
  Forecast,
  ForecastBuffers,
  ForecastModel,
  ForecastRequest,
  OnlineForecaster,
} from './forecast-model.ts';
import { replayAndForecast } from './replay-forecast.ts';
import { DAY_MS, seasonalPeriods, WEEK_MS } from './seasonal-periods.ts';
import { SeasonalProfile } from './seasonal-profile.ts';

/**
 * The embedded forecaster: a robust double-seasonal multiplicative model with a direct multi-horizon
 * correction from recent residuals, and quantiles from its own out-of-sample errors.
 *
 *   S(t)      = Σ_k w_k·P_k(t)                     profiles: fine daily, 30-minute daily, 30-minute weekly;
 *                                                  w_k ∝ 1 / (recent squared error of P_k's own predictions)
 *   base(t)   = level × S(t)
 *   scale(t)  = level × max(S(t), 0.1)             errors are relative to it (demand is heteroscedastic)
 *   r(t)      = (y − base) / scale                 clipped at ±k·σ, so one burst cannot wreck level or profiles
 *   ŷ(t + h)  = base(t + h) + scale(t + h) × (a_h·r(t) + b_h·r̄(t) + c_h)
 *
 * a_h, b_h, c_h are fitted online per tracked horizon h by exponentially weighted ridge regression of the
 * realised h-step-ahead relative deviation on the current residual r and its short EWMA r̄: an AR(1)-style
 * decaying correction, learned rather than assumed (at a 2-hour horizon the recent deviation from the
 * profile is very informative). The same h-step-ahead predictions, stored when they were made, give the
 * out-of-sample errors whose streaming quantiles form the interval, per horizon.
 *
 * Profiles learn ratios against a slow reference level (a week's memory), so a weekend dip is learned as a
 * season rather than absorbed by the faster level. Each profile is scored on its own 2-hour-ahead
 * predictions (reading a coarse slot now would credit it for the buckets just folded into it). Daily data
 * has no daily cycle: its weekly profile (7 slots) is then the only one.
 *
 * Costs: observe() is O(tracked horizons × quantile grid) and forecastInto() O(horizon × levels); neither
 * allocates. Memory per series is a few thousand doubles (weekly profile: 336 slots at 30 minutes).
 */
export interface EmbeddedForecasterOptions {
  /** Longest horizon (in steps) with its own error quantiles and coefficients; longer steps extrapolate. @default 24 */
  readonly maxHorizon?: number;
  /** Model the weekly cycle when the interval allows it. @default true */
  readonly weekly?: boolean;
  /** Advanced: override internal smoothing constants (for experiments and the benchmark). */
  readonly tuning?: Partial<EmbeddedTuning>;
}

export interface EmbeddedTuning {
  /** Level memory. @default 6 hours for sub-daily data, 4 weeks for daily data */
  readonly levelMemoryMs: number;
  /** Memory of the reference level the profiles learn against. @default 1 week (8 weeks for daily data) */
  readonly referenceMemoryMs: number;
  /** EWMA weight of a daily profile slot per visit. @default 0.15 */
  readonly dailyRate: number;
  /** EWMA weight of a weekly profile slot per visit. @default 0.25 */
  readonly weeklyRate: number;
  /** Width of a coarse profile slot (read with linear interpolation); never below the interval. @default 30 minutes */
  readonly resolutionMs: number;
  /** Residuals beyond clip × σ (σ = recent mean |residual|) are clipped. @default 4 */
  readonly clip: number;
  /** EWMA weight of r̄, the short-term mean of residuals. @default 0.3 */
  readonly residualRate: number;
  /** Memory of the horizon regressions, in buckets. @default two days of buckets, at least 200 */
  readonly regressionMemory: number;
  /** Ridge penalty, in pseudo-observations. @default 3 */
  readonly ridge: number;
  /** Memory of the error quantiles, in errors. @default 500 */
  readonly errorMemory: number;
  /** Quantile step size as a fraction of the error scale. @default 0.02 */
  readonly quantileStep: number;
  /** Lower bound of S in the error scale, so quiet hours still get a sensible interval. @default 0.1 */
  readonly scaleFloor: number;
  /** Decay of the residual features per missing bucket. @default 0.9 */
  readonly missingDecay: number;
}

const TRACKED_CANDIDATES = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
const COEFS = 3;
const SUMS = 9;
const REFRESH_EVERY = 8;
const SIGMA_PRIOR = 0.5;
const SIGMA_FLOOR = 0.05;
const PROFILE_MSE_PRIOR = 1;
/** Profiles are compared on their 2-hour-ahead predictions (the profiler's horizon). */
const PROFILE_SCORE_HORIZON_MS = 7_200_000;
const MAX_SEASONAL_INDEX = 12;
const SCALE_FLOOR_OF_RAW_MEAN = 0.1;
/** Outputs below this fraction of the raw mean are zero (a level that decays toward 0 never reaches it). */
const ZERO_SNAP = 1e-6;
/** Relative errors are capped here: beyond 100× the scale, "how much more" carries no information. */
const MAX_RELATIVE_ERROR = 100;
/** Quantile levels per forecast read through the per-call cache (more are computed directly). */
const MAX_LEVELS = 16;

export function createEmbeddedForecaster(
  intervalMs: number,
  options: EmbeddedForecasterOptions = {},
): OnlineForecaster {
  return new EmbeddedForecaster(intervalMs, options);
}

class EmbeddedForecaster implements OnlineForecaster {
  private readonly tuning: EmbeddedTuning;
  private readonly shortHistory: number;
  private readonly weeklyAfter: number;
  private readonly cycleBuckets: number;
  private readonly weekBuckets: number;
  private readonly seasonalModel: string;

  /** Candidate profiles (fine daily, 30-minute daily, 30-minute weekly), blended by inverse recent squared error. */
  private readonly profiles: SeasonalProfile[];
  private readonly profileMse: Float64Array;
  private readonly profileScored: Float64Array;
  private readonly profileWeight: Float64Array;
  private readonly hasDaily: boolean;
  private readonly hasWeekly: boolean;
  private readonly blendRate: number;
  /** Each profile's predictions for scoreHorizon buckets ahead, kept until scored. */
  private readonly profilePred: Float64Array;
  private readonly scoreHorizon: number;

  private level = 0;
  /** Slow level (a week's memory) that the profiles' ratios are taken against. */
  private levelRef = 0;
  private levelCount = 0;
  private readonly levelRate: number;
  private readonly levelRefRate: number;
  /** Long-run mean of the raw values, bursts included: the floor of the error scale. */
  private rawMean = 0;
  private readonly rawMeanRate: number;
  private sigma = SIGMA_PRIOR;
  private sigmaCount = 0;
  private resid = 0;
  private residMean = 0;

  private readonly tracked: Int32Array;
  private readonly ring: number;
  private readonly predRing: Float64Array;
  private readonly baseRing: Float64Array;
  private readonly scaleRing: Float64Array;
  private readonly featResid: Float64Array;
  private readonly featMean: Float64Array;
  private readonly sums: Float64Array;
  private readonly coef: Float64Array;
  private readonly errors: ErrorQuantileTracks;
  private readonly quantileCache: Float64Array;
  private readonly forget: number;
  private sinceRefresh = 0;

  observed = 0;

  constructor(intervalMs: number, options: EmbeddedForecasterOptions) {
    const periods = seasonalPeriods(intervalMs);
    const subDaily = periods.daily !== undefined;
    const dailyBuckets = subDaily ? Math.round(DAY_MS / intervalMs) : 0;
    this.tuning = {
      levelMemoryMs: subDaily ? 6 * 3_600_000 : 28 * DAY_MS,
      referenceMemoryMs: subDaily ? WEEK_MS : 8 * WEEK_MS,
      dailyRate: 0.15,
      weeklyRate: 0.25,
      resolutionMs: 30 * 60_000,
      clip: 4,
      residualRate: 0.3,
      regressionMemory: Math.max(200, 2 * dailyBuckets),
      ridge: 3,
      errorMemory: 500,
      quantileStep: 0.02,
      scaleFloor: 0.1,
      missingDecay: 0.9,
      ...options.tuning,
    };
    const t = this.tuning;
    this.hasDaily = subDaily;
    this.hasWeekly = periods.weekly !== undefined && options.weekly !== false;
    this.profiles = [];
    if (subDaily) {
      // A fine profile keeps sharp repeated features (a job every 30 minutes) that the coarse one smooths.
      if (intervalMs < t.resolutionMs)
        this.profiles.push(new SeasonalProfile(DAY_MS, intervalMs, intervalMs, t.dailyRate));
      this.profiles.push(new SeasonalProfile(DAY_MS, intervalMs, t.resolutionMs, t.dailyRate));
    }
    if (this.hasWeekly)
      this.profiles.push(new SeasonalProfile(WEEK_MS, intervalMs, t.resolutionMs, t.weeklyRate));
    const kp = this.profiles.length;
    this.profileMse = new Float64Array(kp).fill(PROFILE_MSE_PRIOR);
    this.profileScored = new Float64Array(kp);
    this.profileWeight = new Float64Array(kp).fill(1 / Math.max(1, kp));
    const primary = periods.daily ?? (this.hasWeekly ? periods.weekly : undefined);
    this.cycleBuckets = primary ? Math.max(1, Math.round(primary.periodMs / intervalMs)) : 0;
    this.weekBuckets = Math.max(1, Math.round(WEEK_MS / intervalMs));
    this.shortHistory = this.cycleBuckets || 14;
    this.weeklyAfter = this.weekBuckets;
    this.blendRate = 1 / (2 * Math.max(1, this.cycleBuckets));
    this.levelRate = Math.min(1, intervalMs / t.levelMemoryMs);
    this.levelRefRate = Math.min(this.levelRate, intervalMs / t.referenceMemoryMs);
    this.rawMeanRate = Math.min(1, intervalMs / (7 * Math.max(t.levelMemoryMs, DAY_MS)));
    this.seasonalModel = subDaily
      ? this.hasWeekly
        ? 'embedded:daily+weekly'
        : 'embedded:daily'
      : this.hasWeekly
        ? 'embedded:weekly'
        : 'embedded:level';

    const maxHorizon = Math.max(1, Math.floor(options.maxHorizon ?? 24));
    const tracked = TRACKED_CANDIDATES.filter((h) => h < maxHorizon);
    tracked.push(maxHorizon);
    this.tracked = Int32Array.from(tracked);
    this.ring = maxHorizon + 1;
    this.scoreHorizon = Math.min(maxHorizon, Math.max(1, Math.round(PROFILE_SCORE_HORIZON_MS / intervalMs)));
    this.profilePred = new Float64Array(kp * this.ring).fill(Number.NaN);
    const nT = tracked.length;
    this.predRing = new Float64Array(nT * this.ring).fill(Number.NaN);
    this.baseRing = new Float64Array(nT * this.ring);
    this.scaleRing = new Float64Array(nT * this.ring);
    this.featResid = new Float64Array(this.ring);
    this.featMean = new Float64Array(this.ring);
    this.sums = new Float64Array(nT * SUMS);
    this.coef = new Float64Array(nT * COEFS);
    this.errors = new ErrorQuantileTracks(nT, 1 / t.errorMemory, t.quantileStep);
    this.quantileCache = new Float64Array(nT * MAX_LEVELS);
    this.forget = 1 - 1 / t.regressionMemory;
  }

  get model(): string {
    if (this.observed < this.shortHistory) return 'embedded:short-history';
    if (this.hasDaily && this.hasWeekly && this.observed < this.weeklyAfter) return 'embedded:daily';
    return this.seasonalModel;
  }

  /** Blended seasonal index of bucket `index` (1 where no profile has data yet). */
  private seasonal(index: number): number {
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

  private scaleFor(seasonal: number): number {
    const s = this.level * Math.max(seasonal, this.tuning.scaleFloor);
    // Intermittent series (mostly zeros, rare bursts) have a near-zero level; measuring their errors
    // relative to it would make every burst infinitely surprising.
    return Math.max(s, SCALE_FLOOR_OF_RAW_MEAN * this.rawMean);
  }

  observe(value: number, multiplier = 1): void {
    const t = this.observed;
    const y = multiplier > 0 && Number.isFinite(multiplier) ? value / multiplier : value;
    const tuning = this.tuning;
    const slot = t % this.ring;

    if (Number.isFinite(y)) {
      if (this.levelCount > 0 && this.rawMean === 0 && y > 0) this.restart();
      if (this.levelCount === 0) {
        this.level = y;
        this.levelRef = y;
      }
      const S = this.seasonal(t);
      const base = this.level * S;
      const scale = this.scaleFor(S);
      // scale is 0 only while every value so far was 0: nothing to compare with yet.
      const known = scale > 0;
      const r = known ? (y - base) / scale : 0;
      const limit = tuning.clip * Math.max(this.sigma, SIGMA_FLOOR);
      const rc = r > limit ? limit : Math.max(r, -limit);
      if (known) {
        this.sigmaCount++;
        this.sigma +=
          Math.max(1 / tuning.errorMemory, 1 / (this.sigmaCount + 4)) *
          (Math.min(Math.abs(r), 2 * limit) - this.sigma);
      }

      this.learnFromOutcome(t, y, limit);

      // The winsorised observation drives level and profiles, so one burst cannot wreck them.
      const yc = known ? base + scale * rc : y;
      this.updateProfiles(t, yc, scale);
      this.levelCount++;
      const a = Math.max(this.levelRate, 1 / this.levelCount);
      const w = Math.min(S, 1);
      const deseasonalized = yc / Math.max(S, 1e-9);
      this.level = Math.max(0, this.level + a * w * (deseasonalized - this.level));
      const aRef = Math.max(this.levelRefRate, 1 / this.levelCount);
      this.levelRef = Math.max(0, this.levelRef + aRef * w * (deseasonalized - this.levelRef));
      this.rawMean += Math.max(this.rawMeanRate, 1 / this.levelCount) * (y - this.rawMean);
      this.resid = rc;
      this.residMean += tuning.residualRate * (rc - this.residMean);
    } else {
      this.resid *= tuning.missingDecay;
      this.residMean *= tuning.missingDecay;
    }
    this.featResid[slot] = this.resid;
    this.featMean[slot] = this.residMean;
    this.observed = t + 1;
    if (this.cycleBuckets > 0 && this.observed % this.cycleBuckets === 0) this.normalizeProfiles();

    if (++this.sinceRefresh >= REFRESH_EVERY || this.observed < 64) {
      this.sinceRefresh = 0;
      this.refreshCoefficients();
    }
    this.storePredictions(t);
    this.storeProfilePredictions(t);
  }

  /**
   * The first non-zero value after an all-zero history: zeros say nothing about the scale, so learning
   * starts afresh (otherwise the first relative errors are astronomically large and poison the intervals).
   */
  private restart(): void {
    this.levelCount = 0;
    this.sigma = SIGMA_PRIOR;
    this.sigmaCount = 0;
    this.errors.reset();
    this.predRing.fill(Number.NaN);
    this.sums.fill(0);
    this.coef.fill(0);
    this.resid = 0;
    this.residMean = 0;
  }

  /** Out-of-sample errors and regression targets for every tracked horizon whose prediction targets bucket t. */
  private learnFromOutcome(t: number, y: number, residualLimit: number): void {
    const nT = this.tracked.length;
    const R = this.ring;
    const slot = t % R;
    const limit = 1.5 * residualLimit;
    const f = this.forget;
    const sums = this.sums;
    for (let j = 0; j < nT; j++) {
      const h = this.tracked[j];
      if (t < h) break;
      const idx = j * R + slot;
      const pred = this.predRing[idx];
      if (Number.isNaN(pred)) continue;
      const s = this.scaleRing[idx];
      // Until the series has shown a non-zero value there is no scale to measure errors against.
      if (!(s > 1e-12)) continue;
      const error = (y - pred) / s;
      this.errors.update(j, Math.min(MAX_RELATIVE_ERROR, Math.max(-MAX_RELATIVE_ERROR, error)));
      const target = Math.min(limit, Math.max(-limit, (y - this.baseRing[idx]) / s));
      const origin = (t - h) % R;
      const x0 = this.featResid[origin];
      const x1 = this.featMean[origin];
      const o = j * SUMS;
      sums[o] = f * sums[o] + x0 * x0;
      sums[o + 1] = f * sums[o + 1] + x0 * x1;
      sums[o + 2] = f * sums[o + 2] + x0;
      sums[o + 3] = f * sums[o + 3] + x1 * x1;
      sums[o + 4] = f * sums[o + 4] + x1;
      sums[o + 5] = f * sums[o + 5] + 1;
      sums[o + 6] = f * sums[o + 6] + x0 * target;
      sums[o + 7] = f * sums[o + 7] + x1 * target;
      sums[o + 8] = f * sums[o + 8] + target;
    }
  }

  private updateProfiles(t: number, yc: number, scale: number): void {
    if (this.levelRef <= 1e-12) return;
    // A seasonal index far above its mean is a burst, not a season.
    const ratio = Math.min(yc / this.levelRef, MAX_SEASONAL_INDEX);
    const profiles = this.profiles;
    const a = this.blendRate;
    const slot = t % this.ring;
    let weightSum = 0;
    for (let k = 0; k < profiles.length; k++) {
      const v = this.profilePred[k * this.ring + slot];
      if (!Number.isNaN(v)) {
        const e = (yc - this.level * v) / scale;
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

  private storeProfilePredictions(t: number): void {
    const target = t + this.scoreHorizon;
    const slot = target % this.ring;
    for (let k = 0; k < this.profiles.length; k++) {
      this.profiles[k].locate(target);
      this.profilePred[k * this.ring + slot] = this.profiles[k].value();
    }
  }

  /** Keep the primary profile's mean at 1 once it is complete, moving the factor into the levels. */
  private normalizeProfiles(): void {
    if (this.profiles.length === 0) return;
    const primary = this.profiles[0];
    if (!primary.complete()) return;
    const mean = primary.mean();
    if (!(mean > 1e-9)) return;
    for (const profile of this.profiles) profile.divideBy(mean);
    this.level *= mean;
    this.levelRef *= mean;
  }

  /** Ridge solution of each tracked horizon's 3×3 normal equations (Cramer's rule). */
  private refreshCoefficients(): void {
    const lambda = this.tuning.ridge * Math.max(this.sigma * this.sigma, 1e-12);
    const nT = this.tracked.length;
    const s = this.sums;
    for (let j = 0; j < nT; j++) {
      const o = j * SUMS;
      const a00 = s[o] + lambda;
      const a01 = s[o + 1];
      const a02 = s[o + 2];
      const a11 = s[o + 3] + lambda;
      const a12 = s[o + 4];
      const a22 = s[o + 5] + this.tuning.ridge;
      const b0 = s[o + 6];
      const b1 = s[o + 7];
      const b2 = s[o + 8];
      const c00 = a11 * a22 - a12 * a12;
      const c01 = a02 * a12 - a01 * a22;
      const c02 = a01 * a12 - a02 * a11;
      const det = a00 * c00 + a01 * c01 + a02 * c02;
      const co = j * COEFS;
      if (!(Math.abs(det) > 1e-300)) {
        this.coef[co] = 0;
        this.coef[co + 1] = 0;
        this.coef[co + 2] = 0;
        continue;
      }
      const c11 = a00 * a22 - a02 * a02;
      const c12 = a01 * a02 - a00 * a12;
      const c22 = a00 * a11 - a01 * a01;
      this.coef[co] = (c00 * b0 + c01 * b1 + c02 * b2) / det;
      this.coef[co + 1] = (c01 * b0 + c11 * b1 + c12 * b2) / det;
      this.coef[co + 2] = (c02 * b0 + c12 * b1 + c22 * b2) / det;
    }
  }

  /** Predictions made now for each tracked horizon, kept until their target bucket is observed. */
  private storePredictions(t: number): void {
    const nT = this.tracked.length;
    const R = this.ring;
    const started = this.levelCount > 0;
    for (let j = 0; j < nT; j++) {
      const target = t + this.tracked[j];
      const idx = j * R + (target % R);
      if (!started) {
        this.predRing[idx] = Number.NaN;
        continue;
      }
      const S = this.seasonal(target);
      const base = this.level * S;
      const scale = this.scaleFor(S);
      const co = j * COEFS;
      this.baseRing[idx] = base;
      this.scaleRing[idx] = scale;
      this.predRing[idx] =
        base + scale * (this.coef[co] * this.resid + this.coef[co + 1] * this.residMean + this.coef[co + 2]);
    }
  }

  forecastInto(
    horizon: number,
    quantileLevels: readonly number[],
    out: ForecastBuffers,
    eventMultipliers?: Float64Array,
  ): void {
    const n = this.observed;
    const nT = this.tracked.length;
    const last = nT - 1;
    const started = this.levelCount > 0;
    // Error quantiles of every tracked horizon in reach, read once rather than once per step.
    const L = Math.min(quantileLevels.length, MAX_LEVELS);
    const cache = this.quantileCache;
    for (let jj = 0; jj < nT; jj++) {
      for (let q = 0; q < L; q++) cache[jj * MAX_LEVELS + q] = this.errors.quantile(jj, quantileLevels[q]);
      if (this.tracked[jj] >= horizon) break;
    }
    let j = 0;
    for (let k = 0; k < horizon; k++) {
      const h = k + 1;
      const m =
        eventMultipliers !== undefined && k < eventMultipliers.length && eventMultipliers[k] > 0
          ? eventMultipliers[k]
          : 1;
      if (!started) {
        out.mean[k] = 0;
        for (let q = 0; q < quantileLevels.length; q++) out.quantiles[q][k] = 0;
        continue;
      }
      while (j < last && this.tracked[j + 1] <= h) j++;
      // Interpolate coefficients and error quantiles between tracked horizons j and j + 1.
      let j2 = j;
      let w = 0;
      let stretch = 1;
      if (h > this.tracked[j]) {
        if (j < last) {
          j2 = j + 1;
          w = (h - this.tracked[j]) / (this.tracked[j2] - this.tracked[j]);
        } else {
          stretch = Math.sqrt(h / this.tracked[last]);
        }
      }
      const co1 = j * COEFS;
      const co2 = j2 * COEFS;
      const decay = stretch === 1 ? 1 : this.tracked[last] / h;
      const a = ((1 - w) * this.coef[co1] + w * this.coef[co2]) * decay;
      const b = ((1 - w) * this.coef[co1 + 1] + w * this.coef[co2 + 1]) * decay;
      const c = (1 - w) * this.coef[co1 + 2] + w * this.coef[co2 + 2];
      const S = this.seasonal(n + k);
      const base = this.level * S;
      const scale = this.scaleFor(S);
      const point = base + scale * (a * this.resid + b * this.residMean + c);
      const zero = ZERO_SNAP * this.rawMean;
      out.mean[k] = (point > zero ? point : 0) * m;
      for (let q = 0; q < quantileLevels.length; q++) {
        const e = this.errorQuantile(j, j2, w, q, quantileLevels[q], h) * stretch;
        const v = point + scale * e;
        out.quantiles[q][k] = (v > zero ? v : 0) * m;
      }
    }
  }

  private errorQuantile(j: number, j2: number, w: number, q: number, level: number, h: number): number {
    const cached = q < MAX_LEVELS;
    const e1 = cached ? this.quantileCache[j * MAX_LEVELS + q] : this.errors.quantile(j, level);
    const e2 =
      j2 === j ? e1 : cached ? this.quantileCache[j2 * MAX_LEVELS + q] : this.errors.quantile(j2, level);
    if (!Number.isNaN(e1) && !Number.isNaN(e2)) return (1 - w) * e1 + w * e2;
    if (!Number.isNaN(e1)) return e1;
    // No error seen yet at this horizon: widen the one-step residual scale like a random walk.
    return inverseNormalCdf(level) * 1.25 * Math.max(this.sigma, 0.1) * Math.sqrt(h);
  }
}

/** Batch form: replays each request's history through an online forecaster, then forecasts. */
export class EmbeddedForecastModel implements ForecastModel {
  readonly name = 'embedded';
  private readonly options: EmbeddedForecasterOptions;

  constructor(options: EmbeddedForecasterOptions = {}) {
    this.options = options;
  }

  async forecast(requests: readonly ForecastRequest[]): Promise<Forecast[]> {
    return requests.map((request) =>
      replayAndForecast(request, (interval) => this.forecasterFor(interval, request.horizon)),
    );
  }

  /** The online forecaster a request of `horizon` steps is replayed through. */
  forecasterFor(intervalMs: number, horizon: number): OnlineForecaster {
    return createEmbeddedForecaster(intervalMs, { ...this.options, maxHorizon: this.maxHorizonFor(horizon) });
  }

  maxHorizonFor(horizon: number): number {
    return this.options.maxHorizon ?? Math.max(24, horizon);
  }
}
