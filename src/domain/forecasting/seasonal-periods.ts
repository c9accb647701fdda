export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/**
 * One seasonal cycle on a bucket grid. When the interval divides the period, the phase of bucket i is
 * `i mod slots`; otherwise it is computed from elapsed time, so the profile does not drift by a fraction
 * of a bucket per cycle (the last slot is then shorter than the others).
 */
export interface SeasonalCycle {
  readonly periodMs: number;
  readonly slots: number;
  readonly exact: boolean;
}

export interface SeasonalPeriods {
  /** Daily cycle, when the interval is shorter than a day. */
  readonly daily?: SeasonalCycle;
  /** Weekly cycle, when the interval is at most a day (daily data: 7 slots). */
  readonly weekly?: SeasonalCycle;
}

/** Seasonal cycles that make sense for buckets of `intervalMs` (yearly cycles are not modelled). */
export function seasonalPeriods(intervalMs: number): SeasonalPeriods {
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) {
    throw new RangeError(`intervalMs must be a positive finite number, got ${intervalMs}`);
  }
  return {
    daily: intervalMs < DAY_MS ? cycle(DAY_MS, intervalMs) : undefined,
    weekly: intervalMs <= DAY_MS ? cycle(WEEK_MS, intervalMs) : undefined,
  };
}

function cycle(periodMs: number, intervalMs: number): SeasonalCycle {
  return { periodMs, slots: Math.ceil(periodMs / intervalMs), exact: periodMs % intervalMs === 0 };
}

/** Phase slot of bucket `index` (0-based, counted from the series start) in `cycle`. */
export function phaseOf(index: number, intervalMs: number, cycle: SeasonalCycle): number {
  if (cycle.exact) return index % cycle.slots;
  return Math.floor(((index * intervalMs) % cycle.periodMs) / intervalMs);
}
