/**
 * Streaming quantiles of a forecaster's own out-of-sample errors, for several independent "tracks"
 * (one per tracked horizon). Fixed memory, O(grid) per update, no allocation: each grid level is a
 * stochastic-approximation quantile estimate (q += step × (level − [e ≤ q])), which converges to the
 * empirical quantile of recent errors, so the intervals built from it are calibrated by construction
 * and follow changes in volatility. Until a track has seen `warmup` errors it answers from a normal
 * approximation (mean ± z × 1.25 × mean-absolute-deviation).
 */

/** Quantile levels tracked exactly; other levels are interpolated (tails: normal-shaped extrapolation). */
export const ERROR_GRID: readonly number[] = [0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98];
const GRID_SIZE = ERROR_GRID.length;
const GRID_Z = ERROR_GRID.map(inverseNormalCdf);
const MAD_TO_SD = Math.sqrt(Math.PI / 2);
/** Tail levels take larger steps, so a 0.9 quantile set too wide shrinks as fast as a median moves. */
const GRID_STEP = ERROR_GRID.map((level) => 0.5 / Math.sqrt(Math.min(level, 1 - level)));

export class ErrorQuantileTracks {
  readonly tracks: number;
  private readonly q: Float64Array;
  private readonly absMean: Float64Array;
  private readonly mean: Float64Array;
  private readonly count: Float64Array;
  private readonly rate: number;
  private readonly stepRate: number;
  private readonly warmup: number;

  /**
   * @param rate EWMA weight of the error scale (≈ 1 / memory in errors).
   * @param stepRate step of the quantile updates, as a fraction of the error scale.
   */
  constructor(tracks: number, rate = 1 / 500, stepRate = 0.02, warmup = 24) {
    this.tracks = tracks;
    this.q = new Float64Array(tracks * GRID_SIZE);
    this.absMean = new Float64Array(tracks);
    this.mean = new Float64Array(tracks);
    this.count = new Float64Array(tracks);
    this.rate = rate;
    this.stepRate = stepRate;
    this.warmup = warmup;
  }

  /** Forget every track (a restart after an all-zero history). */
  reset(): void {
    this.q.fill(0);
    this.absMean.fill(0);
    this.mean.fill(0);
    this.count.fill(0);
  }

  /** Number of errors seen by a track. */
  countOf(track: number): number {
    return this.count[track];
  }

  /** Mean absolute error of a track (recent, exponentially weighted). */
  scaleOf(track: number): number {
    return this.absMean[track];
  }

  update(track: number, error: number): void {
    const n = ++this.count[track];
    const a = Math.max(this.rate, 1 / n);
    // Scale and mean see errors capped at 10× the current scale: one absurd error must not inflate
    // the step size for hundreds of updates (the quantile updates themselves only use the sign).
    const cap = n > this.warmup ? 10 * this.absMean[track] : Number.POSITIVE_INFINITY;
    const capped = error > cap ? cap : Math.max(error, -cap);
    this.absMean[track] += a * (Math.abs(capped) - this.absMean[track]);
    this.mean[track] += a * (capped - this.mean[track]);
    const base = track * GRID_SIZE;
    if (n < this.warmup) return;
    if (n === this.warmup) {
      const sd = MAD_TO_SD * this.absMean[track];
      for (let i = 0; i < GRID_SIZE; i++) this.q[base + i] = this.mean[track] + GRID_Z[i] * sd;
      return;
    }
    // Faster steps just after warm-up, settling to stepRate.
    const step = Math.max(this.stepRate, 4 / (n - this.warmup + 20)) * this.absMean[track];
    for (let i = 0; i < GRID_SIZE; i++) {
      const qi = this.q[base + i];
      this.q[base + i] = qi + step * GRID_STEP[i] * (error <= qi ? ERROR_GRID[i] - 1 : ERROR_GRID[i]);
    }
  }

  /** The `level` quantile of a track's errors; NaN when the track has seen no error yet. */
  quantile(track: number, level: number): number {
    const n = this.count[track];
    if (n === 0) return Number.NaN;
    if (n < this.warmup) {
      return this.mean[track] + inverseNormalCdf(level) * MAD_TO_SD * this.absMean[track];
    }
    const base = track * GRID_SIZE;
    // Monotone read-out: running maximum over the grid, so crossed estimates never invert an interval.
    let prev = this.q[base];
    if (level <= ERROR_GRID[0]) {
      const next = Math.max(prev, this.q[base + 1]);
      return prev - ((GRID_Z[0] - inverseNormalCdf(level)) / (GRID_Z[1] - GRID_Z[0])) * (next - prev);
    }
    for (let i = 1; i < GRID_SIZE; i++) {
      const cur = Math.max(prev, this.q[base + i]);
      if (level <= ERROR_GRID[i]) {
        const w = (level - ERROR_GRID[i - 1]) / (ERROR_GRID[i] - ERROR_GRID[i - 1]);
        return prev + w * (cur - prev);
      }
      if (i === GRID_SIZE - 1) {
        return cur + ((inverseNormalCdf(level) - GRID_Z[i]) / (GRID_Z[i] - GRID_Z[i - 1])) * (cur - prev);
      }
      prev = cur;
    }
    return prev;
  }
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function inverseNormalCdf(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a1 = -39.69683028665376;
  const a2 = 220.9460984245205;
  const a3 = -275.9285104469687;
  const a4 = 138.357751867269;
  const a5 = -30.66479806614716;
  const a6 = 2.506628277459239;
  const b1 = -54.47609879822406;
  const b2 = 161.5858368580409;
  const b3 = -155.6989798598866;
  const b4 = 66.80131188771972;
  const b5 = -13.28068155288572;
  const c1 = -0.007784894002430293;
  const c2 = -0.3223964580411365;
  const c3 = -2.400758277161838;
  const c4 = -2.549732539343734;
  const c5 = 4.374664141464968;
  const c6 = 2.938163982698783;
  const d1 = 0.007784695709041462;
  const d2 = 0.3224671290700398;
  const d3 = 2.445134137142996;
  const d4 = 3.754408661907416;
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) /
      ((((d1 * q + d2) * q + d3) * q + d4) * q + 1)
    );
  }
  if (p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return (
      -(((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) /
      ((((d1 * q + d2) * q + d3) * q + d4) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a1 * r + a2) * r + a3) * r + a4) * r + a5) * r + a6) * q) /
    (((((b1 * r + b2) * r + b3) * r + b4) * r + b5) * r + 1)
  );
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf approximation, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
