/** Output of the profiler for one partition: how likely it is to be hot soon, and where its demand will come from. */
export interface AffinityScore {
  readonly partition: string;
  /** Probability in [0, 1] that the partition is hot at some step within the horizon. */
  readonly affinity: number;
  /** Each region's share of predicted demand over the horizon; sums to 1 (or is empty for zero demand). */
  readonly predictionVector: Readonly<Record<string, number>>;
  /** Confidence in [0, 1], from the width of the forecast interval relative to its mean. */
  readonly confidence: number;
  /** Step index (0-based) of the predicted peak of total demand, and that peak in ops/s. */
  readonly peakStep: number;
  readonly peakOpsPerSec: number;
  /** Which forecast model(s) produced the inputs. */
  readonly models: readonly string[];
}
