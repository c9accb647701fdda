/**
 * What capacity plans on while a burst runs. An online forecaster treats a burst's first buckets as outliers,
 * so for the next `PERSISTENCE_MS` the planned upper quantile is floored by a persistence level: the last
 * observation, or, at a burst onset, the last observation grown once more by the jump that revealed it.
 *
 * Why the growth: news bursts rise over several buckets. A cell that went from 45% to 65% in one bucket is
 * often above capacity in the next; planning on the 65% starts relief one cycle late, when the cell is
 * already overloaded (see src/domain/simulation/README.md for the measured effect). The growth applies only
 * when the jump is also beyond what the forecast expected for that bucket (its upper quantile), so daily
 * ramps, which the forecast follows, do not trigger it.
 */

/** Capacity plans on at least the persistence level for this long (a running burst the forecast discounts). */
export const PERSISTENCE_MS = 3_600_000;

export interface BurstGrowth {
  /** A jump counts as a burst onset when the last bucket is above this multiple of the one before. */
  readonly minRatio: number;
  /** The growth extrapolated onto the last observation is capped at this multiple. */
  readonly maxRatio: number;
  /** Series below this many ops/s are noise, not bursts (they would only move small partitions about). */
  readonly minOpsPerSec: number;
}

export const DEFAULT_BURST_GROWTH: BurstGrowth = { minRatio: 1.25, maxRatio: 1.75, minOpsPerSec: 20 };

/**
 * The level one series plans on over the persistence window.
 * @param last ops/s of the last complete bucket
 * @param previous ops/s of the bucket before it (undefined when unknown)
 * @param expectedUpper the upper quantile the previous forecast gave for the last bucket (undefined when none)
 * @param growth burst growth settings, or false for plain persistence (the last observation)
 */
export function persistenceLevel(
  last: number,
  previous: number | undefined,
  expectedUpper: number | undefined,
  growth: BurstGrowth | false,
): number {
  if (!growth || previous === undefined || expectedUpper === undefined) return last;
  if (!(previous > 0) || !(last > growth.minOpsPerSec) || !(last > expectedUpper)) return last;
  const ratio = last / previous;
  return ratio > growth.minRatio ? last * Math.min(ratio, growth.maxRatio) : last;
}

/** Steps of `stepMs` the persistence window covers. */
export function persistenceSteps(stepMs: number, persistenceMs = PERSISTENCE_MS): number {
  return Math.ceil(persistenceMs / stepMs);
}
