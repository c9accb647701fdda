import type {
  ProfilerCycle,
  ProfilerCycleRepository,
  StoredShortfallMemory,
} from '../domain/profiling/ports.ts';
import type { ShortfallMemory } from '../domain/scaling/shortfall-trigger.ts';

/**
 * The shortfall rule's memory (domain/scaling/shortfall-trigger.ts) across profiler cycles. The simulator's policy
 * keeps it in a field; a Lambda keeps nothing between invocations, so the profiler keeps it in the Coordination
 * table (ProfilerCycleRepository), written by the cycle that completes its capacity check.
 *
 * "The previous cycle" is the last cycle that ran its capacity check before this one: under `prestage up` a tick
 * that comes while a cycle still runs is skipped, and the one before is then more than an interval back.
 */
export interface CycleShortfallMemory {
  /** What this cycle decides with; absent on the first cycle, or for a cycle finishing after a later one. */
  readonly previous: ShortfallMemory | undefined;
  /** Store this cycle's regions (unless a later cycle's are stored). */
  remember(shortRegions: readonly string[]): Promise<boolean>;
}

export async function shortfallMemoryFor(
  cycles: Pick<ProfilerCycleRepository, 'shortfallMemory' | 'rememberShortfalls'>,
  cycle: Pick<ProfilerCycle, 'cycleId' | 'seriesEndMs'>,
): Promise<CycleShortfallMemory> {
  const stored = await cycles.shortfallMemory();
  const previous = previousOf(stored, cycle);
  const later = stored !== undefined && stored.seriesEndMs > cycle.seriesEndMs;
  return {
    previous,
    remember: async (shortRegions) =>
      later
        ? false
        : cycles.rememberShortfalls({
            cycleId: cycle.cycleId,
            seriesEndMs: cycle.seriesEndMs,
            shortRegions,
            previousShortRegions: previous?.shortRegions ?? [],
          }),
  };
}

function previousOf(
  stored: StoredShortfallMemory | undefined,
  cycle: Pick<ProfilerCycle, 'cycleId' | 'seriesEndMs'>,
): ShortfallMemory | undefined {
  if (!stored) return undefined;
  // A redelivered finish of the cycle that wrote it decides with what the first delivery decided with.
  if (stored.cycleId === cycle.cycleId) return { shortRegions: stored.previousShortRegions };
  if (stored.seriesEndMs < cycle.seriesEndMs) return { shortRegions: stored.shortRegions };
  return undefined;
}
