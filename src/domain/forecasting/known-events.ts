import type { KnownEvent } from './forecast-model.ts';

/** Region wildcard: an event whose region is `*` applies to every region. */
export const ANY_REGION = '*';

/**
 * Demand multiplier of known events for each of `count` buckets starting at `startMs`.
 *
 * A bucket partly covered by an event gets `1 + (multiplier - 1) × coveredFraction`, so an event that
 * starts mid-bucket is not over- or under-counted; overlapping events multiply. `region` undefined
 * means "all events apply" (a ForecastRequest already carries only its region's events).
 * Writes into `out` when given (no allocation), else into a new array.
 */
export function eventMultipliersFor(
  events: readonly KnownEvent[] | undefined,
  region: string | undefined,
  startMs: number,
  intervalMs: number,
  count: number,
  out?: Float64Array,
): Float64Array {
  const result = out ?? new Float64Array(count);
  result.fill(1, 0, count);
  if (!events || events.length === 0 || count === 0) return result;
  const endOfRange = startMs + count * intervalMs;
  for (const event of events) {
    if (region !== undefined && event.region !== region && event.region !== ANY_REGION) continue;
    if (event.endMs <= startMs || event.startMs >= endOfRange || event.endMs <= event.startMs) continue;
    const first = Math.max(0, Math.floor((event.startMs - startMs) / intervalMs));
    const last = Math.min(count - 1, Math.ceil((event.endMs - startMs) / intervalMs) - 1);
    for (let i = first; i <= last; i++) {
      const bucketStart = startMs + i * intervalMs;
      const covered = Math.min(event.endMs, bucketStart + intervalMs) - Math.max(event.startMs, bucketStart);
      if (covered <= 0) continue;
      result[i] *= 1 + (event.multiplier - 1) * Math.min(1, covered / intervalMs);
    }
  }
  return result;
}
