import { type EmbeddedForecasterOptions, type EmbeddedTuning, embeddedTuning } from './embedded-tuning.ts';
import type {
  Forecast,
  ForecastBuffers,
  ForecastModel,
  ForecastRequest,
  OnlineForecaster,
} from './forecast-model.ts';
import { HorizonCorrections } from './horizon-corrections.ts';
import { replayAndForecast } from './replay-forecast.ts';
import { SeasonalBlend } from './seasonal-blend.ts';
import { DAY_MS, seasonalPeriods, WEEK_MS } from './seasonal-periods.ts';

const REFRESH_EVERY = 8;
const SIGMA_PRIOR = 0.5;
const SIGMA_FLOOR = 0.05;
const SCALE_FLOOR_OF_RAW_MEAN = 0.1;
/** Outputs below this fraction of the raw mean are zero (a level that decays toward 0 never reaches it). */
const ZERO_SNAP = 1e-6;

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
 * This module keeps the level, the residuals and their scale; the seasonal blend S is seasonal-blend.ts, the
 * per-horizon correction (a_h, b_h, c_h) and the error quantiles that form the interval are
 * horizon-corrections.ts, and the options and smoothing constants are embedded-tuning.ts.
 *
 * Costs: observe() is O(tracked horizons × quantile grid) and forecastInto() O(horizon × levels); neither
 * allocates. Memory per series is a few thousand doubles (weekly profile: 336 slots at 30 minutes).
 */
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
  private readonly hasDaily: boolean;
  private readonly hasWeekly: boolean;

  private readonly seasonal: SeasonalBlend;
  private readonly corrections: HorizonCorrections;

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
  private sinceRefresh = 0;

  observed = 0;

  constructor(intervalMs: number, options: EmbeddedForecasterOptions) {
    const periods = seasonalPeriods(intervalMs);
    const subDaily = periods.daily !== undefined;
    this.tuning = embeddedTuning(intervalMs, subDaily, options.tuning);
    const t = this.tuning;
    this.hasDaily = subDaily;
    this.hasWeekly = periods.weekly !== undefined && options.weekly !== false;
    const primary = periods.daily ?? (this.hasWeekly ? periods.weekly : undefined);
    this.cycleBuckets = primary ? Math.max(1, Math.round(primary.periodMs / intervalMs)) : 0;
    this.weekBuckets = Math.max(1, Math.round(WEEK_MS / intervalMs));
    this.shortHistory = this.cycleBuckets || 14;
    this.weeklyAfter = this.weekBuckets;
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
    this.corrections = new HorizonCorrections(maxHorizon, t);
    this.seasonal = new SeasonalBlend(
      intervalMs,
      { daily: subDaily, weekly: this.hasWeekly },
      t,
      this.cycleBuckets,
      maxHorizon,
    );
  }

  get model(): string {
    if (this.observed < this.shortHistory) return 'embedded:short-history';
    if (this.hasDaily && this.hasWeekly && this.observed < this.weeklyAfter) return 'embedded:daily';
    return this.seasonalModel;
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

    if (Number.isFinite(y)) {
      if (this.levelCount > 0 && this.rawMean === 0 && y > 0) this.restart();
      if (this.levelCount === 0) {
        this.level = y;
        this.levelRef = y;
      }
      const S = this.seasonal.at(t);
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

      // Errors made before the model has seen one whole cycle (no profile yet) are not the errors it makes now:
      // at a few steps ahead they run to 10x the level, and a streaming quantile started on them would take weeks
      // to come down. The interval counts errors from the first complete cycle on.
      this.corrections.learnFromOutcome(t, y, limit, this.levelCount >= this.shortHistory);

      // The winsorised observation drives level and profiles, so one burst cannot wreck them.
      const yc = known ? base + scale * rc : y;
      this.seasonal.learn(t, yc, scale, this.level, this.levelRef);
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
    this.corrections.recordFeatures(t, this.resid, this.residMean);
    this.observed = t + 1;
    if (this.cycleBuckets > 0 && this.observed % this.cycleBuckets === 0) this.normalizeProfiles();

    if (++this.sinceRefresh >= REFRESH_EVERY || this.observed < 64) {
      this.sinceRefresh = 0;
      this.corrections.refreshCoefficients(tuning.ridge, this.sigma);
    }
    this.storePredictions(t);
    this.seasonal.storePredictions(t);
  }

  /**
   * The first non-zero value after an all-zero history: zeros say nothing about the scale, so learning
   * starts afresh (otherwise the first relative errors are astronomically large and poison the intervals).
   */
  private restart(): void {
    this.levelCount = 0;
    this.sigma = SIGMA_PRIOR;
    this.sigmaCount = 0;
    this.corrections.reset();
    this.resid = 0;
    this.residMean = 0;
  }

  /** Keep the primary profile's mean at 1 once it is complete, moving the factor into the levels. */
  private normalizeProfiles(): void {
    const mean = this.seasonal.normalize();
    if (mean === undefined) return;
    this.level *= mean;
    this.levelRef *= mean;
  }

  /** Predictions made now for each tracked horizon, kept until their target bucket is observed. */
  private storePredictions(t: number): void {
    const corrections = this.corrections;
    const started = this.levelCount > 0;
    for (let j = 0; j < corrections.horizons; j++) {
      const target = t + corrections.horizon(j);
      if (!started) {
        corrections.clearPrediction(j, target);
        continue;
      }
      const S = this.seasonal.at(target);
      corrections.storePrediction(j, target, this.level * S, this.scaleFor(S), this.resid, this.residMean);
    }
  }

  forecastInto(
    horizon: number,
    quantileLevels: readonly number[],
    out: ForecastBuffers,
    eventMultipliers?: Float64Array,
  ): void {
    const n = this.observed;
    const started = this.levelCount > 0;
    const corrections = this.corrections;
    corrections.startForecast(horizon, quantileLevels);
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
      corrections.seek(h);
      const S = this.seasonal.at(n + k);
      const base = this.level * S;
      const scale = this.scaleFor(S);
      const point = base + scale * corrections.correction(h, this.resid, this.residMean);
      const zero = ZERO_SNAP * this.rawMean;
      out.mean[k] = (point > zero ? point : 0) * m;
      for (let q = 0; q < quantileLevels.length; q++) {
        const e = corrections.errorQuantile(q, quantileLevels[q], h, this.sigma);
        const v = point + scale * e;
        out.quantiles[q][k] = (v > zero ? v : 0) * m;
      }
    }
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
