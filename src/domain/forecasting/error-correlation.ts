/**
 * How much the forecast errors of different partitions on one cell move together, measured.
 *
 * The planner sizes a cell on mean + f(G), where the partitions' upper-quantile gaps G aggregate with a correlation
 * ρ: 0 lets them diversify (√n), 1 adds them up. On the generated scenario suite ρ = 0 passed every pooled target
 * while ρ = 1 kept cells looking full and partitions away from home; on the traces built from real series
 * (tweets-3region, taxi-3region) ρ = 0 doubled predictive's overload (BENCHMARKS.md, "The suite re-run"). The
 * right ρ is a property of the workload, so it is estimated from the errors themselves.
 *
 * For partitions i ≠ j on a cell with error standard deviations σ, E[(Σ e)² − Σ e²] = Σ_{i≠j} cov(e_i, e_j), which
 * is ρ × ((Σ σ)² − Σ σ²) when every pair has correlation ρ. Both sides are summed over cells and over samples with
 * exponential forgetting, and ρ̂ is their ratio, clamped to [0, 1]: pooled over cells, so a cell of one partition
 * adds nothing, and weighted by the partitions' error sizes, as the planner's aggregation is.
 */
export interface ErrorCorrelationOptions {
  /** Samples after which a sample weighs half as much as the newest. */
  readonly halfLifeSamples: number;
  /** No estimate before this many samples. */
  readonly minSamples: number;
}

export class ErrorCorrelationEstimator {
  private readonly squares: Float64Array;
  private weight = 0;
  private covariance = 0;
  private scale = 0;
  private samples = 0;
  private readonly decay: number;
  private cellSum = new Float64Array(0);
  private cellSquares = new Float64Array(0);
  private cellSigma = new Float64Array(0);
  private cellVariance = new Float64Array(0);

  constructor(
    partitions: number,
    private readonly options: ErrorCorrelationOptions,
  ) {
    if (!(options.halfLifeSamples > 0)) throw new RangeError('halfLifeSamples must be > 0');
    if (!(options.minSamples >= 1)) throw new RangeError('minSamples must be >= 1');
    this.squares = new Float64Array(partitions);
    this.decay = 0.5 ** (1 / options.halfLifeSamples);
  }

  /**
   * One sample: each partition's forecast error (actual − forecast, summed over its regions) and the cell it was
   * on (index below `cellCount`; a negative index leaves the partition out of the pairs).
   */
  observe(errors: ArrayLike<number>, cellOf: ArrayLike<number>, cellCount: number): void {
    const P = this.squares.length;
    if (errors.length !== P || cellOf.length !== P) throw new RangeError(`expected ${P} partitions`);
    const d = this.decay;
    this.weight = d * this.weight + 1;
    for (let p = 0; p < P; p++) {
      const e = errors[p];
      this.squares[p] = d * this.squares[p] + (Number.isFinite(e) ? e * e : 0);
    }
    if (this.cellSum.length < cellCount) this.growCells(cellCount);
    this.cellSum.fill(0, 0, cellCount);
    this.cellSquares.fill(0, 0, cellCount);
    this.cellSigma.fill(0, 0, cellCount);
    this.cellVariance.fill(0, 0, cellCount);
    for (let p = 0; p < P; p++) {
      const c = cellOf[p];
      const e = errors[p];
      if (c < 0 || c >= cellCount || !Number.isFinite(e)) continue;
      const variance = this.squares[p] / this.weight;
      this.cellSum[c] += e;
      this.cellSquares[c] += e * e;
      this.cellSigma[c] += Math.sqrt(variance);
      this.cellVariance[c] += variance;
    }
    let covariance = 0;
    let scale = 0;
    for (let c = 0; c < cellCount; c++) {
      covariance += this.cellSum[c] * this.cellSum[c] - this.cellSquares[c];
      scale += this.cellSigma[c] * this.cellSigma[c] - this.cellVariance[c];
    }
    this.covariance = d * this.covariance + covariance;
    this.scale = d * this.scale + scale;
    this.samples++;
  }

  /** ρ̂ in [0, 1], or undefined before `minSamples` or while no cell has held two partitions with errors. */
  estimate(): number | undefined {
    if (this.samples < this.options.minSamples || !(this.scale > 0)) return undefined;
    return Math.min(1, Math.max(0, this.covariance / this.scale));
  }

  private growCells(count: number): void {
    this.cellSum = new Float64Array(count);
    this.cellSquares = new Float64Array(count);
    this.cellSigma = new Float64Array(count);
    this.cellVariance = new Float64Array(count);
  }
}
