import type { EmbeddedTuning } from './embedded-tuning.ts';
import { ErrorQuantileTracks, inverseNormalCdf } from './error-quantiles.ts';

const TRACKED_CANDIDATES = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
const COEFS = 3;
const SUMS = 9;
/** Relative errors are capped here: beyond 100× the scale, "how much more" carries no information. */
const MAX_RELATIVE_ERROR = 100;
/** Quantile levels per forecast read through the per-call cache (more are computed directly). */
const MAX_LEVELS = 16;

/**
 * The embedded forecaster's direct multi-horizon correction and its error quantiles, per tracked horizon h:
 *
 *   ŷ(t + h)  = base(t + h) + scale(t + h) × (a_h·r(t) + b_h·r̄(t) + c_h)
 *
 * a_h, b_h, c_h are fitted online by exponentially weighted ridge regression of the realised h-step-ahead
 * relative deviation on the current residual r and its short EWMA r̄: an AR(1)-style decaying correction,
 * learned rather than assumed (at a 2-hour horizon the recent deviation from the profile is very informative).
 * The same h-step-ahead predictions, stored when they were made, give the out-of-sample errors whose streaming
 * quantiles form the interval, per horizon. Horizons between tracked ones interpolate; beyond the last they
 * extrapolate.
 *
 * A forecast walks its steps in order through `startForecast` and `seek`, which keep the interpolation in fields
 * so that nothing is allocated per step.
 */
export class HorizonCorrections {
  /** A ring slot per step up to the longest tracked horizon, indexed by target bucket. */
  readonly ring: number;
  private readonly tracked: Int32Array;
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

  /** The step a forecast is at: tracked horizons j and j2, weight w of j2, and the stretch beyond the last. */
  private j = 0;
  private j2 = 0;
  private w = 0;
  private stretch = 1;

  constructor(
    maxHorizon: number,
    tuning: Pick<EmbeddedTuning, 'errorMemory' | 'quantileStep' | 'regressionMemory'>,
  ) {
    const tracked = TRACKED_CANDIDATES.filter((h) => h < maxHorizon);
    tracked.push(maxHorizon);
    this.tracked = Int32Array.from(tracked);
    this.ring = maxHorizon + 1;
    const nT = tracked.length;
    this.predRing = new Float64Array(nT * this.ring).fill(Number.NaN);
    this.baseRing = new Float64Array(nT * this.ring);
    this.scaleRing = new Float64Array(nT * this.ring);
    this.featResid = new Float64Array(this.ring);
    this.featMean = new Float64Array(this.ring);
    this.sums = new Float64Array(nT * SUMS);
    this.coef = new Float64Array(nT * COEFS);
    this.errors = new ErrorQuantileTracks(nT, 1 / tuning.errorMemory, tuning.quantileStep);
    this.quantileCache = new Float64Array(nT * MAX_LEVELS);
    this.forget = 1 - 1 / tuning.regressionMemory;
  }

  /** Forget the predictions, regressions and errors (the forecaster's restart). */
  reset(): void {
    this.errors.reset();
    this.predRing.fill(Number.NaN);
    this.sums.fill(0);
    this.coef.fill(0);
  }

  /**
   * Out-of-sample errors and regression targets for every tracked horizon whose prediction targets bucket t.
   * `countErrors` false: the regressions learn, the error quantiles do not (see the forecaster's short history).
   */
  learnFromOutcome(t: number, y: number, residualLimit: number, countErrors = true): void {
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
      if (countErrors)
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

  /** The regression features of bucket t: its residual and their short-term mean. */
  recordFeatures(t: number, resid: number, residMean: number): void {
    const slot = t % this.ring;
    this.featResid[slot] = resid;
    this.featMean[slot] = residMean;
  }

  /** Ridge solution of each tracked horizon's 3×3 normal equations (Cramer's rule); σ scales the penalty. */
  refreshCoefficients(ridge: number, sigma: number): void {
    const lambda = ridge * Math.max(sigma * sigma, 1e-12);
    const nT = this.tracked.length;
    const s = this.sums;
    for (let j = 0; j < nT; j++) {
      const o = j * SUMS;
      const a00 = s[o] + lambda;
      const a01 = s[o + 1];
      const a02 = s[o + 2];
      const a11 = s[o + 3] + lambda;
      const a12 = s[o + 4];
      const a22 = s[o + 5] + ridge;
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

  /** How many horizons are tracked. */
  get horizons(): number {
    return this.tracked.length;
  }

  /** The j-th tracked horizon, in steps (increasing with j). */
  horizon(j: number): number {
    return this.tracked[j];
  }

  /** Keep the j-th horizon's prediction for bucket `target`, made now from the target's base and scale. */
  storePrediction(
    j: number,
    target: number,
    base: number,
    scale: number,
    resid: number,
    residMean: number,
  ): void {
    const idx = j * this.ring + (target % this.ring);
    const co = j * COEFS;
    this.baseRing[idx] = base;
    this.scaleRing[idx] = scale;
    this.predRing[idx] =
      base + scale * (this.coef[co] * resid + this.coef[co + 1] * residMean + this.coef[co + 2]);
  }

  /** No prediction of the j-th horizon for bucket `target` (nothing observed yet to predict from). */
  clearPrediction(j: number, target: number): void {
    this.predRing[j * this.ring + (target % this.ring)] = Number.NaN;
  }

  /**
   * Start a forecast of `horizon` steps: the error quantiles of every tracked horizon in reach, read once rather
   * than once per step.
   */
  startForecast(horizon: number, quantileLevels: readonly number[]): void {
    const nT = this.tracked.length;
    const L = Math.min(quantileLevels.length, MAX_LEVELS);
    const cache = this.quantileCache;
    for (let jj = 0; jj < nT; jj++) {
      for (let q = 0; q < L; q++) cache[jj * MAX_LEVELS + q] = this.errors.quantile(jj, quantileLevels[q]);
      if (this.tracked[jj] >= horizon) break;
    }
    this.j = 0;
  }

  /** Move the forecast to step h (h = 1, 2, … in order). */
  seek(h: number): void {
    const last = this.tracked.length - 1;
    let j = this.j;
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
    this.j = j;
    this.j2 = j2;
    this.w = w;
    this.stretch = stretch;
  }

  /** The relative correction a·r + b·r̄ + c at the current step, decaying beyond the last tracked horizon. */
  correction(h: number, resid: number, residMean: number): number {
    const { j, j2, w } = this;
    const last = this.tracked.length - 1;
    const co1 = j * COEFS;
    const co2 = j2 * COEFS;
    const decay = this.stretch === 1 ? 1 : this.tracked[last] / h;
    const a = ((1 - w) * this.coef[co1] + w * this.coef[co2]) * decay;
    const b = ((1 - w) * this.coef[co1 + 1] + w * this.coef[co2 + 1]) * decay;
    const c = (1 - w) * this.coef[co1 + 2] + w * this.coef[co2 + 2];
    return a * resid + b * residMean + c;
  }

  /** The relative error quantile of `level` (the q-th of the forecast's levels) at the current step h. */
  errorQuantile(q: number, level: number, h: number, sigma: number): number {
    const { j, j2, w } = this;
    const cached = q < MAX_LEVELS;
    const e1 = cached ? this.quantileCache[j * MAX_LEVELS + q] : this.errors.quantile(j, level);
    const e2 =
      j2 === j ? e1 : cached ? this.quantileCache[j2 * MAX_LEVELS + q] : this.errors.quantile(j2, level);
    let e: number;
    if (!Number.isNaN(e1) && !Number.isNaN(e2)) e = (1 - w) * e1 + w * e2;
    else if (!Number.isNaN(e1)) e = e1;
    // No error seen yet at this horizon: widen the one-step residual scale like a random walk.
    else e = inverseNormalCdf(level) * 1.25 * Math.max(sigma, 0.1) * Math.sqrt(h);
    return e * this.stretch;
  }
}
