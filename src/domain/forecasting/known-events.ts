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

/**
 * The events that apply to one partition × region series: those of `region` or of every region (`*`), and of
 * `partition` or of every partition. The feature a hosted model gets (DeepAR's `dynamic_feat`, Chronos'
 * `event_multiplier` covariate) is eventMultipliersFor over exactly these events, so an event scoped to one
 * partition changes that partition's series and no other.
 */
export function eventsForSeries(
  events: readonly KnownEvent[],
  region: string,
  partition: string,
): KnownEvent[] {
  return events.filter(
    (e) =>
      (e.region === region || e.region === ANY_REGION) &&
      (e.partition === undefined || e.partition === partition),
  );
}

/** Events that overlap [fromMs, toMs): what a forecast from a history starting at fromMs to a horizon ending at toMs can use. */
export function eventsOverlapping(events: readonly KnownEvent[], fromMs: number, toMs: number): KnownEvent[] {
  return events.filter((e) => e.endMs > fromMs && e.startMs < toMs);
}
