import { ErrorCorrelationEstimator } from '../forecasting/error-correlation.ts';

const DAY_MS = 86_400_000;

/**
 * The error correlation the predictive policy measures: each cycle, every partition's error on the bucket the
 * previous cycle forecast for the bucket observed last (summed over regions), grouped by the cell it was on.
 */
export class MeasuredCorrelation {
  private readonly forecast: Float64Array;
  private readonly errors: Float64Array;
  private readonly cellOf: Int32Array;
  private readonly estimator: ErrorCorrelationEstimator;
  /** Cells when `remember` last ran; 0 before it first did. */
  private cellCount = 0;

  constructor(
    private readonly P: number,
    private readonly R: number,
    private readonly H: number,
    private readonly step: number,
    bucketMs: number,
    planEvery: number,
  ) {
    this.forecast = new Float64Array(P * R);
    this.errors = new Float64Array(P);
    this.cellOf = new Int32Array(P).fill(-1);
    const cyclesPerDay = DAY_MS / (bucketMs * planEvery);
    // Two days of cycles to half weight; one day before the first estimate.
    this.estimator = new ErrorCorrelationEstimator(P, {
      halfLifeSamples: 2 * cyclesPerDay,
      minSamples: Math.max(1, Math.round(cyclesPerDay)),
    });
  }

  /** The errors of the forecasts `remember` kept, grouped by the cells the partitions were on then. */
  observe(observed: Float64Array): void {
    if (this.cellCount === 0) return;
    const { P, R } = this;
    for (let p = 0; p < P; p++) {
      let e = 0;
      for (let r = 0; r < R; r++) e += observed[p * R + r] - this.forecast[p * R + r];
      this.errors[p] = e;
    }
    this.estimator.observe(this.errors, this.cellOf, this.cellCount);
  }

  /** Keep this cycle's forecast for the bucket the next cycle will have observed last, and where each partition is. */
  remember(mean: Float64Array, placement: ArrayLike<number>, cellCount: number): void {
    const { H, step } = this;
    for (let k = 0; k < this.forecast.length; k++) this.forecast[k] = mean[k * H + step];
    for (let p = 0; p < this.P; p++) this.cellOf[p] = placement[p];
    this.cellCount = cellCount;
  }

  estimate(): number | undefined {
    return this.estimator.estimate();
  }
}
