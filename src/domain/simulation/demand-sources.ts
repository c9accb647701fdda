/**
 * Where a planning policy's demand comes from: the last interval repeated (reactive), the trace's true future
 * (oracle), or one online forecaster per partition × region (predictive), each writing the same buffers.
 */
import type { ForecastBuffers, OnlineForecaster } from '../forecasting/forecast-model.ts';
import { observedDemandOf, type SimulationDependencies, type SimulationInput } from './simulation-options.ts';

const DAY_MS = 86_400_000;

/**
 * Where a planning policy's view of future demand comes from. `fill` writes the next `horizon` steps
 * of mean ops/s (and quantiles, for the predictive policy) per partition and region, and each
 * partition's write fraction.
 */
export interface DemandSource {
  observe(bucket: number): void;
  fill(bucket: number): void;
  /** Model that forecast series k = p * R + r. */
  modelOf(k: number): string;
  /** Whether the demand it feeds is trusted enough to buy capacity on (scale out ahead of a shortfall). */
  trusted(): boolean;
}

export interface Buffers {
  readonly P: number;
  readonly R: number;
  readonly H: number;
  /** Mean forecast at ((p * R) + r) * H + h. */
  readonly mean: Float64Array;
  /** One buffer per quantile level (same layout), ascending levels. */
  readonly levels: readonly number[];
  readonly quantiles: readonly Float64Array[];
  readonly writeFraction: Float64Array;
}

/** Exponentially weighted write fraction with a one-day half-life, from observed buckets. */
class WriteFractionTracker {
  private readonly writes: Float64Array;
  private readonly totals: Float64Array;
  private readonly decay: number;

  constructor(
    private readonly input: SimulationInput,
    private readonly buffers: Buffers,
  ) {
    this.writes = new Float64Array(buffers.P);
    this.totals = new Float64Array(buffers.P);
    this.decay = 0.5 ** (input.trace.bucketMs / DAY_MS);
  }

  observe(bucket: number): void {
    const { reads, writes } = observedDemandOf(this.input);
    const { P, R } = this.buffers;
    let i = bucket * P * R;
    for (let p = 0; p < P; p++) {
      let w = 0;
      let total = 0;
      for (let r = 0; r < R; r++, i++) {
        w += writes[i];
        total += reads[i] + writes[i];
      }
      this.writes[p] = this.writes[p] * this.decay + w;
      this.totals[p] = this.totals[p] * this.decay + total;
      if (this.totals[p] > 0) this.buffers.writeFraction[p] = this.writes[p] / this.totals[p];
    }
  }
}

/** Reactive: the mean of the last planning interval, repeated over the horizon. */
export class ReactiveSource implements DemandSource {
  private readonly writeFractions: WriteFractionTracker;

  constructor(
    private readonly input: SimulationInput,
    private readonly buffers: Buffers,
    private readonly window: number,
  ) {
    this.writeFractions = new WriteFractionTracker(input, buffers);
  }

  modelOf(): string {
    return 'reactive:last-interval';
  }

  trusted(): boolean {
    return false;
  }

  observe(bucket: number): void {
    this.writeFractions.observe(bucket);
  }

  fill(bucket: number): void {
    const { reads, writes } = observedDemandOf(this.input);
    const { P, R, H, mean } = this.buffers;
    const first = Math.max(0, bucket - this.window);
    const count = bucket - first;
    for (let p = 0; p < P; p++) {
      for (let r = 0; r < R; r++) {
        let sum = 0;
        for (let b = first; b < bucket; b++) {
          const i = (b * P + p) * R + r;
          sum += reads[i] + writes[i];
        }
        const value = count > 0 ? sum / count : 0;
        const offset = (p * R + r) * H;
        mean.fill(value, offset, offset + H);
      }
    }
  }
}

/** Oracle: the true demand of the next steps (the last bucket repeats past the end of the trace). */
export class OracleSource implements DemandSource {
  constructor(
    private readonly input: SimulationInput,
    private readonly buffers: Buffers,
  ) {}

  modelOf(): string {
    return 'oracle';
  }

  trusted(): boolean {
    return true;
  }

  observe(): void {}

  fill(bucket: number): void {
    const { reads, writes, bucketCount } = this.input.trace;
    const { P, R, H, mean, writeFraction } = this.buffers;
    for (let p = 0; p < P; p++) {
      let w = 0;
      let total = 0;
      for (let r = 0; r < R; r++) {
        const offset = (p * R + r) * H;
        for (let h = 0; h < H; h++) {
          const b = Math.min(bucket + h, bucketCount - 1);
          const i = (b * P + p) * R + r;
          const value = reads[i] + writes[i];
          mean[offset + h] = value;
          w += writes[i];
          total += value;
        }
      }
      if (total > 0) writeFraction[p] = w / total;
    }
  }
}

/** Predictive: one online forecaster per partition × region, fed every bucket. */
export class ForecastSource implements DemandSource {
  private readonly forecasters: OnlineForecaster[];
  /** Mean and quantiles of every forecast: views into the shared buffers, reused each cycle. */
  private readonly outputs: ForecastBuffers[];
  private readonly writeFractions: WriteFractionTracker;
  private readonly bucketsPerDay: number;
  private observed = 0;

  constructor(
    private readonly input: SimulationInput,
    private readonly buffers: Buffers,
    deps: SimulationDependencies,
  ) {
    this.bucketsPerDay = Math.ceil(DAY_MS / input.trace.bucketMs);
    const { P, R, H, mean, quantiles } = buffers;
    this.forecasters = [];
    this.outputs = [];
    for (let k = 0; k < P * R; k++) {
      this.forecasters.push(deps.createForecaster(input.trace.bucketMs));
      this.outputs.push({
        mean: mean.subarray(k * H, (k + 1) * H),
        quantiles: quantiles.map((q) => q.subarray(k * H, (k + 1) * H)),
      });
    }
    this.writeFractions = new WriteFractionTracker(input, buffers);
  }

  modelOf(k: number): string {
    return this.forecasters[k].model;
  }

  /**
   * A forecaster that has not seen one daily cycle cannot tell a peak from a trend, and its intervals are
   * wide: cells bought on them would stay until a scale-in (which needs a further day of history: it compares with
   * the last day), so scale-outs wait for a day of history.
   */
  trusted(): boolean {
    return this.observed >= this.bucketsPerDay;
  }

  observe(bucket: number): void {
    this.observed++;
    const { reads, writes } = observedDemandOf(this.input);
    const base = bucket * this.forecasters.length;
    for (let k = 0; k < this.forecasters.length; k++) {
      this.forecasters[k].observe(reads[base + k] + writes[base + k]);
    }
    this.writeFractions.observe(bucket);
  }

  fill(): void {
    const { H, levels } = this.buffers;
    for (let k = 0; k < this.forecasters.length; k++) {
      this.forecasters[k].forecastInto(H, levels, this.outputs[k]);
    }
  }
}
