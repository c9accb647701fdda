import type { KnownEvent } from '../domain/forecasting/forecast-model.ts';
import type { KnownEventSource } from '../domain/forecasting/known-event-store.ts';
import { eventsOverlapping } from '../domain/forecasting/known-events.ts';
import type { ProfilerLog } from './profiler-deps.ts';

/** The span a cycle's forecasts use: the history read (from the lookback) and the horizon after it. */
export interface CycleSpan {
  readonly historyStartMs: number;
  /** End of the last forecast step. */
  readonly horizonEndMs: number;
}

/**
 * The known events one profiler shard passes to the model: the stored events that overlap the span (past ones
 * within the history de-bias it; active and upcoming ones within the horizon scale the forecast). Stored items
 * that are not valid events are left out with a warning naming them. When the events cannot be read, the shard
 * forecasts without them and warns: scores without a launch are worse, but no scores would stop the planner too.
 */
export async function eventsForCycle(
  source: KnownEventSource | undefined,
  span: CycleSpan,
  log: ProfilerLog,
  cycleId: string,
): Promise<readonly KnownEvent[]> {
  if (!source) return [];
  try {
    const { events, rejected } = await source.listEvents();
    if (rejected.length > 0)
      log.warn('known events left out: not valid events', {
        cycleId,
        rejected: rejected.map((r) => `${r.name}: ${r.problem}`),
      });
    return eventsOverlapping(events, span.historyStartMs, span.horizonEndMs);
  } catch (error) {
    log.warn('known events unavailable; forecasting without them', {
      cycleId,
      error: `${(error as Error).name}: ${(error as Error).message}`,
    });
    return [];
  }
}
