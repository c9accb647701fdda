/**
 * Request-weighted latency histogram with fixed-width bins, so means and percentiles over millions of
 * requests cost O(bins) and no allocation. Weights may be removed again (a mid-bucket cutover moves
 * the rest of the bucket's requests to another latency).
 */
export class LatencyHistogram {
  readonly binMs: number;
  readonly weights: Float64Array;
  total = 0;
  weightedSum = 0;

  constructor(maxMs = 2000, binMs = 0.5) {
    this.binMs = binMs;
    this.weights = new Float64Array(Math.ceil(maxMs / binMs) + 1);
  }

  add(latencyMs: number, weight: number): void {
    if (weight === 0) return;
    const bin = Math.min(this.weights.length - 1, Math.max(0, Math.round(latencyMs / this.binMs)));
    this.weights[bin] += weight;
    this.total += weight;
    this.weightedSum += latencyMs * weight;
  }

  addAll(other: LatencyHistogram): void {
    for (let i = 0; i < this.weights.length; i++) this.weights[i] += other.weights[i];
    this.total += other.total;
    this.weightedSum += other.weightedSum;
  }

  clear(): void {
    this.weights.fill(0);
    this.total = 0;
    this.weightedSum = 0;
  }

  /** Request-weighted mean, or NaN with no requests. */
  mean(): number {
    return this.total > 1e-9 ? this.weightedSum / this.total : Number.NaN;
  }

  /** Smallest bin value with at least `q` of the weight at or below it; NaN with no requests. */
  quantile(q: number): number {
    if (this.total <= 1e-9) return Number.NaN;
    const target = q * this.total;
    let cumulative = 0;
    for (let i = 0; i < this.weights.length; i++) {
      cumulative += this.weights[i];
      // A tolerance absorbs float residue left by add/remove pairs.
      if (cumulative >= target - 1e-9 * this.total) return i * this.binMs;
    }
    return (this.weights.length - 1) * this.binMs;
  }

  /** The non-empty bins as shares of the weight, ascending; empty with no requests. */
  distribution(): { latencyMs: number; share: number }[] {
    if (this.total <= 1e-9) return [];
    const shares: { latencyMs: number; share: number }[] = [];
    for (let i = 0; i < this.weights.length; i++) {
      // Float residue from add/remove pairs leaves bins at ~1e-12 of the total: not a route in use.
      if (this.weights[i] > 1e-9 * this.total)
        shares.push({ latencyMs: i * this.binMs, share: this.weights[i] / this.total });
    }
    return shares;
  }
}
