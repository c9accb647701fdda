import { CoBurstEstimator } from '../forecasting/co-burst-groups.ts';
import { ErrorCorrelationEstimator } from '../forecasting/error-correlation.ts';
import type { PlannerInput } from '../planning/movement-plan.ts';

const DAY_MS = 86_400_000;

/** What the predictive policy measures of its forecast errors (both experiments, off by default). */
export interface ErrorMeasures {
  /** One correlation for every pair of partitions on a cell (ErrorCorrelationEstimator). */
  readonly correlation: boolean;
  /** The groups of partitions that burst together (CoBurstEstimator). */
  readonly groups: boolean;
}

/**
 * The error correlation the predictive policy measures: each cycle, every partition's error on the bucket the
 * previous cycle forecast for the bucket observed last (summed over regions), grouped by the cell it was on; and
 * the groups of partitions whose errors burst together.
 */
export class MeasuredCorrelation {
  private readonly forecast: Float64Array;
  private readonly errors: Float64Array;
  private readonly cellOf: Int32Array;
  private readonly estimator: ErrorCorrelationEstimator | undefined;
  private readonly coBursts: CoBurstEstimator | undefined;
  /** Cells when `remember` last ran; 0 before it first did. */
  private cellCount = 0;

  constructor(
    private readonly P: number,
    private readonly R: number,
    private readonly H: number,
    private readonly step: number,
    bucketMs: number,
    planEvery: number,
    measures: ErrorMeasures = { correlation: true, groups: false },
  ) {
    this.forecast = new Float64Array(P * R);
    this.errors = new Float64Array(P);
    this.cellOf = new Int32Array(P).fill(-1);
    const cyclesPerDay = DAY_MS / (bucketMs * planEvery);
    // Two days of cycles to half weight; one day before the first estimate.
    const history = { halfLifeSamples: 2 * cyclesPerDay, minSamples: Math.max(1, Math.round(cyclesPerDay)) };
    this.estimator = measures.correlation ? new ErrorCorrelationEstimator(P, history) : undefined;
    // Bursts are rare: a week to half weight, so a source's few bursts a day add up to links.
    this.coBursts = measures.groups
      ? new CoBurstEstimator(P, { halfLifeSamples: 7 * cyclesPerDay, minSamples: history.minSamples })
      : undefined;
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
    this.estimator?.observe(this.errors, this.cellOf, this.cellCount);
    this.coBursts?.observe(this.errors);
  }

  /** Keep this cycle's forecast for the bucket the next cycle will have observed last, and where each partition is. */
  remember(mean: Float64Array, placement: ArrayLike<number>, cellCount: number): void {
    const { H, step } = this;
    for (let k = 0; k < this.forecast.length; k++) this.forecast[k] = mean[k * H + step];
    for (let p = 0; p < this.P; p++) this.cellOf[p] = placement[p];
    this.cellCount = cellCount;
  }

  estimate(): number | undefined {
    return this.estimator?.estimate();
  }

  /** The planner input's measured fields: `upperCorrelation` and `errorGroups`, where measured. */
  plannerFields(partitionIds: readonly string[]): Pick<PlannerInput, 'upperCorrelation' | 'errorGroups'> {
    const rho = this.estimate();
    const groupOf = this.coBursts?.groups();
    let errorGroups: string[][] | undefined;
    if (groupOf) {
      errorGroups = [];
      for (let p = 0; p < groupOf.length; p++) {
        const g = groupOf[p];
        if (g < 0) continue;
        errorGroups[g] ??= [];
        errorGroups[g].push(partitionIds[p]);
      }
    }
    return {
      ...(rho !== undefined && { upperCorrelation: rho }),
      ...(errorGroups !== undefined && errorGroups.length > 0 && { errorGroups }),
    };
  }
}
